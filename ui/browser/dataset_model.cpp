#include "browser/dataset_model.h"

#include <QFileInfo>
#include <QPainter>
#include <QPixmap>
#include <algorithm>

#include "browser/thumbnail_loader.h"

namespace camx::ui {

DatasetModel::DatasetModel(QObject* parent)
    : QAbstractListModel(parent), m_thumbs(new ThumbnailLoader(112, 48, this)) {
    connect(m_thumbs, &ThumbnailLoader::thumbnailReady, this, [this](int row) {
        if (row >= 0 && row < rowCount()) {
            const QModelIndex i = index(row);
            Q_EMIT dataChanged(i, i, {Qt::DecorationRole});
        }
    });
}

DatasetModel::~DatasetModel() = default;

void DatasetModel::setSplit(std::vector<Sample> samples, std::vector<std::string> breedNames) {
    beginResetModel();
    m_thumbs->clear();
    m_samples = std::move(samples);
    m_breeds = std::move(breedNames);
    m_extra.assign(m_samples.size(), Extra{});
    m_hasResults = false;
    m_hasCorrectness = false;
    endResetModel();
}

void DatasetModel::setEvaluation(const std::vector<ImageRecord>& records, Method method, int tap,
                                 const std::vector<std::string>& modelClassNames) {
    m_extra.assign(m_samples.size(), Extra{});
    m_hasResults = true;
    m_hasCorrectness =
        !records.empty() && std::all_of(records.begin(), records.end(),
                                        [](const ImageRecord& r) { return r.classLabel() >= 0; });
    const std::vector<std::string>& names = modelClassNames.empty() ? m_breeds : modelClassNames;
    for (const auto& r : records) {
        if (r.index >= m_extra.size() || m_samples[r.index].relPath != r.relPath) continue;
        Extra& e = m_extra[r.index];
        e.predicted = r.predicted;
        e.correct = m_hasCorrectness ? int(r.predicted == r.classLabel()) : -1;
        if (r.predicted >= 0 && r.predicted < static_cast<int>(names.size()))
            e.predictedName = QString::fromStdString(names[static_cast<std::size_t>(r.predicted)]);
        e.confidence = r.probability;
        // An image without ground-truth boxes has no IoU (its score's 0 means nothing).
        const MapScore* s = r.find(method, tap);
        e.iou = s && r.hasBoxes && m_samples[r.index].hasBoxes() ? s->iou : -1;
    }
    if (!m_samples.empty()) Q_EMIT dataChanged(index(0), index(rowCount() - 1));
}

void DatasetModel::clearResults() {
    m_extra.assign(m_samples.size(), Extra{});
    m_hasResults = false;
    m_hasCorrectness = false;
    if (!m_samples.empty()) Q_EMIT dataChanged(index(0), index(rowCount() - 1));
}

int DatasetModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_samples.size());
}

QVariant DatasetModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= rowCount()) return {};
    const auto row = static_cast<std::size_t>(index.row());
    const Sample& s = m_samples[row];
    const Extra& e = m_extra[row];
    const QString breed = s.label >= 0 && s.label < static_cast<int>(m_breeds.size())
                              ? QString::fromStdString(m_breeds[static_cast<std::size_t>(s.label)])
                              : QString();
    switch (role) {
        case Qt::DisplayRole:
        case FileNameRole:
            return QFileInfo(QString::fromStdString(s.relPath)).completeBaseName();
        case Qt::ToolTipRole: {
            QString truth =
                s.hasBoxes()
                    ? (s.boxes.size() == 1 ? tr("1 box") : tr("%1 boxes").arg(s.boxes.size()))
                    : tr("no ground-truth box");
            if (s.hasMasks())
                truth += s.maskPaths.size() == 1 ? tr(", 1 mask")
                                                 : tr(", %1 masks").arg(s.maskPaths.size());
            QString tip = QStringLiteral("%1\n%2\n%3 x %4, %5")
                              .arg(QString::fromStdString(s.relPath), breed)
                              .arg(s.width)
                              .arg(s.height)
                              .arg(truth);
            if (!e.predictedName.isEmpty())
                tip += QStringLiteral("\npredicted %1 (%2%)")
                           .arg(e.predictedName)
                           .arg(100.0 * e.confidence, 0, 'f', 1);
            if (e.iou >= 0)
                tip += QStringLiteral("\nIoU %1").arg(e.iou, 0, 'f', 3);
            else if (m_hasResults && !s.hasBoxes())
                tip += tr("\nIoU: no ground truth");
            return tip;
        }
        case Qt::DecorationRole: {
            const QImage img =
                m_thumbs->thumbnail(index.row(), QString::fromStdString(s.imagePath.string()));
            QPixmap cell(thumbnailSize());
            cell.fill(Qt::transparent);
            if (!img.isNull()) {
                const QImage fitted =
                    img.scaled(thumbnailSize(), Qt::KeepAspectRatio, Qt::SmoothTransformation);
                QPainter p(&cell);
                p.drawImage((cell.width() - fitted.width()) / 2,
                            (cell.height() - fitted.height()) / 2, fitted);
            }
            return cell;
        }
        case BreedRole:
            return breed;
        case LabelRole:
            return s.label;
        case PathRole:
            return QString::fromStdString(s.imagePath.string());
        case PredictedRole:
            return e.predicted;
        case ConfidenceRole:
            return e.confidence;
        case IouRole:
            return e.iou;
        case CorrectRole:
            return e.correct;
        default:
            return {};
    }
}

QHash<int, QByteArray> DatasetModel::roleNames() const {
    auto r = QAbstractListModel::roleNames();
    r[BreedRole] = "breed";
    r[LabelRole] = "label";
    r[PathRole] = "path";
    r[PredictedRole] = "predicted";
    r[ConfidenceRole] = "confidence";
    r[IouRole] = "iou";
    r[CorrectRole] = "correct";
    r[FileNameRole] = "fileName";
    return r;
}

}  // namespace camx::ui
