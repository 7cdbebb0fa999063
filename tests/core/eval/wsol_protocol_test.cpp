// wsolevaluation's localisation protocol (core/eval/wsol_protocol.h). The expected numbers are
// worked out by hand below, or by independent code in this file (loops and flood fills, not the
// OpenCV calls the module makes); the last group compares with what wsolevaluation's own Python
// code produced on the fixtures in tests/fixtures/wsol.

#include "eval/wsol_protocol.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <queue>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xnpy.hpp>

namespace camx {
namespace {

namespace fs = std::filesystem;

cv::Mat mapOf(int rows, int cols, double fill = 0.0) {
    return cv::Mat(rows, cols, CV_64F, fill);
}

void paint(cv::Mat& map, int y0, int x0, int y1, int x1, double value) {  // inclusive
    for (int y = y0; y <= y1; ++y) {
        for (int x = x0; x <= x1; ++x) map.at<double>(y, x) = value;
    }
}

std::vector<WsolBox> sorted(std::vector<WsolBox> boxes) {
    std::sort(boxes.begin(), boxes.end(), [](const WsolBox& a, const WsolBox& b) {
        return std::tie(a.x0, a.y0, a.x1, a.y1) < std::tie(b.x0, b.y0, b.x1, b.y1);
    });
    return boxes;
}

std::string str(const std::vector<WsolBox>& boxes) {
    std::string s;
    for (const auto& b : boxes) {
        s += "[" + std::to_string(b.x0) + "," + std::to_string(b.y0) + "," + std::to_string(b.x1) +
             "," + std::to_string(b.y1) + "] ";
    }
    return s;
}

// Every box their multi-contour extraction should give, derived without OpenCV: uint8 levels by
// truncation, the cut at int(threshold * max level), then RETR_TREE's contours as connected
// components: one outer border per 8-connected foreground component (box: its pixels, right and
// bottom edge one past, clipped to the image) and one hole border per 4-connected background
// component that does not reach the image edge (its border pixels are the foreground pixels
// around it, so: the hole's box grown by one on every side, then the same one-past and clip).
std::vector<WsolBox> referenceBoxes(const cv::Mat& map, double threshold, int* holes = nullptr) {
    const int h = map.rows, w = map.cols;
    std::vector<int> level(static_cast<std::size_t>(h * w));
    int maxLevel = 0;
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            level[static_cast<std::size_t>(y * w + x)] =
                static_cast<int>(map.at<double>(y, x) * 255);
            maxLevel = std::max(maxLevel, level[static_cast<std::size_t>(y * w + x)]);
        }
    }
    const int cut = static_cast<int>(threshold * maxLevel);
    auto fg = [&](int y, int x) { return level[static_cast<std::size_t>(y * w + x)] > cut; };

    std::vector<WsolBox> boxes;
    std::vector<char> seen(level.size(), 0);
    for (int sy = 0; sy < h; ++sy) {
        for (int sx = 0; sx < w; ++sx) {
            if (seen[static_cast<std::size_t>(sy * w + sx)]) continue;
            const bool foreground = fg(sy, sx);
            int minX = sx, maxX = sx, minY = sy, maxY = sy;
            bool touchesEdge = false;
            std::queue<std::pair<int, int>> todo;
            todo.push({sy, sx});
            seen[static_cast<std::size_t>(sy * w + sx)] = 1;
            while (!todo.empty()) {
                const auto [y, x] = todo.front();
                todo.pop();
                minX = std::min(minX, x), maxX = std::max(maxX, x);
                minY = std::min(minY, y), maxY = std::max(maxY, y);
                if (x == 0 || y == 0 || x == w - 1 || y == h - 1) touchesEdge = true;
                for (int dy = -1; dy <= 1; ++dy) {
                    for (int dx = -1; dx <= 1; ++dx) {
                        if (dx == 0 && dy == 0) continue;
                        if (!foreground && dx != 0 && dy != 0) continue;  // background: 4-conn.
                        const int ny = y + dy, nx = x + dx;
                        if (ny < 0 || nx < 0 || ny >= h || nx >= w) continue;
                        auto& s = seen[static_cast<std::size_t>(ny * w + nx)];
                        if (s || fg(ny, nx) != foreground) continue;
                        s = 1;
                        todo.push({ny, nx});
                    }
                }
            }
            if (foreground) {
                boxes.push_back({minX, minY, std::min(maxX + 1, w - 1), std::min(maxY + 1, h - 1)});
            } else if (!touchesEdge) {
                if (holes != nullptr) ++*holes;
                boxes.push_back(
                    {minX - 1, minY - 1, std::min(maxX + 2, w - 1), std::min(maxY + 2, h - 1)});
            }
        }
    }
    if (boxes.empty()) boxes.push_back({0, 0, 0, 0});
    return boxes;
}

// A deterministic pseudo-random map in [0, 1] (a 64-bit LCG), smoothed a little so that it has
// blobs, holes and blobs inside holes.
cv::Mat randomMap(int rows, int cols, std::uint64_t seed) {
    std::uint64_t state = seed;
    auto next = [&state]() {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        return static_cast<double>(state >> 11) / 9007199254740992.0;
    };
    cv::Mat noise = mapOf(rows, cols);
    for (int y = 0; y < rows; ++y) {
        for (int x = 0; x < cols; ++x) noise.at<double>(y, x) = next();
    }
    cv::Mat map = mapOf(rows, cols);
    for (int y = 0; y < rows; ++y) {
        for (int x = 0; x < cols; ++x) {
            double sum = 2 * noise.at<double>(y, x);
            double weight = 2;
            if (x > 0) sum += noise.at<double>(y, x - 1), weight += 1;
            if (y > 0) sum += noise.at<double>(y - 1, x), weight += 1;
            map.at<double>(y, x) = sum / weight;
        }
    }
    return map;
}

// ---------------------------------------------------------------------------------------------
// Thresholds: np.arange(0, 1, step) in float64. The literals are what NumPy prints for them.

TEST(WsolThresholds, HundredthsAreNumpyArange) {
    const auto t = wsolThresholds(0.01);
    ASSERT_EQ(t.size(), 100u);
    EXPECT_EQ(t[0], 0.0);
    EXPECT_EQ(t[1], 0.01);
    EXPECT_EQ(t[29], 0.29);
    EXPECT_EQ(t[57], 0.5700000000000001);  // i * step, not the decimal 0.57
    EXPECT_NE(t[57], 0.57);
    EXPECT_EQ(t[70], 0.7000000000000001);
    EXPECT_EQ(t[99], 0.99);
    // Exactly the indices where i * 0.01 is not the double nearest i / 100 (found with NumPy).
    std::vector<int> off;
    for (int i = 0; i < 100; ++i) {
        if (t[static_cast<std::size_t>(i)] != i / 100.0) off.push_back(i);
    }
    EXPECT_EQ(off, (std::vector<int>{35, 41, 47, 57, 69, 70, 82, 83, 94, 95}));
}

