#pragma once
// The localisation protocol of the WSOL benchmark (Choe et al., "Evaluating Weakly Supervised
// Object Localization Methods Right", CVPR 2020), re-implemented from the definitions in
// github.com/clovaai/wsolevaluation at commit 96f4b88679af41f005824661f47e6fe3628af2aa, so that a
// researcher can put our numbers next to theirs without a one-pixel or one-threshold doubt.
//
// Nothing here is our own localisation code (localize/boxes.h): that one uses inclusive box
// corners and 8-connected components. This module keeps every quirk of theirs on purpose, and each
// one is named where it happens. Their pipeline works in float64 from the resized map on, so this
// one does too: maps are CV_64F, thresholds are doubles. Rounding either to float32 would move
// pixels across the uint8 quantisation levels and the PxAP histogram edges that decide their
// numbers.
//
// Their files cited below: evaluation.py (boxes, IoU, BoxEvaluator, MaskEvaluator, get_mask),
// inference.py (map preparation), util.py (input checks), data_loaders.py (metadata reading),
// config.py (defaults). OpenCV and the standard library only.

#include <cstddef>
#include <cstdint>
#include <vector>

#include <opencv2/core/mat.hpp>

namespace camx {

// The image side their loaders resize to and their evaluators assume (_RESIZE_LENGTH in
// evaluation.py and inference.py; config.py's crop_size default).
inline constexpr int kWsolResizeLength = 224;

// A box as they store it: integer corners (x0, y0, x1, y1) in the score map's frame, x0 <= x1 and
// y0 <= y1, none negative (util.py check_box_convention, 'x0y0x1y1'). Their IoU treats both
// corners as inclusive (+1), although the boxes they cut from maps put x1/y1 one past the last
// pixel (see wsolBoxesFromScoreMap).
struct WsolBox {
    int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    bool operator==(const WsolBox& o) const {
        return x0 == o.x0 && y0 == o.y0 && x1 == o.x1 && y1 == o.y1;
    }
    bool operator!=(const WsolBox& o) const { return !(*this == o); }
};

// ---------------------------------------------------------------------------------------------
// Thresholds

// Their score-map thresholds: `list(np.arange(0, 1, cam_curve_interval))` (inference.py
// CAMComputer.__init__, evaluation.py evaluate_wsol). NumPy makes ceil((1 - 0) / step) values
// and value i is the float64 product i * step (its fill: start + i * (second - first)); both are
// reproduced bit for bit, e.g. step 0.01 gives 100 values with [29] == 0.29 but
// [57] == 0.5700000000000001. Their defaults differ by entry point: 0.001 in config.py and
// evaluate_wsol(), 0.01 on evaluation.py's command line. Throws std::invalid_argument unless step
// is finite and > 0.
std::vector<double> wsolThresholds(double step);

// ---------------------------------------------------------------------------------------------
// Score maps

// A raw map at feature resolution made into the map they evaluate, as inference.py
// CAMComputer.compute_and_evaluate_cams does: the network's float32 map widened to float64
// (util.py t2n), cv2.resize to size x size with INTER_CUBIC in float64, then normalize_scoremap:
// any NaN gives all zeros, a constant map gives all zeros, otherwise `cam -= min; cam /= max`
// (no epsilon; the division is by the shifted map's maximum). Cubic overshoot is kept until the
// min-max removes it. Returns CV_64F, size x size. Their dsize is the batch's (H, W) read as
// (width, height), which only agrees for square inputs: square output only here. Throws
// std::invalid_argument for a null pointer, h or w < 1, or size < 1.
cv::Mat wsolPrepareMap(const float* raw, int h, int w, int size = kWsolResizeLength);
// The same from a single-channel CV_32F or CV_64F matrix.
cv::Mat wsolPrepareMap(const cv::Mat& raw, int size = kWsolResizeLength);

// Their check on every map an evaluator is given (util.py check_scoremap_validity): a non-empty
// single-channel 2-D map without NaN and within [0, 1]. CV_32F is accepted as well as CV_64F (its
// values widen exactly to the float64 they require). Throws std::invalid_argument naming `what`.
void wsolCheckScoreMap(const cv::Mat& scoreMap, const char* what = "score map");

// The uint8 image their box extraction thresholds: `(scoremap * 255).astype(np.uint8)`, the
// product in float64 and then truncated (0.999 -> 254, only 1.0 -> 255). Returns CV_8U.
cv::Mat wsolQuantize(const cv::Mat& scoreMap);

// ---------------------------------------------------------------------------------------------
// Boxes and IoU

// A ground-truth box moved into the resized frame as evaluation.py resize_bbox does for
// BoxEvaluator: each corner scaled in float64 as `x * new_w / image_w` (multiplication first)
// and truncated by int(). localization.txt already holds x0,y0,x1,y1 in that order
// (data_loaders.py get_bounding_boxes unpacks them under the names x0, x1, y0, y1 but keeps the
// file order), so no reordering happens anywhere. Throws std::invalid_argument for non-positive
// sizes or a box that breaks their convention.
WsolBox wsolResizeBox(const WsolBox& box, int imageWidth, int imageHeight,
                      int newWidth = kWsolResizeLength, int newHeight = kWsolResizeLength);

// The boxes at each threshold, as evaluation.py compute_bboxes_from_scoremaps:
//  - the map is quantised (wsolQuantize) and cut at int(threshold * max of the uint8 map): the
//    threshold is relative to the quantised maximum, truncated by int(), and cv2.threshold
//    THRESH_BINARY keeps pixels strictly above it;
//  - cv2.findContours with RETR_TREE and CHAIN_APPROX_SIMPLE: every contour counts, including the
//    inner border of each hole (its box is the hole's box grown by one pixel on every side);
//  - multiContour false (MaxBoxAcc): only the contour with the largest cv2.contourArea, the area
//    of the polygon through the border pixel centres (a w x h block scores (w-1)(h-1), a line 0),
//    so the largest contour need not hold the most pixels; ties go to the first in OpenCV's
//    contour order, as Python's max() does (OpenCV 4.6 lists contours in reverse order of
//    discovery, so of two equal blobs the one found later in raster order wins);
//  - each box from cv2.boundingRect as x0 = x, y0 = y, x1 = x + w, y1 = y + h (one past the last
//    pixel), then x1 clipped to width - 1 and y1 to height - 1 (only there: a blob ending before
//    the border keeps its extra pixel);
//  - no contour at all gives the single box [0, 0, 0, 0], which still scores IoU with the truth.
// The map is checked with wsolCheckScoreMap. The result has one non-empty vector per threshold.
std::vector<std::vector<WsolBox>> wsolBoxesFromScoreMap(const cv::Mat& scoreMap,
                                                        const std::vector<double>& thresholds,
                                                        bool multiContour);

// Their IoU (evaluation.py calculate_multiple_iou): inclusive corners, widths and heights + 1,
// intersection max(0, min x1 - max x0 + 1) * max(0, ...), in integers, then
// intersection / (area_a + area_b - intersection) in float64, and 0 when that denominator is <= 0.
// Throws std::invalid_argument for a box with a negative coordinate or x1 < x0 or y1 < y0, as
// check_box_convention raises.
double wsolIou(const WsolBox& a, const WsolBox& b);

// For each threshold the best IoU of any box at that threshold against any ground-truth box: the
// per-threshold value BoxEvaluator.accumulate compares with the IoU thresholds
// (`max(multiple_iou.max(1)[idx:idx + nr_box])`). Throws std::invalid_argument when gtBoxes is
// empty (their max over an empty axis fails).
std::vector<double> wsolBestIous(const cv::Mat& scoreMap, const std::vector<double>& thresholds,
                                 const std::vector<WsolBox>& gtBoxes, bool multiContour);

// wsolBestIous for both contour modes at once, as an evaluation needs them: one findContours per
// distinct binary image serves both modes, and cuts that keep the same pixels (no quantised value
// lies between them, common with step 0.001 where 1000 thresholds meet at most 256 levels) share
// it. Equal to wsolBestIous(..., false) in `largest` and wsolBestIous(..., true) in `all`.
struct WsolBestIouCurves {
    std::vector<double> largest;  // MaxBoxAcc: the largest contour's box
    std::vector<double> all;      // MaxBoxAccV2: every contour's box
};
WsolBestIouCurves wsolBestIouCurves(const cv::Mat& scoreMap, const std::vector<double>& thresholds,
                                    const std::vector<WsolBox>& gtBoxes);

// ---------------------------------------------------------------------------------------------
// MaxBoxAcc and MaxBoxAccV2

struct WsolBoxResult {
    std::vector<int> iouThresholds;  // in percent, as they are given (30, 50, 70)
    // [IoU threshold][score-map threshold]: percent of images whose best IoU is >= IoU threshold /
    // 100, `num_correct * 100. / cnt` in that order of operations.
    std::vector<std::vector<double>> accuracyCurve;
    std::vector<double> maxBoxAcc;                // [IoU threshold] the curve's maximum, percent
    std::vector<std::size_t> bestThresholdIndex;  // [IoU threshold] its first argmax
    // `np.average` of maxBoxAcc: with multiContour and {30, 50, 70} this is MaxBoxAccV2.
    double meanOverIou = 0;
    std::size_t imageCount = 0;

