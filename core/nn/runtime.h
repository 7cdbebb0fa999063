#pragma once
// Process-wide LibTorch set-up and what the linked LibTorch offers. No torch types in here, so
// the UI and the CLI can include it freely.

#include <string>
#include <vector>

namespace camx {

struct RuntimeInfo {
    std::string torchVersion;
    int cpuThreads = 0;  // intra-op threads LibTorch uses
    bool cudaAvailable = false;
    std::vector<std::string> cudaDevices;  // one name per visible GPU
    bool mklDnn = false;
};

// Sets LibTorch's thread count to `threads` (0: OMP_NUM_THREADS where set, else every core).
// LibTorch starts with 1 here, which leaves half the machine idle. Call once at start-up, before
// any network pass.
void initTorchRuntime(int threads = 0);

RuntimeInfo runtimeInfo();

// "cuda:0 (NVIDIA H100)" when a GPU is usable, "cpu (N threads)" otherwise.
std::string deviceDescription();

}  // namespace camx
