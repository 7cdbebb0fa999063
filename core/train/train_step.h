#pragma once
// One optimisation step and one evaluation step: LibTorch only, so the GPU benchmarks can run
// them on a machine without Qt or OpenCV.

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

// Converts the network's convolution weights to channels-last (call once before training).
void toChannelsLast(CamNet& net);

}  // namespace camx