TEST(WsolThresholds, ThousandthsAndOtherSteps) {
    const auto t = wsolThresholds(0.001);
    ASSERT_EQ(t.size(), 1000u);
    EXPECT_EQ(t[3], 0.003);
    EXPECT_EQ(t[289], 0.289);
    EXPECT_EQ(t[577], 0.577);
    EXPECT_EQ(t[999], 0.999);
    for (std::size_t i = 1; i < t.size(); ++i) ASSERT_LT(t[i - 1], t[i]);

    EXPECT_EQ(wsolThresholds(0.3), (std::vector<double>{0.0, 0.3, 0.6, 0.8999999999999999}));
    const auto sevenths = wsolThresholds(0.07);  // ceil(1 / 0.07) = 15
    ASSERT_EQ(sevenths.size(), 15u);
    EXPECT_EQ(sevenths.back(), 0.9800000000000001);
    EXPECT_EQ(wsolThresholds(1.0), (std::vector<double>{0.0}));
    EXPECT_EQ(wsolThresholds(5.0), (std::vector<double>{0.0}));

    EXPECT_THROW(wsolThresholds(0.0), std::invalid_argument);
    EXPECT_THROW(wsolThresholds(-0.01), std::invalid_argument);
    EXPECT_THROW(wsolThresholds(std::nan("")), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// Map preparation: resize (INTER_CUBIC, float64), then min-max with no epsilon.

TEST(WsolPrepareMap, MinMaxWithoutEpsilonAtTheSameSize) {
    // At the map's own size the resize copies, so the result is (x - min) / (max - min) exactly:
    // here i / 15, which an epsilon in the denominator (as pytorch-grad-cam has) would break.
    std::vector<float> raw(16);
    for (int i = 0; i < 16; ++i)
        raw[static_cast<std::size_t>(i)] = 0.5f * static_cast<float>(i) - 3.0f;
    const cv::Mat m = wsolPrepareMap(raw.data(), 4, 4, 4);
    ASSERT_EQ(m.type(), CV_64F);
    ASSERT_EQ(m.rows, 4);
    ASSERT_EQ(m.cols, 4);
    for (int i = 0; i < 16; ++i) {
        const double shifted = static_cast<double>(raw[static_cast<std::size_t>(i)]) - (-3.0);
        EXPECT_EQ(m.at<double>(i / 4, i % 4), shifted / 7.5) << i;
    }
    EXPECT_EQ(m.at<double>(0, 0), 0.0);
    EXPECT_EQ(m.at<double>(3, 3), 1.0);
}

TEST(WsolPrepareMap, ConstantAndNanMapsBecomeZeros) {
    const std::vector<float> constant(7 * 7, 3.25f);
    const cv::Mat c = wsolPrepareMap(constant.data(), 7, 7);
    ASSERT_EQ(c.type(), CV_64F);
    ASSERT_EQ(c.size(), cv::Size(224, 224));
    EXPECT_EQ(cv::countNonZero(c), 0);

    std::vector<float> withNan(7 * 7, 1.0f);
    withNan[10] = 2.0f;
    withNan[24] = std::numeric_limits<float>::quiet_NaN();
    const cv::Mat n = wsolPrepareMap(withNan.data(), 7, 7, 32);
    ASSERT_EQ(n.size(), cv::Size(32, 32));
    for (int y = 0; y < 32; ++y) {
        for (int x = 0; x < 32; ++x) ASSERT_EQ(n.at<double>(y, x), 0.0);
    }
}

// Bicubic interpolation written out: OpenCV's kernel (a = -0.75), pixel centres aligned
// ((dst + 0.5) * scale - 0.5), edge pixels repeated. OpenCV keeps its weights in float, so
// the two agree to about 1e-7, far closer than bilinear would (which differs by ~1e-2 here).
double cubicWeight(double d) {
    const double a = -0.75;
    d = std::abs(d);
    if (d <= 1) return ((a + 2) * d - (a + 3)) * d * d + 1;
    if (d < 2) return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a;
    return 0;
}

TEST(WsolPrepareMap, UpscalesBicubicThenNormalises) {
    const int h = 3, w = 4, size = 10;
    const std::vector<float> raw{0.f, 1.f, 4.f, 2.f, 3.f, 9.f, 5.f, 0.5f, -2.f, 1.f, 7.f, 3.f};
    cv::Mat expected = mapOf(size, size);
    for (int dy = 0; dy < size; ++dy) {
        for (int dx = 0; dx < size; ++dx) {
            const double fy = (dy + 0.5) * h / size - 0.5, fx = (dx + 0.5) * w / size - 0.5;
            const int y0 = static_cast<int>(std::floor(fy)), x0 = static_cast<int>(std::floor(fx));
            double v = 0;
            for (int ky = y0 - 1; ky <= y0 + 2; ++ky) {
                for (int kx = x0 - 1; kx <= x0 + 2; ++kx) {
                    const int sy = std::clamp(ky, 0, h - 1), sx = std::clamp(kx, 0, w - 1);
                    v += cubicWeight(fy - ky) * cubicWeight(fx - kx) *
                         raw[static_cast<std::size_t>(sy * w + sx)];
                }
            }
            expected.at<double>(dy, dx) = v;
        }
    }
    double lo = 0, hi = 0;
    cv::minMaxLoc(expected, &lo, &hi);
    const cv::Mat m = wsolPrepareMap(raw.data(), h, w, size);
    int exactZeros = 0, exactOnes = 0;
    for (int y = 0; y < size; ++y) {
        for (int x = 0; x < size; ++x) {
            EXPECT_NEAR(m.at<double>(y, x), (expected.at<double>(y, x) - lo) / (hi - lo), 1e-6);
            exactZeros += m.at<double>(y, x) == 0.0;
            exactOnes += m.at<double>(y, x) == 1.0;
        }
    }
    EXPECT_GE(exactZeros, 1);
    EXPECT_GE(exactOnes, 1);
}

TEST(WsolPrepareMap, RejectsBadInput) {
    const std::vector<float> raw(4, 1.f);
    EXPECT_THROW(wsolPrepareMap(nullptr, 2, 2), std::invalid_argument);
    EXPECT_THROW(wsolPrepareMap(raw.data(), 0, 2), std::invalid_argument);
    EXPECT_THROW(wsolPrepareMap(raw.data(), 2, 0), std::invalid_argument);
    EXPECT_THROW(wsolPrepareMap(raw.data(), 2, 2, 0), std::invalid_argument);
    EXPECT_THROW(wsolPrepareMap(cv::Mat()), std::invalid_argument);
    EXPECT_THROW(wsolPrepareMap(cv::Mat(2, 2, CV_8U, cv::Scalar(1))), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// Quantisation and boxes

TEST(WsolBoxes, QuantisationTruncates) {
    cv::Mat m = mapOf(1, 7);
    const double values[] = {0.0, 0.5, 0.999, 1.0, 1.0 / 255, 0.2, 0.7};
    for (int i = 0; i < 7; ++i) m.at<double>(0, i) = values[i];
    const cv::Mat q = wsolQuantize(m);
    ASSERT_EQ(q.type(), CV_8U);
    const int expected[] = {0, 127, 254, 255, 1, 51, 178};  // 127.5, 254.745, 178.5 truncated
    for (int i = 0; i < 7; ++i) EXPECT_EQ(q.at<std::uint8_t>(0, i), expected[i]) << values[i];
}

TEST(WsolBoxes, OnePastAndClipQuirkAndStrictCut) {
    // 8x8: block A (1.0) rows 1-3, cols 1-4; block B (0.6) rows 5-6, cols 5-7 (on the right
    // edge); background 0.1. Levels: 255, 153, 25.
    cv::Mat m = mapOf(8, 8, 0.1);
    paint(m, 1, 1, 3, 4, 1.0);
    paint(m, 5, 5, 6, 7, 0.6);
    const std::vector<double> thresholds{0.05, 0.1, 0.6, 0.99};
    const auto boxes = wsolBoxesFromScoreMap(m, thresholds, true);
    ASSERT_EQ(boxes.size(), 4u);
    // 0.05: cut int(12.75) = 12, everything survives: x + w = 8 clipped to 7.
    EXPECT_EQ(boxes[0], (std::vector<WsolBox>{{0, 0, 7, 7}}));
    // 0.1: cut int(25.5) = 25 and the background (25) is not above it. A ends at column 4 and
    // row 3 but its box says 5 and 4 (one past); B's x + w = 8 is clipped to 7, its
    // y + h = 7 happens to be the last row already.
    EXPECT_EQ(sorted(boxes[1]), (std::vector<WsolBox>{{1, 1, 5, 4}, {5, 5, 7, 7}}));
    // 0.6: cut int(0.6 * 255) = 153 and B sits exactly at 153: strictly above only.
    EXPECT_EQ(boxes[2], (std::vector<WsolBox>{{1, 1, 5, 4}}));
    EXPECT_EQ(boxes[3], (std::vector<WsolBox>{{1, 1, 5, 4}}));

    const auto largest = wsolBoxesFromScoreMap(m, thresholds, false);
    EXPECT_EQ(largest[1], (std::vector<WsolBox>{{1, 1, 5, 4}}));  // area 3*2 against 2*1
}

TEST(WsolBoxes, ThresholdIsRelativeToTheQuantisedMaximumInFloat64) {
    // Maximum level 50 (0.197 * 255 = 50.2). At arange's 0.02 the cut is int(0.02 * 50) =
    // int(1.0) = 1, so a pixel at level 1 is dropped; with the threshold as a float32
    // (0.0199999996) the cut would be 0 and the pixel kept.
    cv::Mat m = mapOf(5, 9);
    m.at<double>(2, 1) = 0.197;      // level 50
    m.at<double>(2, 7) = 1.5 / 255;  // level 1
    const auto t = wsolThresholds(0.01);
    const auto at2 = wsolBoxesFromScoreMap(m, {t[2]}, true);
    EXPECT_EQ(at2[0], (std::vector<WsolBox>{{1, 2, 2, 3}}));
    const auto floatThreshold = static_cast<double>(static_cast<float>(t[2]));
    EXPECT_EQ(wsolBoxesFromScoreMap(m, {floatThreshold}, true)[0].size(), 2u);

    // At arange's 0.58 the cut is int(0.58 * 50) = int(28.999999999999996) = 28, not 29: a
    // pixel at level 29 survives.
    m.at<double>(2, 7) = 29.5 / 255;  // level 29
    EXPECT_EQ(wsolBoxesFromScoreMap(m, {t[58]}, true)[0].size(), 2u);
    EXPECT_EQ(wsolBoxesFromScoreMap(m, {0.6}, true)[0].size(), 1u);  // cut 30
}

TEST(WsolBoxes, LargestContourIsByPolygonAreaNotPixels) {
    // A 1x8 line (8 pixels, polygon area 0) against a 2x3 block (6 pixels, area 1 * 2).
    cv::Mat m = mapOf(10, 10);
    paint(m, 1, 1, 1, 8, 1.0);
    paint(m, 5, 3, 6, 5, 1.0);
    const auto largest = wsolBoxesFromScoreMap(m, {0.5}, false);
    EXPECT_EQ(largest[0], (std::vector<WsolBox>{{3, 5, 6, 7}}));
    const auto all = wsolBoxesFromScoreMap(m, {0.5}, true);
    EXPECT_EQ(sorted(all[0]), (std::vector<WsolBox>{{1, 1, 9, 2}, {3, 5, 6, 7}}));
}

TEST(WsolBoxes, LargestContourTieGoesToOpenCvsFirstContour) {
    // Two equal 3x3 blocks: OpenCV lists contours in reverse order of discovery, so the lower
    // block comes first and Python's max() keeps it.
    cv::Mat m = mapOf(12, 12);
    paint(m, 1, 1, 3, 3, 1.0);
    paint(m, 7, 6, 9, 8, 1.0);
    EXPECT_EQ(wsolBoxesFromScoreMap(m, {0.5}, false)[0], (std::vector<WsolBox>{{6, 7, 9, 10}}));
}

TEST(WsolBoxes, HolesAreContoursToo) {
    // A ring: rows/cols 1-7 at 1.0 with a hole at rows 3-4, cols 3-5. RETR_TREE also returns
    // the hole's border, whose box is the hole's grown by one pixel (then one past).
    cv::Mat m = mapOf(10, 10);
    paint(m, 1, 1, 7, 7, 1.0);
    paint(m, 3, 3, 4, 5, 0.0);
    const auto all = wsolBoxesFromScoreMap(m, {0.5}, true);
    EXPECT_EQ(sorted(all[0]), (std::vector<WsolBox>{{1, 1, 8, 8}, {2, 2, 7, 6}}));
    EXPECT_EQ(wsolBoxesFromScoreMap(m, {0.5}, false)[0], (std::vector<WsolBox>{{1, 1, 8, 8}}));
}

TEST(WsolBoxes, NothingAboveTheCutGivesTheZeroBox) {
    const auto boxes = wsolBoxesFromScoreMap(mapOf(6, 5), {0.0, 0.5, 0.99}, true);
    for (const auto& b : boxes) EXPECT_EQ(b, (std::vector<WsolBox>{{0, 0, 0, 0}}));
    // A threshold of 1 cuts at the maximum itself.
    cv::Mat m = mapOf(6, 5, 0.3);
    EXPECT_EQ(wsolBoxesFromScoreMap(m, {1.0}, false)[0], (std::vector<WsolBox>{{0, 0, 0, 0}}));
}

TEST(WsolBoxes, MatchFloodFillReferenceOnRandomMaps) {
    const auto thresholds = wsolThresholds(0.01);
    int multiBoxMaps = 0, holes = 0;
    for (const auto& [rows, cols, seed] :
         std::vector<std::tuple<int, int, std::uint64_t>>{{16, 16, 1}, {13, 9, 2}, {20, 24, 3}}) {
        const cv::Mat m = randomMap(rows, cols, seed);
        const auto boxes = wsolBoxesFromScoreMap(m, thresholds, true);
        ASSERT_EQ(boxes.size(), thresholds.size());
        for (std::size_t t = 0; t < thresholds.size(); ++t) {
            const auto expected = sorted(referenceBoxes(m, thresholds[t], &holes));
            ASSERT_EQ(sorted(boxes[t]), expected)
                << "map " << seed << " threshold " << thresholds[t] << ": got " << str(boxes[t])
                << " expected " << str(expected);
            multiBoxMaps += boxes[t].size() > 1;
        }
        // CV_32F holding the same values gives the same boxes.
        cv::Mat asFloat;
        m.convertTo(asFloat, CV_32F);
        cv::Mat widened;
        asFloat.convertTo(widened, CV_64F);
        const auto fromFloat = wsolBoxesFromScoreMap(asFloat, thresholds, true);
        for (std::size_t t = 0; t < thresholds.size(); ++t) {
            ASSERT_EQ(sorted(fromFloat[t]), sorted(referenceBoxes(widened, thresholds[t])));
        }
    }
    // The maps exercise what they are meant to: several components, and holes.
    EXPECT_GT(multiBoxMaps, 50);
    EXPECT_GT(holes, 10);
}

TEST(WsolBoxes, BothModesAtOnceEqualThePerModeComputation) {
    // wsolBestIouCurves shares one contour search between the modes and between cuts that keep
    // the same pixels; it must give exactly wsolBestIous' values, at both of their steps, on
    // smooth maps, maps with plateaus (few quantised levels) and an all-zero map.
    const std::vector<WsolBox> gt = {{10, 8, 40, 30}, {3, 40, 20, 60}};
    std::vector<cv::Mat> maps;
    for (std::uint64_t seed : {1u, 2u, 3u, 4u}) maps.push_back(randomMap(64, 72, seed));
    cv::Mat plateaus = randomMap(64, 72, 9);
    for (int y = 0; y < plateaus.rows; ++y)
        for (int x = 0; x < plateaus.cols; ++x)
            plateaus.at<double>(y, x) = std::floor(plateaus.at<double>(y, x) * 5) / 5;
    maps.push_back(plateaus);
    maps.push_back(mapOf(64, 72, 0.0));
    cv::Mat peak = mapOf(64, 72, 0.0);
    peak.at<double>(30, 30) = 1.0;
    maps.push_back(peak);
    for (double step : {0.01, 0.001, 0.05}) {
        const auto thresholds = wsolThresholds(step);
        for (std::size_t i = 0; i < maps.size(); ++i) {
            const WsolBestIouCurves both = wsolBestIouCurves(maps[i], thresholds, gt);
            EXPECT_EQ(both.largest, wsolBestIous(maps[i], thresholds, gt, false))
                << "map " << i << " step " << step;
            EXPECT_EQ(both.all, wsolBestIous(maps[i], thresholds, gt, true))
                << "map " << i << " step " << step;
        }
    }
    // Unordered and out-of-range thresholds too (the cache must not assume an order).
    const std::vector<double> odd = {0.9, 0.1, -0.5, 0.5, 1.5, 0.1};
    EXPECT_EQ(wsolBestIouCurves(maps[0], odd, gt).all, wsolBestIous(maps[0], odd, gt, true));
    EXPECT_EQ(wsolBestIouCurves(maps[0], odd, gt).largest, wsolBestIous(maps[0], odd, gt, false));
    EXPECT_THROW(wsolBestIouCurves(maps[0], odd, {}), std::invalid_argument);
}

TEST(WsolBoxes, RejectsInvalidMaps) {
    const std::vector<double> t{0.5};
    EXPECT_THROW(wsolBoxesFromScoreMap(cv::Mat(), t, true), std::invalid_argument);
    EXPECT_THROW(wsolBoxesFromScoreMap(mapOf(3, 3, 1.5), t, true), std::invalid_argument);
    EXPECT_THROW(wsolBoxesFromScoreMap(mapOf(3, 3, -0.1), t, true), std::invalid_argument);
    cv::Mat withNan = mapOf(3, 3);
    withNan.at<double>(1, 1) = std::nan("");
    EXPECT_THROW(wsolBoxesFromScoreMap(withNan, t, true), std::invalid_argument);
    EXPECT_THROW(wsolBoxesFromScoreMap(cv::Mat(3, 3, CV_8U, cv::Scalar(0)), t, true),
                 std::invalid_argument);
    EXPECT_THROW(wsolBoxesFromScoreMap(mapOf(3, 3), {}, true), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// IoU and box rescaling

TEST(WsolIou, InclusivePixelAreas) {
    EXPECT_EQ(wsolIou({0, 0, 9, 9}, {0, 0, 9, 9}), 1.0);
    EXPECT_EQ(wsolIou({0, 0, 9, 9}, {5, 5, 14, 14}), 25.0 / 175.0);
    EXPECT_EQ(wsolIou({0, 0, 2, 2}, {2, 2, 4, 4}), 1.0 / 17.0);  // sharing one pixel counts
    EXPECT_EQ(wsolIou({0, 0, 1, 1}, {3, 3, 4, 4}), 0.0);
    EXPECT_EQ(wsolIou({3, 3, 3, 3}, {3, 3, 3, 3}), 1.0);  // a one-pixel box has area 1
    EXPECT_EQ(wsolIou({0, 0, 0, 0}, {0, 0, 1, 0}), 0.5);  // the "no contour" box scores too
    EXPECT_EQ(wsolIou({2, 2, 6, 6}, {2, 2, 5, 5}), 16.0 / 25.0);
    EXPECT_THROW(wsolIou({-1, 0, 3, 3}, {0, 0, 1, 1}), std::invalid_argument);
    EXPECT_THROW(wsolIou({4, 0, 3, 3}, {0, 0, 1, 1}), std::invalid_argument);
    EXPECT_THROW(wsolIou({0, 0, 1, 1}, {0, 5, 1, 4}), std::invalid_argument);
}

TEST(WsolResizeBox, ScalesAndTruncates) {
    // 250 * 224 / 500 = 112; 40 * 224 / 375 = 23.89; 480 * 224 / 500 = 215.04; 260 * 224 / 375
    // = 155.31.
    EXPECT_EQ(wsolResizeBox({250, 40, 480, 260}, 500, 375), (WsolBox{112, 23, 215, 155}));
    // Against integer floor division over many boxes and sizes (exact for these magnitudes).
    for (int iw : {1, 3, 100, 224, 333, 500, 1023}) {
        for (int ih : {2, 7, 224, 375, 481}) {
            for (int k = 0; k < 20; ++k) {
                const WsolBox b{(k * 37) % iw, (k * 53) % ih, (k * 37) % iw + (k * 11) % 5,
                                (k * 53) % ih + (k * 7) % 3};
                const WsolBox r = wsolResizeBox(b, iw, ih, 224, 160);
                EXPECT_EQ(r, (WsolBox{b.x0 * 224 / iw, b.y0 * 160 / ih, b.x1 * 224 / iw,
                                      b.y1 * 160 / ih}));
            }
        }
    }
    EXPECT_THROW(wsolResizeBox({0, 0, 1, 1}, 0, 10), std::invalid_argument);
    EXPECT_THROW(wsolResizeBox({5, 0, 1, 1}, 10, 10), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// MaxBoxAcc / MaxBoxAccV2

struct HandImage {
    cv::Mat map;
    std::vector<WsolBox> truth;
};

// Four 10x10 images, thresholds {0, 0.5}; best IoU at each threshold worked out by hand.
std::vector<HandImage> handImages() {
    std::vector<HandImage> images;
    cv::Mat blob = mapOf(10, 10, 0.2);  // levels 51 and 255
    paint(blob, 2, 2, 5, 5, 1.0);
    // At 0 everything survives: [0,0,9,9]. At 0.5 (cut 127) the blob: [2,2,6,6] (one past).
    images.push_back({blob, {{2, 2, 5, 5}}});  // IoU 16/100, 16/25
    images.push_back({blob, {{0, 0, 9, 9}}});  // IoU 1, 25/100
    // All zero: the box [0,0,0,0] at both thresholds, against [0,0,1,0]: IoU 1/2 at both.
    images.push_back({mapOf(10, 10), {{0, 0, 1, 0}, {5, 5, 9, 9}}});
    // Two blobs on zero: A rows/cols 0-3 (box [0,0,4,4]), B rows/cols 7-8 (box [7,7,9,9]),
    // truth [7,7,8,8]. Every contour: IoU with B 4/9. Largest contour only: A, IoU 0.
    cv::Mat two = mapOf(10, 10);
    paint(two, 0, 0, 3, 3, 1.0);
    paint(two, 7, 7, 8, 8, 1.0);
    images.push_back({two, {{7, 7, 8, 8}}});
    return images;
}

TEST(WsolBoxAccumulator, BestIousByHand) {
    const auto images = handImages();
    const std::vector<double> t{0.0, 0.5};
    EXPECT_EQ(wsolBestIous(images[0].map, t, images[0].truth, true),
              (std::vector<double>{16.0 / 100, 16.0 / 25}));
    EXPECT_EQ(wsolBestIous(images[1].map, t, images[1].truth, true),
              (std::vector<double>{1.0, 25.0 / 100}));
    EXPECT_EQ(wsolBestIous(images[2].map, t, images[2].truth, true),
              (std::vector<double>{0.5, 0.5}));
    EXPECT_EQ(wsolBestIous(images[3].map, t, images[3].truth, true),
              (std::vector<double>{4.0 / 9, 4.0 / 9}));
    EXPECT_EQ(wsolBestIous(images[3].map, t, images[3].truth, false),
              (std::vector<double>{0.0, 0.0}));
    EXPECT_THROW(wsolBestIous(images[0].map, t, {}, true), std::invalid_argument);
}

TEST(WsolBoxAccumulator, MaxBoxAccV2ByHand) {
    auto acc = WsolBoxAccumulator::maxBoxAccV2({0.0, 0.5});
    for (const auto& im : handImages()) acc.accumulate(im.map, im.truth);
    const WsolBoxResult r = acc.compute();
    ASSERT_EQ(r.imageCount, 4u);
    ASSERT_EQ(r.iouThresholds, (std::vector<int>{30, 50, 70}));
    // Correct images per threshold (0, 0.5):
    //   IoU >= 0.3: {2,3,4} {1,3,4}   IoU >= 0.5: {2,3} {1,3}   IoU >= 0.7: {2} {}
    const double three = 3 * 100. / 4, two = 2 * 100. / 4, one = 1 * 100. / 4;
    EXPECT_EQ(r.accuracyCurve[0], (std::vector<double>{three, three}));
    EXPECT_EQ(r.accuracyCurve[1], (std::vector<double>{two, two}));
    EXPECT_EQ(r.accuracyCurve[2], (std::vector<double>{one, 0.0}));
    EXPECT_EQ(r.maxBoxAcc, (std::vector<double>{75.0, 50.0, 25.0}));
    EXPECT_EQ(r.bestThresholdIndex, (std::vector<std::size_t>{0, 0, 0}));
    EXPECT_EQ(r.meanOverIou, (75.0 + 50.0 + 25.0) / 3);
    EXPECT_EQ(r.maxBoxAccAt(50), 50.0);
    EXPECT_THROW(r.maxBoxAccAt(40), std::invalid_argument);
}

TEST(WsolBoxAccumulator, MaxBoxAccLargestContourByHand) {
    auto acc = WsolBoxAccumulator::maxBoxAcc({0.0, 0.5});
    for (const auto& im : handImages()) acc.accumulate(im.map, im.truth);
    const WsolBoxResult r = acc.compute();
    ASSERT_EQ(r.iouThresholds, (std::vector<int>{50}));
    EXPECT_EQ(r.accuracyCurve[0], (std::vector<double>{50.0, 50.0}));
    EXPECT_EQ(r.maxBoxAccAt(50), 50.0);

    // At IoU 30 the fourth image separates the two contour modes: 75 % with every contour,
    // 50 % with the largest only.
    WsolBoxAccumulator largest({0.0, 0.5}, {30}, false), every({0.0, 0.5}, {30}, true);
    for (const auto& im : handImages()) {
        largest.accumulate(im.map, im.truth);
        every.accumulate(im.map, im.truth);
    }
    EXPECT_EQ(largest.compute().maxBoxAcc, (std::vector<double>{50.0}));
    EXPECT_EQ(every.compute().maxBoxAcc, (std::vector<double>{75.0}));
}

TEST(WsolBoxAccumulator, ArgmaxIsTheFirstBestThreshold) {
    WsolBoxAccumulator acc({0.1, 0.2, 0.3, 0.4}, {30, 50, 70}, true);
    acc.accumulateBestIous({0.1, 0.55, 0.75, 0.75});
    acc.accumulateBestIous({0.35, 0.35, 0.8, 0.5});
    acc.accumulateBestIous({0.0, 0.7, 0.7, 0.0});
    const auto r = acc.compute();
    const double third = 100. / 3;
    EXPECT_EQ(r.accuracyCurve[0],
              (std::vector<double>{third, 3 * 100. / 3, 3 * 100. / 3, 2 * 100. / 3}));
    EXPECT_EQ(r.accuracyCurve[1],
              (std::vector<double>{0.0, 2 * 100. / 3, 3 * 100. / 3, 2 * 100. / 3}));
    // 0.7 >= 70 / 100: the double 0.7 is the one 70 / 100 gives.
    EXPECT_EQ(r.accuracyCurve[2], (std::vector<double>{0.0, third, 3 * 100. / 3, third}));
    EXPECT_EQ(r.bestThresholdIndex, (std::vector<std::size_t>{1, 2, 2}));
    EXPECT_EQ(r.maxBoxAcc, (std::vector<double>{100.0, 100.0, 100.0}));
}

TEST(WsolBoxAccumulator, MergeEqualsOneAccumulator) {
    const auto images = handImages();
    const auto thresholds = wsolThresholds(0.05);
    auto all = WsolBoxAccumulator::maxBoxAccV2(thresholds);
    auto first = WsolBoxAccumulator::maxBoxAccV2(thresholds);
    auto second = WsolBoxAccumulator::maxBoxAccV2(thresholds);
    for (std::size_t i = 0; i < images.size(); ++i) {
        all.accumulate(images[i].map, images[i].truth);
        (i % 2 == 0 ? first : second).accumulate(images[i].map, images[i].truth);
    }
    second.merge(first);
    const auto a = all.compute(), b = second.compute();
    EXPECT_EQ(a.accuracyCurve, b.accuracyCurve);
    EXPECT_EQ(a.maxBoxAcc, b.maxBoxAcc);
    EXPECT_EQ(a.bestThresholdIndex, b.bestThresholdIndex);
    EXPECT_EQ(a.meanOverIou, b.meanOverIou);
    EXPECT_EQ(b.imageCount, 4u);

    auto other = WsolBoxAccumulator::maxBoxAcc(thresholds);
    EXPECT_THROW(all.merge(other), std::invalid_argument);
    EXPECT_THROW(all.merge(WsolBoxAccumulator::maxBoxAccV2(wsolThresholds(0.1))),
                 std::invalid_argument);
}

TEST(WsolBoxAccumulator, RejectsBadUse) {
    EXPECT_THROW(WsolBoxAccumulator({}, {50}, true), std::invalid_argument);
    EXPECT_THROW(WsolBoxAccumulator({0.5}, {}, true), std::invalid_argument);
    EXPECT_THROW(WsolBoxAccumulator({0.5}, {50, 50}, true), std::invalid_argument);
    EXPECT_THROW(WsolBoxAccumulator({0.5}, {150}, true), std::invalid_argument);
    EXPECT_THROW(WsolBoxAccumulator({std::nan("")}, {50}, true), std::invalid_argument);
    auto acc = WsolBoxAccumulator::maxBoxAccV2({0.0, 0.5});
    EXPECT_THROW(acc.compute(), std::runtime_error);
    EXPECT_THROW(acc.accumulateBestIous({0.5}), std::invalid_argument);
    EXPECT_THROW(acc.accumulate(mapOf(4, 4), {}), std::invalid_argument);
    EXPECT_EQ(acc.imageCount(), 0u);
}

// ---------------------------------------------------------------------------------------------
// PxAP

TEST(WsolMasks, BinariseAndResizeNearest) {
    cv::Mat png = (cv::Mat_<std::uint8_t>(2, 2) << 0, 1, 128, 255);
    const cv::Mat m = wsolResizeMask(png, 4);
    const cv::Mat expected =
        (cv::Mat_<std::uint8_t>(4, 4) << 0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
    ASSERT_EQ(m.type(), CV_8U);
    EXPECT_EQ(cv::countNonZero(m != expected), 0);

    // Foreground is the union of instances; the ignore region loses what is foreground.
    cv::Mat a = cv::Mat::zeros(4, 4, CV_8U), b = cv::Mat::zeros(4, 4, CV_8U);
    cv::Mat ignore = cv::Mat::zeros(4, 4, CV_8U);
    a.at<std::uint8_t>(0, 0) = 255;
    b.at<std::uint8_t>(3, 3) = 1;
    ignore.row(0).setTo(200);
    const cv::Mat truth = wsolGroundTruthMask({a, b}, ignore, 4);
    const cv::Mat expectedTruth =
        (cv::Mat_<std::uint8_t>(4, 4) << 1, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
    EXPECT_EQ(cv::countNonZero(truth != expectedTruth), 0);
    EXPECT_EQ(cv::countNonZero(wsolGroundTruthMask({a}, cv::Mat(), 4)), 1);
    EXPECT_THROW(wsolGroundTruthMask({}, ignore, 4), std::invalid_argument);
    EXPECT_THROW(wsolResizeMask(cv::Mat(), 4), std::invalid_argument);
    EXPECT_THROW(wsolResizeMask(cv::Mat(2, 2, CV_8UC3), 4), std::invalid_argument);
}

// A 2x4 map: foreground scores 0.9 0.6 0.3 1.0, background 0.1 0.6 0.8, one ignored pixel at
// 1.0; thresholds {0, 0.25, 0.5, 0.75}, so edges 0 .25 .5 .75 1 2 3.
//   foreground histogram [0 1 1 1 1 0], background [1 0 1 1 0 0]
//   reversed cumulative: tp [0 1 2 3 4 4], fp [0 0 1 2 2 3]
//   precision [nan 1 2/3 3/5 4/6 4/7], recall [0 1/4 2/4 3/4 1 1]
//   PxAP = 100 * (1 * 1/4 + 2/3 * 1/4 + 3/5 * 1/4 + 4/6 * 1/4 + 4/7 * 0)
struct HandPxap {
    cv::Mat map = (cv::Mat_<double>(2, 4) << 0.9, 0.6, 0.3, 1.0, 0.1, 0.6, 0.8, 1.0);
    cv::Mat truth = (cv::Mat_<std::uint8_t>(2, 4) << 1, 1, 1, 1, 0, 0, 0, 255);
    std::vector<double> thresholds{0.0, 0.25, 0.5, 0.75};
};

TEST(WsolMaskAccumulator, PxapByHand) {
    const HandPxap c;
    WsolMaskAccumulator acc(c.thresholds);
    acc.accumulate(c.map, c.truth);
    EXPECT_EQ(acc.foregroundHistogram(), (std::vector<std::int64_t>{0, 1, 1, 1, 1, 0}));
    EXPECT_EQ(acc.backgroundHistogram(), (std::vector<std::int64_t>{1, 0, 1, 1, 0, 0}));
    const auto r = acc.compute();
    ASSERT_EQ(r.precision.size(), 6u);
    EXPECT_TRUE(std::isnan(r.precision[0]));
    EXPECT_EQ(std::vector<double>(r.precision.begin() + 1, r.precision.end()),
              (std::vector<double>{1.0, 2.0 / 3, 3.0 / 5, 4.0 / 6, 4.0 / 7}));
    EXPECT_EQ(r.recall, (std::vector<double>{0.0, 0.25, 0.5, 0.75, 1.0, 1.0}));
    const double expected =
        (((((0. + 1.0 * 0.25) + 2.0 / 3 * 0.25) + 3.0 / 5 * 0.25) + 4.0 / 6 * 0.25) +
         4.0 / 7 * 0.0) *
        100;
    EXPECT_EQ(r.pxap, expected);
    EXPECT_NEAR(r.pxap, 73.33333333333333, 1e-12);

    // Without the ignore region the pixel at 1.0 is background: tp [0 1 2 3 4 4],
    // fp [0 1 2 3 3 4], PxAP = 100 * (1/2 + 2/4 + 3/6 + 4/7) / 4.
    cv::Mat noIgnore = c.truth.clone();
    noIgnore.at<std::uint8_t>(1, 3) = 0;
    WsolMaskAccumulator plain(c.thresholds);
    plain.accumulate(c.map, noIgnore);
    EXPECT_NEAR(plain.compute().pxap, 100 * (0.5 + 0.5 + 0.5 + 4.0 / 7) / 4, 1e-12);
}

TEST(WsolMaskAccumulator, MergeEqualsOneAccumulator) {
    const HandPxap c;
    cv::Mat secondMap = c.map.clone();
    secondMap.at<double>(0, 0) = 0.0;  // a score of exactly 0 lands in [0, 0.25)
    WsolMaskAccumulator all(c.thresholds), first(c.thresholds), second(c.thresholds);
    all.accumulate(c.map, c.truth);
    all.accumulate(secondMap, c.truth);
    first.accumulate(c.map, c.truth);
    second.accumulate(secondMap, c.truth);
    first.merge(second);
    EXPECT_EQ(first.foregroundHistogram(), all.foregroundHistogram());
    EXPECT_EQ(first.foregroundHistogram(), (std::vector<std::int64_t>{1, 2, 2, 1, 2, 0}));
    EXPECT_EQ(first.backgroundHistogram(), all.backgroundHistogram());
    EXPECT_EQ(first.compute().pxap, all.compute().pxap);
    EXPECT_EQ(first.imageCount(), 2u);
    EXPECT_THROW(first.merge(WsolMaskAccumulator({0.0, 0.5})), std::invalid_argument);
}

TEST(WsolMaskAccumulator, PerImageHistogramsAddUpToTheAccumulator) {
    // An evaluation keeps each image's histograms and adds them later (to resume): the same PxAP.
    const HandPxap c;
    cv::Mat secondMap = c.map.clone();
    secondMap.at<double>(0, 0) = 0.0;
    WsolMaskAccumulator all(c.thresholds), sum(c.thresholds);
    for (const cv::Mat* m : {&c.map, static_cast<const cv::Mat*>(&secondMap)}) {
        all.accumulate(*m, c.truth);
        WsolMaskAccumulator one(c.thresholds);
        one.accumulate(*m, c.truth);
        sum.accumulateHistograms(one.foregroundHistogram(), one.backgroundHistogram());
    }
    EXPECT_EQ(sum.foregroundHistogram(), all.foregroundHistogram());
    EXPECT_EQ(sum.backgroundHistogram(), all.backgroundHistogram());
    EXPECT_EQ(sum.imageCount(), 2u);
    EXPECT_EQ(sum.compute().pxap, all.compute().pxap);
    EXPECT_THROW(sum.accumulateHistograms({1, 2}, {1, 2}), std::invalid_argument);
    std::vector<std::int64_t> negative(all.foregroundHistogram().size(), 0);
    negative[0] = -1;
    EXPECT_THROW(sum.accumulateHistograms(negative, all.backgroundHistogram()),
                 std::invalid_argument);
}

TEST(WsolMaskAccumulator, RejectsBadInput) {
    const HandPxap c;
    WsolMaskAccumulator acc(c.thresholds);
    EXPECT_THROW(acc.accumulate(c.map, cv::Mat::zeros(4, 2, CV_8U)), std::invalid_argument);
    EXPECT_THROW(acc.accumulate(c.map, cv::Mat::zeros(2, 4, CV_32F)), std::invalid_argument);
    cv::Mat odd = c.truth.clone();
    odd.at<std::uint8_t>(0, 0) = 7;
    EXPECT_THROW(acc.accumulate(c.map, odd), std::invalid_argument);
    EXPECT_THROW(acc.accumulate(mapOf(2, 4, 2.0), c.truth), std::invalid_argument);
    EXPECT_THROW(acc.compute(), std::runtime_error);  // nothing yet: no positive ground truth
    acc.accumulate(c.map, cv::Mat::zeros(2, 4, CV_8U));
    EXPECT_THROW(acc.compute(), std::runtime_error);  // still no foreground pixel
    EXPECT_THROW(WsolMaskAccumulator({}), std::invalid_argument);
    EXPECT_THROW(WsolMaskAccumulator({0.5, 0.2}), std::invalid_argument);
    EXPECT_THROW(WsolMaskAccumulator({0.0, 1.5}), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// Against wsolevaluation's own code (tests/fixtures/wsol, made by make_wsol_fixtures.py)

fs::path fixtureDir() {
    return fs::path(CAMX_FIXTURES) / "wsol";
}

const nlohmann::json& expected() {
    static const nlohmann::json j = [] {
        std::ifstream in(fixtureDir() / "wsol_expected.json");
        if (!in) throw std::runtime_error("missing tests/fixtures/wsol/wsol_expected.json");
        return nlohmann::json::parse(in);
    }();
    return j;
}

cv::Mat loadRaw(const std::string& file) {
    const auto a = xt::load_npy<float>((fixtureDir() / file).string());
    cv::Mat m(static_cast<int>(a.shape()[0]), static_cast<int>(a.shape()[1]), CV_32F);
    std::copy(a.begin(), a.end(), m.ptr<float>());
    return m;
}

cv::Mat loadMask(const std::string& file) {
    const auto a = xt::load_npy<std::uint8_t>((fixtureDir() / file).string());
    cv::Mat m(static_cast<int>(a.shape()[0]), static_cast<int>(a.shape()[1]), CV_8U);
    std::copy(a.begin(), a.end(), m.ptr<std::uint8_t>());
    return m;
}

std::vector<WsolBox> boxesFromJson(const nlohmann::json& j) {
    std::vector<WsolBox> boxes;
    for (const auto& b : j) {
        boxes.push_back({b[0].get<int>(), b[1].get<int>(), b[2].get<int>(), b[3].get<int>()});
    }
    return boxes;
}

std::vector<cv::Mat> preparedFixtureMaps() {
    std::vector<cv::Mat> maps;
    for (const auto& im : expected()["images"]) {
        maps.push_back(wsolPrepareMap(loadRaw(im["raw"].get<std::string>())));
    }
    return maps;
}

TEST(WsolAgainstUpstream, ThresholdLists) {
    for (const char* step : {"0.01", "0.001"}) {
        const auto theirs = expected()["thresholds"][step].get<std::vector<double>>();
        EXPECT_EQ(wsolThresholds(std::stod(step)), theirs) << step;
    }
}

TEST(WsolAgainstUpstream, PreparedMaps) {
    const auto maps = preparedFixtureMaps();
    std::size_t i = 0;
    for (const auto& im : expected()["images"]) {
        const cv::Mat& m = maps[i++];
        const auto& p = im["prepared"];
        SCOPED_TRACE(im["name"].get<std::string>());
        ASSERT_EQ(m.size(), cv::Size(224, 224));
        double lo = 0, hi = 0, sum = 0;
        cv::minMaxLoc(m, &lo, &hi);
        for (int y = 0; y < m.rows; ++y) {
            for (int x = 0; x < m.cols; ++x) sum += m.at<double>(y, x);
        }
        EXPECT_EQ(lo, p["min"].get<double>());
        EXPECT_EQ(hi, p["max"].get<double>());
        EXPECT_NEAR(sum, p["sum"].get<double>(), 1e-9);
        for (const auto& s : p["samples"]) {
            EXPECT_EQ(m.at<double>(s[0].get<int>(), s[1].get<int>()), s[2].get<double>())
                << s[0] << "," << s[1];
        }
        // Every pixel's uint8 level agrees: the count of each level matches.
        const cv::Mat q = wsolQuantize(m);
        std::vector<int> counts(256, 0);
        for (int y = 0; y < q.rows; ++y) {
            for (int x = 0; x < q.cols; ++x) ++counts[q.at<std::uint8_t>(y, x)];
        }
        EXPECT_EQ(counts, p["level_counts"].get<std::vector<int>>());
    }
}

TEST(WsolAgainstUpstream, BoxesAndBestIous) {
    const auto maps = preparedFixtureMaps();
    const auto thresholds = wsolThresholds(0.01);
    std::size_t i = 0;
    for (const auto& im : expected()["images"]) {
        const cv::Mat& m = maps[i++];
        SCOPED_TRACE(im["name"].get<std::string>());
        const auto size = im["image_size"];
        const auto original = boxesFromJson(im["gt_boxes"]);
        std::vector<WsolBox> truth;
        for (const auto& b : original) {
            truth.push_back(wsolResizeBox(b, size[0].get<int>(), size[1].get<int>()));
        }
        ASSERT_EQ(truth, boxesFromJson(im["gt_boxes_resized"]));
        for (const auto& [mode, multi] : {std::pair{"multi", true}, std::pair{"largest", false}}) {
            const auto boxes = wsolBoxesFromScoreMap(m, thresholds, multi);
            const auto& theirs = im[std::string("boxes_") + mode];
            ASSERT_EQ(boxes.size(), theirs.size());
            for (std::size_t t = 0; t < boxes.size(); ++t) {
                ASSERT_EQ(boxes[t], boxesFromJson(theirs[t]))
                    << mode << " threshold " << thresholds[t];
            }
            EXPECT_EQ(wsolBestIous(m, thresholds, truth, multi),
                      im[std::string("best_iou_") + mode].get<std::vector<double>>())
                << mode;
        }
    }
}

TEST(WsolAgainstUpstream, BoxEvaluator) {
    const auto maps = preparedFixtureMaps();
    const auto& images = expected()["images"];
    for (const auto& [mode, multi] : {std::pair{"multi", true}, std::pair{"largest", false}}) {
        for (const char* step : {"0.01", "0.001"}) {
            SCOPED_TRACE(std::string(mode) + " " + step);
            const auto& theirs = expected()["box_eval"][mode][step];
            WsolBoxAccumulator all(wsolThresholds(std::stod(step)), {30, 50, 70}, multi);
            WsolBoxAccumulator even = all, odd = all;
            for (std::size_t i = 0; i < maps.size(); ++i) {
                std::vector<WsolBox> truth = boxesFromJson(images[i]["gt_boxes_resized"]);
                all.accumulate(maps[i], truth);
                (i % 2 == 0 ? even : odd).accumulate(maps[i], truth);
            }
            odd.merge(even);
            const double count = theirs["count"].get<double>();
            for (const auto& r : {all.compute(), odd.compute()}) {
                ASSERT_EQ(r.imageCount, static_cast<std::size_t>(count));
                for (std::size_t k = 0; k < 3; ++k) {
                    const auto numCorrect =
                        theirs["num_correct"][std::to_string(r.iouThresholds[k])]
                            .get<std::vector<double>>();
                    std::vector<double> curve;
                    for (double n : numCorrect) curve.push_back(n * 100. / count);
                    EXPECT_EQ(r.accuracyCurve[k], curve) << r.iouThresholds[k];
                }
                const auto maxBoxAcc = theirs["max_box_acc"].get<std::vector<double>>();
                for (std::size_t k = 0; k < 3; ++k) {
                    EXPECT_NEAR(r.maxBoxAcc[k], maxBoxAcc[k], 1e-6);
                    EXPECT_EQ(r.maxBoxAcc[k], maxBoxAcc[k]);
                }
                EXPECT_NEAR(r.meanOverIou, theirs["average"].get<double>(), 1e-6);
                EXPECT_EQ(r.meanOverIou, theirs["average"].get<double>());
                EXPECT_EQ(r.maxBoxAccAt(50), theirs["at_50"].get<double>());
            }
        }
    }
}

TEST(WsolAgainstUpstream, MaskEvaluator) {
    const auto maps = preparedFixtureMaps();
    std::vector<std::string> names;
    for (const auto& im : expected()["images"]) names.push_back(im["name"].get<std::string>());
    std::vector<std::pair<cv::Mat, cv::Mat>> cases;  // (score map, ground truth)
    for (const auto& mi : expected()["mask_images"]) {
        SCOPED_TRACE(mi["id"].get<std::string>());
        std::vector<cv::Mat> instances;
        for (const auto& f : mi["masks"]) instances.push_back(loadMask(f.get<std::string>()));
        const cv::Mat truth =
            wsolGroundTruthMask(instances, loadMask(mi["ignore"].get<std::string>()));
        for (int v : {0, 1, 255}) {
            EXPECT_EQ(cv::countNonZero(truth == v), mi["gt_counts"][std::to_string(v)].get<int>())
                << v;
        }
        std::vector<long> rowSums, colSums;
        for (int y = 0; y < truth.rows; ++y) {
            long s = 0;
            for (int x = 0; x < truth.cols; ++x) s += truth.at<std::uint8_t>(y, x);
            rowSums.push_back(s);
        }
        for (int x = 0; x < truth.cols; ++x) {
            long s = 0;
            for (int y = 0; y < truth.rows; ++y) s += truth.at<std::uint8_t>(y, x);
            colSums.push_back(s);
        }
        EXPECT_EQ(rowSums, mi["gt_row_sums"].get<std::vector<long>>());
        EXPECT_EQ(colSums, mi["gt_col_sums"].get<std::vector<long>>());
        const auto at = std::find(names.begin(), names.end(), mi["map"].get<std::string>());
        ASSERT_NE(at, names.end());
        cases.emplace_back(maps[static_cast<std::size_t>(at - names.begin())], truth);
    }
    for (const char* step : {"0.01", "0.001"}) {
        SCOPED_TRACE(step);
        const auto& theirs = expected()["mask_eval"][step];
        WsolMaskAccumulator all(wsolThresholds(std::stod(step)));
        WsolMaskAccumulator first = all, rest = all;
        for (std::size_t i = 0; i < cases.size(); ++i) {
            all.accumulate(cases[i].first, cases[i].second);
            (i == 0 ? first : rest).accumulate(cases[i].first, cases[i].second);
        }
        rest.merge(first);
        for (const auto* acc : {&all, &rest}) {
            EXPECT_EQ(acc->foregroundHistogram(),
                      theirs["true_hist"].get<std::vector<std::int64_t>>());
            EXPECT_EQ(acc->backgroundHistogram(),
                      theirs["false_hist"].get<std::vector<std::int64_t>>());
            const double pxap = acc->compute().pxap;
            EXPECT_NEAR(pxap, theirs["pxap"].get<double>(), 1e-6);
            EXPECT_EQ(pxap, theirs["pxap"].get<double>());  // same summation order
        }
    }
}

}  // namespace
}  // namespace camx
