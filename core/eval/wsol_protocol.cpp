#include "eval/wsol_protocol.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include <opencv2/imgproc.hpp>

namespace camx {

namespace {

// np.sum over a contiguous float64 array: NumPy's pairwise summation (its DOUBLE_pairwise_sum),
// started from the additive identity 0. Below 8 values a plain loop; up to 128 values eight
// running sums combined as ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7)) and then the
// remainder one by one; above that the two halves, split at a multiple of 8. Summing in another
// order would change the last bits of PxAP and of the mean over IoU thresholds.
double pairwiseSum(const double* a, std::size_t n) {
    if (n < 8) {
        double sum = 0.;
        for (std::size_t i = 0; i < n; ++i) sum += a[i];
        return sum;
    }
    if (n <= 128) {
        double r[8];
        for (std::size_t j = 0; j < 8; ++j) r[j] = a[j];
        std::size_t i = 8;
        for (; i < n - (n % 8); i += 8) {
            for (std::size_t j = 0; j < 8; ++j) r[j] += a[i + j];
        }
        double sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; ++i) sum += a[i];
        return sum;
    }
    std::size_t half = n / 2;
    half -= half % 8;
    return pairwiseSum(a, half) + pairwiseSum(a + half, n - half);
}

double numpySum(const std::vector<double>& values) {
    return 0. + pairwiseSum(values.data(), values.size());
}

// The map's value at (y, x) as the float64 NumPy would hold (CV_32F widens exactly).
double valueAt(const cv::Mat& map, int y, int x) {
    return map.depth() == CV_64F ? map.at<double>(y, x) : static_cast<double>(map.at<float>(y, x));
}

void checkBox(const WsolBox& b, const char* what) {
    if (b.x0 < 0 || b.y0 < 0 || b.x1 < 0 || b.y1 < 0) {
        throw std::invalid_argument(std::string(what) +
                                    ": box coordinates must be non-negative (x0y0x1y1)");
    }
    if (b.x1 < b.x0 || b.y1 < b.y0) {
        throw std::invalid_argument(std::string(what) +
                                    ": box must have x0 <= x1 and y0 <= y1 (x0y0x1y1)");
    }
}

void checkThresholdsFinite(const std::vector<double>& thresholds) {
    if (thresholds.empty()) throw std::invalid_argument("WSOL: the threshold list is empty");
    for (double t : thresholds) {
        if (!std::isfinite(t)) {
            throw std::invalid_argument("WSOL: thresholds must be finite numbers");
        }
    }
}

// The level cv2.threshold is given: int(threshold * max of the uint8 map), truncated toward zero
// by Python's int(). Products far outside [0, 255] are clamped first only to keep the conversion
// defined; pixels are uint8, so a level below 0 keeps every pixel and one of 255 or more none,
// as before the clamp.
int thresholdLevel(double threshold, int maxQuantised) {
    double product = threshold * static_cast<double>(maxQuantised);
    product = std::clamp(product, -1.0, 256.0);
    return static_cast<int>(product);
}

}  // namespace

std::vector<double> wsolThresholds(double step) {
    if (!std::isfinite(step) || step <= 0) {
        throw std::invalid_argument("wsolThresholds: the step must be a finite number above 0");
    }
    // np.arange(0, 1, step): length ceil((stop - start) / step) in float64, value i the float64
    // product i * step (NumPy fills from the first two values; with start 0 their difference is
    // step itself).
    const double length = std::ceil((1.0 - 0.0) / step);
    if (length > 1e8) {
        throw std::invalid_argument("wsolThresholds: the step is too small (over 1e8 thresholds)");
    }
    const auto n = static_cast<std::size_t>(length);
    std::vector<double> thresholds(n);
    for (std::size_t i = 0; i < n; ++i) thresholds[i] = static_cast<double>(i) * step;
    return thresholds;
}

