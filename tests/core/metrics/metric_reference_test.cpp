// Our faithfulness metrics against pytorch-grad-cam's own on the same TorchScript model, input
// and maps (tests/fixtures/metrics: expected outputs of its ROAD and confidence metrics, made by
// make_metric_fixtures.py from upstream 084273b; none of its code is here). ROAD is compared with
// the imputation noise off on both sides.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xnpy.hpp>

#include <cmath>
#include <fstream>

#include "../test_support.h"
#include "explain/model_session.h"
#include "metrics/faithfulness.h"
#include "metrics/road.h"

namespace camx {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

fs::path dir() {
    return test::fixture("metrics");
}

const json& expected() {
    static const json j = [] {
        std::ifstream in(dir() / "expected.json");
        return json::parse(in);
    }();
    return j;
}

struct Fixture {
    std::unique_ptr<ModelSession> model;
    xt::xarray<float> input, maps;  // [2,3,64,64], [2 images, 2 maps, 64, 64]
    InputClassifier classify;
    int size = 64;

    Fixture() {
        model = ModelSession::open(dir() / expected()["model"].get<std::string>());
        input = xt::load_npy<float>((dir() / expected()["input"].get<std::string>()).string());
        maps = xt::load_npy<float>((dir() / "maps.npy").string());
        size = static_cast<int>(input.shape()[3]);
        classify = [this](const float* chw, int n) { return model->classifyPrepared(chw, n); };
    }
    const float* image(int i) const { return input.data() + i * 3 * size * size; }
    std::vector<float> map(int i, int m) const {
        const float* p = maps.data() + (i * 2 + m) * size * size;
        return {p, p + size * size};
    }
};

Fixture& fixture() {
    static Fixture f;
    return f;
}

TEST(MetricReference, RiseKernelEqualsScipysGaussianFilter) {
    const auto k = riseKernel1d();
    const auto& k2 = expected()["rise_kernel_2d"];
    for (int y = 0; y < 11; ++y)
        for (int x = 0; x < 11; ++x)
            EXPECT_NEAR(k[static_cast<std::size_t>(y)] * k[static_cast<std::size_t>(x)],
                        k2[y][x].get<double>(), 1e-15)
                << y << "," << x;
}

TEST(MetricReference, ImputationEqualsUpstreams) {
    Fixture& f = fixture();
    const auto want = xt::load_npy<float>((dir() / "imputed_morf70.npy").string());
    const auto kept = roadKeptPixels(f.map(0, 0), 70, false);
    const auto got = noisyLinearImpute(f.image(0), 3, f.size, f.size, kept, 0.0, 0);
    ASSERT_EQ(got.size(), want.size());
    double worst = 0;
    for (std::size_t i = 0; i < want.size(); ++i)
        worst = std::max(worst, std::abs(double(got[i]) - want.data()[i]));
    EXPECT_LT(worst, 1e-5);
    // Something was imputed: 30 % of the pixels.
    EXPECT_EQ(std::count(kept.begin(), kept.end(), 0), 64 * 64 * 3 / 10 + 1);
}

TEST(MetricReference, RoadAndConfidenceEqualPytorchGradCams) {
    Fixture& f = fixture();
    const auto targets = expected()["targets"].get<std::vector<int>>();
    for (const auto& c : expected()["cases"]) {
        const MetricScore score =
            c["score"] == "logit" ? MetricScore::Logit : MetricScore::Probability;
        const int m = c["map"].get<int>();
        RoadOptions ro;
        ro.noise = 0;
        ro.score = score;
        for (int i = 0; i < 2; ++i) {
            SCOPED_TRACE(c["score"].get<std::string>() + " map " + std::to_string(m) + " image " +
                         std::to_string(i));
            const auto conf =
                camMultImage(f.classify, f.image(i), f.size, {f.map(i, m)}, targets[i], score);
            const double change = conf.at(0).change();
            EXPECT_NEAR(change, c["cam_mult_change"][i].get<double>(), 1e-5);
            EXPECT_NEAR(std::max(0.0, -change), c["drop_in_confidence"][i].get<double>(), 1e-5);
            EXPECT_EQ(change > 0 ? 1.0 : 0.0, c["increase_in_confidence"][i].get<double>());
            const auto r =
                road(f.classify, f.image(i), f.size, {f.map(i, m)}, targets[i], ro).at(0);
            for (std::size_t k = 0; k < 9; ++k) {
                EXPECT_NEAR(r.morf[k], c["road_morf"][k][i].get<double>(), 1e-5) << k;
                EXPECT_NEAR(r.lerf[k], c["road_lerf"][k][i].get<double>(), 1e-5) << k;
            }
            EXPECT_NEAR(r.combined, c["road_combined"][i].get<double>(), 1e-5);
        }
    }
}

}  // namespace
}  // namespace camx
