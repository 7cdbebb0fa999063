#pragma once
// The arithmetic a network runs in: fp32, or bf16 autocast with fp32 master weights, and the
// rule that picks one when the user leaves it to the machine. No torch and no Qt, so the CLI,
// the wizard and (later) the explanation side share the same words and the same rule.

#include <optional>
#include <string>

namespace camx {

enum class Precision {
    Auto,  // bf16 where the device computes it natively, fp32 elsewhere
    Fp32,
    Bf16,  // bf16 autocast: convolutions and matrix products in bf16, weights and loss in fp32
};

// "auto", "fp32", "bf16": the CLI's values and the checkpoints' JSON.
const char* precisionId(Precision p);
std::optional<Precision> parsePrecision(const std::string& id);

// What a requested precision becomes on one device.
struct PrecisionChoice {
    Precision requested = Precision::Auto;
    Precision resolved = Precision::Fp32;  // Fp32 or Bf16, never Auto
    bool cuda = false;                     // decided for a CUDA device (else the CPU)
    bool nativeBf16 = false;               // that device computes bf16 natively

    bool bf16() const { return resolved == Precision::Bf16; }
    // bf16 requested on a device that only emulates it: it works, slower than fp32.
    bool emulated() const { return bf16() && !nativeBf16; }
    // Channels-last activations: always with bf16 (oneDNN's and cuDNN's fast bf16 kernels are
    // NHWC); in fp32 where asked for (off by default, so fp32 runs stay as they were).
    bool channelsLast(bool requested) const { return bf16() || requested; }
    // One phrase for run logs, with the reason when the machine decided or when bf16 is emulated:
    // "bf16 autocast with fp32 master weights, channels-last (automatic: this CPU has AVX-512
    // BF16)", "fp32 (automatic: this CPU has no AVX-512 BF16 or AMX)", "fp32".
    std::string describe(bool channelsLast) const;
};

// Auto becomes Bf16 on a CUDA device that computes bf16 natively (`cudaBf16`: compute
// capability 8.0 or later) and on a CPU with AVX-512 BF16 or AMX (cpuHasFastBf16()), Fp32
// elsewhere. An explicit choice is kept: bf16 without native support still runs (LibTorch
// emulates it) and `emulated()` says so.
PrecisionChoice resolvePrecision(Precision requested, bool cuda, bool cudaBf16 = false);

}  // namespace camx