cv::Mat wsolPrepareMap(const float* raw, int h, int w, int size) {
    if (raw == nullptr) throw std::invalid_argument("wsolPrepareMap: no map data");
    if (h < 1 || w < 1) {
        throw std::invalid_argument("wsolPrepareMap: the map must be at least 1x1, got " +
                                    std::to_string(h) + "x" + std::to_string(w));
    }
    const cv::Mat wrapped(h, w, CV_32F, const_cast<float*>(raw));
    return wsolPrepareMap(wrapped, size);
}

cv::Mat wsolPrepareMap(const cv::Mat& raw, int size) {
    if (raw.empty() || raw.rows < 1 || raw.cols < 1) {
        throw std::invalid_argument("wsolPrepareMap: the map is empty");
    }
    if (raw.channels() != 1 || (raw.depth() != CV_32F && raw.depth() != CV_64F)) {
        throw std::invalid_argument("wsolPrepareMap: the map must be single-channel CV_32F/CV_64F");
    }
    if (size < 1) {
        throw std::invalid_argument("wsolPrepareMap: the output size must be at least 1");
    }
    // util.py t2n widens the network's output to float64 before anything else happens.
    cv::Mat widened;
    raw.convertTo(widened, CV_64F);
    cv::Mat cam;
    cv::resize(widened, cam, cv::Size(size, size), 0, 0, cv::INTER_CUBIC);

    // inference.py normalize_scoremap, step by step.
    bool anyNan = false;
    for (int y = 0; y < cam.rows && !anyNan; ++y) {
        const double* row = cam.ptr<double>(y);
        for (int x = 0; x < cam.cols; ++x) {
            if (std::isnan(row[x])) {
                anyNan = true;
                break;
            }
        }
    }
    if (anyNan) return cv::Mat::zeros(size, size, CV_64F);

    double lowest = std::numeric_limits<double>::infinity();
    double highest = -std::numeric_limits<double>::infinity();
    for (int y = 0; y < cam.rows; ++y) {
        const double* row = cam.ptr<double>(y);
        for (int x = 0; x < cam.cols; ++x) {
            lowest = std::min(lowest, row[x]);
            highest = std::max(highest, row[x]);
        }
    }
    if (lowest == highest) return cv::Mat::zeros(size, size, CV_64F);

    // `cam -= cam.min()` and then `cam /= cam.max()`: the divisor is the maximum of the shifted
    // map, read after the shift. NumPy's max propagates a NaN (inf - inf from infinite input), and
    // so does this loop, so such a map becomes all NaN here as there.
    double shiftedMax = -std::numeric_limits<double>::infinity();
    bool shiftedNan = false;
    for (int y = 0; y < cam.rows; ++y) {
        double* row = cam.ptr<double>(y);
        for (int x = 0; x < cam.cols; ++x) {
            row[x] -= lowest;
            if (std::isnan(row[x])) shiftedNan = true;
            shiftedMax = std::max(shiftedMax, row[x]);
        }
    }
    if (shiftedNan) shiftedMax = std::numeric_limits<double>::quiet_NaN();
    for (int y = 0; y < cam.rows; ++y) {
        double* row = cam.ptr<double>(y);
        for (int x = 0; x < cam.cols; ++x) row[x] /= shiftedMax;
    }
    return cam;
}

void wsolCheckScoreMap(const cv::Mat& scoreMap, const char* what) {
    const std::string name(what == nullptr ? "score map" : what);
    if (scoreMap.empty() || scoreMap.rows < 1 || scoreMap.cols < 1 || scoreMap.dims != 2) {
        throw std::invalid_argument(name + " must be a non-empty 2-D map");
    }
    if (scoreMap.channels() != 1 || (scoreMap.depth() != CV_32F && scoreMap.depth() != CV_64F)) {
        throw std::invalid_argument(name + " must be single-channel CV_64F (or CV_32F)");
    }
    for (int y = 0; y < scoreMap.rows; ++y) {
        for (int x = 0; x < scoreMap.cols; ++x) {
            const double v = valueAt(scoreMap, y, x);
            if (std::isnan(v)) throw std::invalid_argument(name + " must not contain NaN");
            if (v < 0 || v > 1) {
                throw std::invalid_argument(name + " must be in the range [0, 1], found " +
                                            std::to_string(v));
            }
        }
    }
}

