#pragma once
// Runs network passes for the explorer on a background thread and caches what comes back, per
// image, class and score kind. One pass yields every cheap method at every block, so moving the
// layer, method, threshold or blend never waits on the network. Results for an image the user
// has already left are kept in the cache but not announced.
//
// Ownership and lifetime: every pass holds a shared_ptr to the model it started with, and its own
// cancel token. setModel() starts a new generation: it cancels every pass of the old one without
// waiting for it (the GUI thread never waits on a worker); an old pass that still finishes only
// lowers the busy count, and never stores or announces its result. The destructor cancels
// everything and waits only for the pass that is running (at most one step of it).

#include <QObject>
#include <QString>
#include <QThreadPool>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <opencv2/core/mat.hpp>
#include <vector>

#include "common/job.h"
#include "explain/explanation.h"

namespace camx {
class ModelSession;
struct ModelInfo;
}  // namespace camx

namespace camx::ui {

struct CurveRequest;
struct CurveResult;
struct SanityRequest;
struct SanityOutcome;

struct ExplainKey {
    QString path;
    int target = -1;  // -1: the predicted class
    ScoreKind score = ScoreKind::Logit;
    bool operator==(const ExplainKey& o) const {
        return path == o.path && target == o.target && score == o.score;
    }
};

struct ExplainResult {
    ExplainKey key;
    cv::Mat photo;  // RGB, original size
    ImageExplanation explanation;
    double seconds = 0;  // wall time of the network pass
};

class ExplainController : public QObject {
    Q_OBJECT
public:
    explicit ExplainController(QObject* parent = nullptr);
    ~ExplainController() override;

    void setModel(std::shared_ptr<ModelSession> model);
    std::shared_ptr<ModelSession> model() const { return m_model; }

    // The methods computed by every pass (Score-CAM is separate: see requestScoreCam). Finer-CAM
    // with its default options (ExplainOptions): a second backward pass at the earlier blocks.
    static std::vector<Method> passMethods();
    // The same for a model: without CAM where the model has none, without Finer-CAM where it has
    // a single class.
    static std::vector<Method> passMethods(const ModelInfo& info);
    // The layers every pass explains: every block, the default (CAM) layer, and `extraTap`.
    static std::vector<int> passTaps(const ModelInfo& info, int extraTap = -1);

    // A layer the explorer shows besides the blocks (a TorchScript model lists every layer):
    // every later pass explains it too. -1: none.
    void setExtraTap(int tap) { m_extraTap = tap; }
    int extraTap() const { return m_extraTap; }

    // Asks for an explanation. From the cache, ready() is emitted before this returns.
    void request(const ExplainKey& key);
    // Decodes and explains in the background without announcing (neighbouring images).
    void prefetch(const ExplainKey& key);
    // Score-CAM at one tap for a cached explanation: slow (one forward per channel), cancellable.
    void requestScoreCam(const ExplainKey& key, int tap);
    void cancelScoreCam();
    // The pass methods at one more layer for a cached explanation; ready() brings the result
    // with those maps added. The newest request wins.
    void requestTap(const ExplainKey& key, int tap);

    // A panel's deletion and insertion curves (explorer_metrics.h) for a cached explanation.
    // One per panel (`r.slot`): a newer request for the slot supersedes the running one, and
    // asking for another image (request()) supersedes every curve. A superseded or cancelled
    // curve is never announced.
    void requestCurve(const CurveRequest& r);
    void cancelCurves();
    // The sanity check (explorer_metrics.h) for a cached explanation: one at a time, the newest
    // wins. Progress comes as sanityProgress; the end as sanityReady, or sanityStopped with why
    // (cancelled, failed or superseded: never both).
    void requestSanity(const SanityRequest& r);
    void cancelSanity();
    bool sanityRunning() const { return static_cast<bool>(m_sanity); }

    std::shared_ptr<const ExplainResult> cached(const ExplainKey& key) const;
    int cacheSize() const;
    // For tests: wait for every queued pass.
    void waitForIdle();

Q_SIGNALS:
    void ready(std::shared_ptr<const camx::ui::ExplainResult> result);
    void scoreCamReady(std::shared_ptr<const camx::ui::ExplainResult> result);
    void failed(const QString& message);
    void busyChanged(bool busy);
    void progress(int done, int total, const QString& what);
    void curveReady(std::shared_ptr<const camx::ui::CurveResult> result);
    void sanityReady(std::shared_ptr<const camx::ui::SanityOutcome> result);
    void sanityProgress(int done, int total, const QString& step);
    void sanityStopped(const QString& why);

private:
    void schedule(const ExplainKey& key, bool announce);
    void store(std::shared_ptr<const ExplainResult> r);
    // Stores r's maps merged into the newest cached result of its key; returns what was stored.
    std::shared_ptr<const ExplainResult> storeMerged(std::shared_ptr<const ExplainResult> r);
    // A new pass of the current generation: counts as busy until finish() is called for it.
    std::shared_ptr<CancelToken> begin();
    // A background job's context: cancelled through `token`; its progress handed to
    // `onProgress` on the GUI thread while the token stands.
    JobContext guiJob(const std::shared_ptr<CancelToken>& token,
                      std::function<void(const Progress&)> onProgress);
    // On the GUI thread, when a pass is over (done, failed, cancelled or stale).
    void finish(const std::shared_ptr<CancelToken>& token);

    std::shared_ptr<ModelSession> m_model;
    QThreadPool m_pool;
    mutable std::mutex m_mutex;
    std::list<std::shared_ptr<const ExplainResult>> m_cache;  // front: most recent
    std::list<ExplainKey> m_inFlight;
    ExplainKey m_current;
    int m_running = 0;               // passes started and not finished (GUI thread only)
    std::uint64_t m_generation = 0;  // bumped by setModel (GUI thread only)
    std::vector<std::shared_ptr<CancelToken>> m_active;  // every pass not finished yet
    std::shared_ptr<CancelToken> m_scoreCam;             // the running Score-CAM, if any
    std::shared_ptr<CancelToken> m_tapPass;              // the running extra-layer pass, if any
    std::vector<std::shared_ptr<CancelToken>> m_curves;  // per panel slot, the running curve
    std::shared_ptr<CancelToken> m_sanity;               // the running sanity check, if any
    int m_extraTap = -1;
    static constexpr std::size_t kCacheSize = 48;
};

}  // namespace camx::ui

Q_DECLARE_METATYPE(std::shared_ptr<const camx::ui::ExplainResult>)
Q_DECLARE_METATYPE(std::shared_ptr<const camx::ui::CurveResult>)
Q_DECLARE_METATYPE(std::shared_ptr<const camx::ui::SanityOutcome>)
