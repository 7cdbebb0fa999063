// Spearman rank correlation and SSIM (metrics/similarity.h). Oracles: scipy.stats.spearmanr and
// a filter-based re-derivation of skimage.metrics.structural_similarity
// (tests/fixtures/similarity/make_similarity_fixtures.py; python3-skimage is not installed
// here), plus cases worked out by hand below.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

#include "../test_support.h"
#include "metrics/similarity.h"

namespace camx {
namespace {

Heatmap map(int width, int height, std::vector<float> data) {
    Heatmap h;
    h.width = width;
    h.height = height;
    h.data = std::move(data);
    return h;
}

Heatmap ramp(int width, int height, float scale = 1.f, float offset = 0.f) {
    std::vector<float> v;
    for (int i = 0; i < width * height; ++i)
        v.push_back(offset + scale * static_cast<float>((i * 37) % 101) / 10.f);
    return map(width, height, v);
}

const SimilarityOptions kAbs{true}, kRaw{false};

TEST(Similarity, AgreesWithScipyAndTheSkimageDerivation) {
    std::ifstream in(test::fixture("similarity") / "similarity_cases.json");
    ASSERT_TRUE(in) << "missing fixture";
    const auto doc = nlohmann::json::parse(in);
    int ssims = 0;
    for (const auto& c : doc.at("cases")) {
        const std::string name = c.at("name");
        const int w = c.at("width"), h = c.at("height");
        const Heatmap a = map(w, h, c.at("a").get<std::vector<float>>());
        const Heatmap b = map(w, h, c.at("b").get<std::vector<float>>());
        EXPECT_NEAR(spearmanCorrelation(a, b, kAbs), c.at("spearman_abs").get<double>(), 1e-12)
            << name;
        EXPECT_NEAR(spearmanCorrelation(a, b, kRaw), c.at("spearman_raw").get<double>(), 1e-12)
            << name;
        if (c.contains("ssim_abs")) {
            EXPECT_NEAR(ssim(a, b, kAbs), c.at("ssim_abs").get<double>(), 1e-12) << name;
            EXPECT_NEAR(ssim(a, b, kRaw), c.at("ssim_raw").get<double>(), 1e-12) << name;
            ++ssims;
        } else {
            EXPECT_THROW(ssim(a, b), std::invalid_argument) << name;
        }
    }
    EXPECT_EQ(ssims, 5);
}

TEST(Similarity, SpearmanExactCases) {
    // Average ranks for ties: a = [1, 2, 2, 3] ranks [1, 2.5, 2.5, 4] against [1, 2, 3, 4]:
    // covariance 4.5, variances 4.5 and 5, so rho = sqrt(0.9).
    const Heatmap a = map(4, 1, {1, 2, 2, 3}), b = map(2, 2, {1, 2, 3, 4});
    EXPECT_NEAR(spearmanCorrelation(a.data.data(), b.data.data(), 4, false), std::sqrt(0.9), 1e-15);
    EXPECT_NEAR(spearmanCorrelation(map(2, 2, a.data), b, kRaw), std::sqrt(0.9), 1e-15);

    const Heatmap x = ramp(9, 8);
    EXPECT_DOUBLE_EQ(spearmanCorrelation(x, x), 1.0);
    // Ranks only: any increasing map of it correlates 1, a decreasing one -1 (raw).
    Heatmap cubed = x;
    for (float& v : cubed.data) v = v * v * v + 2.f;
    EXPECT_DOUBLE_EQ(spearmanCorrelation(x, cubed, kRaw), 1.0);
    const Heatmap negated = ramp(9, 8, -2.f, -1.f);  // every value negative
    EXPECT_DOUBLE_EQ(spearmanCorrelation(x, negated, kRaw), -1.0);
    // With absolute values the negated map ranks as the map does.
    EXPECT_DOUBLE_EQ(spearmanCorrelation(x, negated, kAbs), 1.0);
    // The default compares absolute values.
    EXPECT_DOUBLE_EQ(spearmanCorrelation(x, negated), 1.0);

    // A constant map has no ranking: NaN, as scipy.
    EXPECT_TRUE(std::isnan(spearmanCorrelation(x, map(9, 8, std::vector<float>(72, 3.f)))));
    Heatmap withNan = x;
    withNan.data[5] = std::nanf("");
    EXPECT_TRUE(std::isnan(spearmanCorrelation(x, withNan)));
    EXPECT_THROW(spearmanCorrelation(x, ramp(8, 9)), std::invalid_argument);
    EXPECT_THROW(spearmanCorrelation(Heatmap{}, Heatmap{}), std::invalid_argument);
}

TEST(Similarity, SsimExactCases) {
    const Heatmap x = ramp(11, 9);
    EXPECT_EQ(ssim(x, x), 1.0);
    // Both maps are min-max normalised first: an increasing affine map of a map is the map.
    EXPECT_NEAR(ssim(x, ramp(11, 9, 3.f, 5.f), kRaw), 1.0, 1e-12);
    EXPECT_NEAR(ssim(x, ramp(11, 9, -3.f, -5.f), kAbs), 1.0, 1e-12);

    // One 7x7 window, each map a single 1 on zeros at different places: means 1/49, sample
    // variances (1/49 - 1/49^2) * 49/48 = 1/49, sample covariance -1/49^2 * 49/48 = -1/(48*49).
    std::vector<float> a(49, 0.f), b(49, 0.f);
    a[3] = 1.f;
    b[40] = 1.f;
    const double C1 = 1e-4, C2 = 9e-4, mu = 1.0 / 49;
    const double want =
        (2 * mu * mu + C1) * (2 * (-1.0 / (48 * 49)) + C2) / ((2 * mu * mu + C1) * (2.0 / 49 + C2));
    EXPECT_NEAR(ssim(map(7, 7, a), map(7, 7, b)), want, 1e-15);
    // The population covariance (divided by 49, use_sample_covariance=False) gives another value.
    const double population = (2 * (-1.0 / (49 * 49)) + C2) / (2 * (48.0 / (49 * 49)) + C2);
    EXPECT_GT(std::fabs(want - population), 1e-4);

    // A constant map normalises to zeros: its mean and variance are 0, so each window gives
    // C1 C2 / ((mu_y^2 + C1)(var_y + C2)). For a 7x7 y: one window.
    std::vector<float> y(49);
    for (int i = 0; i < 49; ++i) y[static_cast<std::size_t>(i)] = static_cast<float>(i % 7) / 6.f;
    double sy = 0, syy = 0;
    for (float v : y) {
        sy += v;
        syy += double(v) * v;
    }
    const double my = sy / 49, vy = (syy / 49 - my * my) * 49.0 / 48.0;
    EXPECT_NEAR(ssim(map(7, 7, std::vector<float>(49, 2.f)), map(7, 7, y)),
                C1 * C2 / ((my * my + C1) * (vy + C2)), 1e-15);
    EXPECT_EQ(ssim(map(7, 7, std::vector<float>(49, 2.f)), map(7, 7, std::vector<float>(49, 5.f))),
              1.0);

    // A 3x3 window on a 3x4 map: two windows, averaged.
    const Heatmap p = map(4, 3, {0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 0, 1});
    const Heatmap q = map(4, 3, {0, 0, 1, 1, 1, 1, 0, 0, 1, 0, 1, 0});
    auto windowSsim = [&](int x0) {
        double sx = 0, sy2 = 0, sxx = 0, syy2 = 0, sxy = 0;
        for (int r = 0; r < 3; ++r)
            for (int c = x0; c < x0 + 3; ++c) {
                const double u = p.at(c, r), v = q.at(c, r);
                sx += u;
                sy2 += v;
                sxx += u * u;
                syy2 += v * v;
                sxy += u * v;
            }
        const double mx = sx / 9, my2 = sy2 / 9;
        const double vx = (sxx - 9 * mx * mx) / 8, vy2 = (syy2 - 9 * my2 * my2) / 8,
                     cxy = (sxy - 9 * mx * my2) / 8;
        return (2 * mx * my2 + C1) * (2 * cxy + C2) /
               ((mx * mx + my2 * my2 + C1) * (vx + vy2 + C2));
    };
    SimilarityOptions three;
    three.ssimWindow = 3;
    EXPECT_NEAR(ssim(p, q, three), (windowSsim(0) + windowSsim(1)) / 2, 1e-14);

    EXPECT_THROW(
        ssim(map(6, 9, std::vector<float>(54, 1.f)), map(6, 9, std::vector<float>(54, 1.f))),
        std::invalid_argument);  // narrower than the 7x7 window
    SimilarityOptions even;
    even.ssimWindow = 4;
    EXPECT_THROW(ssim(x, x, even), std::invalid_argument);
    SimilarityOptions one;
    one.ssimWindow = 1;
    EXPECT_THROW(ssim(x, x, one), std::invalid_argument);
    EXPECT_THROW(ssim(x, ramp(9, 11)), std::invalid_argument);
}

}  // namespace
}  // namespace camx
