#pragma once
// What the CPU offers for bf16 arithmetic, read with CPUID once per process. Training picks bf16
// autocast on CPUs that compute it natively (issue #13: 2.25x for ResNet-18, 2.8x for ResNet-50
// on an AVX-512 BF16 EPYC) and stays in fp32 elsewhere, where LibTorch emulates bf16 slowly.
// No torch and no Qt here: the wizard and the CLI ask it before anything loads a network.

#include <optional>
#include <string>

namespace camx {

struct CpuInfo {
    std::string brand;        // CPUID's brand string ("AMD EPYC 9654 96-Core Processor"); may be
                              // empty on CPUs (or hypervisors) that report none
    bool avx512Bf16 = false;  // AVX512_BF16 (vdpbf16ps), with the OS saving AVX-512 state
    bool amxBf16 = false;     // AMX-BF16 tiles, with the OS saving tile state
};

// Detected once (x86-64; elsewhere everything is false and the brand empty).
const CpuInfo& cpuFeatures();

// Whether bf16 matrix arithmetic is native here (AVX-512 BF16 or AMX-BF16), unless a test
// overrode the answer.
bool cpuHasFastBf16();

// The feature that makes bf16 fast, for logs: "AMX-BF16", "AVX-512 BF16", or "" when neither
// (or when a test forced the answer without the hardware).
std::string cpuBf16FeatureName();

// The brand string, or "unknown CPU" when the CPU reports none.
std::string cpuBrand();

// Tests force either path on any machine: true or false replaces the detected answer of
// cpuHasFastBf16(), std::nullopt restores it. Process-wide; not for production code.
void overrideCpuBf16ForTesting(std::optional<bool> hasFastBf16);

}  // namespace camx
