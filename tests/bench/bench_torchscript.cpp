// Bring-your-own-model speed and memory (issue #14), one image at a time, in one run:
//  - the model's plain forward (TorchScript, no autograd): the baseline;
//  - every listed block at once ("all"), Grad-CAM + Grad-CAM++ + LayerCAM from one forward and
//    one backward pass, as a ratio of that forward (goal: <= 2.5x);
//  - resident memory after warm-up and after N more explanations (goal: flat).
// Models come from tools/camx_export.py, e.g.
//   /usr/bin/python3 tools/camx_export.py torchvision convnext_tiny /tmp/convnext_tiny.pt
//   /usr/bin/python3 tools/camx_export.py torchvision vit_b_16 /tmp/vit_b_16.pt
//   bench_torchscript /tmp/convnext_tiny.pt [--rounds 5] [--memory 1000]
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bench_util.h"
#include "explain/model_session.h"
#include "nn/runtime.h"

using namespace camx;

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench_torchscript MODEL.pt [--rounds N] [--memory N]\n");
        return 2;
    }
    int rounds = 5, memory = 0;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--rounds")) rounds = std::atoi(argv[i + 1]);
        if (!std::strcmp(argv[i], "--memory")) memory = std::atoi(argv[i + 1]);
    }
    initTorchRuntime();
    auto model = ModelSession::open(argv[1]);
    const ModelInfo& info = model->info();
    const int S = info.inputSize;
    std::vector<float> x(3u * static_cast<std::size_t>(S) * S);
    for (std::size_t i = 0; i < x.size(); ++i)
        x[i] = 0.5f * std::sin(0.01f * static_cast<float>(i));
    ExplainOptions o;
    o.methods = {Method::GradCam, Method::GradCamPlusPlus, Method::LayerCam};
    o.taps = info.blockTaps();
    std::printf("%s: %s, %d px, %zu layers listed, %zu blocks explained, device %s\n", argv[1],
                info.archLabel.c_str(), S, info.taps.size(), o.taps.size(), info.device.c_str());
    // Warm-up, then interleaved rounds; the best of each.
    model->classifyPrepared(x.data(), 1);
    model->explainPrepared(x.data(), 1, {-1}, o);
    double fwd = 1e30, all = 1e30, last = 1e30;
    ExplainOptions one = o;
    one.taps = {info.lastBlockTap};
    for (int r = 0; r < rounds; ++r) {
        fwd = std::min(fwd, camx::bench::seconds([&] { model->classifyPrepared(x.data(), 1); }));
        all = std::min(all,
                       camx::bench::seconds([&] { model->explainPrepared(x.data(), 1, {-1}, o); }));
        last = std::min(
            last, camx::bench::seconds([&] { model->explainPrepared(x.data(), 1, {-1}, one); }));
    }
    std::printf("forward            %8.1f ms  1.00x (baseline)\n", fwd * 1e3);
    std::printf("default layer, 3 methods %8.1f ms  %.2fx forward\n", last * 1e3, last / fwd);
    std::printf("all %zu blocks, 3 methods %8.1f ms  %.2fx forward\n", o.taps.size(), all * 1e3,
                all / fwd);
    if (memory > 0) {
        const double before = camx::bench::rssMiB();
        for (int i = 0; i < memory; ++i) model->explainPrepared(x.data(), 1, {-1}, o);
        std::printf("RSS %.0f MiB after warm-up, %.0f MiB after %d more explanations\n", before,
                    camx::bench::rssMiB(), memory);
    }
    return 0;
}
