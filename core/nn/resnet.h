#pragma once
// The course's CAM classifier: a ResNet backbone, global average pooling, one Dense layer.
// Module names follow torchvision exactly (conv1, bn1, layer1.0.conv1, ..., fc), so torchvision
// state dicts load key for key. LibTorch modules have no forward hooks, so the network hands back
// the intermediate feature maps ("taps") it is asked for.

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nn/arch.h"

namespace camx {

class InferenceNet;

// Replaces the batch-norm layers' own forward while the network trains: synchronised batch norm
// across processes (distributed/sync_batchnorm.h) is one. Called with the layer and its input;
// returns the layer's output. Evaluation mode never calls it.
using BatchNormOverride =
    std::function<torch::Tensor(torch::nn::BatchNorm2dImpl&, const torch::Tensor&)>;

class ResBlockImpl : public torch::nn::Module {
public:
    // `kerasV1`: Keras's ResNet v1 bottleneck (stride on the first 1x1 convolution, biased
    // convolutions, batch-norm epsilon 1.001e-5) instead of torchvision's v1.5.
    ResBlockImpl(int64_t inPlanes, int64_t planes, int64_t stride, bool bottleneck,
                 bool kerasV1 = false);
    torch::Tensor forward(const torch::Tensor& x);
    int64_t outChannels() const { return m_out; }
    void setBatchNormOverride(std::shared_ptr<const BatchNormOverride> o) {
        m_bnOverride = std::move(o);
    }

private:
    friend class InferenceNet;  // folds the batch norms into the convolutions
    torch::Tensor norm(torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& x);
    std::shared_ptr<const BatchNormOverride> m_bnOverride;
    bool m_bottleneck;
    int64_t m_out;
    torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
    torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
    torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(ResBlock);

// The number of trainable values (weights and biases; not batch-norm running statistics) of
// CamNet(arch, numClasses, baseWidth), computed without building it: what a file must at least
// hold before a network of that size is worth building. Saturates instead of overflowing.
std::uint64_t parameterCount(Arch arch, int64_t numClasses, int64_t baseWidth);

// Sane bounds on what a file may ask for.
inline constexpr int64_t kMaxBaseWidth = 1024;
inline constexpr int64_t kMaxClasses = 100000;

struct ForwardOutput {
    torch::Tensor logits;             // [B, classes], before softmax
    std::vector<torch::Tensor> taps;  // in the order asked for
};

class CamNetImpl : public torch::nn::Module {
public:
    // `baseWidth` 64 is the real network; tests use narrower copies of the same shape.
    CamNetImpl(Arch arch, int64_t numClasses, int64_t baseWidth = 64);

    torch::Tensor forward(const torch::Tensor& x);
    // Returns the logits and the requested taps. With `gradFromTap` >= 0, that tap's output
    // becomes a leaf that requires grad, so one backward pass from any score yields the gradient
    // at it and at every later tap, and nothing before it or in the parameters is touched (call
    // it with parameters frozen and grad mode on).
    ForwardOutput forwardTaps(const torch::Tensor& x, const std::vector<int>& tapIds,
                              int gradFromTap = -1);

    const std::vector<TapInfo>& taps() const { return m_taps; }
    // Finds a tap by its name ("layer4.2", "layer4", "stem") or Keras alias
    // ("conv5_block3_out"). Returns -1 when unknown.
    int findTap(const std::string& name) const;
    int lastBlockTap() const { return m_lastBlockTap; }
    // Position of a tap's tensor in the network: -1 for the stem, then 0, 1, ... per block.
    int tapDepth(int tap) const { return m_tapBlock.at(static_cast<std::size_t>(tap)); }
    std::vector<int> blockTaps() const;  // every block output, in network order

    Arch arch() const { return m_arch; }
    int64_t numClasses() const { return m_numClasses; }
    int64_t featureChannels() const { return m_featureChannels; }
    int64_t baseWidth() const { return m_baseWidth; }

    torch::nn::Linear classifier() const { return fc; }

    // Freezes (or thaws) every backbone parameter; the fc layer always trains.
    void setBackboneFrozen(bool frozen);
    std::vector<torch::Tensor> backboneParameters();
    std::vector<torch::Tensor> headParameters();

    // Every batch-norm layer goes through `o` in training mode (none: their own forward).
    void setBatchNormOverride(BatchNormOverride o);

private:
    friend class InferenceNet;
    torch::Tensor norm(torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& x);
    std::shared_ptr<const BatchNormOverride> m_bnOverride;
    Arch m_arch;
    int64_t m_numClasses, m_baseWidth, m_featureChannels = 0;
    torch::nn::Conv2d conv1{nullptr};
    torch::nn::BatchNorm2d bn1{nullptr};
    std::vector<torch::nn::ModuleList> m_layers;
    std::vector<std::vector<ResBlock>> m_blocks;
    torch::nn::Linear fc{nullptr};
    std::vector<TapInfo> m_taps;
    std::vector<int> m_tapBlock;  // tap id -> flat block index, -1 for the stem
    int m_lastBlockTap = -1;
};
TORCH_MODULE(CamNet);

}  // namespace camx
