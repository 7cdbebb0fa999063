#pragma once
// The open dataset's load report: the format that was read, and per split how many images were
// listed, loaded, skipped and repaired, then every issue with its file and what is wrong with it
// (filterable, copyable as tab-separated text).

#include <QDialog>
#include <memory>

#include "data/dataset.h"

class QLabel;
class QLineEdit;
class QSortFilterProxyModel;
class QStandardItemModel;
class QTableView;

namespace camx::ui {

class LoadReportDialog : public QDialog {
    Q_OBJECT
public:
    explicit LoadReportDialog(QWidget* parent = nullptr);

    // Shows the report of `dataset` (read during the call only; nullptr: nothing open).
    void setDataset(const Dataset* dataset);

    QTableView* splitTable() const { return m_splitView; }
    QTableView* issueTable() const { return m_issueView; }
    // The whole report as tab-separated text (what Copy puts on the clipboard).
    QString reportText() const;

private:
    QLabel* m_heading;
    QStandardItemModel* m_splits;
    QTableView* m_splitView;
    QStandardItemModel* m_issues;
    QSortFilterProxyModel* m_issueFilter;
    QTableView* m_issueView;
    QLineEdit* m_find;
    QLabel* m_issueCount;
};

}  // namespace camx::ui
