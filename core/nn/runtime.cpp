#include "nn/runtime.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <cstdlib>
#include <mutex>
#include <thread>

#ifdef CAMX_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

namespace camx {

void initTorchRuntime(int threads) {
    // OMP_NUM_THREADS, when set to a whole number, wins over "every core": torchrun sets it, and
    // so does `--nproc`, so that N processes on one machine share its cores instead of each
    // taking all of them.
    if (threads <= 0)
        if (const char* omp = std::getenv("OMP_NUM_THREADS")) {
            char* end = nullptr;
            const long v = std::strtol(omp, &end, 10);
            if (end != omp && *end == '\0' && v > 0 && v <= 4096) threads = static_cast<int>(v);
        }
    const int n =
        threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    at::set_num_threads(n);
    static std::once_flag interop;
    // The inter-op pool can be sized only before its first use.
    std::call_once(interop, [&] {
        try {
            at::set_num_interop_threads(std::max(1, n / 2));
        } catch (const std::exception&) {
        }
    });
}

RuntimeInfo runtimeInfo() {
    RuntimeInfo info;
    info.torchVersion = TORCH_VERSION;
    info.cpuThreads = at::get_num_threads();
    info.mklDnn = at::hasMKLDNN();
    info.cudaAvailable = torch::cuda::is_available();
    if (info.cudaAvailable) {
        const int n = static_cast<int>(torch::cuda::device_count());
        for (int i = 0; i < n; ++i) {
#ifdef CAMX_WITH_CUDA
            cudaDeviceProp prop{};
            if (cudaGetDeviceProperties(&prop, i) == cudaSuccess) {
                info.cudaDevices.emplace_back(prop.name);
                continue;
            }
#endif
            info.cudaDevices.push_back("CUDA device " + std::to_string(i));
        }
    }
    return info;
}

std::string deviceDescription() {
    const RuntimeInfo info = runtimeInfo();
    if (info.cudaAvailable && !info.cudaDevices.empty())
        return "cuda:0 (" + info.cudaDevices[0] + ")";
    return "cpu (" + std::to_string(info.cpuThreads) + " threads)";
}

}  // namespace camx