    // maxBoxAcc at one IoU threshold: at 50 with multiContour false this is the original
    // MaxBoxAcc (evaluate_wsol without multi_iou_eval takes performance[index(50)]). Throws
    // std::invalid_argument when that threshold was not evaluated.
    double maxBoxAccAt(int iouThreshold) const;
};

// evaluation.py BoxEvaluator: counts, per IoU threshold and score-map threshold, the images whose
// best IoU reaches it (`>= threshold / 100` in float64, so 0.3 and 0.7 are the doubles nearest
// them). Ground-truth boxes are given in the score map's frame (wsolResizeBox). The counts are
// integers, so accumulators over disjoint sets of images merge into exactly the result of one
// accumulator over all of them, in any order.
class WsolBoxAccumulator {
public:
    // Throws std::invalid_argument for empty lists, non-finite thresholds, or IoU thresholds
    // outside [0, 100] or repeated.
    WsolBoxAccumulator(std::vector<double> camThresholds, std::vector<int> iouThresholds,
                       bool multiContour);

    // Their MaxBoxAccV2 set-up (config.py box_v2_metric): every contour, IoU {30, 50, 70}.
    static WsolBoxAccumulator maxBoxAccV2(std::vector<double> camThresholds);
    // Their older MaxBoxAcc: the largest contour, IoU 50 only.
    static WsolBoxAccumulator maxBoxAcc(std::vector<double> camThresholds);

