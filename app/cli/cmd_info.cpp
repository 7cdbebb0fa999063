#include <matio.h>

#include <cstdio>
#include <opencv2/core/utility.hpp>
#include <string>
#include <thread>

#include "commands.h"
#include "common/cpu_features.h"
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

}  // namespace camx::cli