cv::Mat wsolQuantize(const cv::Mat& scoreMap) {
    wsolCheckScoreMap(scoreMap);
    cv::Mat quantised(scoreMap.rows, scoreMap.cols, CV_8U);
    for (int y = 0; y < scoreMap.rows; ++y) {
        auto* out = quantised.ptr<std::uint8_t>(y);
        for (int x = 0; x < scoreMap.cols; ++x) {
            // In [0, 255] after the check, so the truncating conversion is the one astype does.
            out[x] = static_cast<std::uint8_t>(valueAt(scoreMap, y, x) * 255);
        }
    }
    return quantised;
}

WsolBox wsolResizeBox(const WsolBox& box, int imageWidth, int imageHeight, int newWidth,
                      int newHeight) {
    checkBox(box, "wsolResizeBox");
    if (imageWidth < 1 || imageHeight < 1 || newWidth < 1 || newHeight < 1) {
        throw std::invalid_argument("wsolResizeBox: image sizes must be positive");
    }
    const double iw = imageWidth, ih = imageHeight, nw = newWidth, nh = newHeight;
    // evaluation.py resize_bbox: `x * new_w / image_w` left to right in float64, then int().
    return WsolBox{static_cast<int>(box.x0 * nw / iw), static_cast<int>(box.y0 * nh / ih),
                   static_cast<int>(box.x1 * nw / iw), static_cast<int>(box.y1 * nh / ih)};
}

std::vector<std::vector<WsolBox>> wsolBoxesFromScoreMap(const cv::Mat& scoreMap,
                                                        const std::vector<double>& thresholds,
                                                        bool multiContour) {
    checkThresholdsFinite(thresholds);
    const cv::Mat quantised = wsolQuantize(scoreMap);
    double maxValue = 0;
    cv::minMaxLoc(quantised, nullptr, &maxValue);
    const int maxQuantised = static_cast<int>(maxValue);
    const int width = scoreMap.cols, height = scoreMap.rows;

    std::vector<std::vector<WsolBox>> result;
    result.reserve(thresholds.size());
    cv::Mat binary;
    std::vector<std::vector<cv::Point>> contours;
    std::vector<cv::Vec4i> hierarchy;
    for (double threshold : thresholds) {
        cv::threshold(quantised, binary, thresholdLevel(threshold, maxQuantised), 255,
                      cv::THRESH_BINARY);
        contours.clear();
        cv::findContours(binary, contours, hierarchy, cv::RETR_TREE, cv::CHAIN_APPROX_SIMPLE);
        if (contours.empty()) {
            result.push_back({WsolBox{0, 0, 0, 0}});
            continue;
        }
        std::vector<const std::vector<cv::Point>*> chosen;
        if (multiContour) {
            for (const auto& c : contours) chosen.push_back(&c);
        } else {
            // Python's max(contours, key=cv2.contourArea): the first contour of greatest area.
            std::size_t best = 0;
            double bestArea = cv::contourArea(contours[0]);
            for (std::size_t i = 1; i < contours.size(); ++i) {
                const double area = cv::contourArea(contours[i]);
                if (area > bestArea) {
                    bestArea = area;
                    best = i;
                }
            }
            chosen.push_back(&contours[best]);
        }
        std::vector<WsolBox> boxes;
        boxes.reserve(chosen.size());
        for (const auto* contour : chosen) {
            const cv::Rect r = cv::boundingRect(*contour);
            // x + w is one past the last column; only the clip to width - 1 pulls it back.
            boxes.push_back(WsolBox{r.x, r.y, std::min(r.x + r.width, width - 1),
                                    std::min(r.y + r.height, height - 1)});
        }
        result.push_back(std::move(boxes));
    }
    return result;
}

