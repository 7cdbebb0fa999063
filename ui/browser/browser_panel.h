#pragma once
// The dataset panel: what the open dataset is (its format, how its labels were chosen, a link to
// its load report), the split, filters (class, right or wrong, file name), sorting and the
// thumbnail grid.

#include <QWidget>

#include "data/dataset.h"

class QComboBox;
class QLineEdit;
class QListView;
class QLabel;

namespace camx::ui {

class DatasetModel;
class DatasetFilter;

class BrowserPanel : public QWidget {
    Q_OBJECT
public:
    explicit BrowserPanel(DatasetModel* model, QWidget* parent = nullptr);

    // Shows a split of `dataset` (read during the call only; nullptr: nothing). The split picker
    // offers the splits the dataset has (validation only where it has one).
    void setDataset(const Dataset* dataset, SplitKind split);
    // The Correct/Wrong filters and the confidence and IoU sorts need an evaluation of the
    // current model on this split: without one they are disabled, and say why.
    // `correctness`: whether it scores right and wrong (the model's classes match the dataset's).
    void setEvaluationAvailable(bool available, bool correctness = true);
    SplitKind split() const;
    // The selected image as a row of the source model, or -1.
    int currentSourceRow() const;
    void selectSourceRow(int row);
    // Moves the selection in the filtered, sorted order.
    void step(int delta);
    void selectFirst();
    void selectLast();
    // Visible neighbours of the current row, nearest first (for prefetching).
    std::vector<int> neighbours(int count) const;

    // Restricts the grid to these rows, with a banner naming them and a button to show all.
    void showOnly(const std::vector<int>& rows, const QString& description);
    void clearShowOnly();
    // The images in the grid, in its order, and the hand-selected ones (for grid figures).
    std::vector<int> visibleSourceRows() const;
    std::vector<int> selectedSourceRows() const;

    DatasetFilter* filter() const { return m_filter; }
    QListView* view() const { return m_view; }

Q_SIGNALS:
    void currentChanged(int sourceRow);
    void splitChanged(camx::SplitKind split);
    // The dataset line's "load report" link was clicked.
    void loadReportRequested();

private:
    void refreshClasses(const QString& labelRule);
    DatasetModel* m_model;
    DatasetFilter* m_filter;
    QLabel* m_info;
    QComboBox* m_split;
    QComboBox* m_class;
    QComboBox* m_correct;
    QComboBox* m_sort;
    QLineEdit* m_name;
    QListView* m_view;
    QLabel* m_count;
    QWidget* m_banner;
    QLabel* m_bannerText;
};

}  // namespace camx::ui
