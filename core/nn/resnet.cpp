#include "nn/resnet.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/pooling.h>
#include <torch/nn/init.h>

#include <algorithm>
#include <cctype>
#include <limits>

namespace camx {
namespace F = torch::nn::functional;

namespace {
struct ArchSpec {
    Arch arch;
    const char* name;
    bool bottleneck;
    int blocks[4];
    bool kerasV1;  // Keras's ResNet v1 (see arch.h)
};
constexpr ArchSpec kSpecs[] = {
    {Arch::ResNet18, "resnet18", false, {2, 2, 2, 2}, false},
    {Arch::ResNet34, "resnet34", false, {3, 4, 6, 3}, false},
    {Arch::ResNet50, "resnet50", true, {3, 4, 6, 3}, false},
    {Arch::ResNet101, "resnet101", true, {3, 4, 23, 3}, false},
    {Arch::KerasResNet50, "keras-resnet50", true, {3, 4, 6, 3}, true},
};
// keras.applications' batch-norm epsilon (torch's default is 1e-5).
constexpr double kKerasBnEps = 1.001e-5;
const ArchSpec& spec(Arch a) {
    for (const auto& s : kSpecs)
        if (s.arch == a) return s;
    return kSpecs[0];
}

torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad,
                       bool bias = false) {
    return torch::nn::Conv2d(
        torch::nn::Conv2dOptions(in, out, k).stride(stride).padding(pad).bias(bias));
}

torch::nn::BatchNorm2d batchNorm(int64_t channels, bool keras) {
    return torch::nn::BatchNorm2d(
        torch::nn::BatchNorm2dOptions(channels).eps(keras ? kKerasBnEps : 1e-5));
}
}  // namespace

std::string archName(Arch a) {
    return spec(a).name;
}

std::optional<Arch> parseArch(const std::string& name) {
    // Letters and digits only, lower case: "ResNet-50" is "resnet50", "keras-resnet50" is
    // "kerasresnet50".
    auto key = [](const std::string& text) {
        std::string n;
        for (char c : text)
            if (std::isalnum(static_cast<unsigned char>(c)))
                n.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
        return n;
    };
    const std::string n = key(name);
    for (const auto& s : kSpecs)
        if (n == key(s.name)) return s.arch;
    return std::nullopt;
}

std::vector<std::string> archNames() {
    std::vector<std::string> v;
    for (const auto& s : kSpecs) v.emplace_back(s.name);
    return v;
}

std::uint64_t parameterCount(Arch arch, int64_t numClasses, int64_t baseWidth) {
    if (numClasses < 0 || baseWidth < 0) return 0;
    // Saturating arithmetic: absurd requests give UINT64_MAX, never a wrapped small number.
    constexpr std::uint64_t kMax = UINT64_MAX;
    auto mul = [](std::uint64_t a, std::uint64_t b) {
        std::uint64_t r;
        return __builtin_mul_overflow(a, b, &r) ? kMax : r;
    };
    auto add = [](std::uint64_t a, std::uint64_t b) {
        std::uint64_t r;
        return __builtin_add_overflow(a, b, &r) ? kMax : r;
    };
    const ArchSpec& s = spec(arch);
    const auto w = static_cast<std::uint64_t>(baseWidth);
    // Keras's convolutions carry a bias each: one more value per output channel.
    const std::uint64_t cb = s.kerasV1 ? 1 : 0;
    std::uint64_t n = add(mul(mul(3, w), 49), mul(2 + cb, w));  // conv1 7x7, bn1
    std::uint64_t in = w;
    for (int stage = 0; stage < 4; ++stage) {
        const std::uint64_t planes = mul(w, std::uint64_t(1) << stage);
        for (int b = 0; b < s.blocks[stage]; ++b) {
            const bool strided = b == 0 && stage > 0;
            std::uint64_t out;
            if (s.bottleneck) {
                out = mul(planes, 4);
                n = add(n, add(mul(in, planes), mul(2 + cb, planes)));              // conv1, bn1
                n = add(n, add(mul(mul(planes, planes), 9), mul(2 + cb, planes)));  // conv2, bn2
                n = add(n, add(mul(planes, out), mul(2 + cb, out)));                // conv3, bn3
            } else {
                out = planes;
                n = add(n, add(mul(mul(in, planes), 9), mul(2, planes)));      // conv1, bn1
                n = add(n, add(mul(mul(planes, planes), 9), mul(2, planes)));  // conv2, bn2
            }
            if (strided || in != out)
                n = add(n, add(mul(in, out), mul(2 + cb, out)));  // downsample
            in = out;
        }
    }
    const auto c = static_cast<std::uint64_t>(numClasses);
    return add(n, add(mul(in, c), c));  // fc
}

