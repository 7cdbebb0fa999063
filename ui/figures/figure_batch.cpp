#include "figures/figure_batch.h"

#include <algorithm>
#include <numeric>

#include "data/image_io.h"
#include "explain/model_session.h"
#include "figures/mask_outlines.h"

namespace camx::ui {

std::vector<ComparisonFigure> buildComparisons(ModelSession& model,
                                               const std::vector<Sample>& samples,
                                               const std::vector<std::string>& datasetClassNames,
                                               const FigureRequest& request, ExplainTarget target,
                                               const JobContext& job) {
    const ModelInfo& info = model.info();
    const std::vector<std::string>& names =
        datasetClassNames.empty() ? info.classNames : datasetClassNames;
    const ClassMatch match = matchClasses(names, info.classNames);
    auto truthOf = [&](int label) {
        TruthClass t;
        if (label < 0) return t;
        t.name = label < static_cast<int>(names.size())
                     ? QString::fromStdString(names[static_cast<std::size_t>(label)])
                     : QStringLiteral("class %1").arg(label);
        if (label < static_cast<int>(match.toModel.size()))
            t.modelClass = match.toModel[static_cast<std::size_t>(label)];
        return t;
    };
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
        const TruthClass truth = truthOf(s.label);
        const int cls = target == ExplainTarget::Truth ? truth.modelClass : -1;
        const auto ex = model.explain({rgb}, {cls}, eo, job);
        MaskOutlines masks;
        if (s.hasMasks() || !s.ignoreMaskPath.empty()) masks = readMaskOutlines(s);
        out.push_back(makeComparison(info, rgb, ex.at(0), s.boxes, truth, request, masks.instances,
                                     masks.ignore));
        out.back().name = QString::fromStdString(s.imagePath.filename().string());
    }
    job.report(samples.size(), samples.size(), "Explained");
    return out;
}

}  // namespace camx::ui