double wsolIou(const WsolBox& a, const WsolBox& b) {
    checkBox(a, "wsolIou");
    checkBox(b, "wsolIou");
    const std::int64_t minX = std::max(a.x0, b.x0), minY = std::max(a.y0, b.y0);
    const std::int64_t maxX = std::min(a.x1, b.x1), maxY = std::min(a.y1, b.y1);
    const std::int64_t intersection =
        std::max<std::int64_t>(0, maxX - minX + 1) * std::max<std::int64_t>(0, maxY - minY + 1);
    const std::int64_t areaA = (std::int64_t{a.x1} - a.x0 + 1) * (std::int64_t{a.y1} - a.y0 + 1);
    const std::int64_t areaB = (std::int64_t{b.x1} - b.x0 + 1) * (std::int64_t{b.y1} - b.y0 + 1);
    const std::int64_t denominator = areaA + areaB - intersection;
    if (denominator <= 0) return 0.0;
    return static_cast<double>(intersection) / static_cast<double>(denominator);
}

std::vector<double> wsolBestIous(const cv::Mat& scoreMap, const std::vector<double>& thresholds,
                                 const std::vector<WsolBox>& gtBoxes, bool multiContour) {
    if (gtBoxes.empty()) throw std::invalid_argument("wsolBestIous: no ground-truth box");
    for (const auto& g : gtBoxes) checkBox(g, "wsolBestIous (ground truth)");
    const auto boxesAtThresholds = wsolBoxesFromScoreMap(scoreMap, thresholds, multiContour);
    std::vector<double> best;
    best.reserve(boxesAtThresholds.size());
    for (const auto& boxes : boxesAtThresholds) {
        double bestHere = -std::numeric_limits<double>::infinity();
        for (const auto& box : boxes) {
            for (const auto& g : gtBoxes) bestHere = std::max(bestHere, wsolIou(box, g));
        }
        best.push_back(bestHere);
    }
    return best;
}