    // One image: its prepared score map and its ground-truth boxes in the map's frame.
    void accumulate(const cv::Mat& scoreMap, const std::vector<WsolBox>& gtBoxes);
    // One image whose best IoU per threshold (wsolBestIous, same thresholds and contour mode) was
    // computed elsewhere, e.g. on a worker thread.
    void accumulateBestIous(const std::vector<double>& bestIouPerThreshold);
    // Adds another accumulator's images. Throws std::invalid_argument unless both were built with
    // the same thresholds, IoU thresholds and contour mode.
    void merge(const WsolBoxAccumulator& other);

    // Their compute(), plus the curves and argmaxes. Throws std::runtime_error without images
    // (theirs would divide by zero).
    WsolBoxResult compute() const;

    const std::vector<double>& camThresholds() const { return camThresholds_; }
    const std::vector<int>& iouThresholds() const { return iouThresholds_; }
    bool multiContour() const { return multiContour_; }
    std::size_t imageCount() const { return imageCount_; }

private:
    std::vector<double> camThresholds_;
    std::vector<int> iouThresholds_;
    bool multiContour_;
    std::vector<std::vector<std::int64_t>> numCorrect_;  // [IoU threshold][score-map threshold]
    std::size_t imageCount_ = 0;
};

// ---------------------------------------------------------------------------------------------
// PxAP (OpenImages masks)

// One mask image read as evaluation.py load_mask_image and binarised as get_mask does: the
// grey-level image (what cv2.imread IMREAD_GRAYSCALE gives; any single-channel depth) widened to
// float32, cv2.resize to size x size with INTER_NEAREST, then `> 0.5`, so every non-zero pixel of
// a uint8 mask is foreground. Returns CV_8U holding 0 and 1. Throws std::invalid_argument for an
// empty or multi-channel mask.
cv::Mat wsolResizeMask(const cv::Mat& mask, int size = kWsolResizeLength);

// The ground truth MaskEvaluator scores against (evaluation.py get_mask): the union of the
// instance masks is foreground (1); the ignore mask minus that foreground is ignored (255); the
// rest is background (0). Each mask goes through wsolResizeMask. Theirs always reads an ignore
// file; an empty ignoreMask here means no ignore region, the same as an all-zero ignore file.
// Throws std::invalid_argument without instance masks.
cv::Mat wsolGroundTruthMask(const std::vector<cv::Mat>& instanceMasks, const cv::Mat& ignoreMask,
                            int size = kWsolResizeLength);

struct WsolPxapResult {
    // Area under the pixel precision-recall curve, in percent as they report it.
    double pxap = 0;
    // Their arrays, index k counting scores >= the k-th edge from the top: edges 2.0, 1.0, then
    // the thresholds from the last down to the first. precision is NaN where nothing is predicted
    // (0 / 0, as NumPy gives); those entries are left out of the area.
    std::vector<double> precision;
    std::vector<double> recall;
};

// evaluation.py MaskEvaluator. Histograms of score-map values over the bin edges
// thresholds + [1.0, 2.0, 3.0] (np.histogram: bins [e_i, e_i+1), the last closed, so a score of
// exactly 1.0 falls in [1, 2)), one for foreground pixels (mask 1) and one for background pixels
// (mask 0); ignored pixels (255) count in neither. compute() reverses and cumulates them into
// tp and fp, takes precision = tp / (tp + fp) and recall = tp / (number of foreground pixels), and
// sums precision[k] * (recall[k] - recall[k-1]) for k >= 1 where tp + fp != 0, in NumPy's pairwise
// summation order, times 100. Counts are integers, so accumulators merge exactly.
class WsolMaskAccumulator {
public:
    // Throws std::invalid_argument for an empty list, a non-finite threshold, a decreasing list
    // (np.histogram refuses it) or a threshold above 1.
    explicit WsolMaskAccumulator(std::vector<double> camThresholds);

