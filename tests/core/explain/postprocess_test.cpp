#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "explain/postprocess.h"

namespace camx {
namespace {

Heatmap make(int w, int h, std::vector<float> v) {
    return Heatmap{w, h, std::move(v)};
}

TEST(Postprocess, MinMaxMatchesTheReferenceFormula) {
    const Heatmap n = normalizeMap(make(2, 2, {-1.f, 0.f, 1.f, 3.f}), false);
    EXPECT_NEAR(n.data[0], 0.f, 1e-7);
    EXPECT_NEAR(n.data[1], 1.f / (4.f + 1e-7f), 1e-6);
    EXPECT_NEAR(n.data[3], 4.f / (4.f + 1e-7f), 1e-6);
    const Heatmap r = normalizeMap(make(2, 2, {-1.f, 0.f, 1.f, 3.f}), true);
    EXPECT_NEAR(r.data[0], 0.f, 1e-7);
    EXPECT_NEAR(r.data[2], 1.f / 3.f, 1e-6);
}

TEST(Postprocess, ConstantAllNegativeAndNanMapsGiveZerosNotNan) {
    for (const Heatmap& m :
         {make(2, 2, {5.f, 5.f, 5.f, 5.f}), make(2, 2, {-1.f, -2.f, -3.f, -4.f}),
          make(2, 2, {std::nanf(""), std::numeric_limits<float>::infinity(), 0.f, 0.f})}) {
        const Heatmap n = normalizeMap(m, true);
        for (float v : n.data) {
            EXPECT_FALSE(std::isnan(v));
            EXPECT_EQ(v, 0.f);
        }
    }
    // Without ReLU an all-negative map still spans 0..1 (CAM keeps negative evidence).
    const Heatmap cam = normalizeMap(make(2, 1, {-3.f, -1.f}), false);
    EXPECT_NEAR(cam.data[1], 1.f, 1e-6);
}

TEST(Postprocess, UpsamplesBilinearlyToThePhoto) {
    const Heatmap up = upsampleMap(make(2, 1, {0.f, 1.f}), 4, 2);
    ASSERT_EQ(up.width, 4);
    ASSERT_EQ(up.height, 2);
    // Half-pixel centres: source pixel centres land at x = 0.5 and 2.5 in the output... so the
    // output samples 0, 0.25, 0.75, 1.
    EXPECT_NEAR(up.at(0, 0), 0.f, 1e-6);
    EXPECT_NEAR(up.at(1, 0), 0.25f, 1e-6);
    EXPECT_NEAR(up.at(2, 0), 0.75f, 1e-6);
    EXPECT_NEAR(up.at(3, 1), 1.f, 1e-6);
}

}  // namespace
}  // namespace camx
