#include "explorer/explain_controller.h"

#include "common/thread_priority.h"

#include <algorithm>
#include <chrono>
#include <functional>

#include "data/image_io.h"
#include "explain/model_session.h"
#include "explorer/explorer_metrics.h"

namespace camx::ui {

namespace {
// Runs a pass on a worker thread: a cancellation sets *cancelled, any other failure *error.
void runCatching(const std::function<void()>& work, QString* error, bool* cancelled) {
    try {
        work();
    } catch (const Cancelled&) {
        *cancelled = true;
    } catch (const std::exception& e) {
        *error = QString::fromStdString(e.what());
    }
}
}  // namespace

ExplainController::ExplainController(QObject* parent) : QObject(parent) {
    qRegisterMetaType<std::shared_ptr<const ExplainResult>>();
    qRegisterMetaType<std::shared_ptr<const CurveResult>>();
    qRegisterMetaType<std::shared_ptr<const SanityOutcome>>();
    // One network pass at a time: LibTorch already spreads each pass over every core.
    m_pool.setMaxThreadCount(1);
}

ExplainController::~ExplainController() {
    for (const auto& t : m_active) t->cancel();
    m_pool.clear();
    // Only the pass that is running remains; it stops at its next step. Its completion is queued
    // to this object and dropped with it.
    m_pool.waitForDone();
}

std::vector<Method> ExplainController::passMethods() {
    return {Method::Cam,      Method::GradCam,  Method::GradCamPlusPlus, Method::XGradCam,
            Method::LayerCam, Method::HiResCam, Method::FinerCam,        Method::EigenCam};
}

std::vector<Method> ExplainController::passMethods(const ModelInfo& info) {
    std::vector<Method> methods = passMethods();
    if (!info.camAvailable)
        methods.erase(std::remove(methods.begin(), methods.end(), Method::Cam), methods.end());
    if (info.numClasses() < 2)  // Finer-CAM compares the class with others
        methods.erase(std::remove(methods.begin(), methods.end(), Method::FinerCam), methods.end());
    return methods;
}

std::vector<int> ExplainController::passTaps(const ModelInfo& info, int extraTap) {
    std::vector<int> taps = info.blockTaps();
    // A TorchScript model's default layer (its CAM layer) need not be a block.
    for (int t : {info.lastBlockTap, extraTap})
        if (t >= 0 && t < static_cast<int>(info.taps.size()) &&
            std::find(taps.begin(), taps.end(), t) == taps.end())
            taps.push_back(t);
    return taps;
}

void ExplainController::setModel(std::shared_ptr<ModelSession> model) {
    // A new generation: every pass of the old model is cancelled and will neither store nor
    // announce anything. Nothing here waits for a worker.
    ++m_generation;
    for (const auto& t : m_active) t->cancel();
    m_scoreCam.reset();
    m_tapPass.reset();
    m_curves.clear();
    if (m_sanity) {
        m_sanity.reset();
        Q_EMIT sanityStopped(tr("The model changed"));
    }
    m_extraTap = -1;
    std::lock_guard<std::mutex> lock(m_mutex);
    m_model = std::move(model);
    m_cache.clear();
    m_inFlight.clear();
}

std::shared_ptr<CancelToken> ExplainController::begin() {
    auto token = std::make_shared<CancelToken>();
    m_active.push_back(token);
    if (m_running++ == 0) Q_EMIT busyChanged(true);
    return token;
}

void ExplainController::finish(const std::shared_ptr<CancelToken>& token) {
    m_active.erase(std::remove(m_active.begin(), m_active.end(), token), m_active.end());
    if (m_scoreCam == token) m_scoreCam.reset();
    if (m_tapPass == token) m_tapPass.reset();
    for (auto& c : m_curves)
        if (c == token) c.reset();
    if (m_sanity == token) m_sanity.reset();
    if (--m_running == 0) Q_EMIT busyChanged(false);
}

std::shared_ptr<const ExplainResult> ExplainController::cached(const ExplainKey& key) const {
    std::lock_guard<std::mutex> lock(m_mutex);
    for (const auto& r : m_cache)
        if (r->key == key) return r;
    return nullptr;
}

int ExplainController::cacheSize() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return static_cast<int>(m_cache.size());
}