WsolBestIouCurves wsolBestIouCurves(const cv::Mat& scoreMap, const std::vector<double>& thresholds,
                                    const std::vector<WsolBox>& gtBoxes) {
    if (gtBoxes.empty()) throw std::invalid_argument("wsolBestIouCurves: no ground-truth box");
    for (const auto& g : gtBoxes) checkBox(g, "wsolBestIouCurves (ground truth)");
    checkThresholdsFinite(thresholds);
    const cv::Mat quantised = wsolQuantize(scoreMap);
    // Which quantised levels occur: the cut at level L keeps the pixels with value > L, i.e.
    // those at or above the first occurring value above L. That value names the binary image.
    std::array<bool, 256> present{};
    int maxQuantised = 0;
    for (int y = 0; y < quantised.rows; ++y) {
        const auto* row = quantised.ptr<std::uint8_t>(y);
        for (int x = 0; x < quantised.cols; ++x) {
            present[row[x]] = true;
            maxQuantised = std::max<int>(maxQuantised, row[x]);
        }
    }
    const int width = scoreMap.cols, height = scoreMap.rows;
    auto bestIou = [&](const WsolBox& box) {
        double best = -std::numeric_limits<double>::infinity();
        for (const auto& g : gtBoxes) best = std::max(best, wsolIou(box, g));
        return best;
    };
    auto boxOf = [&](const std::vector<cv::Point>& contour) {
        const cv::Rect r = cv::boundingRect(contour);
        return WsolBox{r.x, r.y, std::min(r.x + r.width, width - 1),
                       std::min(r.y + r.height, height - 1)};
    };
    // Keyed by the first occurring value above the cut (256: nothing survives).
    std::array<int, 257> memo;
    memo.fill(-1);
    std::vector<std::pair<double, double>> computed;  // (largest, all) per distinct image
    WsolBestIouCurves out;
    out.largest.reserve(thresholds.size());
    out.all.reserve(thresholds.size());
    cv::Mat binary;
    std::vector<std::vector<cv::Point>> contours;
    std::vector<cv::Vec4i> hierarchy;
    for (double threshold : thresholds) {
        const int level = thresholdLevel(threshold, maxQuantised);
        // cv2.threshold on uint8 compares with the level floored (a fractional level cannot
        // occur: thresholdLevel is int(); a negative one keeps everything).
        int first = level < 0 ? 0 : static_cast<int>(level) + 1;
        while (first < 256 && !present[static_cast<std::size_t>(first)]) ++first;
        first = std::min(first, 256);  // a level of 255 or more: nothing survives
        int& slot = memo[static_cast<std::size_t>(first)];
        if (slot < 0) {
            std::pair<double, double> r;
            if (first >= 256) {
                r.first = r.second = bestIou(WsolBox{0, 0, 0, 0});
            } else {
                cv::threshold(quantised, binary, level, 255, cv::THRESH_BINARY);
                contours.clear();
                cv::findContours(binary, contours, hierarchy, cv::RETR_TREE,
                                 cv::CHAIN_APPROX_SIMPLE);
                if (contours.empty()) {
                    r.first = r.second = bestIou(WsolBox{0, 0, 0, 0});
                } else {
                    std::size_t largest = 0;
                    double largestArea = cv::contourArea(contours[0]);
                    double all = -std::numeric_limits<double>::infinity();
                    for (std::size_t i = 0; i < contours.size(); ++i) {
                        if (i > 0) {
                            const double area = cv::contourArea(contours[i]);
                            if (area > largestArea) largestArea = area, largest = i;
                        }
                        all = std::max(all, bestIou(boxOf(contours[i])));
                    }
                    r.first = bestIou(boxOf(contours[largest]));
                    r.second = all;
                }
            }
            slot = static_cast<int>(computed.size());
            computed.push_back(r);
        }
        out.largest.push_back(computed[static_cast<std::size_t>(slot)].first);
        out.all.push_back(computed[static_cast<std::size_t>(slot)].second);
    }
    return out;
}

double WsolBoxResult::maxBoxAccAt(int iouThreshold) const {
    for (std::size_t i = 0; i < iouThresholds.size(); ++i) {
        if (iouThresholds[i] == iouThreshold) return maxBoxAcc[i];
    }
    throw std::invalid_argument("WsolBoxResult: IoU threshold " + std::to_string(iouThreshold) +
                                " was not evaluated");
}

WsolBoxAccumulator::WsolBoxAccumulator(std::vector<double> camThresholds,
                                       std::vector<int> iouThresholds, bool multiContour)
    : camThresholds_(std::move(camThresholds)),
      iouThresholds_(std::move(iouThresholds)),
      multiContour_(multiContour) {
    checkThresholdsFinite(camThresholds_);
    if (iouThresholds_.empty()) {
        throw std::invalid_argument("WsolBoxAccumulator: the IoU threshold list is empty");
    }
    for (std::size_t i = 0; i < iouThresholds_.size(); ++i) {
        if (iouThresholds_[i] < 0 || iouThresholds_[i] > 100) {
            throw std::invalid_argument(
                "WsolBoxAccumulator: IoU thresholds are percentages in [0, 100]");
        }
        for (std::size_t j = 0; j < i; ++j) {
            if (iouThresholds_[j] == iouThresholds_[i]) {
                throw std::invalid_argument("WsolBoxAccumulator: repeated IoU threshold");
            }
        }
    }
    numCorrect_.assign(iouThresholds_.size(), std::vector<std::int64_t>(camThresholds_.size(), 0));
}

