#include "common/precision.h"

#include "common/cpu_features.h"

namespace camx {

const char* precisionId(Precision p) {
    switch (p) {
        case Precision::Auto:
            return "auto";
        case Precision::Fp32:
            return "fp32";
        case Precision::Bf16:
            return "bf16";
    }
    return "auto";
}

std::optional<Precision> parsePrecision(const std::string& id) {
    for (Precision p : {Precision::Auto, Precision::Fp32, Precision::Bf16})
        if (id == precisionId(p)) return p;
    return std::nullopt;
}

PrecisionChoice resolvePrecision(Precision requested, bool cuda, bool cudaBf16) {
    PrecisionChoice c;
    c.requested = requested;
    c.cuda = cuda;
    c.nativeBf16 = cuda ? cudaBf16 : cpuHasFastBf16();
    c.resolved = requested == Precision::Auto ? (c.nativeBf16 ? Precision::Bf16 : Precision::Fp32)
                                              : requested;
    return c;
}

std::string PrecisionChoice::describe(bool channelsLast) const {
    std::string s = bf16() ? "bf16 autocast with fp32 master weights" : "fp32";
    if (channelsLast) s += ", channels-last";
    const std::string device = cuda ? "this GPU" : "this CPU";
    const std::string feature = cuda ? std::string() : cpuBf16FeatureName();
    if (requested == Precision::Auto) {
        if (bf16())
            s += " (automatic: " +
                 (feature.empty() ? device + " computes bf16 natively"
                                  : device + " has " + feature) +
                 ")";
        else
            s += " (automatic: " + device +
                 (cuda ? " does not compute bf16 natively)" : " has no AVX-512 BF16 or AMX)");
    } else if (emulated()) {
        s += " (" + device +
             (cuda ? " does not compute bf16 natively"
                   : " has no AVX-512 BF16 or AMX, so LibTorch emulates bf16") +
             ": expect it to be slower than fp32)";
    }
    return s;
}

}  // namespace camx
