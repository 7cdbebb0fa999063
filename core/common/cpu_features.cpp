#include "common/cpu_features.h"

#include <atomic>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define CAMX_X86 1
#endif

namespace camx {

namespace {

#ifdef CAMX_X86
struct Regs {
    std::uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

Regs cpuid(std::uint32_t leaf, std::uint32_t subleaf = 0) {
    Regs r;
    __cpuid_count(leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx);
    return r;
}

// XCR0: which register states the OS saves on a context switch. A CPU feature whose registers
// the OS does not save faults (AMX) or corrupts other threads' state, so both must agree.
std::uint64_t xcr0() {
    std::uint32_t lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (std::uint64_t{hi} << 32) | lo;
}

bool bit(std::uint32_t reg, int n) {
    return (reg >> n) & 1u;
}

CpuInfo detect() {
    CpuInfo f;
    const std::uint32_t maxExt = __get_cpuid_max(0x80000000u, nullptr);
    if (maxExt >= 0x80000004u) {
        char brand[49] = {};
        for (std::uint32_t i = 0; i < 3; ++i) {
            const Regs r = cpuid(0x80000002u + i);
            std::memcpy(brand + 16 * i, &r.eax, 4);
            std::memcpy(brand + 16 * i + 4, &r.ebx, 4);
            std::memcpy(brand + 16 * i + 8, &r.ecx, 4);
            std::memcpy(brand + 16 * i + 12, &r.edx, 4);
        }
        f.brand = brand;
        // Vendors pad the string with spaces (Intel on the left, some hypervisors on the right).
        const auto first = f.brand.find_first_not_of(' ');
        const auto last = f.brand.find_last_not_of(' ');
        f.brand =
            first == std::string::npos ? std::string() : f.brand.substr(first, last - first + 1);
    }
    if (__get_cpuid_max(0, nullptr) < 7) return f;
    const Regs l1 = cpuid(1);
    const bool osxsave = bit(l1.ecx, 27);  // XGETBV is usable
    if (!osxsave) return f;
    const std::uint64_t xcr = xcr0();
    // SSE, AVX, opmask, ZMM0-15 upper halves, ZMM16-31.
    constexpr std::uint64_t kAvx512State = 0xE6;
    // XTILECFG and XTILEDATA.
    constexpr std::uint64_t kAmxState = 0x60000;
    const Regs l7 = cpuid(7, 0);
    const bool avx512f = bit(l7.ebx, 16);
    if (avx512f && (xcr & kAvx512State) == kAvx512State && l7.eax >= 1) {
        const Regs l71 = cpuid(7, 1);  // subleaf 1 exists when leaf 7's EAX says so
        f.avx512Bf16 = bit(l71.eax, 5);
    }
    const bool amxTile = bit(l7.edx, 24);
    f.amxBf16 = amxTile && bit(l7.edx, 22) && (xcr & kAmxState) == kAmxState;
    return f;
}
#else
CpuInfo detect() {
    return {};
}
#endif

// -1: no override; 0 or 1: the forced answer.
std::atomic<int> g_override{-1};

}  // namespace

const CpuInfo& cpuFeatures() {
    static const CpuInfo features = detect();
    return features;
}

bool cpuHasFastBf16() {
    const int forced = g_override.load(std::memory_order_relaxed);
    if (forced >= 0) return forced == 1;
    const CpuInfo& f = cpuFeatures();
    return f.avx512Bf16 || f.amxBf16;
}

std::string cpuBf16FeatureName() {
    if (!cpuHasFastBf16()) return {};
    const CpuInfo& f = cpuFeatures();
    return f.amxBf16 ? "AMX-BF16" : f.avx512Bf16 ? "AVX-512 BF16" : "";
}

std::string cpuBrand() {
    const std::string& b = cpuFeatures().brand;
    return b.empty() ? "unknown CPU" : b;
}

void overrideCpuBf16ForTesting(std::optional<bool> hasFastBf16) {
    g_override.store(hasFastBf16 ? (*hasFastBf16 ? 1 : 0) : -1, std::memory_order_relaxed);
}

}  // namespace camx
