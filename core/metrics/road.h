#pragma once
// ROAD: RemOve And Debias (Rong et al., "A Consistent and Efficient Evaluation Strategy for
// Attribution Methods", ICML 2022), as pytorch-grad-cam's metrics/road.py computes it.
//
// At percentile p of the map's values (numpy's linear interpolation), the pixels at or above it
// (most relevant first, MoRF) or at or below 1 - p of the inverted map (least relevant first,
// LeRF) are removed and filled by the paper's noisy linear imputation: each removed pixel equals
// the weighted mean of its 8 neighbours (weights 1/6 for the 4 direct ones, 1/12 for the
// diagonals, renormalised at the border), solved for all removed pixels at once as one sparse
// linear system per image, channel by channel, in the network's input space; then Gaussian noise
// of standard deviation `noise` (0.01 in the paper) is added to them. The noise is seeded here,
// and 0 turns it off. The score change is score(imputed) - score(image); MoRF and LeRF are each
// averaged over the percentiles (10, ..., 90), and ROAD combined = (LeRF - MoRF) / 2.
//
// The sparse solve uses Eigen (SimplicialLDLT: the system is symmetric negative definite, so its
// negation is factorised as LDL^T, 3 to 6 times faster than SparseLU here). When no pixel is left
// to interpolate from (a map with many equal values can remove every pixel at once), the system has
// right-hand side 0 and every pixel becomes 0, the normalised mean colour, which is what
// pytorch-grad-cam's spsolve returns there (tested).

#include <cstdint>
#include <vector>

#include "metrics/faithfulness.h"

namespace camx {

// numpy.percentile(values, p) with its default linear interpolation, in double.
double numpyPercentile(std::vector<double> values, double p);

// Fills the pixels where `known` is 0 by noisy linear imputation. `chw` is C x H x W; the result
// has the same layout, known pixels unchanged.
std::vector<float> noisyLinearImpute(const float* chw, int channels, int height, int width,
                                     const std::vector<std::uint8_t>& known, double noise,
                                     std::uint64_t seed);

// Which pixels ROAD keeps at percentile p: MoRF keeps map < percentile(map, p), LeRF keeps
// (1 - map) < percentile(1 - map, p), as pytorch-grad-cam's RemoveMost/LeastRelevantFirst.
std::vector<std::uint8_t> roadKeptPixels(const std::vector<float>& map, double percentile,
                                         bool leastRelevantFirst);

struct RoadOptions {
    std::vector<int> percentiles{10, 20, 30, 40, 50, 60, 70, 80, 90};
    double noise = 0.01;
    std::uint64_t seed = 0;
    MetricScore score = MetricScore::Probability;
    int batch = 16;
};

struct RoadResult {
    std::vector<double> morf, lerf;  // score change per percentile
    double morfMean = 0, lerfMean = 0;
    double combined = 0;  // (lerfMean - morfMean) / 2
};

// ROAD of one image (3 x S x S, normalised) for several maps (S x S each) and class `cls`.
// The noise of map m is seeded from (options.seed, mapSeeds[m], percentile, MoRF/LeRF), so that
// a map's result does not depend on which other maps are scored with it (mapSeeds empty: 0).
std::vector<RoadResult> road(const InputClassifier& classify, const float* chw, int size,
                             const std::vector<std::vector<float>>& maps, int cls,
                             const RoadOptions& options,
                             const std::vector<std::uint64_t>& mapSeeds = {},
                             const JobContext& job = {});

}  // namespace camx
