#include "figures/figure_batch.h"

#include <algorithm>
#include <numeric>

#include "data/image_io.h"
#include "explain/model_session.h"

namespace camx::ui {

std::vector<ComparisonFigure> buildComparisons(ModelSession& model,
                                               const std::vector<Sample>& samples,
                                               const FigureRequest& request, ExplainTarget target,
                                               const JobContext& job) {
    const ModelInfo& info = model.info();
    ExplainOptions eo;
    eo.methods = request.methods;
    const int tap = request.tap >= 0 ? request.tap : info.lastBlockTap;
    eo.taps = {tap};
    if (tap != info.lastBlockTap) eo.taps.push_back(info.lastBlockTap);  // CAM lives there
    eo.score = request.score;
    std::vector<ComparisonFigure> out;
    out.reserve(samples.size());
    for (std::size_t i = 0; i < samples.size(); ++i) {
        job.throwIfCancelled();
        const Sample& s = samples[i];
        job.report(i, samples.size(), "Explaining " + s.imagePath.filename().string());
        const cv::Mat rgb = readRgb(s.imagePath);  // throws naming the file
        const int cls = target == ExplainTarget::Truth && s.label >= 0 ? s.label : -1;
        const auto ex = model.explain({rgb}, {cls}, eo, job);
        out.push_back(makeComparison(info, rgb, ex.at(0), s.boxes, s.label, request));
    }
    job.report(samples.size(), samples.size(), "Explained");
    return out;
}

std::vector<std::size_t> rankByIou(const std::vector<ImageRecord>& records, Method method, int tap,
                                   std::size_t n, bool worst) {
    std::vector<std::pair<double, std::size_t>> scored;
    for (std::size_t i = 0; i < records.size(); ++i)
        if (const MapScore* s = records[i].find(method, tap)) scored.emplace_back(s->iou, i);
    std::stable_sort(scored.begin(), scored.end(), [worst](const auto& a, const auto& b) {
        return worst ? a.first < b.first : a.first > b.first;
    });
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < scored.size() && i < n; ++i) out.push_back(scored[i].second);
    return out;
}

}  // namespace camx::ui
