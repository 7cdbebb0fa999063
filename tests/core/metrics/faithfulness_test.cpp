// Faithfulness metrics against their definitions: deletion and insertion (RISE), the confidence
// of the image times its map (Grad-CAM++), the pointing games, ROAD's imputation, and the
// baseline maps. Hand-computed cases on a linear "network" whose score is known in closed form.

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "metrics/baseline_maps.h"
#include "metrics/faithfulness.h"
#include "metrics/road.h"

namespace camx {
namespace {

// A linear classifier on an S x S input: logit 0 = sum_p w_p * x[0, p] (+ the other channels'
// pixels times 0.5), logit 1 = 0. Counts the images it sees.
struct Linear {
    int size;
    std::vector<float> w;
    int* calls;
    std::vector<std::vector<float>> operator()(const float* chw, int n) const {
        const std::size_t plane = static_cast<std::size_t>(size) * size;
        std::vector<std::vector<float>> out;
        for (int i = 0; i < n; ++i) {
            const float* x = chw + static_cast<std::size_t>(i) * 3 * plane;
            double z = 0;
            for (std::size_t p = 0; p < plane; ++p)
                z += w[p] * x[p] + 0.5 * (x[plane + p] + x[2 * plane + p]);
            out.push_back({static_cast<float>(z), 0.f});
            ++*calls;
        }
        return out;
    }
};

std::vector<float> ramp(std::size_t n, float a, float b) {
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = a + b * static_cast<float>(i);
    return v;
}

TEST(Deletion, RemovesPixelsInTheMapsOrderAndIntegratesTheScore) {
    const int S = 4;  // 16 pixels; 5 steps of ceil(16/5) = 4 pixels -> 4 steps, 5 points
    int calls = 0;
    Linear net{S, ramp(16, 1.f, 0.f), &calls};
    std::vector<float> image(3 * 16, 0.f);
    for (int p = 0; p < 16; ++p) image[static_cast<std::size_t>(p)] = float(p);  // channel 0
    // The map ranks pixel 15 first, ..., pixel 0 last, except that 3 and 12 tie at the top.
    std::vector<float> map = ramp(16, 0.f, 1.f);
    map[3] = map[12] = 100.f;
    CausalOptions o;
    o.steps = 5;
    o.score = MetricScore::Logit;
    o.substrate = Substrate::Zeros;
    const auto curves = causalCurves(net, image.data(), S, {map}, 0, false, o);
    ASSERT_EQ(curves.size(), 1u);
    // Order: 3, 12 (ties in pixel order), 15, 14, | 13, 11, 10, 9, | 8, 7, 6, 5, | 4, 2, 1, 0.
    const double total = 120;  // 0 + 1 + ... + 15
    const std::vector<double> expected = {total, total - (3 + 12 + 15 + 14),
                                          total - 44 - (13 + 11 + 10 + 9),
                                          total - 44 - 43 - (8 + 7 + 6 + 5), 0};
    ASSERT_EQ(curves[0].scores.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i)
        EXPECT_NEAR(curves[0].scores[i], expected[i], 1e-4) << i;
    const double area =
        (std::accumulate(expected.begin(), expected.end(), 0.0) - total / 2 - 0.0 / 2) / 4;
    EXPECT_NEAR(curves[0].auc, area, 1e-4);
    EXPECT_EQ(relevanceOrder(map)[0], 3);
    EXPECT_EQ(relevanceOrder(map)[1], 12);
}

TEST(Insertion, StartsFromTheSubstrateAndSharesTheEndsBetweenMaps) {
    const int S = 8;
    int calls = 0;
    Linear net{S, ramp(64, 0.5f, 0.01f), &calls};
    std::vector<float> image = ramp(3 * 64, -1.f, 0.03f);
    const std::vector<float> a = ramp(64, 0.f, 1.f), b = ramp(64, 64.f, -1.f);
    CausalOptions o;
    o.steps = 8;
    o.score = MetricScore::Logit;
    o.substrate = Substrate::Mean;
    o.batch = 5;
    const auto curves = causalCurves(net, image.data(), S, {a, b}, 0, true, o);
    // Two shared ends, then 7 inner points per map: never more forwards than that.
    EXPECT_EQ(calls, 2 + 2 * 7);
    const std::vector<float> mean = makeSubstrate(image.data(), S, Substrate::Mean);
    auto scoreOf = [&](const std::vector<float>& x) {
        int c = 0;
        Linear probe{S, net.w, &c};
        return double(probe(x.data(), 1)[0][0]);
    };
    // Point i of map `a` (most relevant = highest index first): the image's pixels 63 ... 64 - 8i
    // over the substrate.
    for (int i = 0; i <= 8; ++i) {
        std::vector<float> x = mean;
        for (int p = 64 - 8 * i; p < 64; ++p)
            for (int c = 0; c < 3; ++c)
                x[static_cast<std::size_t>(c * 64 + p)] =
                    image[static_cast<std::size_t>(c * 64 + p)];
        EXPECT_NEAR(curves[0].scores[static_cast<std::size_t>(i)], scoreOf(x), 1e-4) << i;
    }
    EXPECT_EQ(curves[0].scores.front(), curves[1].scores.front());
    EXPECT_EQ(curves[0].scores.back(), curves[1].scores.back());
    EXPECT_NEAR(curves[0].scores.back(), scoreOf(image), 1e-4);
}

TEST(Deletion, SubstratesAreWhatTheyClaim) {
    const int S = 16;
    std::vector<float> image = ramp(3 * 256, 0.f, 0.01f);
    const auto zeros = makeSubstrate(image.data(), S, Substrate::Zeros);
    EXPECT_TRUE(std::all_of(zeros.begin(), zeros.end(), [](float v) { return v == 0.f; }));
    const auto mean = makeSubstrate(image.data(), S, Substrate::Mean);
    EXPECT_NEAR(mean[0], 1.275, 1e-5);    // channel 0: mean of 0 ... 2.55
    EXPECT_NEAR(mean[256], 3.835, 1e-4);  // channel 1
    // Blur: RISE's kernel on a constant image keeps the centre (the kernel sums to 1) and darkens
    // the border (zero padding).
    std::vector<float> flat(3 * 256, 1.f);
    const auto blurred = makeSubstrate(flat.data(), S, Substrate::Blur);
    EXPECT_NEAR(blurred[8 * 16 + 8], 1.0, 1e-5);
    EXPECT_LT(blurred[0], 0.5);
    const auto k = riseKernel1d();
    EXPECT_NEAR(std::accumulate(k.begin(), k.end(), 0.0), 1.0, 1e-12);
    Substrate s;
    EXPECT_TRUE(parseSubstrate("blur", &s));
    EXPECT_EQ(s, Substrate::Blur);
    EXPECT_FALSE(parseSubstrate("noise", &s));
}

TEST(Confidence, TheImageTimesItsMap) {
    const int S = 4;
    int calls = 0;
    Linear net{S, ramp(16, 1.f, 0.5f), &calls};
    std::vector<float> image = ramp(48, 0.2f, 0.1f);
    const std::vector<float> map = ramp(16, 0.f, 1.f / 15);
    const auto r = camMultImage(net, image.data(), S, {map}, 0, MetricScore::Logit);
    double before = 0, after = 0;
    for (int p = 0; p < 16; ++p) {
        const auto q = static_cast<std::size_t>(p);
        const double others = 0.5 * (image[16 + q] + image[32 + q]);
        before += net.w[q] * image[q] + others;
        after += (net.w[q] * image[q] + others) * map[q];
    }
    EXPECT_NEAR(r.at(0).before, before, 1e-3);
    EXPECT_NEAR(r.at(0).after, after, 1e-3);
    EXPECT_NEAR(r.at(0).change(), after - before, 1e-3);
    // The probability is the softmax of the logits.
    EXPECT_NEAR(classScore({2.f, 0.f}, 0, MetricScore::Probability), 1 / (1 + std::exp(-2.0)),
                1e-12);
    EXPECT_THROW(classScore({1.f}, 3, MetricScore::Logit), std::invalid_argument);
}

TEST(Pointing, FifteenPixelsOfToleranceAroundBoxesAndMasks) {
    PointingTruth t;
    t.width = 100;
    t.height = 60;
    t.boxes = {{40, 10, 50, 20}};
    auto peakAt = [&](int x, int y) {
        std::vector<float> m(100 * 60, 0.1f);
        m[static_cast<std::size_t>(y) * 100 + x] = 1.f;
        return m;
    };
    EXPECT_TRUE(pointingHit(peakAt(45, 15), t));
    EXPECT_TRUE(pointingHit(peakAt(65, 15), t));   // 15 to the right: on the tolerance
    EXPECT_FALSE(pointingHit(peakAt(66, 15), t));  // 16
    EXPECT_TRUE(pointingHit(peakAt(59, 32), t));   // dx 9, dy 12: distance 15
    EXPECT_FALSE(pointingHit(peakAt(60, 32), t));  // dx 10, dy 12: 15.6
    EXPECT_FALSE(pointingHit(peakAt(60, 32), PointingTruth{}));
    // The first maximum counts.
    auto two = peakAt(45, 15);
    two[0] = 1.f;
    EXPECT_FALSE(pointingHit(two, t));
    // A mask: one pixel at (10, 50).
    PointingTruth m;
    m.width = 100;
    m.height = 60;
    m.mask.assign(100 * 60, 0);
    m.mask[50 * 100 + 10] = 1;
    EXPECT_TRUE(pointingHit(peakAt(10, 35), m));
    EXPECT_FALSE(pointingHit(peakAt(10, 34), m));
    EXPECT_TRUE(pointingHit(peakAt(19, 38), m));  // dx 9, dy 12

    // Energy: the share of the map's sum inside the truth.
    std::vector<float> energy(100 * 60, 0.f);
    energy[15 * 100 + 45] = 3.f;  // inside the box
    energy[0] = 1.f;              // outside
    EXPECT_NEAR(energyPointing(energy, t), 0.75, 1e-12);
    EXPECT_EQ(energyPointing(std::vector<float>(100 * 60, 0.f), t), 0.0);
}

TEST(Road, NumpysPercentile) {
    // np.percentile([3, 1, 4, 1, 5, 9, 2, 6], p) for p = 10, 25, 50, 70, 90.
    const std::vector<double> v = {3, 1, 4, 1, 5, 9, 2, 6};
    EXPECT_EQ(numpyPercentile(v, 10), 1.0);
    EXPECT_EQ(numpyPercentile(v, 25), 1.75);
    EXPECT_EQ(numpyPercentile(v, 50), 3.5);
    EXPECT_EQ(numpyPercentile(v, 70), 4.8999999999999995);
    EXPECT_EQ(numpyPercentile(v, 90), 6.8999999999999995);
}

TEST(Road, OneMissingPixelIsTheWeightedMeanOfItsNeighbours) {
    const int H = 3, W = 4;
    std::vector<float> img(12);
    for (int i = 0; i < 12; ++i) img[static_cast<std::size_t>(i)] = float(i * i % 7);
    std::vector<std::uint8_t> known(12, 1);
    known[1 * W + 1] = 0;  // interior
    auto out = noisyLinearImpute(img.data(), 1, H, W, known, 0.0, 1);
    const auto at = [&](int y, int x) { return double(img[static_cast<std::size_t>(y * W + x)]); };
    const double direct = at(0, 1) + at(2, 1) + at(1, 0) + at(1, 2);
    const double diagonal = at(0, 0) + at(0, 2) + at(2, 0) + at(2, 2);
    EXPECT_NEAR(out[5], direct / 6 + diagonal / 12, 1e-6);
    for (int i = 0; i < 12; ++i)
        if (i != 5) {
            EXPECT_EQ(out[static_cast<std::size_t>(i)], img[static_cast<std::size_t>(i)]);
        }
    // A corner: three neighbours (1/6, 1/6, 1/12), renormalised by their 5/12.
    known.assign(12, 1);
    known[0] = 0;
    out = noisyLinearImpute(img.data(), 1, H, W, known, 0.0, 1);
    EXPECT_NEAR(out[0], (at(0, 1) / 6 + at(1, 0) / 6 + at(1, 1) / 12) / (5.0 / 12), 1e-6);
    // Two neighbours missing together: each is the mean of the other and the known ones, a
    // 2 x 2 system solved by hand.
    known.assign(12, 1);
    known[5] = known[6] = 0;  // (1,1) and (1,2)
    out = noisyLinearImpute(img.data(), 1, H, W, known, 0.0, 1);
    const double b5 = direct - at(1, 2) + 0, c5 = diagonal;  // known neighbours of (1,1)
    const double b6 = at(0, 2) + at(2, 2) + at(1, 3),
                 c6 = at(0, 1) + at(0, 3) + at(2, 1) + at(2, 3);
    // x5 = b5/6 + c5/12 + x6/6 ; x6 = b6/6 + c6/12 + x5/6
    const double r5 = b5 / 6 + c5 / 12, r6 = b6 / 6 + c6 / 12;
    const double x5 = (r5 + r6 / 6) / (1 - 1.0 / 36), x6 = r6 + x5 / 6;
    EXPECT_NEAR(out[5], x5, 1e-5);
    EXPECT_NEAR(out[6], x6, 1e-5);
    // Nothing to interpolate from: 0 everywhere (the normalised mean colour), as upstream's
    // spsolve returns; nothing missing: the image.
    EXPECT_EQ(noisyLinearImpute(img.data(), 1, H, W, std::vector<std::uint8_t>(12, 0), 0, 1),
              std::vector<float>(12, 0.f));
    EXPECT_EQ(noisyLinearImpute(img.data(), 1, H, W, std::vector<std::uint8_t>(12, 1), 0, 1), img);
}

TEST(Road, TheNoiseIsSeededAndHasTheAskedSpread) {
    const int S = 32;
    std::vector<float> img = ramp(3 * 1024, 0.f, 0.001f);
    std::vector<std::uint8_t> known(1024, 1);
    for (int i = 0; i < 1024; i += 2) known[static_cast<std::size_t>(i)] = 0;
    const auto clean = noisyLinearImpute(img.data(), 3, S, S, known, 0.0, 7);
    const auto a = noisyLinearImpute(img.data(), 3, S, S, known, 0.01, 7);
    const auto b = noisyLinearImpute(img.data(), 3, S, S, known, 0.01, 7);
    const auto c = noisyLinearImpute(img.data(), 3, S, S, known, 0.01, 8);
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
    double sum = 0, sq = 0;
    int n = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const double d = double(a[i]) - clean[i];
        if (known[i % 1024]) {
            EXPECT_EQ(d, 0.0);
            continue;
        }
        sum += d;
        sq += d * d;
        ++n;
    }
    EXPECT_NEAR(sum / n, 0.0, 0.001);
    EXPECT_NEAR(std::sqrt(sq / n), 0.01, 0.001);
}

TEST(Road, KeptPixelsFollowPytorchGradCamsMasks) {
    const std::vector<float> map = {0.f, 0.25f, 0.5f, 0.5f, 0.75f, 1.f};
    // MoRF at 50: threshold 0.5; pixels below it are kept.
    EXPECT_EQ(roadKeptPixels(map, 50, false), (std::vector<std::uint8_t>{1, 1, 0, 0, 0, 0}));
    // LeRF at 50 on 1 - map (1, .75, .5, .5, .25, 0): threshold 0.5 again.
    EXPECT_EQ(roadKeptPixels(map, 50, true), (std::vector<std::uint8_t>{0, 0, 0, 0, 1, 1}));
}

TEST(Baselines, SeededRandomCentredGaussianAndEdges) {
    const int S = 16;
    std::vector<float> img(3 * 256, 0.f);
    // A vertical edge at column 8 in every channel (normalised values).
    for (int c = 0; c < 3; ++c)
        for (int y = 0; y < S; ++y)
            for (int x = 8; x < S; ++x) img[static_cast<std::size_t>(c * 256 + y * S + x)] = 1.f;
    const Normalization norm;
    const auto r1 = makeBaselineMap(BaselineMap::Random, img.data(), S, norm, 3);
    EXPECT_EQ(r1, makeBaselineMap(BaselineMap::Random, img.data(), S, norm, 3));
    EXPECT_NE(r1, makeBaselineMap(BaselineMap::Random, img.data(), S, norm, 4));
    EXPECT_EQ(*std::max_element(r1.begin(), r1.end()), 1.f);
    EXPECT_EQ(*std::min_element(r1.begin(), r1.end()), 0.f);
    const auto c = makeBaselineMap(BaselineMap::Center, img.data(), S, norm, 0);
    EXPECT_GT(c[7 * S + 7], c[0]);
    EXPECT_EQ(c[7 * S + 7], c[8 * S + 8]);  // symmetric about the centre 7.5
    const auto e = makeBaselineMap(BaselineMap::Sobel, img.data(), S, norm, 0);
    for (int y = 0; y < S; ++y) {
        EXPECT_EQ(e[static_cast<std::size_t>(y * S + 7)], 1.f) << y;
        EXPECT_EQ(e[static_cast<std::size_t>(y * S + 2)], 0.f) << y;
    }
    EXPECT_STREQ(baselineMapId(BaselineMap::Sobel), "sobel");
}

}  // namespace
}  // namespace camx