WsolBoxAccumulator WsolBoxAccumulator::maxBoxAccV2(std::vector<double> camThresholds) {
    return WsolBoxAccumulator(std::move(camThresholds), {30, 50, 70}, true);
}

WsolBoxAccumulator WsolBoxAccumulator::maxBoxAcc(std::vector<double> camThresholds) {
    return WsolBoxAccumulator(std::move(camThresholds), {50}, false);
}

void WsolBoxAccumulator::accumulate(const cv::Mat& scoreMap, const std::vector<WsolBox>& gtBoxes) {
    accumulateBestIous(wsolBestIous(scoreMap, camThresholds_, gtBoxes, multiContour_));
}

void WsolBoxAccumulator::accumulateBestIous(const std::vector<double>& bestIouPerThreshold) {
    if (bestIouPerThreshold.size() != camThresholds_.size()) {
        throw std::invalid_argument(
            "WsolBoxAccumulator: expected " + std::to_string(camThresholds_.size()) +
            " IoUs (one per threshold), got " + std::to_string(bestIouPerThreshold.size()));
    }
    for (std::size_t k = 0; k < iouThresholds_.size(); ++k) {
        // `>= (_THRESHOLD / 100)`: Python's true division, the double nearest the fraction.
        const double needed = static_cast<double>(iouThresholds_[k]) / 100.0;
        for (std::size_t t = 0; t < bestIouPerThreshold.size(); ++t) {
            if (bestIouPerThreshold[t] >= needed) ++numCorrect_[k][t];
        }
    }
    ++imageCount_;
}

void WsolBoxAccumulator::merge(const WsolBoxAccumulator& other) {
    if (other.camThresholds_ != camThresholds_ || other.iouThresholds_ != iouThresholds_ ||
        other.multiContour_ != multiContour_) {
        throw std::invalid_argument(
            "WsolBoxAccumulator::merge: thresholds, IoU thresholds or contour mode differ");
    }
    for (std::size_t k = 0; k < numCorrect_.size(); ++k) {
        for (std::size_t t = 0; t < numCorrect_[k].size(); ++t) {
            numCorrect_[k][t] += other.numCorrect_[k][t];
        }
    }
    imageCount_ += other.imageCount_;
}

WsolBoxResult WsolBoxAccumulator::compute() const {
    if (imageCount_ == 0) throw std::runtime_error("WsolBoxAccumulator: no image accumulated");
    WsolBoxResult result;
    result.iouThresholds = iouThresholds_;
    result.imageCount = imageCount_;
    const double count = static_cast<double>(imageCount_);
    for (const auto& counts : numCorrect_) {
        std::vector<double> curve(counts.size());
        for (std::size_t t = 0; t < counts.size(); ++t) {
            curve[t] = static_cast<double>(counts[t]) * 100. / count;
        }
        const auto best = std::max_element(curve.begin(), curve.end());  // first maximum
        result.maxBoxAcc.push_back(*best);
        result.bestThresholdIndex.push_back(static_cast<std::size_t>(best - curve.begin()));
        result.accuracyCurve.push_back(std::move(curve));
    }
    result.meanOverIou = numpySum(result.maxBoxAcc) / static_cast<double>(result.maxBoxAcc.size());
    return result;
}

cv::Mat wsolResizeMask(const cv::Mat& mask, int size) {
    if (mask.empty() || mask.rows < 1 || mask.cols < 1) {
        throw std::invalid_argument("wsolResizeMask: the mask is empty");
    }
    if (mask.channels() != 1) {
        throw std::invalid_argument("wsolResizeMask: the mask must be single-channel (grey)");
    }
    if (size < 1) throw std::invalid_argument("wsolResizeMask: the size must be at least 1");
    cv::Mat asFloat, resized;
    mask.convertTo(asFloat, CV_32F);
    cv::resize(asFloat, resized, cv::Size(size, size), 0, 0, cv::INTER_NEAREST);
    cv::Mat binary(size, size, CV_8U);
    for (int y = 0; y < size; ++y) {
        const float* in = resized.ptr<float>(y);
        auto* out = binary.ptr<std::uint8_t>(y);
        for (int x = 0; x < size; ++x) out[x] = in[x] > 0.5f ? 1 : 0;
    }
    return binary;
}