ResBlockImpl::ResBlockImpl(int64_t inPlanes, int64_t planes, int64_t stride, bool bottleneck,
                           bool kerasV1)
    : m_bottleneck(bottleneck), m_out(bottleneck ? planes * 4 : planes) {
    if (kerasV1) {
        // keras.applications' ResNet v1: the stride on the first 1x1 convolution ('valid': a 1x1
        // kernel needs no padding), 3x3 'same' at stride 1, every convolution biased.
        TORCH_CHECK(bottleneck, "Keras's ResNet v1 blocks are bottlenecks");
        conv1 = register_module("conv1", conv(inPlanes, planes, 1, stride, 0, true));
        bn1 = register_module("bn1", batchNorm(planes, true));
        conv2 = register_module("conv2", conv(planes, planes, 3, 1, 1, true));
        bn2 = register_module("bn2", batchNorm(planes, true));
        conv3 = register_module("conv3", conv(planes, m_out, 1, 1, 0, true));
        bn3 = register_module("bn3", batchNorm(m_out, true));
    } else if (bottleneck) {
        // torchvision's ResNet v1.5: the stride sits on the 3x3 convolution.
        conv1 = register_module("conv1", conv(inPlanes, planes, 1, 1, 0));
        bn1 = register_module("bn1", torch::nn::BatchNorm2d(planes));
        conv2 = register_module("conv2", conv(planes, planes, 3, stride, 1));
        bn2 = register_module("bn2", torch::nn::BatchNorm2d(planes));
        conv3 = register_module("conv3", conv(planes, m_out, 1, 1, 0));
        bn3 = register_module("bn3", torch::nn::BatchNorm2d(m_out));
    } else {
        conv1 = register_module("conv1", conv(inPlanes, planes, 3, stride, 1));
        bn1 = register_module("bn1", torch::nn::BatchNorm2d(planes));
        conv2 = register_module("conv2", conv(planes, planes, 3, 1, 1));
        bn2 = register_module("bn2", torch::nn::BatchNorm2d(planes));
    }
    if (stride != 1 || inPlanes != m_out) {
        // Keras: the block's "_0_conv" / "_0_bn" shortcut.
        downsample = register_module(
            "downsample", torch::nn::Sequential(conv(inPlanes, m_out, 1, stride, 0, kerasV1),
                                                batchNorm(m_out, kerasV1)));
    }
}

namespace {
torch::Tensor normWith(const std::shared_ptr<const BatchNormOverride>& o,
                       torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& x) {
    return o && bn.is_training() ? (*o)(bn, x) : bn.forward(x);
}
}  // namespace

torch::Tensor ResBlockImpl::norm(torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& x) {
    return normWith(m_bnOverride, bn, x);
}

