// Training throughput (README "Performance"): ResNet-50, batch 32, 224 px, on this machine's
// device. The trainer (loader, schedule, metrics, checkpoints) against a bare LibTorch loop on
// the same model and data held in memory, measured in the same run: the ratio is the overhead.
//   bench_train [--steps N] [--arch resnet50] [--batch 32] [--amp] [--channels-last]
#include <ATen/ATen.h>
#include <torch/optim/sgd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>

#include "bench_util.h"
#include "data/demo_generator.h"
#include "explain/explainer.h"
#include "nn/runtime.h"
#include "train/train_step.h"
#include "train/trainer.h"

using namespace camx;
namespace fs = std::filesystem;

int main(int argc, char** argv) {
    initTorchRuntime();
    int steps = 3, batch = 32;
    Arch arch = Arch::ResNet50;
    bool amp = false, channelsLast = false;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--steps") && i + 1 < argc)
            steps = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--batch") && i + 1 < argc)
            batch = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--arch") && i + 1 < argc)
            arch = *parseArch(argv[++i]);
        else if (!std::strcmp(argv[i], "--amp"))
            amp = true;
        else if (!std::strcmp(argv[i], "--channels-last"))
            channelsLast = true;
    }
    const c10::Device device = preferredDevice();
    std::printf("device %s, %s, batch %d, %d steps\n", deviceDescription().c_str(),
                archName(arch).c_str(), batch, steps);
    const fs::path tmp = fs::temp_directory_path() / "camx-bench-train";
    fs::remove_all(tmp);
    DemoOptions d;
    d.numBreeds = 10;
    d.trainPerBreed = (batch * (steps + 1) + 9) / 10;
    d.testPerBreed = 1;
    generateDemoDataset(tmp / "demo", d);
    const Dataset ds = openStanfordDogs(tmp / "demo");

    // Bare loop: the same step on tensors already in memory.
    at::manual_seed(0);
    CamNet net(arch, 10);
    net->to(device);
    net->train();
    if (channelsLast) toChannelsLast(net);
    torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
    const at::Tensor x = at::randn({batch, 3, 224, 224}).to(device);
    const at::Tensor y = at::randint(0, 10, {batch}, at::kLong).to(device);
    const StepOptions so{0.0, amp, channelsLast};
    trainStep(net, opt, x, y, so);  // warm-up
    const double bare = bench::seconds([&] {
        for (int s = 0; s < steps; ++s) trainStep(net, opt, x, y, so);
        if (device.is_cuda()) (void)x.sum().item<float>();
    });

    // The trainer: one epoch of (steps + 1) batches from JPEGs on disk, the first one warming up.
    TrainConfig c;
    c.arch = arch;
    c.batchSize = batch;
    c.epochs = 1;
    c.mixedPrecision = amp;
    c.channelsLast = channelsLast;
    std::vector<double> stepRates;
    TrainCallbacks cb;
    cb.onStep = [&](const StepMetrics& m) {
        if (m.step > 0) stepRates.push_back(m.imagesPerSecond);
    };
    trainModel(ds, c, tmp / "run", cb);
    // The bare loop again, so that neither side gains from running first or second.
    const double bareAgain = bench::seconds([&] {
        for (int s = 0; s < steps; ++s) trainStep(net, opt, x, y, so);
        if (device.is_cuda()) (void)x.sum().item<float>();
    });
    const double bareRate = steps * batch / std::min(bare, bareAgain);
    double sumTime = 0;
    for (double r : stepRates) sumTime += batch / r;
    const double trainerRate = stepRates.size() * batch / sumTime;
    std::printf("bare LibTorch loop (data in memory)  %8.2f img/s  (floor, best of 2 runs)\n",
                bareRate);
    std::printf("trainer (JPEG decode, loader, metrics) %6.2f img/s  = %.3fx the bare loop\n",
                trainerRate, trainerRate / bareRate);
    fs::remove_all(tmp);
    return 0;
}
