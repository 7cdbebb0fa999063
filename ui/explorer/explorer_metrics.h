#pragma once
// The explorer's per-image metrics, computed on a worker thread from a cached explanation: the
// deletion and insertion curves of one panel's map (metrics/faithfulness.h, as `eval --metrics
// deletion,insertion` scores them), and the sanity check by cascading parameter randomisation
// (explain/sanity.h) of one method at one layer. Plain values in and out: the widgets get
// vectors and maps, never tensors.
//
// Both compare maps as the explorer shows them and as the evaluation scores them: the raw map
// through normalizeMap with the method's ReLU (methodUsesRelu), upsampled to the network's input
// size S x S (upsampleMap), on the photo resized whole to S x S and normalised (what
// ModelSession::explain feeds the network).

#include <QString>
#include <memory>
#include <opencv2/core/mat.hpp>
#include <string>
#include <vector>

#include "common/job.h"
#include "eval/metric_eval.h"
#include "explain/heatmap.h"
#include "explorer/explain_controller.h"

namespace camx {
class ModelSession;
struct ModelInfo;
}  // namespace camx

namespace camx::ui {

// One panel's deletion and insertion curves.
struct CurveRequest {
    ExplainKey image;
    Method method = Method::GradCam;
    int tap = -1;
    int slot = 0;  // the panel asking
    bool operator==(const CurveRequest& o) const {
        return image == o.image && method == o.method && tap == o.tap && slot == o.slot;
    }
};

struct CurveResult {
    CurveRequest request;
    int target = -1;  // the class scored (the explanation's)
    MetricOptions options;
    std::vector<float> deletion, insertion;  // options.steps + 1 points each, fraction 0..1
    double deletionAuc = 0, insertionAuc = 0;
    double seconds = 0;
    QString error;  // set when the curves could not be computed (then nothing else is)
};

// The options the explorer scores with: deletion and insertion only, otherwise the evaluation's
// defaults (50 steps, RISE's substrates: zeros for deletion, blur for insertion; probability).
MetricOptions curveOptions();
// Scores `base`'s map for r.method at r.tap. Throws std::invalid_argument when the map is
// missing, Cancelled when `job` is cancelled (checked before every classifier batch).
CurveResult computeCurve(ModelSession& model, const ExplainResult& base, const CurveRequest& r,
                         const JobContext& job = {});

// The sanity check of one method at one layer for one image.
struct SanityRequest {
    ExplainKey image;
    Method method = Method::GradCam;
    int tap = -1;  // the layer the method is shown at (CAM: its own)
};

struct SanityOutcome {
    SanityRequest request;
    int target = -1;     // the class explained, by the original and every randomised model
    QString layerName;   // the tap's name
    cv::Mat thumbPhoto;  // RGB, the photo scaled to thumbnail size (aspect kept)
    // Entry 0 is the original model's; entry k + 1 is cascade step k's (cumulative).
    std::vector<std::string> labels;  // "original", "fc", "layer4.1", ..., "stem"
    std::vector<Heatmap> compared;    // as shown, at S x S: what the similarities compare
    std::vector<Heatmap> thumbMaps;   // the same at thumbPhoto's size, for the overlays
    // Per cascade step, to the original (metrics/similarity.h defaults: absolute values, 7x7
    // SSIM window). NaN where undefined (a constant map).
    std::vector<double> spearman, ssim;
    double seconds = 0;
};

// Runs ModelSession::explainRandomized for every step of the cascade. Progress: one report per
// step, from `job`. Throws Cancelled, or std::invalid_argument for a map the model cannot make.
SanityOutcome computeSanity(ModelSession& model, const ExplainResult& base, const SanityRequest& r,
                            const JobContext& job = {}, int thumbSide = 200);

}  // namespace camx::ui
