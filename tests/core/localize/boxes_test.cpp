#include <gtest/gtest.h>

#include "localize/boxes.h"

namespace camx {
namespace {

Heatmap canvas(int w, int h) {
    return Heatmap{w, h, std::vector<float>(static_cast<std::size_t>(w) * h, 0.f)};
}
void fill(Heatmap& m, int x0, int y0, int x1, int y1, float v) {
    for (int y = y0; y <= y1; ++y)
        for (int x = x0; x <= x1; ++x) m.data[static_cast<std::size_t>(y) * m.width + x] = v;
}

TEST(Iou, CountsPixelsInclusively) {
    EXPECT_DOUBLE_EQ(iou({0, 0, 9, 9}, {0, 0, 9, 9}), 1.0);
    // 10x10 and 10x10 overlapping in 5x10: 50 / 150.
    EXPECT_DOUBLE_EQ(iou({0, 0, 9, 9}, {5, 0, 14, 9}), 50.0 / 150.0);
    // Touching edges share a column of pixels: 1x10 / (100 + 100 - 10).
    EXPECT_DOUBLE_EQ(iou({0, 0, 9, 9}, {9, 0, 18, 9}), 10.0 / 190.0);
    EXPECT_DOUBLE_EQ(iou({0, 0, 4, 4}, {10, 10, 12, 12}), 0.0);
    // A single pixel is a box of area 1.
    EXPECT_DOUBLE_EQ(iou({3, 3, 3, 3}, {3, 3, 3, 3}), 1.0);
}

TEST(Iou, TakesTheBestGroundTruthBox) {
    const std::vector<Box> truth = {{0, 0, 9, 9}, {20, 20, 29, 29}};
    EXPECT_DOUBLE_EQ(bestIou(Box{20, 20, 29, 29}, truth), 1.0);
    EXPECT_DOUBLE_EQ(bestIou(std::nullopt, truth), 0.0);
    EXPECT_DOUBLE_EQ(bestIou(Box{0, 0, 1, 1}, {}), 0.0);
}

TEST(Boxes, LargestComponentAboveTheThreshold) {
    Heatmap m = canvas(40, 30);
    fill(m, 2, 3, 11, 8, 1.0f);     // 10x6 = 60 px, the peak
    fill(m, 20, 10, 34, 24, 0.5f);  // 15x15 = 225 px, the largest
    fill(m, 36, 0, 39, 2, 0.1f);    // below a 0.2 threshold
    auto b = boxFromMap(m, 0.2f, BoxMode::Largest);
    ASSERT_TRUE(b);
    EXPECT_EQ(*b, (Box{20, 10, 34, 24}));
    // Above 0.6 only the peak survives.
    b = boxFromMap(m, 0.6f, BoxMode::Largest);
    EXPECT_EQ(*b, (Box{2, 3, 11, 8}));
    // Strictly above: a value equal to tau * max does not survive.
    b = boxFromMap(m, 0.5f, BoxMode::Largest);
    EXPECT_EQ(*b, (Box{2, 3, 11, 8}));
    EXPECT_EQ(componentBoxes(m, 0.05f).size(), 3u);
}

TEST(Boxes, BestOfAllPicksTheComponentThatFitsTheTruth) {
    Heatmap m = canvas(40, 30);
    fill(m, 2, 3, 11, 8, 1.0f);
    fill(m, 20, 10, 34, 24, 0.5f);
    auto b = boxFromMap(m, 0.2f, BoxMode::BestOfAll, {{1, 2, 12, 9}});
    EXPECT_EQ(*b, (Box{2, 3, 11, 8}));
}

TEST(Boxes, EmptyConstantAndZeroMapsGiveNoBox) {
    EXPECT_FALSE(boxFromMap(canvas(10, 10), 0.2f, BoxMode::Largest));
    EXPECT_FALSE(boxFromMap(Heatmap{}, 0.2f, BoxMode::Largest));
    Heatmap neg = canvas(10, 10);
    fill(neg, 0, 0, 9, 9, -1.f);
    EXPECT_FALSE(boxFromMap(neg, 0.2f, BoxMode::Largest));
    // A constant positive map: nothing is strictly above tau * max for tau = 1, all of it for 0.5.
    Heatmap flat = canvas(10, 8);
    fill(flat, 0, 0, 9, 7, 0.7f);
    EXPECT_FALSE(boxFromMap(flat, 1.0f, BoxMode::Largest));
    EXPECT_EQ(*boxFromMap(flat, 0.5f, BoxMode::Largest), (Box{0, 0, 9, 7}));
}

TEST(Boxes, CourseRuleUsesTheFirstContourAndStaysInsideTheImage) {
    Heatmap m = canvas(50, 40);
    // A diagonal band: its rotated rectangle made upright reaches past the band's pixels and would
    // pass the border without clipping.
    for (int i = 0; i < 40; ++i) fill(m, std::min(49, i + 5), i, std::min(49, i + 9), i, 1.f);
    auto b = boxFromMap(m, 0.05f, BoxMode::CourseContour);
    ASSERT_TRUE(b);
    EXPECT_GE(b->xmin, 0);
    EXPECT_GE(b->ymin, 0);
    EXPECT_LE(b->xmax, 49);
    EXPECT_LE(b->ymax, 39);
    EXPECT_LE(b->xmin, 6);
    EXPECT_GE(b->xmax, 48);
}

TEST(Boxes, OutlineTracesTheMask) {
    Heatmap m = canvas(20, 20);
    fill(m, 5, 5, 9, 9, 1.f);
    auto poly = maskOutline(m, 0.5f);
    ASSERT_EQ(poly.size(), 1u);
    int x0 = 99, x1 = -1;
    for (auto [x, y] : poly[0]) {
        x0 = std::min(x0, x);
        x1 = std::max(x1, x);
    }
    EXPECT_EQ(x0, 5);
    EXPECT_EQ(x1, 9);
}

}  // namespace
}  // namespace camx
