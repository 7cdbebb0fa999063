#include "nn/inference_net.h"

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <c10/util/variant.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <climits>

namespace camx {

namespace {
constexpr int64_t kOne[2] = {1, 1};
}

InferenceNet::Backend InferenceNet::backendFor(c10::Device device) {
    return device.is_cpu() && at::hasMKLDNN() ? Backend::OneDnn : Backend::Dense;
}

InferenceNet::InferenceNet(CamNetImpl& net, c10::Device device, bool bf16)
    : m_backend(backendFor(device)), m_device(device), m_bf16(bf16) {
    // Not inference mode: the folded weights are saved for backward when a pass records.
    at::NoGradGuard noGrad;
    m_stem = fold(net.conv1, net.bn1);
    for (auto& stage : net.m_blocks)
        for (auto& rb : stage) {
            ResBlockImpl& r = *rb;
            Block b;
            b.bottleneck = r.m_bottleneck;
            b.c1 = fold(r.conv1, r.bn1);
            b.c2 = fold(r.conv2, r.bn2);
            if (b.bottleneck) b.c3 = fold(r.conv3, r.bn3);
            if (r.downsample) {
                b.hasDown = true;
                b.down = fold(
                    torch::nn::Conv2d(
                        std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(r.downsample->ptr(0))),
                    torch::nn::BatchNorm2d(std::dynamic_pointer_cast<torch::nn::BatchNorm2dImpl>(
                        r.downsample->ptr(1))));
            }
            m_blocks.push_back(std::move(b));
        }
    m_fcWeight = net.fc->weight.detach().to(device, at::kFloat).clone();
    m_fcBias = net.fc->bias.detach().to(device, at::kFloat).clone();
    m_tapBlock = net.m_tapBlock;
}

InferenceNet::Conv InferenceNet::fold(const torch::nn::Conv2d& conv,
                                      const torch::nn::BatchNorm2d& bn) const {
    // Eval-mode batch norm is y = (x - mean) / sqrt(var + eps) * gamma + beta: a per-channel
    // scale and shift, which moves into the convolution's weights and bias. Folded in double so
    // the only new rounding is the final one to the compute precision.
    const auto& o = conv->options;
    // A convolution's own bias (Keras's have one) adds before the batch norm:
    // (conv(x) + c - mean) * scale + beta.
    TORCH_CHECK(o.groups() == 1, "unexpected convolution in a CamNet");
    const at::Tensor scale = bn->weight.detach().to(at::kDouble) /
                             (bn->running_var.detach().to(at::kDouble) + bn->options.eps()).sqrt();
    const at::Tensor w = conv->weight.detach().to(at::kDouble) * scale.view({-1, 1, 1, 1});
    at::Tensor mean = bn->running_mean.detach().to(at::kDouble);
    if (conv->bias.defined()) mean = mean - conv->bias.detach().to(at::kDouble);
    const at::Tensor b = bn->bias.detach().to(at::kDouble) - mean * scale;
    const at::ScalarType type = m_bf16 ? at::kBFloat16 : at::kFloat;
    Conv c;
    c.stride = (*o.stride())[0];
    c.padding = (*c10::get<torch::ExpandingArray<2>>(o.padding()))[0];
    c.weight = w.to(m_device, type).contiguous(at::MemoryFormat::ChannelsLast);
    c.bias = b.to(m_device, type);
    if (m_backend == Backend::OneDnn) {
        const int64_t pad[2] = {c.padding, c.padding}, stride[2] = {c.stride, c.stride};
        c.packedWeight = at::mkldnn_reorder_conv2d_weight(w.to(type).contiguous().to_mkldnn(), pad,
                                                          stride, kOne, 1);
        c.packedBias = b.to(type).to_mkldnn();
    }
    return c;
}

at::Tensor InferenceNet::conv(const Conv& c, const at::Tensor& x, bool packed) const {
    const int64_t pad[2] = {c.padding, c.padding}, stride[2] = {c.stride, c.stride};
    if (packed)
        return at::mkldnn_convolution(x, c.packedWeight, c.packedBias, pad, stride, kOne, 1);
    return at::conv2d(x, c.weight, c.bias, stride, pad);
}

at::Tensor InferenceNet::block(const Block& b, const at::Tensor& x, bool packed) const {
    at::Tensor out = conv(b.c1, x, packed).relu_();
    out = conv(b.c2, out, packed);
    if (b.bottleneck) out = conv(b.c3, out.relu_(), packed);
    // In place on the block's own new tensor; the block input (a tap, perhaps) is untouched.
    out.add_(b.hasDown ? conv(b.down, x, packed) : x);
    return out.relu_();
}

ForwardOutput InferenceNet::forward(const at::Tensor& input, const std::vector<int>& tapIds,
                                    int gradFromTap) const {
    for (int t : tapIds)
        TORCH_CHECK(t >= 0 && t < static_cast<int>(m_tapBlock.size()), "unknown tap id ", t);
    TORCH_CHECK(gradFromTap < static_cast<int>(m_tapBlock.size()), "unknown tap id ", gradFromTap);
    const int leafBlock =
        gradFromTap >= 0 ? m_tapBlock[static_cast<std::size_t>(gradFromTap)] : INT_MIN;
    const int lastBlock = static_cast<int>(m_blocks.size()) - 1;
    std::vector<bool> wanted(m_blocks.size() + 1, false);
    for (int t : tapIds)
        wanted[static_cast<std::size_t>(m_tapBlock[static_cast<std::size_t>(t)] + 1)] = true;

    const at::ScalarType type = m_bf16 ? at::kBFloat16 : at::kFloat;
    bool packed = m_backend == Backend::OneDnn;
    std::vector<at::Tensor> byBlock(m_blocks.size() + 1);
    // Block outputs leave the oneDNN layout only where a tap, the leaf or the head needs them.
    auto dense = [&](const at::Tensor& y) { return (packed ? y.to_dense() : y).to(at::kFloat); };
    // Nothing before the leaf is recorded: the network's weights never need gradients.
    c10::optional<at::NoGradGuard> noGrad;
    noGrad.emplace();
    bool recording = false;
    auto capture = [&](at::Tensor& y, int flat) {
        if (flat == leafBlock) {
            at::Tensor leaf = dense(y).detach().requires_grad_(true);
            byBlock[static_cast<std::size_t>(flat + 1)] = leaf;
            noGrad.reset();  // back to the caller's grad mode
            y = leaf.to(type).contiguous(at::MemoryFormat::ChannelsLast);
            packed = false;
            recording = true;
        } else if (wanted[static_cast<std::size_t>(flat + 1)] || flat == lastBlock) {
            at::Tensor tap = dense(y);
            byBlock[static_cast<std::size_t>(flat + 1)] = tap;
            // In bf16 the fp32 copy must be what the rest of the network reads, or autograd
            // finds no path from the score to it (bf16 -> fp32 -> bf16 is exact).
            if (recording && m_bf16) y = tap.to(type);
        }
    };
    ForwardOutput out;
    {
        at::Tensor x = input.to(m_device, type);
        x = packed ? x.contiguous().to_mkldnn() : x.contiguous(at::MemoryFormat::ChannelsLast);
        at::Tensor y = conv(m_stem, x, packed).relu_();
        const int64_t k[2] = {3, 3}, s[2] = {2, 2};
        y = at::max_pool2d(y, k, s, kOne);
        capture(y, -1);
        for (int flat = 0; flat <= lastBlock; ++flat) {
            y = block(m_blocks[static_cast<std::size_t>(flat)], y, packed);
            capture(y, flat);
        }
        const at::Tensor features = byBlock.back();
        out.logits = at::linear(features.mean({2, 3}), m_fcWeight, m_fcBias);
    }
    for (int t : tapIds)
        out.taps.push_back(
            byBlock[static_cast<std::size_t>(m_tapBlock[static_cast<std::size_t>(t)] + 1)]);
    return out;
}

}  // namespace camx