cv::Mat wsolGroundTruthMask(const std::vector<cv::Mat>& instanceMasks, const cv::Mat& ignoreMask,
                            int size) {
    if (instanceMasks.empty()) {
        throw std::invalid_argument("wsolGroundTruthMask: at least one instance mask is needed");
    }
    if (size < 1) throw std::invalid_argument("wsolGroundTruthMask: the size must be at least 1");
    cv::Mat truth = cv::Mat::zeros(size, size, CV_8U);
    for (const auto& instance : instanceMasks) {
        const cv::Mat binary = wsolResizeMask(instance, size);
        truth |= binary;
    }
    if (!ignoreMask.empty()) {
        const cv::Mat ignore = wsolResizeMask(ignoreMask, size);
        for (int y = 0; y < size; ++y) {
            auto* t = truth.ptr<std::uint8_t>(y);
            const auto* ig = ignore.ptr<std::uint8_t>(y);
            for (int x = 0; x < size; ++x) {
                if (ig[x] != 0 && t[x] == 0) t[x] = 255;
            }
        }
    }
    return truth;
}

WsolMaskAccumulator::WsolMaskAccumulator(std::vector<double> camThresholds)
    : camThresholds_(std::move(camThresholds)) {
    checkThresholdsFinite(camThresholds_);
    for (std::size_t i = 1; i < camThresholds_.size(); ++i) {
        if (camThresholds_[i] < camThresholds_[i - 1]) {
            throw std::invalid_argument("WsolMaskAccumulator: thresholds must not decrease");
        }
    }
    if (camThresholds_.back() > 1.0) {
        throw std::invalid_argument("WsolMaskAccumulator: thresholds must not exceed 1");
    }
    binEdges_ = camThresholds_;
    binEdges_.insert(binEdges_.end(), {1.0, 2.0, 3.0});
    foregroundHistogram_.assign(binEdges_.size() - 1, 0);
    backgroundHistogram_.assign(binEdges_.size() - 1, 0);
}

void WsolMaskAccumulator::accumulate(const cv::Mat& scoreMap, const cv::Mat& gtMask) {
    wsolCheckScoreMap(scoreMap);
    if (gtMask.empty() || gtMask.type() != CV_8UC1) {
        throw std::invalid_argument("WsolMaskAccumulator: the mask must be CV_8UC1 (0, 1, 255)");
    }
    if (gtMask.size() != scoreMap.size()) {
        throw std::invalid_argument("WsolMaskAccumulator: mask " + std::to_string(gtMask.cols) +
                                    "x" + std::to_string(gtMask.rows) +
                                    " does not match score map " + std::to_string(scoreMap.cols) +
                                    "x" + std::to_string(scoreMap.rows));
    }
    for (int y = 0; y < gtMask.rows; ++y) {
        const auto* m = gtMask.ptr<std::uint8_t>(y);
        for (int x = 0; x < gtMask.cols; ++x) {
            if (m[x] != 0 && m[x] != 1 && m[x] != 255) {
                throw std::invalid_argument(
                    "WsolMaskAccumulator: mask values must be 0 (background), 1 (foreground) or "
                    "255 (ignored), found " +
                    std::to_string(m[x]));
            }
        }
    }
    const std::size_t bins = foregroundHistogram_.size();
    for (int y = 0; y < gtMask.rows; ++y) {
        const auto* m = gtMask.ptr<std::uint8_t>(y);
        for (int x = 0; x < gtMask.cols; ++x) {
            if (m[x] == 255) continue;
            const double v = valueAt(scoreMap, y, x);
            // np.histogram with explicit edges: bin i holds edge[i] <= v < edge[i+1], the last
            // bin also v == its right edge; values outside the edges are not counted.
            const auto above = std::upper_bound(binEdges_.begin(), binEdges_.end(), v);
            if (above == binEdges_.begin()) continue;
            std::size_t bin = static_cast<std::size_t>(above - binEdges_.begin()) - 1;
            if (bin == bins) {
                if (v != binEdges_.back()) continue;
                bin = bins - 1;
            }
            ++(m[x] == 1 ? foregroundHistogram_ : backgroundHistogram_)[bin];
        }
    }
    ++imageCount_;
}

