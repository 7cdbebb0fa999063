#include "browser/dataset_filter.h"

#include "browser/dataset_model.h"

namespace camx::ui {

DatasetFilter::DatasetFilter(QObject* parent) : QSortFilterProxyModel(parent) {
    setDynamicSortFilter(true);
}

void DatasetFilter::setBreed(int label) {
    m_breed = label;
    invalidateFilter();
}

void DatasetFilter::setCorrectness(Correctness c) {
    m_correct = c;
    invalidateFilter();
}

void DatasetFilter::setNameFilter(const QString& text) {
    m_name = text.trimmed();
    invalidateFilter();
}

void DatasetFilter::setSortKey(SortKey key, Qt::SortOrder order) {
    m_key = key;
    invalidate();
    sort(0, order);
}

void DatasetFilter::setRowSet(const QSet<int>& rows) {
    m_rows = rows;
    invalidateFilter();
}

bool DatasetFilter::filterAcceptsRow(int row, const QModelIndex& parent) const {
    // A "show only" list (a histogram bar, a class row) is exact: the other filters would cut it
    // by values that arrive later (the per-class count said 2 and the grid showed 1).
    if (!m_rows.isEmpty()) return m_rows.contains(row);
    const QModelIndex i = sourceModel()->index(row, 0, parent);
    if (m_breed >= 0 && i.data(DatasetModel::LabelRole).toInt() != m_breed) return false;
    if (m_correct != Correctness::Any) {
        const int c = i.data(DatasetModel::CorrectRole).toInt();
        if (c < 0 || (c == 1) != (m_correct == Correctness::Correct)) return false;
    }
    if (!m_name.isEmpty() &&
        !i.data(DatasetModel::FileNameRole).toString().contains(m_name, Qt::CaseInsensitive))
        return false;
    return true;
}

bool DatasetFilter::lessThan(const QModelIndex& l, const QModelIndex& r) const {
    switch (m_key) {
        case SortKey::Name:
            return l.data(DatasetModel::FileNameRole).toString() <
                   r.data(DatasetModel::FileNameRole).toString();
        case SortKey::Breed: {
            const QString a = l.data(DatasetModel::BreedRole).toString(),
                          b = r.data(DatasetModel::BreedRole).toString();
            if (a != b) return a < b;
            return l.row() < r.row();
        }
        case SortKey::Confidence:
        case SortKey::Iou: {
            const int role =
                m_key == SortKey::Iou ? DatasetModel::IouRole : DatasetModel::ConfidenceRole;
            const double a = l.data(role).toDouble(), b = r.data(role).toDouble();
            // No value (-1) sorts last whatever the order: the view reverses lessThan for a
            // descending sort, so a missing value is "greater" ascending and "less" descending.
            const bool noA = a < 0, noB = b < 0;
            if (noA != noB) return sortOrder() == Qt::AscendingOrder ? noB : noA;
            if (a != b) return a < b;
            return l.row() < r.row();
        }
    }
    return l.row() < r.row();
}

}  // namespace camx::ui
