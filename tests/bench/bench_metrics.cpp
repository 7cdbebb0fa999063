// The faithfulness metrics' cost (issue #16), in one run on the same images, as forward passes of
// the model on its inference form (the baseline: the plain batched forward, images per second):
//  - deletion and insertion with 50 steps: forwards per map against the 50 + 1 a curve needs
//    (goal: <= 1.2 x 50), and their time against 51 plain forwards;
//  - ROAD at 9 percentiles, MoRF and LeRF: the imputation's time (the sparse solves) against the
//    18 forwards it feeds;
//  - the image times its map.
//   bench_metrics [--arch resnet50] [--images 4] [--size 224]
#include <ATen/ATen.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>

#include "bench_util.h"
#include "explain/model_session.h"
#include "explain/postprocess.h"
#include "metrics/faithfulness.h"
#include "metrics/road.h"
#include "nn/checkpoint_io.h"
#include "nn/runtime.h"

using namespace camx;
namespace fs = std::filesystem;

int main(int argc, char** argv) {
    std::string archName = "resnet50";
    int images = 4;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--arch") && i + 1 < argc) archName = argv[++i];
        if (!std::strcmp(argv[i], "--images") && i + 1 < argc) images = std::atoi(argv[++i]);
    }
    const Arch arch = parseArch(archName).value_or(Arch::ResNet50);
    initTorchRuntime();
    const fs::path tmp = fs::temp_directory_path() / "camx-bench-metrics";
    fs::remove_all(tmp);
    fs::create_directories(tmp);
    at::manual_seed(0);
    CamNet net(arch, 120);
    CheckpointMeta meta;
    meta.arch = arch;
    for (int i = 0; i < 120; ++i) meta.classNames.push_back("class " + std::to_string(i));
    saveCheckpoint(tmp / "model.ckpt", meta, net);
    auto session = ModelSession::open(tmp / "model.ckpt");
    const int S = session->info().inputSize;
    std::printf("device %s, LibTorch %s, %s at %d px, %d images\n", deviceDescription().c_str(),
                runtimeInfo().torchVersion.c_str(), archName.c_str(), S, images);

    // Smooth, photo-like inputs (normalised) and a Grad-CAM-like map per image.
    std::mt19937 rng(1);
    std::normal_distribution<float> g(0.f, 1.f);
    const std::size_t plane = static_cast<std::size_t>(S) * S;
    std::vector<float> inputs(static_cast<std::size_t>(images) * 3 * plane);
    std::vector<std::vector<float>> maps;
    for (int i = 0; i < images; ++i) {
        const double cx = 0.3 + 0.1 * i, cy = 0.6 - 0.05 * i;
        std::vector<float> m(plane);
        for (int y = 0; y < S; ++y)
            for (int x = 0; x < S; ++x) {
                const double dx = double(x) / S - cx, dy = double(y) / S - cy;
                m[static_cast<std::size_t>(y) * S + x] =
                    static_cast<float>(std::exp(-(dx * dx + dy * dy) / 0.04));
                for (int c = 0; c < 3; ++c)
                    inputs[(static_cast<std::size_t>(i) * 3 + c) * plane +
                           static_cast<std::size_t>(y) * S + x] =
                        static_cast<float>(std::sin(0.05 * x * (c + 1)) +
                                           0.5 * std::cos(0.07 * y)) +
                        0.1f * g(rng);
            }
        maps.push_back(m);
    }
    long forwards = 0;
    const InputClassifier classify = [&](const float* chw, int n) {
        forwards += n;
        return session->classifyPrepared(chw, n);
    };
    auto image = [&](int i) { return inputs.data() + static_cast<std::size_t>(i) * 3 * plane; };

    // Baseline: the plain forward, batches of 16 (the metrics' batch), images per second.
    std::vector<float> batch16(16 * 3 * plane);
    for (int k = 0; k < 16; ++k)
        std::copy(image(k % images), image(k % images) + 3 * plane, batch16.data() + k * 3 * plane);
    session->classifyPrepared(batch16.data(), 16);  // warm-up
    const double perForward =
        bench::medianOf(3, [&] { session->classifyPrepared(batch16.data(), 16); }) / 16;
    std::printf("plain forward (batch 16): %.1f ms per image = %.1f img/s\n", perForward * 1e3,
                1 / perForward);

    // Deletion and insertion, 50 steps, one map per image (the costliest case per map).
    CausalOptions co;
    co.steps = 50;
    forwards = 0;
    const double deletion = bench::seconds([&] {
        for (int i = 0; i < images; ++i)
            causalCurves(classify, image(i), S, {maps[i]}, 0, false, co);
    });
    const double delForwards = double(forwards) / images;
    co.substrate = Substrate::Blur;
    forwards = 0;
    const double insertion = bench::seconds([&] {
        for (int i = 0; i < images; ++i)
            causalCurves(classify, image(i), S, {maps[i]}, 0, true, co);
    });
    std::printf(
        "deletion, 50 steps: %.0f forwards per map (goal <= 60), %.2f s per map = %.2f x "
        "the time of 50 plain forwards\n",
        delForwards, deletion / images, deletion / images / (50 * perForward));
    std::printf(
        "insertion (blur), 50 steps: %.0f forwards per map, %.2f s per map = %.2f x 50 "
        "plain forwards\n",
        double(forwards) / images, insertion / images, insertion / images / (50 * perForward));
    // Two maps per image share the curves' ends: forwards per map drop to 49 + 1.
    forwards = 0;
    causalCurves(classify, image(0), S, {maps[0], maps[1 % images]}, 0, false, co);
    std::printf("deletion with 2 maps of one image: %.1f forwards per map\n", forwards / 2.0);

    // ROAD: imputation time against the forwards it feeds.
    double impute = 0;
    int solves = 0;
    for (int i = 0; i < images; ++i)
        for (int lerf = 0; lerf < 2; ++lerf)
            for (int p = 10; p <= 90; p += 10) {
                const auto kept = roadKeptPixels(maps[i], p, lerf != 0);
                impute +=
                    bench::seconds([&] { noisyLinearImpute(image(i), 3, S, S, kept, 0.01, 1); });
                ++solves;
            }
    RoadOptions ro;
    forwards = 0;
    const double roadAll = bench::seconds([&] {
        for (int i = 0; i < images; ++i) road(classify, image(i), S, {maps[i]}, 0, ro);
    });
    std::printf(
        "ROAD, 9 percentiles x MoRF/LeRF: %.2f s per map; imputation %.3f s per solve "
        "(%d solves), %.2f s per map = %.2f x the %ld forwards it feeds (%.2f s)\n",
        roadAll / images, impute / solves, solves, impute / images,
        impute / images / (double(forwards) / images * perForward), forwards / images,
        double(forwards) / images * perForward);

    forwards = 0;
    const double mult = bench::seconds([&] {
        for (int i = 0; i < images; ++i)
            camMultImage(classify, image(i), S, {maps[i]}, 0, MetricScore::Probability);
    });
    std::printf("image x map: %.0f forwards, %.3f s per map\n", double(forwards) / images,
                mult / images);
    fs::remove_all(tmp);
}
