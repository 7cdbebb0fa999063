#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "eval/evaluator.h"
#include "explain/postprocess.h"
#include "localize/box_sweep.h"
#include "localize/boxes.h"
#include "sweep_reference.h"

namespace camx {
namespace {

// Boxes as text, so that a mismatch shows which boxes and in what order.
std::string text(const std::optional<Box>& b) {
    if (!b) return "none";
    return "(" + std::to_string(b->xmin) + "," + std::to_string(b->ymin) + "," +
           std::to_string(b->xmax) + "," + std::to_string(b->ymax) + ")";
}
std::string text(const std::vector<Box>& boxes) {
    std::string s;
    for (const Box& b : boxes) s += text(b);
    return s.empty() ? "none" : s;
}

struct Case {
    std::string name;
    Heatmap map;
};

Heatmap filled(int w, int h, float v) {
    return Heatmap{w, h, std::vector<float>(static_cast<std::size_t>(w) * h, v)};
}

// Random rectangles of values drawn from `levels`: plateaus, touching and nested components.
Heatmap plateaus(int w, int h, const std::vector<float>& levels, int rects, std::mt19937& rng) {
    Heatmap m = filled(w, h, levels.front());
    std::uniform_int_distribution<std::size_t> pick(0, levels.size() - 1);
    for (int i = 0; i < rects; ++i) {
        const int x0 = std::uniform_int_distribution<int>(0, w - 1)(rng);
        const int y0 = std::uniform_int_distribution<int>(0, h - 1)(rng);
        const int x1 = std::uniform_int_distribution<int>(x0, std::min(w - 1, x0 + w / 3))(rng);
        const int y1 = std::uniform_int_distribution<int>(y0, std::min(h - 1, y0 + h / 3))(rng);
        const float v = levels[pick(rng)];
        for (int y = y0; y <= y1; ++y)
            for (int x = x0; x <= x1; ++x) m.data[static_cast<std::size_t>(y) * w + x] = v;
    }
    return m;
}

Heatmap noise(int w, int h, float lo, float hi, std::mt19937& rng) {
    Heatmap m = filled(w, h, 0.f);
    std::uniform_real_distribution<float> u(lo, hi);
    for (float& v : m.data) v = u(rng);
    return m;
}

// A network's 7x7 map as the evaluation sees it: normalised and bilinearly upsampled.
Heatmap smooth(int w, int h, Method method, std::mt19937& rng) {
    return displayMap(noise(7, 7, -1.f, 1.f, rng), method, w, h);
}

std::vector<Case> cases() {
    std::mt19937 rng(13);
    std::vector<Case> c;
    c.push_back({"empty", Heatmap{}});
    c.push_back({"1x1 positive", filled(1, 1, 0.3f)});
    c.push_back({"1x1 zero", filled(1, 1, 0.f)});
    c.push_back({"1x1 negative", filled(1, 1, -2.f)});
    c.push_back({"all zero", filled(30, 20, 0.f)});
    c.push_back({"all negative", noise(30, 20, -1.f, -0.1f, rng)});
    c.push_back({"constant", filled(17, 9, 0.6f)});
    c.push_back({"1xN", noise(97, 1, -0.2f, 1.f, rng)});
    c.push_back({"Nx1", noise(1, 83, -0.2f, 1.f, rng)});
    // Values equal to the sweep's thresholds times a maximum of 1 (k * 0.05f is i * step exactly)
    // and to levels tau * max for a maximum that is not 1: the strict "above" decides every pixel.
    std::vector<float> twentieths, hundredths, scaled;
    for (int k = 0; k <= 20; ++k) twentieths.push_back(k * 0.05f);
    for (int k = 0; k <= 100; ++k) hundredths.push_back(k * 0.01f);
    for (int k = 0; k <= 20; ++k) scaled.push_back((k * 0.05f) * 0.8f);
    for (int i = 0; i < 3; ++i) {
        c.push_back({"twentieths plateaus", plateaus(45, 31, twentieths, 40, rng)});
        c.push_back({"hundredths plateaus", plateaus(52, 40, hundredths, 60, rng)});
        c.push_back({"scaled plateaus", plateaus(40, 40, scaled, 50, rng)});
    }
    c.push_back(
        {"negative plateaus", plateaus(40, 30, {-1.f, -0.5f, -0.25f, 0.f, 0.5f, 1.f}, 40, rng)});
    c.push_back({"signed noise", noise(64, 48, -1.f, 1.f, rng)});
    c.push_back({"noise", noise(64, 48, 0.f, 1.f, rng)});
    {
        // Single pixels of one value: many components of equal area, ordered by label alone.
        Heatmap m = filled(61, 37, 0.f);
        std::bernoulli_distribution on(0.15);
        for (float& v : m.data)
            if (on(rng)) v = 1.f;
        c.push_back({"equal specks", m});
        Heatmap q = filled(33, 29, 0.f);
        std::uniform_int_distribution<int> k(0, 20);
        for (float& v : q.data) v = twentieths[static_cast<std::size_t>(k(rng))];
        c.push_back({"quantised noise", q});
    }
    c.push_back({"smooth Grad-CAM", smooth(97, 61, Method::GradCam, rng)});
    c.push_back({"smooth CAM", smooth(61, 97, Method::Cam, rng)});
    c.push_back({"smooth photo-sized", smooth(500, 375, Method::GradCam, rng)});
    {
        Heatmap m = smooth(120, 90, Method::GradCam, rng);
        std::normal_distribution<float> n(0.f, 0.05f);
        for (float& v : m.data) v += n(rng);
        c.push_back({"smooth with noise", m});
    }
    {
        Heatmap m = noise(40, 30, 0.f, 1.f, rng);
        for (std::size_t i = 0; i < m.data.size(); i += 7)
            m.data[i] = std::numeric_limits<float>::quiet_NaN();
        c.push_back({"NaN cells", m});
        Heatmap inf = noise(20, 20, -1.f, 1.f, rng);
        inf.data[37] = std::numeric_limits<float>::infinity();
        inf.data[38] = -std::numeric_limits<float>::infinity();
        c.push_back({"infinite cells", inf});
    }
    return c;
}

// Sweeps to test with: the default one, wsolevaluation's 0.01 steps, and a user's list out of
// order with repeats, thresholds below 0 and from 1 up, infinite ones and a NaN.
std::vector<std::pair<std::string, std::vector<float>>> sweeps() {
    const float inf = std::numeric_limits<float>::infinity();
    std::vector<float> custom = {
        0.5f,  0.f,    -0.f,  0.95f, 1.f,  1.5f,  -0.25f,
        -1.f,  0.2f,   0.2f,  0.05f, 0.3f, 0.35f, 0.7f,
        0.01f, 0.999f, 1e-7f, 0.15f, inf,  -inf,  std::numeric_limits<float>::quiet_NaN()};
    std::mt19937 rng(7);
    std::shuffle(custom.begin(), custom.end(), rng);
    return {{"step 0.05", EvalOptions::defaultSweep()},
            {"step 0.01", EvalOptions::defaultSweep(0.01f)},
            {"custom", custom}};
}

// No ground truth, one box, several, and the whole image.
std::vector<std::vector<Box>> truths(int w, int h, std::mt19937& rng) {
    std::vector<std::vector<Box>> out = {{}};
    if (w <= 0 || h <= 0) return out;
    auto box = [&] {
        std::uniform_int_distribution<int> x(0, w - 1), y(0, h - 1);
        int x0 = x(rng), x1 = x(rng), y0 = y(rng), y1 = y(rng);
        return Box{std::min(x0, x1), std::min(y0, y1), std::max(x0, x1), std::max(y0, y1)};
    };
    out.push_back({box()});
    out.push_back({box(), box(), box()});
    out.push_back({Box{0, 0, w - 1, h - 1}});
    return out;
}

TEST(BoxSweep, EqualsComponentBoxesAtEveryThreshold) {
    for (const auto& [sweepName, taus] : sweeps())
        for (const Case& c : cases()) {
            const std::vector<std::vector<Box>> all = componentBoxesSweep(c.map, taus);
            ASSERT_EQ(all.size(), taus.size());
            for (std::size_t i = 0; i < taus.size(); ++i)
                ASSERT_EQ(text(all[i]), text(componentBoxes(c.map, taus[i])))
                    << c.name << ", " << sweepName << ", tau " << taus[i];
        }
}

TEST(BoxSweep, ScoresEqualTheThresholdByThresholdFormula) {
    std::mt19937 rng(5);
    for (const auto& [sweepName, taus] : sweeps())
        for (const Case& c : cases()) {
            const std::vector<std::vector<Box>> truthSets = truths(c.map.width, c.map.height, rng);
            std::vector<std::vector<SweepPoint>> points;
            for (const std::vector<Box>& truth : truthSets) {
                points.push_back(sweepBoxes(c.map, taus, truth));
                ASSERT_EQ(points.back().size(), taus.size());
            }
            for (std::size_t i = 0; i < taus.size(); ++i) {
                const std::vector<Box> boxes = componentBoxes(c.map, taus[i]);
                std::optional<Box> largest;
                if (!boxes.empty()) largest = boxes.front();
                for (std::size_t k = 0; k < truthSets.size(); ++k) {
                    const std::vector<Box>& truth = truthSets[k];
                    const SweepPoint& got = points[k][i];
                    // boxFromMap's BestOfAll rule, without labelling the map once more.
                    double best = 0.0, bestScore = -1;
                    std::optional<Box> bestBox;
                    for (const Box& b : boxes) {
                        const double s = bestIou(b, truth);
                        best = std::max(best, s);
                        if (s > bestScore) {
                            bestScore = s;
                            bestBox = b;
                        }
                    }
                    const std::string where = c.name + ", " + sweepName + ", tau " +
                                              std::to_string(taus[i]) + ", " +
                                              std::to_string(truth.size()) + " truth boxes";
                    ASSERT_EQ(text(got.largest), text(largest)) << where;
                    ASSERT_EQ(text(got.best), text(bestBox)) << where;
                    ASSERT_EQ(got.largestIou, bestIou(largest, truth)) << where;
                    ASSERT_EQ(got.bestIou, best) << where;
                }
            }
        }
}

TEST(BoxSweep, EqualAreasKeepOpenCvsLabelOrder) {
    // OpenCV labels 8-connected components by 2x2 blocks: the speck at (4, 1) comes before the one
    // at (7, 0), although (7, 0) comes first in raster order.
    Heatmap m = filled(12, 4, 0.f);
    m.data[1 * 12 + 4] = 1.f;
    m.data[0 * 12 + 7] = 1.f;
    const std::vector<Box> expected = {{4, 1, 4, 1}, {7, 0, 7, 0}};
    ASSERT_EQ(text(componentBoxes(m, 0.5f)), text(expected));
    EXPECT_EQ(text(componentBoxesSweep(m, {0.5f}).front()), text(expected));
    EXPECT_EQ(text(sweepBoxes(m, {0.5f}, {}).front().largest), text(expected.front()));
}

using test::scoreEachThreshold;

TEST(BoxSweep, ScoreMapEqualsScoringEachThreshold) {
    std::mt19937 rng(21);
    std::vector<Heatmap> raws = {filled(7, 7, 0.f), filled(7, 7, -1.f)};
    for (int i = 0; i < 4; ++i) raws.push_back(noise(7, 7, -1.f, 1.f, rng));
    raws.push_back(plateaus(7, 7, {0.f, 0.25f, 0.5f, 1.f}, 6, rng));
    std::size_t n = 0;
    for (const auto& [sweepName, taus] : sweeps())
        for (const auto& [w, h] : std::vector<std::pair<int, int>>{{1, 1}, {1, 40}, {90, 70}})
            for (const Heatmap& raw : raws)
                for (Method method : {Method::Cam, Method::GradCam}) {
                    const std::vector<std::vector<Box>> truthSets = truths(w, h, rng);
                    // 0.2 is one of the sweep's thresholds, 0.37 is not.
                    for (float tau : {0.2f, 0.37f})
                        for (BoxMode mode :
                             {BoxMode::Largest, BoxMode::BestOfAll, BoxMode::CourseContour}) {
                            const std::vector<Box>& truth = truthSets[n++ % truthSets.size()];
                            EvalOptions o;
                            o.tau = tau;
                            o.mode = mode;
                            o.sweep = taus;
                            const MapScore got = scoreMap(raw, method, 0, w, h, truth, o);
                            const MapScore want = scoreEachThreshold(raw, method, w, h, truth, o);
                            const std::string where = sweepName + ", " + std::to_string(w) + "x" +
                                                      std::to_string(h) + ", " + methodId(method) +
                                                      ", " + boxModeId(mode) + ", tau " +
                                                      std::to_string(tau) + ", " +
                                                      std::to_string(truth.size()) + " truth boxes";
                            ASSERT_EQ(text(got.box), text(want.box)) << where;
                            ASSERT_EQ(got.iou, want.iou) << where;
                            ASSERT_EQ(got.sweepLargest, want.sweepLargest) << where;
                            ASSERT_EQ(got.sweepBest, want.sweepBest) << where;
                        }
                }
}

}  // namespace
}  // namespace camx