void ExplainController::store(std::shared_ptr<const ExplainResult> r) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_cache.remove_if([&](const auto& c) { return c->key == r->key; });
    m_cache.push_front(std::move(r));
    while (m_cache.size() > kCacheSize) m_cache.pop_back();
}

std::shared_ptr<const ExplainResult> ExplainController::storeMerged(
    std::shared_ptr<const ExplainResult> r) {
    // Another pass for the same image (a layer, Score-CAM) may have finished meanwhile: its maps
    // stay, with these added to the newest copy.
    if (auto now = cached(r->key); now && now != r) {
        auto copy = std::make_shared<ExplainResult>(*now);
        for (const auto& m : r->explanation.maps)
            if (!copy->explanation.find(m.method, m.tap)) copy->explanation.maps.push_back(m);
        r = std::move(copy);
    }
    store(r);
    return r;
}

void ExplainController::request(const ExplainKey& key) {
    if (!(key == m_current)) cancelCurves();  // another image: its curves are not wanted now
    m_current = key;
    if (auto hit = cached(key)) {
        {
            std::lock_guard<std::mutex> lock(m_mutex);  // refresh its place in the LRU order
            m_cache.remove(hit);
            m_cache.push_front(hit);
        }
        Q_EMIT ready(hit);
        return;
    }
    schedule(key, true);
}

void ExplainController::prefetch(const ExplainKey& key) {
    if (!cached(key)) schedule(key, false);
}

void ExplainController::schedule(const ExplainKey& key, bool announce) {
    if (!m_model) return;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        for (const auto& k : m_inFlight)
            if (k == key) return;  // already coming; ready() fires if it is still current then
        m_inFlight.push_back(key);
    }
    auto token = begin();
    auto model = m_model;
    const std::uint64_t generation = m_generation;
    const int extraTap = m_extraTap;
    // The image the user asked for jumps ahead of prefetches.
    m_pool.start(
        [this, key, model, token, generation, extraTap] {
            lowerCurrentThreadPriority();
            auto r = std::make_shared<ExplainResult>();
            r->key = key;
            QString error;
            bool cancelled = token->cancelled();  // the model changed while it was queued
            if (!cancelled) {
                runCatching(
                    [&] {
                        r->photo = readRgb(key.path.toStdString());
                        ExplainOptions o;
                        o.methods = passMethods(model->info());
                        o.taps = passTaps(model->info(), extraTap);
                        o.score = key.score;
                        const auto t0 = std::chrono::steady_clock::now();
                        r->explanation =
                            model->explain({r->photo}, {key.target}, o, {{}, token.get()}).front();
                        r->seconds =
                            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
                                .count();
                    },
                    &error, &cancelled);
            }
            QMetaObject::invokeMethod(
                this,
                [this, r, key, error, token, generation, cancelled] {
                    finish(token);
                    if (generation != m_generation || cancelled) return;  // another model's
                    {
                        std::lock_guard<std::mutex> lock(m_mutex);
                        m_inFlight.remove(key);
                    }
                    if (!error.isEmpty()) {
                        if (key == m_current) Q_EMIT failed(error);
                        return;
                    }
                    store(r);
                    if (key == m_current) Q_EMIT ready(r);
                },
                Qt::QueuedConnection);
        },
        announce ? 1 : 0);
}

