#pragma once
// The faithfulness metrics inside a split evaluation (`eval --metrics ...`): per image, for each
// method's map and for the baseline maps (random, center, sobel: metrics/baseline_maps.h), the
// metrics asked for (metrics/faithfulness.h, metrics/road.h); over the split, their means. Plain
// values: the records keep every number, so a resumed or reloaded evaluation gives the same
// summary.

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/job.h"
#include "data/dataset.h"
#include "metrics/faithfulness.h"
#include "metrics/road.h"

namespace camx {

struct MetricOptions {
    bool deletion = false, insertion = false, road = false, drop = false, pointing = false;
    // The sanity check by cascading parameter randomisation (explain/sanity.h): each map's
    // similarity to the map of every randomised copy of the model.
    bool sanity = false;
    // Whether any metric is asked for: then the baselines are scored too.
    bool any() const { return deletion || insertion || road || drop || pointing || sanity; }
    // Whether any metric perturbs the image (all but the sanity check).
    bool perturbs() const { return deletion || insertion || road || drop || pointing; }
    int steps = 50;                                  // deletion and insertion
    Substrate deletionSubstrate = Substrate::Zeros;  // RISE's
    Substrate insertionSubstrate = Substrate::Blur;  // RISE's
    std::vector<int> roadPercentiles{10, 20, 30, 40, 50, 60, 70, 80, 90};
    double roadNoise = 0.01;  // the paper's; 0 turns it off
    std::uint64_t seed = 0;   // ROAD's noise and the random baseline
    MetricScore score = MetricScore::Probability;
    double pointingTolerance = 15;  // pixels
    // The sanity check's cascade, top down ("fc", "layer4.1", ..., "stem"): the steps of
    // ModelSession::randomizationCascade(), filled in by the evaluation from its model.
    std::vector<std::string> sanitySteps;
};

// "deletion,insertion,road,drop,pointing,sanity" (any subset; "all" for every one). Throws
// std::invalid_argument naming an unknown entry.
void parseMetricList(const std::string& list, MetricOptions* out);
std::string metricListId(const MetricOptions& o);  // "deletion,road", in that fixed order
// The settings that change the numbers, for the evaluation's resume key.
nlohmann::json metricOptionsJson(const MetricOptions& o);
void metricOptionsFromJson(const nlohmann::json& j, MetricOptions* o);

// One map's outcome on one image; members not asked for stay empty.
struct MapMetrics {
    std::vector<float> deletion, insertion;  // curves, steps + 1 points
    std::optional<double> deletionAuc, insertionAuc;
    std::vector<float> roadMorf, roadLerf;  // score change per percentile
    std::optional<double> roadCombined;
    std::optional<double> scoreBefore, scoreMultiplied;  // the image, the image times the map
    std::optional<bool> pointingHit;                     // absent without ground truth
    std::optional<double> energyPointing;                // likewise
    // The sanity check, per cascade step (MetricOptions::sanitySteps): Spearman's rank
    // correlation and SSIM between this map and the randomised model's map of the same method
    // and layer, both as the evaluation scores them (the method's ReLU, upsampled to the input,
    // min-max normalised). NaN where undefined (a constant map). A baseline map does not depend
    // on the model: 1 at every step.
    std::vector<float> sanitySpearman, sanitySsim;
};
nlohmann::json mapMetricsToJson(const MapMetrics& m);
MapMetrics mapMetricsFromJson(const nlohmann::json& j);

// A map to score: at the network's input size (S x S, in [0, 1]) for the perturbation metrics,
// and at the image's own size for the pointing games.
struct MetricMap {
    std::vector<float> atInput;
    std::vector<float> atImage;
    std::uint64_t seed = 0;  // ROAD's noise for this map
};

// The pointing games' ground truth of a sample at its own size: its boxes and the union of its
// masks (read now; a mask that cannot be read is reported in `error` and left out).
PointingTruth pointingTruthOf(const Sample& s, std::string* error = nullptr);

// Every asked metric for one image's maps, explaining class `cls`.
std::vector<MapMetrics> scoreMetrics(const InputClassifier& classify, const float* chw, int size,
                                     int cls, const std::vector<MetricMap>& maps,
                                     const PointingTruth& truth, const MetricOptions& o,
                                     const JobContext& job = {});

// Over a split, for one method and layer.
struct MetricSummary {
    std::size_t images = 0;
    std::optional<double> deletionAuc, insertionAuc;
    std::vector<double> deletionCurve, insertionCurve;  // mean score per step
    std::vector<double> roadMorf, roadLerf;             // mean change per percentile
    std::optional<double> roadCombined;
    std::optional<double> avgDrop, increaseInConfidence;  // percent, as Chattopadhay et al.
    std::optional<double> pointingGame, energyPointingGame;
    std::size_t pointingImages = 0;  // images with ground truth
    // Per cascade step (MetricOptions::sanitySteps), the mean over the images where the value
    // is defined; NaN where it is nowhere.
    std::vector<double> sanitySpearman, sanitySsim;
};
std::optional<MetricSummary> summarizeMetrics(const std::vector<const MapMetrics*>& maps);
nlohmann::json metricSummaryJson(const MetricSummary& s, const MetricOptions& o);

}  // namespace camx
