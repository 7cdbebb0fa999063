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

// Builds one comparison per sample, in order. Throws camx::Cancelled when cancelled, and
// std::runtime_error naming the file when a photo cannot be read.
std::vector<ComparisonFigure> buildComparisons(ModelSession& model,
                                               const std::vector<Sample>& samples,
                                               const FigureRequest& request, ExplainTarget target,
                                               const JobContext& job = {});

// Positions in `records` of the n images with the lowest (worst) or highest IoU for a method at
// a tap; images without that score are left out. Ties keep split order.
std::vector<std::size_t> rankByIou(const std::vector<ImageRecord>& records, Method method, int tap,
                                   std::size_t n, bool worst);

}  // namespace camx::ui
