#pragma once
// One optimisation step and one evaluation step: LibTorch only, so the GPU benchmarks can run
// them on a machine without Qt or OpenCV.

#include <functional>

#include <torch/optim/optimizer.h>

#include "nn/resnet.h"

namespace camx {

struct StepOptions {
    double labelSmoothing = 0;
    // bf16 autocast for the forward pass, on the CPU or CUDA: convolutions and matrix products
    // run in bf16, the parameters (and so the optimizer's updates) and the loss stay fp32.
    bool mixedPrecision = false;
    bool channelsLast = false;  // NHWC input (pair it with toChannelsLast on the network)
    // Data parallel: the loss is multiplied by this process's share of the global batch before
    // the backward pass, and `afterBackward` (the gradient reducer's finish) runs between the
    // backward pass and the optimizer step. The reported loss stays this batch's mean.
    double lossWeight = 1.0;
    std::function<void()> afterBackward;
};

struct StepOutput {
    double loss = 0;       // mean over the batch
    int64_t correct = 0;   // top-1 hits
    int64_t correct5 = 0;  // top-5 hits
    int64_t count = 0;
};

// The forward pass as the steps below run it (autocast and memory format as `options` say),
// with gradients as the caller's mode has them. The logits come back in the dtype the last layer
// produced: bf16 under bf16 autocast.
at::Tensor forwardLogits(CamNet& net, const at::Tensor& x, const StepOptions& options);

// Forward, cross-entropy, backward, optimizer step. `x` and `y` must be on the network's device.
StepOutput trainStep(CamNet& net, torch::optim::Optimizer& optimizer, const at::Tensor& x,
                     const at::Tensor& y, const StepOptions& options);

// Loss and accuracy without gradients (inference mode), in the precision `options` give: the
// trainer validates in the precision it trains in, so the numbers describe the network as it
// computes during training (and bf16 validation is the fast one where bf16 training is).
StepOutput evalStep(CamNet& net, const at::Tensor& x, const at::Tensor& y,
                    const StepOptions& options);

// Re-estimates every batch-norm layer's running statistics with the current weights ("precise
// BN", Wu & Johnson 2021): resets them, then averages the batch statistics of every batch
// `nextBatch` yields (until it yields an undefined tensor) with equal weight, in training mode
// without gradients. Running statistics kept with momentum lag behind weights that change
// quickly, which makes validation loss jump early in training from scratch. Parameters are not
// touched; the layers' momentum and batch counters are restored afterwards. Runs in the
// precision `options` give, like validation, so the statistics match the activations validation
// normalises.
void recalibrateBatchNorm(CamNet& net, const std::function<at::Tensor()>& nextBatch,
                          const StepOptions& options);

// Converts the network's convolution weights to channels-last (call once before training).
void toChannelsLast(CamNet& net);

// Whether `device` is a CUDA device that computes bf16 natively (compute capability 8.0 or
// later). False for the CPU, and in builds without CUDA.
bool cudaHasNativeBf16(const c10::Device& device);

}  // namespace camx
