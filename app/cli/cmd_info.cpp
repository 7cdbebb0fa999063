#include <matio.h>

#include <algorithm>
#include <cstdio>
#include <opencv2/core/utility.hpp>
#include <string>
#include <thread>

#include "commands.h"
#include "common/cpu_features.h"
#include "explain/model_session.h"
#include "nn/runtime.h"

#ifdef CAMX_HAVE_QT
#include <QtGlobal>
#endif

namespace camx::cli {

void addInfoCommand(CLI::App& app) {
    auto* cmd = app.add_subcommand("info", "Print library versions, CPU threads and CUDA devices");
    cmd->callback([] {
        const RuntimeInfo rt = runtimeInfo();
        int mj = 0, mn = 0, rel = 0;
        Mat_GetLibraryVersion(&mj, &mn, &rel);
        std::printf("CAM Explorer  %s\n", CAMX_VERSION);
#ifdef CAMX_HAVE_QT
        std::printf("Qt            %s\n", qVersion());
#else
        std::printf("Qt            (not built)\n");
#endif
        std::printf("LibTorch      %s\n", rt.torchVersion.c_str());
        std::printf("OpenCV        %s\n", CV_VERSION);
        std::printf("matio         %d.%d.%d\n", mj, mn, rel);
        std::printf("CPU           %s\n", cpuBrand().c_str());
        const std::string bf16 = cpuBf16FeatureName();
        if (bf16.empty())
            std::printf("CPU bf16      no AVX-512 BF16 or AMX (CPU training defaults to fp32)\n");
        else
            std::printf("CPU bf16      %s (CPU training defaults to bf16 autocast)\n",
                        bf16.c_str());
        std::printf("CPU cores     %u\n", std::thread::hardware_concurrency());
        std::printf("CPU threads   %d (LibTorch intra-op)\n", rt.cpuThreads);
        std::printf("oneDNN        %s\n", rt.mklDnn ? "yes" : "no");
        std::printf("CUDA          %s\n", rt.cudaAvailable ? "available" : "not available");
        for (std::size_t i = 0; i < rt.cudaDevices.size(); ++i)
            std::printf("  cuda:%zu      %s\n", i, rt.cudaDevices[i].c_str());
        std::printf("Device        %s\n", deviceDescription().c_str());
    });
}

void addModelCommand(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "model", "Describe a model: classes, input, normalisation, CAM head and its layers");
    static ModelOptions mo;
    static bool all = false;
    addModelOptions(cmd, mo);
    cmd->add_flag("--all-layers", all, "every layer whose output is a map, not only the blocks");
    cmd->callback([] {
        auto session = openModel(mo);
        const ModelInfo& info = session->info();
        std::printf("model         %s\n", mo.file.c_str());
        std::printf("architecture  %s\n", info.archLabel.c_str());
        std::printf("classes       %d (%s ... %s)\n", info.numClasses(),
                    info.classNames.front().c_str(), info.classNames.back().c_str());
        std::printf("input         %dx%d, mean %.3f,%.3f,%.3f std %.3f,%.3f,%.3f\n", info.inputSize,
                    info.inputSize, info.norm.mean[0], info.norm.mean[1], info.norm.mean[2],
                    info.norm.std[0], info.norm.std[1], info.norm.std[2]);
        if (info.kerasPreprocess)
            std::printf("preprocess    %s\n",
                        kerasPreprocessDescription(*info.kerasPreprocess).c_str());
        if (info.torchScript)
            std::printf("metadata      %s\n", info.fileMeta.empty()
                                                  ? "none in the file (flags or defaults)"
                                                  : "camx.json in the file");
        std::printf(
            "CAM           %s\n",
            info.camAvailable
                ? ("at " + info.taps[static_cast<std::size_t>(info.lastBlockTap)].name).c_str()
                : ("not available: " + info.camUnavailableReason).c_str());
        const std::vector<int> blocks = info.blockTaps();
        std::printf("layers        %zu maps (%zu blocks); default %s\n", info.taps.size(),
                    blocks.size(),
                    info.taps[static_cast<std::size_t>(info.lastBlockTap)].name.c_str());
        for (std::size_t i = 0; i < info.taps.size(); ++i) {
            const TapInfo& t = info.taps[i];
            const bool block =
                std::find(blocks.begin(), blocks.end(), static_cast<int>(i)) != blocks.end();
            if (!all && !block && static_cast<int>(i) != info.lastBlockTap) continue;
            std::printf("  %-48s %5d ch  stride %3d%s%s\n", t.name.c_str(), t.channels, t.stride,
                        block ? "  block" : "",
                        static_cast<int>(i) == info.lastBlockTap ? "  default" : "");
        }
    });
}

}  // namespace camx::cli
