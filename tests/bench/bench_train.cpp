// Training throughput (README "Performance"): ResNet-50, batch 32, 224 px, on this machine's
// device. The trainer (loader, schedule, metrics, checkpoints) against a bare LibTorch loop on
// the same model and data held in memory, measured in the same run: the ratio is the overhead.
// Then the bare loop in fp32 and in bf16 autocast + channels-last, side by side in one run, with
// the CPU's brand string and whether it computes bf16 natively (issue #13).
//   bench_train [--steps N] [--arch resnet50] [--batch 32] [--size 224]
//               [--precision auto|fp32|bf16] [--channels-last] [--no-trainer]
// --precision is the trainer's and the first bare loop's (auto: bf16 where the device computes
// it natively); --amp is kept as an alias of --precision bf16.
#include <ATen/ATen.h>
#include <torch/optim/sgd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>

#include "bench_util.h"
#include "common/cpu_features.h"
#include "data/demo_generator.h"
#include "explain/explainer.h"
#include "nn/runtime.h"
#include "train/train_step.h"
#include "train/trainer.h"

using namespace camx;
namespace fs = std::filesystem;

namespace {

// Images per second of the bare step (data in memory) for one precision: a fresh network from
// the same seed, one warm-up step, then the best of two timed runs of `steps` steps.
double bareRate(Arch arch, int batch, int size, int steps, bool bf16, bool channelsLast,
                const c10::Device& device) {
    at::manual_seed(0);
    CamNet net(arch, 10);
    net->to(device);
    net->train();
    if (channelsLast) toChannelsLast(net);
    torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
    const at::Tensor x = at::randn({batch, 3, size, size}).to(device);
    const at::Tensor y = at::randint(0, 10, {batch}, at::kLong).to(device);
    StepOptions so;
    so.mixedPrecision = bf16;
    so.channelsLast = channelsLast;
    trainStep(net, opt, x, y, so);  // warm-up (oneDNN builds its kernels here)
    double best = 1e300;
    for (int run = 0; run < 2; ++run)
        best = std::min(best, bench::seconds([&] {
                            for (int s = 0; s < steps; ++s) trainStep(net, opt, x, y, so);
                            if (device.is_cuda()) (void)x.sum().item<float>();
                        }));
    return steps * batch / best;
}

}  // namespace

int main(int argc, char** argv) {
    initTorchRuntime();
    int steps = 3, batch = 32, size = 224;
    Arch arch = Arch::ResNet50;
    Precision precision = Precision::Auto;
    bool channelsLast = false, trainer = true;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--steps") && i + 1 < argc)
            steps = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--batch") && i + 1 < argc)
            batch = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--size") && i + 1 < argc)
            size = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--arch") && i + 1 < argc)
            arch = *parseArch(argv[++i]);
        else if (!std::strcmp(argv[i], "--precision") && i + 1 < argc) {
            const auto p = parsePrecision(argv[++i]);
            if (!p) {
                std::fprintf(stderr, "--precision must be auto, fp32 or bf16\n");
                return 2;
            }
            precision = *p;
        } else if (!std::strcmp(argv[i], "--amp"))
            precision = Precision::Bf16;
        else if (!std::strcmp(argv[i], "--channels-last"))
            channelsLast = true;
        else if (!std::strcmp(argv[i], "--no-trainer"))
            trainer = false;
    }
    const c10::Device device = preferredDevice();
    const PrecisionChoice chosen =
        resolvePrecision(precision, device.is_cuda(), cudaHasNativeBf16(device));
    const bool cl = chosen.channelsLast(channelsLast);  // the trainer's memory format
    const CpuInfo& cpu = cpuFeatures();
    std::printf("device %s, %s, %d px, batch %d, %d steps\n", deviceDescription().c_str(),
                archName(arch).c_str(), size, batch, steps);
    std::printf("cpu %s: AVX-512 BF16 %s, AMX-BF16 %s\n", cpuBrand().c_str(),
                cpu.avx512Bf16 ? "yes" : "no", cpu.amxBf16 ? "yes" : "no");
    std::printf("precision %s\n", chosen.describe(cl).c_str());

    // The bare loop in both precisions, so the ratio comes from one run on one machine state.
    const double fp32 = bareRate(arch, batch, size, steps, false, channelsLast, device);
    const double bf16 = bareRate(arch, batch, size, steps, true, true, device);
    std::printf("bare loop fp32%s                     %8.2f img/s\n",
                channelsLast ? " channels-last" : "              ", fp32);
    std::printf("bare loop bf16 autocast + channels-last %8.2f img/s  = %.2fx fp32%s\n", bf16,
                bf16 / fp32, chosen.nativeBf16 ? "" : " (bf16 emulated here)");
    if (!trainer) return 0;

    const fs::path tmp = fs::temp_directory_path() / "camx-bench-train";
    fs::remove_all(tmp);
    DemoOptions d;
    d.numBreeds = 10;
    d.trainPerBreed = (batch * (steps + 1) + 9) / 10;
    d.testPerBreed = 1;
    generateDemoDataset(tmp / "demo", d);
    const Dataset ds = openStanfordDogs(tmp / "demo");

    // The trainer: one epoch of (steps + 1) batches from JPEGs on disk, the first one warming up.
    TrainConfig c;
    c.arch = arch;
    c.batchSize = batch;
    c.inputSize = size;
    c.epochs = 1;
    c.precision = chosen.resolved;
    c.channelsLast = channelsLast;
    std::vector<double> stepRates;
    TrainCallbacks cb;
    cb.onStep = [&](const StepMetrics& m) {
        if (m.step > 0) stepRates.push_back(m.imagesPerSecond);
    };
    trainModel(ds, c, tmp / "run", cb);
    // The bare loop of the trainer's precision again, after the trainer, so that neither side
    // gains from running first or second.
    const double bareAgain = bareRate(arch, batch, size, steps, chosen.bf16(), cl, device);
    const double bare = std::max(chosen.bf16() ? bf16 : fp32, bareAgain);  // same set-up
    double sumTime = 0;
    for (double r : stepRates) sumTime += batch / r;
    const double trainerRate = stepRates.size() * batch / sumTime;
    std::printf("bare LibTorch loop (data in memory, %s)  %8.2f img/s  (floor, best of 2 runs)\n",
                precisionId(chosen.resolved), bare);
    std::printf("trainer (JPEG decode, loader, metrics) %6.2f img/s  = %.3fx the bare loop\n",
                trainerRate, trainerRate / bare);
    fs::remove_all(tmp);
    return 0;
}
