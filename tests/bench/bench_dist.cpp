// Data-parallel training's communication (README "Several processes"): two ranks on this
// machine (two threads, each with its own Gloo process group over loopback), ResNet-50's
// 25.6 M gradients (~100 MB in fp32). Measured in the same run:
//  1. one all-reduce of every gradient at once, against one process's training step;
//  2. a two-rank training step with the bucketed reducer (all-reduces overlapped with the
//     backward pass), against the same two ranks stepping without any communication: the ratio
//     is what the gradient exchange adds to a step when both ranks compute at once.
//   bench_dist [--batch 8] [--size 160] [--steps 3] [--bucket-mb 25] [--arch resnet50]
#include <ATen/ATen.h>
#include <torch/optim/sgd.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "common/cpu_features.h"
#include "distributed/grad_reducer.h"
#include "distributed/process_group.h"
#include "nn/runtime.h"
#include "train/train_step.h"

using namespace camx;

namespace {

struct Args {
    int batch = 8, size = 160, steps = 3;
    double bucketMb = 25;
    Arch arch = Arch::ResNet50;
};

// Seconds per training step of one network, `steps` steps after one warm-up step; with a group,
// the gradients go through the bucketed reducer.
double stepSeconds(const Args& a, dist::ProcessGroupHandle* group) {
    at::manual_seed(0);
    CamNet net(a.arch, 120);
    net->train();
    std::vector<at::Tensor> params = net->parameters();
    torch::optim::SGD opt(params, torch::optim::SGDOptions(0.01).momentum(0.9));
    std::unique_ptr<dist::GradientReducer> reducer;
    StepOptions so;
    if (group) {
        reducer = std::make_unique<dist::GradientReducer>(
            *group, params, static_cast<std::size_t>(a.bucketMb * 1024 * 1024));
        so.afterBackward = [&] { reducer->finish(); };
        so.lossWeight = 0.5;
    }
    const at::Tensor x = at::randn({a.batch, 3, a.size, a.size});
    const at::Tensor y = at::randint(0, 120, {a.batch}, at::kLong);
    auto step = [&] {
        if (reducer) reducer->prepare();
        trainStep(net, opt, x, y, so);
    };
    step();
    return bench::seconds([&] {
               for (int i = 0; i < a.steps; ++i) step();
           }) /
           a.steps;
}

// Runs f on two ranks (threads) and returns rank 0's result.
double onTwoRanks(const std::function<double(dist::ProcessGroupHandle*)>& f, bool withGroup) {
    const int port = dist::freeLocalPort();
    double result[2] = {0, 0};
    std::vector<std::thread> threads;
    for (int r = 0; r < 2; ++r)
        threads.emplace_back([&, r] {
            if (!withGroup) {
                result[r] = f(nullptr);
                return;
            }
            dist::DistributedConfig c;
            c.rank = r;
            c.worldSize = 2;
            c.masterPort = port;
            c.timeout = std::chrono::minutes(10);
            dist::ProcessGroupHandle pg(c);
            result[r] = f(&pg);
        });
    for (auto& t : threads) t.join();
    return result[0];
}

}  // namespace

int main(int argc, char** argv) {
    Args a;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i];
        if (k == "--batch") a.batch = std::atoi(argv[i + 1]);
        if (k == "--size") a.size = std::atoi(argv[i + 1]);
        if (k == "--steps") a.steps = std::atoi(argv[i + 1]);
        if (k == "--bucket-mb") a.bucketMb = std::atof(argv[i + 1]);
        if (k == "--arch") a.arch = parseArch(argv[i + 1]).value_or(Arch::ResNet50);
    }
    initTorchRuntime();
    std::printf("bench_dist: %s, %s, batch %d per rank at %d px, fp32, Gloo on loopback\n",
                archName(a.arch).c_str(), cpuBrand().c_str(), a.batch, a.size);

    // 1. One process's step, then one all-reduce of every gradient.
    const double single = stepSeconds(a, nullptr);
    CamNet probe(a.arch, 120);
    int64_t count = 0;
    for (const auto& p : probe->parameters()) count += p.numel();
    const double mb = static_cast<double>(count) * 4 / 1e6;
    const double reduce = onTwoRanks(
        [&](dist::ProcessGroupHandle* pg) {
            at::Tensor g = at::ones({count});
            pg->allReduceSum(g);  // warm-up
            return bench::medianOf(3, [&] { pg->allReduceSum(g); });
        },
        true);
    std::printf("one process, one step:            %8.3f s\n", single);
    std::printf(
        "all-reduce of %.1f M gradients (%.0f MB), 2 ranks: %.3f s = %.2fx a step "
        "(%.2f GB/s of algorithm bandwidth)\n",
        count / 1e6, mb, reduce, reduce / single, mb / 1e3 / reduce);

    // 2. Two ranks at once, with and without the gradient exchange.
    const double alone =
        onTwoRanks([&](dist::ProcessGroupHandle*) { return stepSeconds(a, nullptr); }, false);
    const double synced =
        onTwoRanks([&](dist::ProcessGroupHandle* pg) { return stepSeconds(a, pg); }, true);
    std::printf("two ranks at once, no exchange:   %8.3f s per step\n", alone);
    std::printf(
        "two ranks, bucketed all-reduce:   %8.3f s per step = %.2fx (the exchange adds "
        "%.0f%%)\n",
        synced, synced / alone, 100 * (synced / alone - 1));
    return 0;
}
