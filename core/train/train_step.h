#pragma once
// One optimisation step and one evaluation step: LibTorch only, so the GPU benchmarks can run
// them on a machine without Qt or OpenCV.

#include <functional>

#include <torch/optim/optimizer.h>

#include "nn/resnet.h"

namespace camx {

struct StepOptions {
    double labelSmoothing = 0;
    bool mixedPrecision = false;  // CUDA: bf16 autocast for the forward pass
    bool channelsLast = false;    // CUDA: NHWC activations
};

struct StepOutput {
    double loss = 0;       // mean over the batch
    int64_t correct = 0;   // top-1 hits
    int64_t correct5 = 0;  // top-5 hits
    int64_t count = 0;
};

// Forward, cross-entropy, backward, optimizer step. `x` and `y` must be on the network's device.
StepOutput trainStep(CamNet& net, torch::optim::Optimizer& optimizer, const at::Tensor& x,
                     const at::Tensor& y, const StepOptions& options);

// Loss and accuracy without gradients (inference mode).
StepOutput evalStep(CamNet& net, const at::Tensor& x, const at::Tensor& y,
                    const StepOptions& options);

// Re-estimates every batch-norm layer's running statistics with the current weights ("precise
// BN", Wu & Johnson 2021): resets them, then averages the batch statistics of every batch
// `nextBatch` yields (until it yields an undefined tensor) with equal weight, in training mode
// without gradients. Running statistics kept with momentum lag behind weights that change
// quickly, which makes validation loss jump early in training from scratch. Parameters are not
// touched; the layers' momentum and batch counters are restored afterwards.
void recalibrateBatchNorm(CamNet& net, const std::function<at::Tensor()>& nextBatch,
                          const StepOptions& options);

// Converts the network's convolution weights to channels-last (call once before training).
void toChannelsLast(CamNet& net);

}  // namespace camx
