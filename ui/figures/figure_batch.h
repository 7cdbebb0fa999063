#pragma once
// Figures for many images at once (grid figures, multi-page PDFs): decodes each photo, explains
// it and builds its comparison. Runs on a worker thread (network passes); cancellable.
// Shared by the explorer's "Export Grid" and `cam-explorer-cli export`.

#include <QString>
#include <vector>

#include "common/job.h"
#include "data/dataset.h"
#include "eval/evaluator.h"
#include "figures/comparison_figure.h"

namespace camx {
class ModelSession;
}

namespace camx::ui {

enum class ExplainTarget { Predicted, Truth };

// Builds one comparison per sample, in order, with the ground truth's boxes and masks. The
// samples' labels index `datasetClassNames` (empty: the model's classes), matched to the model's
// classes as the evaluation matches them (matchClasses): the header names the dataset's class, and
// ExplainTarget::Truth explains its model class (the prediction where the model has none).
// Throws camx::Cancelled when cancelled, and std::runtime_error naming the file when a photo
// cannot be read. An unreadable mask is left out of its figure.
// Fills the method panels of `figure` (made by makeComparison from `explanation` of `rgb` under
// `request`) with their deletion and insertion curves: request.curveSteps steps, batched network
// passes on the model's inference form. Cancellable.
void addCurves(ModelSession& model, const cv::Mat& rgb, const ImageExplanation& explanation,
               const FigureRequest& request, ComparisonFigure& figure, const JobContext& job = {});

// With request.curves, each figure's method panels get their deletion and insertion curves.
std::vector<ComparisonFigure> buildComparisons(ModelSession& model,
                                               const std::vector<Sample>& samples,
                                               const std::vector<std::string>& datasetClassNames,
                                               const FigureRequest& request, ExplainTarget target,
                                               const JobContext& job = {});

}  // namespace camx::ui