torch::Tensor ResBlockImpl::forward(const torch::Tensor& x) {
    torch::Tensor out = F::relu(norm(*bn1, conv1(x)), F::ReLUFuncOptions().inplace(true));
    if (m_bottleneck) {
        out = F::relu(norm(*bn2, conv2(out)), F::ReLUFuncOptions().inplace(true));
        out = norm(*bn3, conv3(out));
    } else {
        out = norm(*bn2, conv2(out));
    }
    torch::Tensor identity = x;
    if (downsample)
        identity = norm(*downsample[1]->as<torch::nn::BatchNorm2dImpl>(),
                        downsample[0]->as<torch::nn::Conv2dImpl>()->forward(x));
    // Not in place: the block output is a tap, and autograd needs it unmodified.
    return F::relu(out + identity);
}

CamNetImpl::CamNetImpl(Arch arch, int64_t numClasses, int64_t baseWidth)
    : m_arch(arch), m_numClasses(numClasses), m_baseWidth(baseWidth) {
    const ArchSpec& s = spec(arch);
    // Keras pads explicitly (ZeroPadding2D 3, then a 'valid' 7x7/2 convolution): the same as
    // padding 3. Its max-pool pads with zeros (ZeroPadding2D 1) where torch pads with -inf; after
    // the ReLU every value is >= 0, so both give the same maximum.
    conv1 = register_module("conv1", conv(3, baseWidth, 7, 2, 3, s.kerasV1));
    bn1 = register_module("bn1", batchNorm(baseWidth, s.kerasV1));
    // Keras's names are the tap names of the Keras architecture; stages are "conv2" ... "conv5".
    const bool kerasNames = s.kerasV1;
    m_taps.push_back(
        {kerasNames ? "pool1_pool" : "stem", "pool1_pool", static_cast<int>(baseWidth), 4, false});
    m_tapBlock.push_back(-1);

    int64_t inPlanes = baseWidth;
    int flat = 0;
    for (int stage = 0; stage < 4; ++stage) {
        const int64_t planes = baseWidth << stage;
        torch::nn::ModuleList list;
        std::vector<ResBlock> blocks;
        for (int b = 0; b < s.blocks[stage]; ++b) {
            const int64_t stride = (b == 0 && stage > 0) ? 2 : 1;
            ResBlock block(inPlanes, planes, stride, s.bottleneck, s.kerasV1);
            inPlanes = block->outChannels();
            list->push_back(block);
            blocks.push_back(block);
            const std::string name = "layer" + std::to_string(stage + 1) + "." + std::to_string(b);
            const std::string keras =
                "conv" + std::to_string(stage + 2) + "_block" + std::to_string(b + 1) + "_out";
            m_taps.push_back(
                {kerasNames ? keras : name, keras, static_cast<int>(inPlanes), 4 << stage, false});
            m_tapBlock.push_back(flat++);
        }
        m_layers.push_back(register_module("layer" + std::to_string(stage + 1), list));
        m_blocks.push_back(blocks);
        // The stage tap is the same tensor as its last block; the Keras name is the block's.
        TapInfo stageTap = m_taps.back();
        stageTap.name =
            (kerasNames ? "conv" + std::to_string(stage + 2) : "layer" + std::to_string(stage + 1));
        stageTap.isStage = true;
        m_taps.push_back(stageTap);
        m_tapBlock.push_back(flat - 1);
    }
    m_featureChannels = inPlanes;
    fc = register_module("fc", torch::nn::Linear(inPlanes, numClasses));
    for (std::size_t i = 0; i < m_taps.size(); ++i)
        if (!m_taps[i].isStage && m_tapBlock[i] == flat - 1) m_lastBlockTap = static_cast<int>(i);

    // torchvision's initialisation: Kaiming for convolutions, unit/zero batch norm.
    for (auto& m : modules(/*include_self=*/false)) {
        if (auto* c = m->as<torch::nn::Conv2dImpl>()) {
            torch::nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
            if (c->bias.defined()) torch::nn::init::zeros_(c->bias);  // Keras's bias_initializer
        } else if (auto* bn = m->as<torch::nn::BatchNorm2dImpl>()) {
            torch::nn::init::ones_(bn->weight);
            torch::nn::init::zeros_(bn->bias);
        }
    }
}

