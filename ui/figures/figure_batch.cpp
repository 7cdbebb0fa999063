#include "figures/figure_batch.h"

#include <algorithm>
#include <numeric>

#include "data/image_io.h"
#include "eval/metric_eval.h"
#include "explain/model_session.h"
#include "explain/postprocess.h"
#include "figures/mask_outlines.h"

namespace camx::ui {

void addCurves(ModelSession& model, const cv::Mat& rgb, const ImageExplanation& explanation,
               const FigureRequest& request, ComparisonFigure& figure, const JobContext& job) {
    const ModelInfo& info = model.info();
    const int S = info.inputSize;
    const std::vector<float> chw = model.prepareInput(rgb);
    // Each method panel's map as the evaluation scores it: normalised, at the input's size.
    const int lastTap = request.tap >= 0 ? request.tap : info.lastBlockTap;
    std::vector<MetricMap> maps;
    std::vector<FigurePanel*> panels;
    const std::size_t first = request.includePhoto ? 1 : 0;
    for (std::size_t i = 0; i < request.methods.size() && first + i < figure.panels.size(); ++i) {
        const Method m = request.methods[i];
        const Heatmap* raw = explanation.find(m, methodTap(m, lastTap, info.lastBlockTap));
        if (!raw) continue;
        MetricMap mm;
        mm.atInput = displayMap(*raw, m, S, S).data;
        maps.push_back(std::move(mm));
        panels.push_back(&figure.panels[first + i]);
    }
    if (maps.empty()) return;
    MetricOptions o;
    o.deletion = o.insertion = true;
    o.steps = request.curveSteps;
    o.score = request.curveOnLogit ? MetricScore::Logit : MetricScore::Probability;
    const InputClassifier classify = [&model](const float* x, int n) {
        return model.classifyPrepared(x, n);
    };
    const auto scored = scoreMetrics(classify, chw.data(), S, explanation.target, maps, {}, o, job);
    for (std::size_t i = 0; i < scored.size(); ++i) {
        PanelCurves& c = panels[i]->curves;
        c.deletion = scored[i].deletion;
        c.insertion = scored[i].insertion;
        c.deletionAuc = scored[i].deletionAuc.value_or(0);
        c.insertionAuc = scored[i].insertionAuc.value_or(0);
        c.probability = !request.curveOnLogit;
    }
}

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
        if (request.curves) {
            job.report(i, samples.size(),
                       "Deletion and insertion curves of " + s.imagePath.filename().string());
            addCurves(model, rgb, ex.at(0), request, out.back(), job);
        }
    }
    job.report(samples.size(), samples.size(), "Explained");
    return out;
}

}  // namespace camx::ui
