#pragma once
// Faithfulness metrics: does removing (or keeping) what a map highlights change the network's
// score for the explained class? Each works on one image in the network's input space (3 x S x S
// floats, normalised, CHW) and maps at S x S (higher = more relevant, e.g. displayMap in [0, 1]),
// through a batch classifier, so they run on whatever model the session holds. No torch here.
//
//  - Deletion and insertion (Petsiuk et al., RISE, BMVC 2018, and their evaluation.py):
//    pixels are replaced in the map's order, most relevant first, `steps` steps of
//    ceil(S*S / steps) pixels (all three channels at once); deletion starts from the image and
//    replaces with the substrate, insertion starts from the substrate and puts the image back.
//    The score after each step gives a curve of n + 1 points and its area is
//    (sum - first/2 - last/2) / n, the trapezoid rule on [0, 1]. Ties in the map keep pixel
//    order (row-major), which numpy's unstable argsort in RISE does not promise.
//  - The confidence change of the image multiplied by its map (Chattopadhay et al., Grad-CAM++,
//    2018; pytorch-grad-cam's CamMultImageConfidenceChange): the normalised input times the map,
//    as pytorch-grad-cam multiplies it. Average drop = mean of max(0, Y - O) / Y in percent and
//    increase in confidence = share of O > Y in percent, with Y the score of the image and O
//    that of the product; pytorch-grad-cam's DropInConfidence is the absolute max(0, Y - O).
//  - The pointing game (Zhang et al., 2016, as TorchRay implements it): a hit when the map's
//    maximum (the first, row-major) lies within `tolerance` pixels (Euclidean) of the ground
//    truth; and the energy-based pointing game (Wang et al., Score-CAM, 2020): the share of the
//    map's sum that falls inside the ground truth. Both at the image's own resolution.
//
// Scores are the softmax probability by default (RISE, the Grad-CAM++ paper) or the logit.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/box.h"
#include "common/job.h"

namespace camx {

// n images of 3 x S x S floats in a row -> each image's logits.
using InputClassifier = std::function<std::vector<std::vector<float>>(const float* chw, int n)>;

enum class MetricScore { Probability, Logit };
// The score of class `cls` from a logit vector (a stable softmax for the probability).
double classScore(const std::vector<float>& logits, int cls, MetricScore kind);

// What deleted pixels become, or inserted ones start from, in the network's input space.
//  - Blur: RISE's substrate, each channel convolved with an 11 x 11 Gaussian kernel (scipy's
//    gaussian_filter of a centred impulse, sigma 5, reflect mode), zero padding at the border;
//  - Zeros: zero in the normalised input (the normalisation's mean colour), RISE's deletion
//    substrate;
//  - Mean: the image's own mean per channel.
enum class Substrate { Blur, Zeros, Mean };
const char* substrateId(Substrate s);  // "blur", "zeros", "mean"
bool parseSubstrate(const std::string& id, Substrate* out);
std::vector<float> makeSubstrate(const float* chw, int size, Substrate s);
// RISE's 1-D kernel (11 taps): gaussian_filter1d of an impulse at 5, sigma 5, mode "reflect".
std::vector<double> riseKernel1d();

struct CausalOptions {
    int steps = 50;
    Substrate substrate = Substrate::Zeros;
    MetricScore score = MetricScore::Probability;
    int batch = 16;  // images per classifier call
};

struct CausalCurve {
    std::vector<double> scores;  // n + 1 points, from 0 to all pixels changed
    double auc = 0;
};

// The pixel order of a map: most relevant first, ties in pixel order.
std::vector<std::int32_t> relevanceOrder(const std::vector<float>& map);
// The trapezoid area on [0, 1] of equally spaced points (RISE's auc).
double curveArea(const std::vector<double>& points);

// Deletion (`insertion` false) or insertion curves of one image for several maps (each S x S) and
// the class `cls`. The first and last points are shared by every map and computed once.
std::vector<CausalCurve> causalCurves(const InputClassifier& classify, const float* chw, int size,
                                      const std::vector<std::vector<float>>& maps, int cls,
                                      bool insertion, const CausalOptions& options,
                                      const JobContext& job = {});

// The score of the image (`before`) and of the image times each map (`after`).
struct ConfidenceChange {
    double before = 0, after = 0;
    double change() const { return after - before; }  // pytorch-grad-cam's return value
};
std::vector<ConfidenceChange> camMultImage(const InputClassifier& classify, const float* chw,
                                           int size, const std::vector<std::vector<float>>& maps,
                                           int cls, MetricScore score);

// Ground truth for the pointing games at the image's resolution: boxes (inclusive pixels) and/or
// a mask (CV_8U, non-zero inside), either may be empty.
struct PointingTruth {
    int width = 0, height = 0;
    std::vector<Box> boxes;
    std::vector<std::uint8_t> mask;  // width * height, or empty
    bool empty() const { return boxes.empty() && mask.empty(); }
    bool inside(int x, int y) const;
};
// `map` is width x height (the truth's size), not negative.
bool pointingHit(const std::vector<float>& map, const PointingTruth& truth, double tolerance = 15);
double energyPointing(const std::vector<float>& map, const PointingTruth& truth);

}  // namespace camx
