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
        out.back().name = QString::fromStdString(s.imagePath.filename().string());
    }
    job.report(samples.size(), samples.size(), "Explained");
    return out;
}

}  // namespace camx::ui
