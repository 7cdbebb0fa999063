#pragma once
// The inference form of a CamNet, for explanation and evaluation: every batch norm folded into
// the convolution before it, and the convolutions run where LibTorch is fastest on the device:
// oneDNN's blocked layouts with prepacked weights on a CPU that has it (what PyTorch's
// torch.jit.optimize_for_inference does to a frozen graph), channels-last with cuDNN on a GPU.
// It holds a snapshot of the weights: build it again after they change.
//
// The network runs without autograd up to the first tap whose gradient is asked for; from that
// tap on it runs on dense channels-last tensors with autograd, so one backward pass gives the
// gradient at that tap and at every later one, and nothing before it is recorded.

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <vector>

#include "nn/resnet.h"

namespace camx {

class InferenceNet {
public:
    enum class Backend {
        OneDnn,  // oneDNN layouts and prepacked weights (CPU LibTorch built with oneDNN)
        Dense    // folded weights on plain tensors, channels-last (GPU, or a CPU without oneDNN)
    };

    // Folds `net`'s eval-mode batch norm into its convolutions (in double precision) on
    // `device`. With `bf16`, the backbone computes in bfloat16 (weights rounded once, features
    // and logits handed back in fp32); otherwise in fp32.
    InferenceNet(CamNetImpl& net, c10::Device device, bool bf16 = false);

    // Logits and the requested taps (dense fp32 tensors, any strides). With `gradFromTap` >= 0
    // that tap's output is a leaf that requires grad and the rest of the network is recorded
    // for autograd: call it in grad mode. Without it, nothing is recorded.
    ForwardOutput forward(const at::Tensor& x, const std::vector<int>& tapIds,
                          int gradFromTap = -1) const;
    at::Tensor logits(const at::Tensor& x) const { return forward(x, {}).logits; }

    const at::Tensor& classWeights() const { return m_fcWeight; }  // [classes, C], fp32
    Backend backend() const { return m_backend; }
    bool bf16() const { return m_bf16; }
    c10::Device device() const { return m_device; }

    // The backend this device gets: OneDnn on a CPU where LibTorch has it, else Dense.
    static Backend backendFor(c10::Device device);

private:
    struct Conv {
        at::Tensor weight, bias;  // folded, dense, channels-last, in the compute precision
        at::Tensor packedWeight, packedBias;  // oneDNN layout (OneDnn backend only)
        int64_t stride = 1, padding = 0;
    };
    struct Block {
        Conv c1, c2, c3, down;
        bool bottleneck = false, hasDown = false;
    };
    at::Tensor conv(const Conv& c, const at::Tensor& x, bool packed) const;
    at::Tensor block(const Block& b, const at::Tensor& x, bool packed) const;
    Conv fold(const torch::nn::Conv2d& conv, const torch::nn::BatchNorm2d& bn) const;

    Backend m_backend;
    c10::Device m_device;
    bool m_bf16;
    Conv m_stem;
    std::vector<Block> m_blocks;      // flat, in network order
    at::Tensor m_fcWeight, m_fcBias;  // fp32
    std::vector<int> m_tapBlock;      // tap id -> flat block index, -1 for the stem
};

}  // namespace camx