void ExplainController::requestScoreCam(const ExplainKey& key, int tap) {
    auto base = cached(key);
    if (!base || !m_model) return;
    if (m_scoreCam) m_scoreCam->cancel();  // one Score-CAM at a time: the newest request wins
    auto token = begin();
    m_scoreCam = token;
    auto model = m_model;
    const std::uint64_t generation = m_generation;
    m_pool.start(
        [this, base, model, tap, token, generation] {
            lowerCurrentThreadPriority();
            auto r = std::make_shared<ExplainResult>(*base);
            QString error;
            bool cancelled = false;
            runCatching(
                [&] {
                    ExplainOptions o;
                    o.methods = {Method::ScoreCam};
                    o.taps = {tap};
                    o.score = base->key.score;
                    JobContext job;
                    job.cancel = token.get();
                    job.progress = [this, token](const Progress& p) {
                        QMetaObject::invokeMethod(
                            this,
                            [this, p, token] {
                                if (token->cancelled()) return;
                                Q_EMIT progress(static_cast<int>(p.done), static_cast<int>(p.total),
                                                QStringLiteral("Score-CAM"));
                            },
                            Qt::QueuedConnection);
                    };
                    job.throwIfCancelled();
                    auto ex =
                        model->explain({base->photo}, {base->explanation.target}, o, job).front();
                    for (auto& m : ex.maps) r->explanation.maps.push_back(std::move(m));
                },
                &error, &cancelled);
            QMetaObject::invokeMethod(
                this,
                [this, r, error, token, generation, cancelled] {
                    finish(token);
                    if (generation != m_generation || cancelled) return;
                    if (!error.isEmpty()) {
                        Q_EMIT failed(error);
                        return;
                    }
                    const auto merged = storeMerged(r);
                    if (merged->key == m_current) Q_EMIT scoreCamReady(merged);
                },
                Qt::QueuedConnection);
        },
        1);
}

void ExplainController::requestTap(const ExplainKey& key, int tap) {
    auto base = cached(key);
    if (!base || !m_model || tap < 0 || tap >= static_cast<int>(m_model->info().taps.size()))
        return;
    if (m_tapPass) m_tapPass->cancel();  // the slider moved on: only the newest layer matters
    auto token = begin();
    m_tapPass = token;
    auto model = m_model;
    const std::uint64_t generation = m_generation;
    m_pool.start(
        [this, base, model, tap, token, generation] {
            lowerCurrentThreadPriority();
            auto r = std::make_shared<ExplainResult>(*base);
            QString error;
            bool cancelled = token->cancelled();
            if (!cancelled) {
                runCatching(
                    [&] {
                        ExplainOptions o;
                        o.methods = passMethods(model->info());
                        // CAM lives at its own layer, which every pass has already explained.
                        o.methods.erase(
                            std::remove(o.methods.begin(), o.methods.end(), Method::Cam),
                            o.methods.end());
                        o.taps = {tap};
                        o.score = base->key.score;
                        const auto t0 = std::chrono::steady_clock::now();
                        auto ex = model
                                      ->explain({base->photo}, {base->explanation.target}, o,
                                                {{}, token.get()})
                                      .front();
                        for (auto& m : ex.maps)
                            if (!r->explanation.find(m.method, m.tap))
                                r->explanation.maps.push_back(std::move(m));
                        r->seconds =
                            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
                                .count();
                    },
                    &error, &cancelled);
            }
            QMetaObject::invokeMethod(
                this,
                [this, r, error, token, generation, cancelled] {
                    finish(token);
                    if (generation != m_generation || cancelled) return;
                    if (!error.isEmpty()) {
                        if (r->key == m_current) Q_EMIT failed(error);
                        return;
                    }
                    const auto merged = storeMerged(r);
                    if (merged->key == m_current) Q_EMIT ready(merged);
                },
                Qt::QueuedConnection);
        },
        1);
}

JobContext ExplainController::guiJob(const std::shared_ptr<CancelToken>& token,
                                     std::function<void(const Progress&)> onProgress) {
    JobContext job;
    job.cancel = token.get();
    job.progress = [this, token, onProgress](const Progress& p) {
        QMetaObject::invokeMethod(
            this,
            [p, token, onProgress] {
                if (!token->cancelled()) onProgress(p);
            },
            Qt::QueuedConnection);
    };
    return job;
}