void WsolMaskAccumulator::accumulateHistograms(const std::vector<std::int64_t>& foreground,
                                               const std::vector<std::int64_t>& background) {
    const std::size_t bins = foregroundHistogram_.size();
    if (foreground.size() != bins || background.size() != bins) {
        throw std::invalid_argument("WsolMaskAccumulator: expected " + std::to_string(bins) +
                                    " bins per histogram");
    }
    for (std::size_t i = 0; i < bins; ++i) {
        if (foreground[i] < 0 || background[i] < 0) {
            throw std::invalid_argument("WsolMaskAccumulator: negative histogram count");
        }
    }
    for (std::size_t i = 0; i < bins; ++i) {
        foregroundHistogram_[i] += foreground[i];
        backgroundHistogram_[i] += background[i];
    }
    ++imageCount_;
}

void WsolMaskAccumulator::merge(const WsolMaskAccumulator& other) {
    if (other.camThresholds_ != camThresholds_) {
        throw std::invalid_argument("WsolMaskAccumulator::merge: thresholds differ");
    }
    for (std::size_t i = 0; i < foregroundHistogram_.size(); ++i) {
        foregroundHistogram_[i] += other.foregroundHistogram_[i];
        backgroundHistogram_[i] += other.backgroundHistogram_[i];
    }
    imageCount_ += other.imageCount_;
}

WsolPxapResult WsolMaskAccumulator::compute() const {
    const std::size_t n = foregroundHistogram_.size();
    // Reversed cumulative sums: entry k counts scores at or above the k-th edge from the top.
    std::vector<double> tp(n), fp(n);
    std::int64_t tpSum = 0, fpSum = 0;
    for (std::size_t k = 0; k < n; ++k) {
        tpSum += foregroundHistogram_[n - 1 - k];
        fpSum += backgroundHistogram_[n - 1 - k];
        tp[k] = static_cast<double>(tpSum);
        fp[k] = static_cast<double>(fpSum);
    }
    const double numForeground = static_cast<double>(tpSum);
    if (numForeground <= 0) {
        throw std::runtime_error("WsolMaskAccumulator: no positive ground truth in the eval set");
    }
    if (tpSum + fpSum <= 0) {
        throw std::runtime_error("WsolMaskAccumulator: no positive prediction in the eval set");
    }
    WsolPxapResult result;
    result.precision.resize(n);
    result.recall.resize(n);
    for (std::size_t k = 0; k < n; ++k) {
        const double predicted = tp[k] + fp[k];
        result.precision[k] =
            predicted != 0 ? tp[k] / predicted : std::numeric_limits<double>::quiet_NaN();
        // tp + fn with fn = num_gt_true - tp: the foreground count, exactly, as integers.
        result.recall[k] = tp[k] / (tp[k] + (numForeground - tp[k]));
    }
    // (precision[1:] * np.diff(recall))[non_zero_indices[1:]].sum() * 100
    std::vector<double> terms;
    terms.reserve(n);
    for (std::size_t k = 1; k < n; ++k) {
        if (tp[k] + fp[k] != 0) {
            terms.push_back(result.precision[k] * (result.recall[k] - result.recall[k - 1]));
        }
    }
    result.pxap = numpySum(terms) * 100;
    return result;
}

}  // namespace camx
