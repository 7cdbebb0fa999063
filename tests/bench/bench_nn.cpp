// Network-only benchmark: builds with LibTorch alone (CAMX_NN_ONLY), for GPU machines without Qt
// or OpenCV. Synthetic data in device memory; each figure is a ratio against the plain forward
// pass measured in the same run.
//   bench_nn [--arch resnet50] [--batch 32] [--iters 5] [--amp] [--channels-last]
#include <ATen/ATen.h>
#include <torch/cuda.h>
#include <torch/optim/sgd.h>

#include <chrono>
#include <cstdio>
#include <cstring>

#include "explain/explainer.h"
#include "nn/runtime.h"
#include "train/train_step.h"

using namespace camx;

namespace {
double timeIt(int iters, const std::function<void()>& f, bool cuda) {
    f();  // warm-up
    if (cuda) torch::cuda::synchronize();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < iters; ++i) f();
    if (cuda) torch::cuda::synchronize();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / iters;
}
}  // namespace

int main(int argc, char** argv) {
    initTorchRuntime();
    Arch arch = Arch::ResNet50;
    int batch = 32, iters = 5;
    bool amp = false, channelsLast = false;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--arch") && i + 1 < argc)
            arch = *parseArch(argv[++i]);
        else if (!std::strcmp(argv[i], "--batch") && i + 1 < argc)
            batch = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--iters") && i + 1 < argc)
            iters = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--amp"))
            amp = true;
        else if (!std::strcmp(argv[i], "--channels-last"))
            channelsLast = true;
    }
    const c10::Device device = preferredDevice();
    const bool cuda = device.is_cuda();
    std::printf("device %s, %s, batch %d%s%s\n", deviceDescription().c_str(),
                archName(arch).c_str(), batch, amp ? ", bf16 autocast" : "",
                channelsLast ? ", channels-last" : "");
    at::manual_seed(0);
    const at::Tensor x = at::randn({batch, 3, 224, 224}).to(device);
    const at::Tensor y = at::randint(0, 120, {batch}, at::kLong).to(device);

    // Training step.
    CamNet trainNet(arch, 120);
    trainNet->to(device);
    trainNet->train();
    if (channelsLast) toChannelsLast(trainNet);
    torch::optim::SGD opt(trainNet->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
    StepOptions so;
    so.mixedPrecision = amp;
    so.channelsLast = channelsLast;
    const double tTrain = timeIt(
        iters, [&] { trainStep(trainNet, opt, x, y, so); }, cuda);

    // Forward and explanations.
    Explainer ex(CamNet(arch, 120), device);
    const double tEager = timeIt(
        iters, [&] { ex.logits(x, /*reference=*/true); }, cuda);
    const double tForward = timeIt(
        iters, [&] { ex.logits(x); }, cuda);
    ExplainOptions last;
    const std::vector<int> targets(static_cast<std::size_t>(batch), -1);
    const double tLast = timeIt(
        iters, [&] { ex.explain(x, targets, last); }, cuda);
    ExplainOptions all;
    all.taps = ex.net()->blockTaps();
    const double tAll = timeIt(
        iters, [&] { ex.explain(x, targets, all); }, cuda);

    std::printf("train step                 %9.1f img/s\n", batch / tTrain);
    std::printf("forward, eager torch::nn   %9.1f img/s\n", batch / tEager);
    std::printf("forward, inference form    %9.1f img/s  (baseline; %.2fx eager)\n",
                batch / tForward, tEager / tForward);
    std::printf("CAM + Grad-CAM, last block %9.1f img/s  = %.2fx forward\n", batch / tLast,
                tForward / tLast);
    std::printf("CAM + Grad-CAM, all blocks %9.1f img/s  = %.2fx forward\n", batch / tAll,
                tForward / tAll);
    return 0;
}