void ExplainController::requestCurve(const CurveRequest& req) {
    auto base = cached(req.image);
    if (!base || !m_model || req.slot < 0) return;
    if (static_cast<std::size_t>(req.slot) >= m_curves.size())
        m_curves.resize(static_cast<std::size_t>(req.slot) + 1);
    auto& slot = m_curves[static_cast<std::size_t>(req.slot)];
    if (slot) slot->cancel();  // the panel moved on: only its newest map matters
    auto token = begin();
    slot = token;
    auto model = m_model;
    const std::uint64_t generation = m_generation;
    m_pool.start(
        [this, base, model, req, token, generation] {
            lowerCurrentThreadPriority();
            auto r = std::make_shared<CurveResult>();
            QString error;
            bool cancelled = token->cancelled();
            if (!cancelled) {
                const JobContext job = guiJob(token, [this](const Progress& p) {
                    Q_EMIT progress(static_cast<int>(p.done), static_cast<int>(p.total),
                                    tr("Faithfulness curve"));
                });
                runCatching([&] { *r = computeCurve(*model, *base, req, job); }, &error,
                            &cancelled);
            }
            QMetaObject::invokeMethod(
                this,
                [this, r, req, error, token, generation, cancelled] {
                    finish(token);
                    // Superseded or cancelled on the GUI thread after the worker ended counts
                    // too: the token says.
                    if (generation != m_generation || cancelled || token->cancelled()) return;
                    if (!error.isEmpty()) {
                        // The panel says so; the image itself stays shown.
                        auto failedCurve = std::make_shared<CurveResult>();
                        failedCurve->request = req;
                        failedCurve->error = error;
                        Q_EMIT curveReady(failedCurve);
                        return;
                    }
                    Q_EMIT curveReady(r);
                },
                Qt::QueuedConnection);
        },
        1);
}

void ExplainController::cancelCurves() {
    for (auto& c : m_curves)
        if (c) c->cancel();
}

void ExplainController::requestSanity(const SanityRequest& req) {
    auto base = cached(req.image);
    if (!base || !m_model) {
        Q_EMIT sanityStopped(tr("No explanation of this image yet"));
        return;
    }
    if (m_sanity) {
        m_sanity->cancel();
        Q_EMIT sanityStopped(tr("Superseded by a newer sanity check"));
    }
    auto token = begin();
    m_sanity = token;
    auto model = m_model;
    const std::uint64_t generation = m_generation;
    m_pool.start(
        [this, base, model, req, token, generation] {
            lowerCurrentThreadPriority();
            auto r = std::make_shared<SanityOutcome>();
            QString error;
            bool cancelled = token->cancelled();
            if (!cancelled) {
                const JobContext job = guiJob(token, [this](const Progress& p) {
                    Q_EMIT sanityProgress(static_cast<int>(p.done), static_cast<int>(p.total),
                                          QString::fromStdString(p.stage));
                });
                runCatching([&] { *r = computeSanity(*model, *base, req, job); }, &error,
                            &cancelled);
            }
            QMetaObject::invokeMethod(
                this,
                [this, r, error, token, generation, cancelled] {
                    const bool current = m_sanity == token;
                    finish(token);
                    // cancelSanity, a newer request or a model switch already said why.
                    if (generation != m_generation || !current || token->cancelled()) return;
                    if (cancelled) {
                        Q_EMIT sanityStopped(tr("Cancelled"));
                        return;
                    }
                    if (!error.isEmpty()) {
                        Q_EMIT sanityStopped(tr("The sanity check failed: %1").arg(error));
                        return;
                    }
                    Q_EMIT sanityReady(r);
                },
                Qt::QueuedConnection);
        },
        1);
}

void ExplainController::cancelSanity() {
    if (!m_sanity) return;
    m_sanity->cancel();
    m_sanity.reset();  // finish() still counts it down when the worker ends
    Q_EMIT sanityStopped(tr("Cancelled"));
}

void ExplainController::cancelScoreCam() {
    if (m_scoreCam) m_scoreCam->cancel();
}

void ExplainController::waitForIdle() {
    m_pool.waitForDone();
}

}  // namespace camx::ui
