// The MaxBoxAcc threshold sweep: scoring a map (upsampling, the box at tau, its IoU) without a
// sweep, and with the default 20-threshold and wsolevaluation's 100-threshold sweeps, done one
// labelling per threshold (as scoreMap did) and in one pass (as it does now). Photo-sized maps:
// 7x7 smooth maps as the last block gives, and 28x28 noisy ones as early layers give, upsampled to
// 500x375. Times are per map, ratios against scoring without a sweep in the same run. With a
// sweep, scoreMap takes the box at tau from the pass too, so it can cost less than without one.
// Then the pass alone on the upsampled maps, against one labelling (componentBoxes at tau).
//   bench_sweep [--maps N] [--runs N]
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>

#include "../core/localize/sweep_reference.h"
#include "bench_util.h"
#include "eval/evaluator.h"
#include "explain/postprocess.h"
#include "localize/box_sweep.h"
#include "localize/boxes.h"

using namespace camx;

namespace {

using test::scoreEachThreshold;

// A few Gaussian blobs and some noise on a 7x7 grid, like a trained network's last block.
Heatmap smoothRaw(std::mt19937& rng) {
    Heatmap m{7, 7, std::vector<float>(49, 0.f)};
    std::uniform_real_distribution<float> pos(0.f, 6.f), amp(0.3f, 1.f), width(0.7f, 2.f);
    std::normal_distribution<float> n(0.f, 0.05f);
    const int blobs = std::uniform_int_distribution<int>(1, 3)(rng);
    for (int b = 0; b < blobs; ++b) {
        const float cx = pos(rng), cy = pos(rng), a = amp(rng), s = width(rng);
        for (int y = 0; y < 7; ++y)
            for (int x = 0; x < 7; ++x)
                m.data[static_cast<std::size_t>(y) * 7 + x] +=
                    a * std::exp(-((x - cx) * (x - cx) + (y - cy) * (y - cy)) / (2 * s * s));
    }
    for (float& v : m.data) v += n(rng);
    return m;
}

Heatmap noisyRaw(std::mt19937& rng) {
    Heatmap m{28, 28, std::vector<float>(28 * 28, 0.f)};
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    for (float& v : m.data) v = u(rng);
    return m;
}

struct Input {
    Heatmap raw;
    std::vector<Box> truth;
};

}  // namespace

int main(int argc, char** argv) {
    int smoothMaps = 48, noisyMaps = 8, runs = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--maps"))
            smoothMaps = std::stoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--runs"))
            runs = std::stoi(argv[i + 1]);
    }
    const int W = 500, H = 375;
    std::mt19937 rng(42);
    std::uniform_int_distribution<int> x(0, W - 1), y(0, H - 1);
    auto inputs = [&](int count, bool noisy) {
        std::vector<Input> v;
        for (int i = 0; i < count; ++i) {
            const int x0 = x(rng), x1 = x(rng), y0 = y(rng), y1 = y(rng);
            v.push_back(
                {noisy ? noisyRaw(rng) : smoothRaw(rng),
                 {Box{std::min(x0, x1), std::min(y0, y1), std::max(x0, x1), std::max(y0, y1)}}});
        }
        return v;
    };
    const std::vector<std::pair<std::string, std::vector<Input>>> sets = {
        {"smooth 7x7", inputs(smoothMaps, false)}, {"noisy 28x28", inputs(noisyMaps, true)}};

    EvalOptions none;
    EvalOptions s20 = none, s100 = none;
    s20.sweep = EvalOptions::defaultSweep();
    s100.sweep = EvalOptions::defaultSweep(0.01f);
    std::printf("Grad-CAM maps upsampled to %dx%d, box at tau %.2f (%s), median of %d runs\n", W, H,
                none.tau, boxModeId(none.mode), runs);
    for (const auto& [name, maps] : sets) {
        bool identical = true;
        for (const EvalOptions* o : {&s20, &s100})
            for (const Input& in : maps) {
                const MapScore a = scoreMap(in.raw, Method::GradCam, 0, W, H, in.truth, *o);
                const MapScore b = scoreEachThreshold(in.raw, Method::GradCam, W, H, in.truth, *o);
                identical = identical && a.box == b.box && a.iou == b.iou &&
                            a.sweepLargest == b.sweepLargest && a.sweepBest == b.sweepBest;
            }
        auto perMap = [&](bool onePass, const EvalOptions& o) {
            return bench::medianOf(
                       runs,
                       [&] {
                           for (const Input& in : maps)
                               onePass
                                   ? scoreMap(in.raw, Method::GradCam, 0, W, H, in.truth, o)
                                   : scoreEachThreshold(in.raw, Method::GradCam, W, H, in.truth, o);
                       }) /
                   static_cast<double>(maps.size());
        };
        const double base = perMap(true, none);
        const double old20 = perMap(false, s20), new20 = perMap(true, s20);
        const double old100 = perMap(false, s100), new100 = perMap(true, s100);
        std::printf("%s (%zu maps), results identical: %s\n", name.c_str(), maps.size(),
                    identical ? "yes" : "NO");
        auto row = [&](const char* what, double t) {
            std::printf("  %-36s %8.2f ms  %6.2fx no sweep   sweep alone %8.2f ms\n", what, t * 1e3,
                        t / base, (t - base) * 1e3);
        };
        row("no sweep", base);
        row("20 thresholds, one labelling each", old20);
        row("20 thresholds, one pass", new20);
        row("100 thresholds, one labelling each", old100);
        row("100 thresholds, one pass", new100);

        std::vector<Heatmap> shown;
        for (const Input& in : maps) shown.push_back(displayMap(in.raw, Method::GradCam, W, H));
        auto perShown = [&](const std::function<void(const Heatmap&, const Input&)>& f) {
            return bench::medianOf(runs,
                                   [&] {
                                       for (std::size_t i = 0; i < maps.size(); ++i)
                                           f(shown[i], maps[i]);
                                   }) /
                   static_cast<double>(maps.size());
        };
        const double label =
            perShown([&](const Heatmap& m, const Input&) { componentBoxes(m, none.tau); });
        const double pass20 = perShown(
            [&](const Heatmap& m, const Input& in) { sweepBoxes(m, s20.sweep, in.truth); });
        const double pass100 = perShown(
            [&](const Heatmap& m, const Input& in) { sweepBoxes(m, s100.sweep, in.truth); });
        std::printf("  %-36s %8.2f ms\n", "one labelling (componentBoxes)", label * 1e3);
        std::printf("  %-36s %8.2f ms  %6.2fx one labelling\n", "one pass, 20 thresholds",
                    pass20 * 1e3, pass20 / label);
        std::printf("  %-36s %8.2f ms  %6.2fx one labelling\n", "one pass, 100 thresholds",
                    pass100 * 1e3, pass100 / label);
        if (!identical) return 1;
    }
    return 0;
}
