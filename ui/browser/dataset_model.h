#pragma once
// The split being browsed, as a list model: one row per image, with its class and (once an
// evaluation exists) prediction, confidence and IoU for sorting and filtering. An image without
// ground-truth boxes has no IoU (-1), like an image without evaluation.

#include <QAbstractListModel>
#include <QSize>
#include <vector>

#include "data/dataset.h"
#include "eval/evaluator.h"

namespace camx::ui {

class ThumbnailLoader;

class DatasetModel : public QAbstractListModel {
    Q_OBJECT
public:
    enum Role {
        BreedRole = Qt::UserRole + 1,  // the class's display name
        LabelRole,                     // int
        PathRole,                      // QString
        PredictedRole,                 // int, -1 without evaluation
        ConfidenceRole,                // double, -1 without evaluation
        IouRole,                       // double, -1 without evaluation or ground-truth boxes
        CorrectRole,                   // int: -1 unknown, 0 wrong, 1 right
        FileNameRole,
    };

    explicit DatasetModel(QObject* parent = nullptr);
    ~DatasetModel() override;

    void setSplit(std::vector<Sample> samples, std::vector<std::string> breedNames);
    // Per-row results for one method and layer, from an evaluation of this split.
    // `modelClassNames` name the model's outputs (a record's `predicted`); empty: the breeds.
    // Right or wrong is known only where every record's class is one of the model's (the
    // evaluation's own rule for scoring classification).
    void setEvaluation(const std::vector<ImageRecord>& records, Method method, int tap,
                       const std::vector<std::string>& modelClassNames = {});
    // Whether the evaluation set scores right and wrong predictions.
    bool hasCorrectness() const { return m_hasCorrectness; }
    // Forgets every row's prediction, confidence and IoU (a new model, or no evaluation).
    void clearResults();
    bool hasResults() const { return m_hasResults; }

    const Sample& sample(int row) const { return m_samples.at(static_cast<std::size_t>(row)); }
    const std::vector<std::string>& breedNames() const { return m_breeds; }

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    ThumbnailLoader* thumbnails() const { return m_thumbs; }
    // Every row's decoration has exactly this size, loaded or not (the thumbnail is fitted and
    // centred in it): a view with uniform item sizes measures its cells on one row, so a row
    // measured before its thumbnail arrived must not make every cell a thin strip.
    static QSize thumbnailSize() { return {104, 78}; }

private:
    struct Extra {
        int predicted = -1;
        int correct = -1;  // -1 not known
        QString predictedName;
        double confidence = -1;
        double iou = -1;
    };
    std::vector<Sample> m_samples;
    std::vector<Extra> m_extra;
    bool m_hasResults = false;
    bool m_hasCorrectness = false;
    std::vector<std::string> m_breeds;
    ThumbnailLoader* m_thumbs;
};

}  // namespace camx::ui
