#include "nn/reinit.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "common/hash.h"

namespace camx {

namespace {

bool contains(const std::string& s, const char* part) {
    return s.find(part) != std::string::npos;
}

// torch.nn.init._calculate_fan_in_and_fan_out, extended to fewer than two dimensions (the
// element count: torch refuses them).
std::pair<double, double> fans(const at::Tensor& t) {
    if (t.dim() < 2) return {double(t.numel()), double(t.numel())};
    double receptive = 1;
    for (int64_t k = 2; k < t.dim(); ++k) receptive *= double(t.size(k));
    return {double(t.size(1)) * receptive, double(t.size(0)) * receptive};
}

double inverseSqrt(double fanIn) {
    return fanIn > 0 ? 1.0 / std::sqrt(fanIn) : 0.0;
}

at::Tensor like(const at::Tensor& t, const at::Tensor& cpuFloat) {
    return cpuFloat.to(t.device(), t.scalar_type()).requires_grad_(t.requires_grad());
}

at::Tensor uniform(const at::Tensor& t, double bound, at::Generator& gen) {
    at::Tensor v = at::empty(t.sizes(), at::TensorOptions(at::kFloat));
    if (bound > 0)
        v.uniform_(-bound, bound, gen);
    else
        v.zero_();
    return like(t, v);
}

at::Tensor normal(const at::Tensor& t, double stddev, at::Generator& gen) {
    at::Tensor v = at::empty(t.sizes(), at::TensorOptions(at::kFloat));
    v.normal_(0.0, stddev, gen);
    return like(t, v);
}

at::Tensor filled(const at::Tensor& t, double value) {
    return like(t, at::full(t.sizes(), value, at::TensorOptions(at::kFloat)));
}

}  // namespace

InitKind initKindOf(const std::string& type) {
    if (contains(type, "BatchNorm") || contains(type, "InstanceNorm") ||
        contains(type, "GroupNorm") || contains(type, "LayerNorm"))
        return InitKind::Norm;
    if (type == "MultiheadAttention") return InitKind::MultiheadAttention;
    if (type.rfind("Conv", 0) == 0 || contains(type, "Linear")) return InitKind::ConvOrLinear;
    if (contains(type, "Embedding")) return InitKind::Embedding;
    if (type == "PReLU") return InitKind::PRelu;
    return InitKind::Other;
}

void reinitializeModule(const std::string& path, const std::string& typeName,
                        NamedTensorList& parameters, NamedTensorList& buffers, std::uint64_t seed) {
    Hasher h;
    h.update("camx reinit").updateNumber(seed).update(path);
    at::Generator gen = at::detail::createCPUGenerator(h.digest());
    const InitKind kind = initKindOf(typeName);
    // A convolution's or Linear's bias takes its bound from the weight's fan-in.
    double weightFanIn = -1;
    for (const auto& [name, t] : parameters)
        if (name == "weight" && t.defined() && t.dim() >= 2) weightFanIn = fans(t).first;

    for (auto& [name, t] : parameters) {
        if (!t.defined()) continue;
        switch (kind) {
            case InitKind::Norm:
                if (name == "weight") {
                    t = filled(t, 1.0);
                    continue;
                }
                if (name == "bias") {
                    t = filled(t, 0.0);
                    continue;
                }
                break;
            case InitKind::ConvOrLinear:
                if (name == "weight" || (name == "bias" && weightFanIn >= 0)) {
                    t = uniform(t, inverseSqrt(name == "weight" ? fans(t).first : weightFanIn),
                                gen);
                    continue;
                }
                break;
            case InitKind::Embedding:
                if (name == "weight") {
                    t = normal(t, 1.0, gen);
                    continue;
                }
                break;
            case InitKind::PRelu:
                if (name == "weight") {
                    t = filled(t, 0.25);
                    continue;
                }
                break;
            case InitKind::MultiheadAttention: {
                if (name == "in_proj_bias") {
                    t = filled(t, 0.0);
                    continue;
                }
                const auto [in, out] = fans(t);
                if (name == "in_proj_weight" || name == "q_proj_weight" ||
                    name == "k_proj_weight" || name == "v_proj_weight") {
                    t = uniform(t, std::sqrt(6.0 / (in + out)), gen);
                    continue;
                }
                if (name == "bias_k" || name == "bias_v") {
                    t = normal(t, std::sqrt(2.0 / (in + out)), gen);
                    continue;
                }
                break;
            }
            case InitKind::Other:
                break;
        }
        t = uniform(t, inverseSqrt(fans(t).first), gen);
    }
    // Only a normalisation layer's statistics (and the affine tensors of a frozen batch norm,
    // which are buffers) are learnt buffers; any other module's buffers are structure.
    if (kind != InitKind::Norm) return;
    for (auto& [name, t] : buffers) {
        if (!t.defined()) continue;
        if (name == "running_mean" || name == "bias" || name == "num_batches_tracked")
            t = filled(t, 0.0);
        else if (name == "running_var" || name == "weight")
            t = filled(t, 1.0);
    }
}

}  // namespace camx