    // One image: its prepared score map and its ground truth (wsolGroundTruthMask), same size.
    // Throws std::invalid_argument for mismatched sizes, a mask that is not CV_8UC1, or mask
    // values other than 0, 1 and 255 (theirs would silently drop such pixels).
    void accumulate(const cv::Mat& scoreMap, const cv::Mat& gtMask);
    // Adds one image's histograms as foregroundHistogram()/backgroundHistogram() give them (kept
    // per image by an evaluation so that it can resume). Throws std::invalid_argument for a
    // length other than the number of bins or a negative count.
    void accumulateHistograms(const std::vector<std::int64_t>& foreground,
                              const std::vector<std::int64_t>& background);
    // Throws std::invalid_argument unless both have the same thresholds.
    void merge(const WsolMaskAccumulator& other);

    // Throws std::runtime_error without foreground pixels ("No positive ground truth") or without
    // any scored pixel ("No positive prediction"), as theirs raises.
    WsolPxapResult compute() const;

    const std::vector<double>& camThresholds() const { return camThresholds_; }
    std::size_t imageCount() const { return imageCount_; }
    // Their gt_true_score_hist and gt_false_score_hist, in ascending bin order.
    const std::vector<std::int64_t>& foregroundHistogram() const { return foregroundHistogram_; }
    const std::vector<std::int64_t>& backgroundHistogram() const { return backgroundHistogram_; }

private:
    std::vector<double> camThresholds_;
    std::vector<double> binEdges_;  // camThresholds_ + {1, 2, 3}
    std::vector<std::int64_t> foregroundHistogram_;
    std::vector<std::int64_t> backgroundHistogram_;
    std::size_t imageCount_ = 0;
};

}  // namespace camx
