#pragma once
// The workspace: the one owner of what the explorer's views share.
//
// Who owns what, and for how long a pointer stays valid:
//  * The open dataset is a shared_ptr<const Dataset>. The workspace holds one reference; every
//    view and background job that reads it takes its own copy of the shared_ptr, so a dataset
//    replaced by another one stays alive until the last reader lets go. Nobody holds a raw
//    pointer or reference to it across an event-loop turn.
//  * The open model is a shared_ptr<ModelSession>, shared the same way (passes, evaluations and
//    grid exports hold it while they run).
//  * The split being browsed, and the box threshold τ the views show. A new dataset without
//    images in that split (no validation split, say) moves it to the test split (or the first
//    split with images) before datasetChanged: observers read split() there; no splitChanged.
//  * The current evaluation of that model on that split (shared_ptr<const SavedEvaluation>), set
//    by the dashboard when one is loaded or finished; it is cleared on every context change.
//  * context(): a number that changes whenever the dataset, the model or the split does. A
//    background job records it when it starts; a result that comes back under another number is
//    dropped, never shown or stored.
//
// The workspace lives on the GUI thread. Opening a dataset or a model runs in the background with
// its own cancel token; a newer open of the same kind cancels the older one, and the destructor
// cancels both without waiting (the jobs own everything they touch, so they can finish alone).
// Views observe the change signals; none of them owns shared state.

#include <QObject>
#include <QString>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <vector>

#include "background_job.h"
#include "common/job.h"
#include "data/dataset.h"
#include "model/model_files.h"
#include "nn/script_meta.h"

namespace camx {
class ModelSession;
struct SavedEvaluation;
}  // namespace camx

namespace camx::ui {

// How to open a model file (Workspace::openModel).
struct ModelOpenRequest {
    // Replace what a TorchScript model's own metadata says (input size, normalisation, tokens).
    ScriptMeta scriptOverrides;
    // A TorchScript model is code that opening it runs: without this, such a file is not
    // opened but held (modelOpenHeld, NotTrusted).
    bool allowTorchScript = true;
    // Hold a TorchScript model whose file says nothing about its input (NeedsInput), so that
    // the user says what it takes before it runs.
    bool holdWithoutMetadata = false;
    // A Keras model's input preprocessing (its file does not record it); without it a Keras
    // model fails to open with a message saying so.
    std::optional<KerasPreprocess> kerasPreprocess;
};

class Workspace : public QObject {
    Q_OBJECT
public:
    // Why a model open stopped before loading anything.
    enum class Hold { NotTrusted, NeedsInput };
    Q_ENUM(Hold)

    explicit Workspace(QObject* parent = nullptr);
    ~Workspace() override;

    std::shared_ptr<const Dataset> dataset() const { return m_dataset; }
    std::shared_ptr<ModelSession> model() const { return m_model; }
    SplitKind split() const { return m_split; }
    // The samples of the split being browsed; empty without a dataset.
    const SplitData* splitData() const { return m_dataset ? &m_dataset->split(m_split) : nullptr; }
    std::shared_ptr<const SavedEvaluation> evaluation() const { return m_evaluation; }
    double threshold() const { return m_threshold; }
    std::uint64_t context() const { return m_context; }

    // Replace the shared state directly (tests, and the loads below once they finish).
    void setDataset(std::shared_ptr<const Dataset> dataset);
    void setModel(std::shared_ptr<ModelSession> model);
    void setSplit(SplitKind split);
    void setThreshold(double tau);
    // The dashboard's evaluation of the current model on the current split. `context` is the
    // context() it was started or read under; an evaluation from another context is dropped
    // (returns false).
    bool setEvaluation(std::shared_ptr<const SavedEvaluation> evaluation, std::uint64_t context);

    // Background loads. datasetLoadFinished / modelLoadFinished report the end of each (error
    // empty on success, and the new dataset or model already set); a load superseded by a newer
    // one, or stopped by cancelLoads(), reports nothing. A model open first looks at the file
    // (probeModelFile, on the worker); one the request does not let through reports
    // modelOpenHeld instead, having run nothing of it.
    // `options` say how to read the folder (its format, wsolevaluation's metadata folder); they
    // reach the dataset reader as given, with the job (cancel, progress) and the cache folder
    // filled in here.
    void openDataset(const QString& dir, OpenOptions options = {});
    void openModel(const QString& file, const ModelOpenRequest& request = {});
    // What the last model open that reported (finished or held) found out about its file.
    ModelFileProbe lastModelProbe() const { return m_lastProbe; }
    void cancelLoads();
    bool isLoadingDataset() const { return m_datasetLoad != nullptr; }
    bool isLoadingModel() const { return m_modelLoad != nullptr; }
    bool isLoading() const { return isLoadingDataset() || isLoadingModel(); }
    // What is being opened (for the status bar), empty when idle.
    QString loadingDatasetPath() const;
    QString loadingModelPath() const;

    // Where first-time unpacked archives go; empty: the default cache.
    void setDatasetCacheDir(const QString& dir) { m_cacheDir = dir; }
    // What reads a dataset folder (background_job.h; empty: openDataset, every format). The
    // training wizard reads other folders with the same reader.
    using DatasetReader = camx::ui::DatasetReader;
    void setDatasetReader(DatasetReader reader);
    const DatasetReader& datasetReader() const { return m_reader; }

Q_SIGNALS:
    void datasetChanged();
    void modelChanged();
    void splitChanged();
    // After any of the three above: results of the old context are void.
    void contextChanged();
    void thresholdChanged(double tau);
    void evaluationChanged();
    void datasetProgress(int done, int total, const QString& stage);
    void datasetLoadFinished(const QString& dir, const QString& error);
    void modelLoadFinished(const QString& file, const QString& error);
    void modelOpenHeld(const QString& file, camx::ui::Workspace::Hold why);

private:
    struct Load;
    void bumpContext();

    std::shared_ptr<const Dataset> m_dataset;
    std::shared_ptr<ModelSession> m_model;
    SplitKind m_split = SplitKind::Test;
    double m_threshold = 0.2;
    std::shared_ptr<const SavedEvaluation> m_evaluation;
    std::uint64_t m_context = 1;
    std::shared_ptr<Load> m_datasetLoad;
    std::shared_ptr<Load> m_modelLoad;
    ModelFileProbe m_lastProbe;
    QString m_cacheDir;
    DatasetReader m_reader;
};

}  // namespace camx::ui