int findTap(const std::vector<TapInfo>& taps, const std::string& name) {
    for (std::size_t i = 0; i < taps.size(); ++i)
        if (taps[i].name == name) return static_cast<int>(i);
    for (std::size_t i = 0; i < taps.size(); ++i)
        if (!taps[i].isStage && taps[i].kerasName == name) return static_cast<int>(i);
    return -1;
}

std::vector<int> blockTaps(const std::vector<TapInfo>& taps) {
    std::vector<int> v;
    for (std::size_t i = 0; i < taps.size(); ++i)
        if (taps[i].block && !taps[i].isStage && taps[i].name != "stem" &&
            taps[i].name != "pool1_pool")
            v.push_back(static_cast<int>(i));
    return v;
}

int CamNetImpl::findTap(const std::string& name) const {
    return camx::findTap(m_taps, name);
}

std::vector<int> CamNetImpl::blockTaps() const {
    return camx::blockTaps(m_taps);
}

torch::Tensor CamNetImpl::forward(const torch::Tensor& x) {
    return forwardTaps(x, {}).logits;
}

ForwardOutput CamNetImpl::forwardTaps(const torch::Tensor& x, const std::vector<int>& tapIds,
                                      int gradFromTap) {
    for (int t : tapIds)
        TORCH_CHECK(t >= 0 && t < static_cast<int>(m_taps.size()), "unknown tap id ", t);
    TORCH_CHECK(gradFromTap < static_cast<int>(m_taps.size()), "unknown tap id ", gradFromTap);
    // The flat block index (or -1 for the stem) whose output becomes the gradient leaf.
    const int leafBlock = gradFromTap >= 0 ? m_tapBlock[static_cast<std::size_t>(gradFromTap)]
                                           : std::numeric_limits<int>::min();

    std::vector<torch::Tensor> byBlock;  // index flat+1 (0: stem)
    auto capture = [&](torch::Tensor& y, int flatIndex) {
        if (flatIndex == leafBlock) y = y.detach().requires_grad_(true);
        byBlock.push_back(y);
    };

    torch::Tensor y = F::relu(norm(*bn1, conv1(x)), F::ReLUFuncOptions().inplace(true));
    y = F::max_pool2d(y, F::MaxPool2dFuncOptions(3).stride(2).padding(1));
    capture(y, -1);
    int flat = 0;
    for (auto& stage : m_blocks)
        for (auto& block : stage) {
            y = block->forward(y);
            capture(y, flat++);
        }
    ForwardOutput out;
    torch::Tensor pooled = y.mean({2, 3});
    out.logits = fc->forward(pooled);
    for (int t : tapIds)
        out.taps.push_back(
            byBlock[static_cast<std::size_t>(m_tapBlock[static_cast<std::size_t>(t)] + 1)]);
    return out;
}

torch::Tensor CamNetImpl::norm(torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& x) {
    return normWith(m_bnOverride, bn, x);
}

void CamNetImpl::setBatchNormOverride(BatchNormOverride o) {
    m_bnOverride = o ? std::make_shared<const BatchNormOverride>(std::move(o)) : nullptr;
    for (auto& stage : m_blocks)
        for (auto& block : stage) block->setBatchNormOverride(m_bnOverride);
}

void CamNetImpl::setBackboneFrozen(bool frozen) {
    for (auto& p : backboneParameters()) p.requires_grad_(!frozen);
    for (auto& p : headParameters()) p.requires_grad_(true);
}

std::vector<torch::Tensor> CamNetImpl::backboneParameters() {
    std::vector<torch::Tensor> v;
    for (auto& item : named_parameters())
        if (item.key().rfind("fc.", 0) != 0) v.push_back(item.value());
    return v;
}

std::vector<torch::Tensor> CamNetImpl::headParameters() {
    return fc->parameters();
}

}  // namespace camx
