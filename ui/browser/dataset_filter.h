#pragma once
// Filtering (class, right/wrong prediction, file name) and sorting (name, class, confidence,
// IoU) over the dataset model. Rows without a value to sort by (no IoU: no ground-truth box, or
// no evaluation) come last in either order.

#include <QSet>
#include <QSortFilterProxyModel>

namespace camx::ui {

class DatasetFilter : public QSortFilterProxyModel {
    Q_OBJECT
public:
    enum class Correctness { Any, Correct, Wrong };
    enum class SortKey { Name, Breed, Confidence, Iou };

    explicit DatasetFilter(QObject* parent = nullptr);

    void setBreed(int label);  // a class label; -1: every class
    void setCorrectness(Correctness c);
    void setNameFilter(const QString& text);
    void setSortKey(SortKey key, Qt::SortOrder order = Qt::AscendingOrder);
    // Only these source rows (from the dashboard: a histogram bar); empty: no restriction.
    void setRowSet(const QSet<int>& rows);
    bool hasRowSet() const { return !m_rows.isEmpty(); }

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;
    bool lessThan(const QModelIndex& left, const QModelIndex& right) const override;

private:
    int m_breed = -1;
    Correctness m_correct = Correctness::Any;
    QString m_name;
    SortKey m_key = SortKey::Name;
    QSet<int> m_rows;
};

}  // namespace camx::ui
