#include "explorer/explorer_metrics.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include <opencv2/imgproc.hpp>

#include "data/image_io.h"
#include "explain/model_session.h"
#include "explain/postprocess.h"
#include "metrics/similarity.h"

namespace camx::ui {

namespace {
double secondsSince(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

MetricOptions curveOptions() {
    MetricOptions o;
    o.deletion = true;
    o.insertion = true;
    return o;
}

CurveResult computeCurve(ModelSession& model, const ExplainResult& base, const CurveRequest& r,
                         const JobContext& job) {
    const auto t0 = std::chrono::steady_clock::now();
    const Heatmap* raw = base.explanation.find(r.method, r.tap);
    if (!raw) throw std::invalid_argument("no map of " + methodName(r.method) + " at this layer");
    const ModelInfo& info = model.info();
    const int S = info.inputSize;
    const std::vector<float> chw = model.prepareInput(base.photo);
    MetricMap map;
    map.atInput = displayMap(*raw, r.method, S, S).data;
    CurveResult out;
    out.request = r;
    out.target = base.explanation.target;
    out.options = curveOptions();
    // Both curves' images, for the progress; cancellable before every batch (the core checks
    // only between maps).
    const std::size_t total = 2 * (static_cast<std::size_t>(out.options.steps) + 1);
    std::size_t done = 0;
    const InputClassifier classify = [&](const float* x, int n) {
        job.throwIfCancelled();
        auto logits = model.classifyPrepared(x, n);
        done = std::min(total, done + static_cast<std::size_t>(n));
        job.report(done, total, "Faithfulness curve");
        return logits;
    };
    const auto scored =
        scoreMetrics(classify, chw.data(), S, out.target, {map}, {}, out.options, job);
    job.throwIfCancelled();
    const MapMetrics& m = scored.at(0);
    out.deletion = m.deletion;
    out.insertion = m.insertion;
    out.deletionAuc = m.deletionAuc.value_or(0);
    out.insertionAuc = m.insertionAuc.value_or(0);
    out.seconds = secondsSince(t0);
    return out;
}

SanityOutcome computeSanity(ModelSession& model, const ExplainResult& base, const SanityRequest& r,
                            const JobContext& job, int thumbSide) {
    const auto t0 = std::chrono::steady_clock::now();
    const ModelInfo& info = model.info();
    const int S = info.inputSize;
    if (r.tap < 0 || r.tap >= static_cast<int>(info.taps.size()))
        throw std::invalid_argument("no such layer");
    SanityOutcome out;
    out.request = r;
    out.target = base.explanation.target;
    out.layerName = QString::fromStdString(info.taps[static_cast<std::size_t>(r.tap)].name);
    const std::vector<float> chw = model.prepareInput(base.photo);
    SanityOptions so;
    so.explain.methods = {r.method};
    so.explain.taps = {r.tap};
    so.explain.score = r.image.score;
    const SanityResult result = model.explainRandomized(chw.data(), 1, {out.target}, so, job);
    job.throwIfCancelled();

    // The thumbnail photo: the longest side thumbSide, aspect kept.
    const double scale =
        static_cast<double>(thumbSide) / std::max(base.photo.cols, base.photo.rows);
    const int tw = std::max(1, static_cast<int>(std::lround(base.photo.cols * scale)));
    const int th = std::max(1, static_cast<int>(std::lround(base.photo.rows * scale)));
    cv::resize(base.photo, out.thumbPhoto, cv::Size(tw, th), 0, 0, cv::INTER_AREA);

    auto add = [&](const std::string& label, const ImageExplanation& ex) {
        const Heatmap* raw = ex.find(r.method, r.tap);
        if (!raw) throw std::invalid_argument("the sanity check returned no map for " + label);
        const Heatmap shown = normalizeMap(*raw, methodUsesRelu(r.method));
        out.labels.push_back(label);
        out.compared.push_back(upsampleMap(shown, S, S));
        out.thumbMaps.push_back(upsampleMap(shown, tw, th));
    };
    add("original", result.original.at(0));
    for (const SanityStep& step : result.steps) {
        add(step.step.label, step.explanations.at(0));
        out.spearman.push_back(spearmanCorrelation(out.compared.front(), out.compared.back()));
        out.ssim.push_back(ssim(out.compared.front(), out.compared.back()));
    }
    out.seconds = secondsSince(t0);
    return out;
}

}  // namespace camx::ui
