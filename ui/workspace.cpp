#include "workspace.h"

#include <QtConcurrent/QtConcurrent>
#include <optional>

#include "background_job.h"
#include "common/thread_priority.h"
#include "eval/evaluator.h"
#include "explain/model_session.h"

namespace camx::ui {

// One background load: what its worker fills in. The worker and the workspace share it, so a
// cancelled load can finish after the workspace has moved on (or is gone) without touching it.
struct Workspace::Load {
    QString path;
    std::shared_ptr<CancelToken> cancel = std::make_shared<CancelToken>();
};

Workspace::Workspace(QObject* parent) : QObject(parent) {
    setDatasetReader({});
}

void Workspace::setDatasetReader(DatasetReader reader) {
    m_reader = reader ? std::move(reader) : standardDatasetReader();
}

Workspace::~Workspace() {
    // Never waits: each job owns its Load, its inputs and its result, and its reply is queued to
    // this object, which Qt discards once the object is gone.
    cancelLoads();
}

void Workspace::bumpContext() {
    ++m_context;
    if (m_evaluation) {
        m_evaluation.reset();
        Q_EMIT evaluationChanged();
    }
    Q_EMIT contextChanged();
}

void Workspace::setDataset(std::shared_ptr<const Dataset> dataset) {
    m_dataset = std::move(dataset);
    if (m_dataset && m_dataset->split(m_split).samples.empty()) {
        // Test first (the default), then whichever split has images.
        for (SplitKind k : {SplitKind::Test, SplitKind::Val, SplitKind::Train})
            if (!m_dataset->split(k).samples.empty()) {
                m_split = k;
                break;
            }
        if (m_dataset->split(m_split).samples.empty()) m_split = SplitKind::Test;
    }
    Q_EMIT datasetChanged();
    bumpContext();
}

void Workspace::setModel(std::shared_ptr<ModelSession> model) {
    m_model = std::move(model);
    Q_EMIT modelChanged();
    bumpContext();
}

void Workspace::setSplit(SplitKind split) {
    if (split == m_split) return;
    m_split = split;
    Q_EMIT splitChanged();
    bumpContext();
}

void Workspace::setThreshold(double tau) {
    if (tau == m_threshold) return;
    m_threshold = tau;
    Q_EMIT thresholdChanged(tau);
}

bool Workspace::setEvaluation(std::shared_ptr<const SavedEvaluation> evaluation,
                              std::uint64_t context) {
    if (context != m_context) return false;
    m_evaluation = std::move(evaluation);
    Q_EMIT evaluationChanged();
    return true;
}

QString Workspace::loadingDatasetPath() const {
    return m_datasetLoad ? m_datasetLoad->path : QString();
}

QString Workspace::loadingModelPath() const {
    return m_modelLoad ? m_modelLoad->path : QString();
}

void Workspace::cancelLoads() {
    for (auto* load : {&m_datasetLoad, &m_modelLoad})
        if (*load) {
            (*load)->cancel->cancel();
            load->reset();
        }
}

namespace {
struct ModelOutcome {
    std::shared_ptr<ModelSession> model;
    QString error;
    ModelFileProbe probe;
    std::optional<Workspace::Hold> hold;  // stopped before loading
};
}  // namespace

void Workspace::openDataset(const QString& dir, OpenOptions options) {
    if (m_datasetLoad) m_datasetLoad->cancel->cancel();  // the newer request wins
    auto load = std::make_shared<Load>();
    load->path = dir;
    m_datasetLoad = load;
    // The watcher belongs to the workspace; deleting it never waits for the job, and the job
    // touches nothing but its own token and promise.
    auto* watcher = new QFutureWatcher<DatasetReadOutcome>(this);
    connect(watcher, &QFutureWatcherBase::progressValueChanged, this, [this, load, watcher](int v) {
        if (m_datasetLoad == load)
            Q_EMIT datasetProgress(v, watcher->progressMaximum(), watcher->progressText());
    });
    connect(watcher, &QFutureWatcherBase::finished, this, [this, load, dir, watcher] {
        watcher->deleteLater();
        if (m_datasetLoad != load) return;  // superseded or cancelled
        m_datasetLoad.reset();
        const auto outcome =
            watcher->future().resultCount() ? watcher->result() : DatasetReadOutcome{};
        if (outcome.dataset) setDataset(outcome.dataset);
        Q_EMIT datasetLoadFinished(dir, outcome.dataset ? QString() : outcome.error);
    });
    if (!m_cacheDir.isEmpty() && options.cacheDir.empty())
        options.cacheDir = m_cacheDir.toStdString();
    watcher->setFuture(
        readDatasetInBackground(dir.toStdString(), std::move(options), m_reader, load->cancel));
}

void Workspace::openModel(const QString& file, const ModelOpenRequest& request) {
    if (m_modelLoad) m_modelLoad->cancel->cancel();
    auto load = std::make_shared<Load>();
    load->path = file;
    m_modelLoad = load;
    // A bare .pth carries no class names: the open dataset's name them when their count fits.
    std::vector<std::string> names;
    if (m_dataset) names = m_dataset->breedNames;
    auto* watcher = new QFutureWatcher<ModelOutcome>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, load, file, watcher] {
        watcher->deleteLater();
        if (m_modelLoad != load) return;
        m_modelLoad.reset();
        const auto outcome = watcher->future().resultCount() ? watcher->result() : ModelOutcome{};
        m_lastProbe = outcome.probe;
        if (outcome.hold) {
            Q_EMIT modelOpenHeld(file, *outcome.hold);
            return;
        }
        if (outcome.model) setModel(outcome.model);
        Q_EMIT modelLoadFinished(file, outcome.model ? QString() : outcome.error);
    });
    watcher->setFuture(QtConcurrent::run(backgroundPool(), [load, file, names, request](
                                                               QPromise<ModelOutcome>& promise) {
        lowerCurrentThreadPriority();
        ModelOutcome out;
        try {
            // Nothing of a TorchScript model runs before the request lets it.
            out.probe = probeModelFile(file.toStdString());
            if (out.probe.torchScript && !request.allowTorchScript)
                out.hold = Hold::NotTrusted;
            else if (out.probe.torchScript && !out.probe.hasMetadata && request.holdWithoutMetadata)
                out.hold = Hold::NeedsInput;
            if (out.hold) {
                promise.addResult(std::move(out));
                return;
            }
            JobContext job;
            job.cancel = load->cancel.get();
            out.model = ModelSession::open(file.toStdString(), names, job,
                                           ModelSession::Names::IfCountMatches,
                                           request.scriptOverrides, request.kerasPreprocess);
        } catch (const Cancelled&) {
            out.error = tr("cancelled");
        } catch (const std::exception& e) {
            out.error = QString::fromStdString(e.what());
        }
        promise.addResult(std::move(out));
    }));
}

}  // namespace camx::ui
