#include "train/train_step.h"

#include <ATen/autocast_mode.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/modules/batchnorm.h>

#ifdef CAMX_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

namespace camx {
namespace F = torch::nn::functional;

namespace {
// bf16 autocast around one forward pass on the device of `x`. Autocast state is per thread; the
// previous state comes back afterwards, and the bf16 copies of the weights that autocast caches
// are dropped, since the optimizer step is about to change the weights they were made from.
class AutocastScope {
public:
    AutocastScope(bool enable, const at::Tensor& x) : m_on(enable), m_cuda(x.is_cuda()) {
        if (!m_on) return;
        if (m_cuda) {
            m_wasEnabled = at::autocast::is_enabled();
            m_dtype = at::autocast::get_autocast_gpu_dtype();
            at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
            at::autocast::set_enabled(true);
        } else {
            m_wasEnabled = at::autocast::is_cpu_enabled();
            m_dtype = at::autocast::get_autocast_cpu_dtype();
            at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
            at::autocast::set_cpu_enabled(true);
        }
    }
    ~AutocastScope() {
        if (!m_on) return;
        if (m_cuda) {
            at::autocast::set_enabled(m_wasEnabled);
            at::autocast::set_autocast_gpu_dtype(m_dtype);
        } else {
            at::autocast::set_cpu_enabled(m_wasEnabled);
            at::autocast::set_autocast_cpu_dtype(m_dtype);
        }
        if (!m_wasEnabled) at::autocast::clear_cache();
    }
    AutocastScope(const AutocastScope&) = delete;
    AutocastScope& operator=(const AutocastScope&) = delete;

private:
    bool m_on;
    bool m_cuda;
    bool m_wasEnabled = false;
    at::ScalarType m_dtype = at::kBFloat16;
};

at::Tensor prepare(const at::Tensor& x, const StepOptions& o) {
    return o.channelsLast ? x.contiguous(at::MemoryFormat::ChannelsLast) : x;
}

void count(const at::Tensor& logits, const at::Tensor& y, StepOutput& out) {
    const int64_t k = std::min<int64_t>(5, logits.size(1));
    const at::Tensor top = std::get<1>(logits.topk(k, 1));
    const at::Tensor hits = top.eq(y.unsqueeze(1));
    out.correct = hits.select(1, 0).sum().item<int64_t>();
    out.correct5 = hits.any(1).sum().item<int64_t>();
    out.count = y.size(0);
}
}  // namespace

at::Tensor forwardLogits(CamNet& net, const at::Tensor& x, const StepOptions& o) {
    AutocastScope autocast(o.mixedPrecision, x);
    return net->forward(prepare(x, o));
}

StepOutput trainStep(CamNet& net, torch::optim::Optimizer& optimizer, const at::Tensor& x,
                     const at::Tensor& y, const StepOptions& o) {
    torch::AutoGradMode grad(true);
    optimizer.zero_grad();
    const at::Tensor logits = forwardLogits(net, x, o);
    // The loss in fp32 outside autocast; its backward casts the gradients back to the fp32
    // parameters (master weights), which the optimizer updates in fp32.
    at::Tensor loss = F::cross_entropy(
        logits.to(at::kFloat), y, F::CrossEntropyFuncOptions().label_smoothing(o.labelSmoothing));
    if (o.lossWeight != 1.0)
        (loss * o.lossWeight).backward();
    else
        loss.backward();
    if (o.afterBackward) o.afterBackward();
    optimizer.step();
    StepOutput out;
    out.loss = loss.item<double>();
    count(logits.detach(), y, out);
    return out;
}

StepOutput evalStep(CamNet& net, const at::Tensor& x, const at::Tensor& y, const StepOptions& o) {
    c10::InferenceMode guard;
    const at::Tensor logits = forwardLogits(net, x, o).to(at::kFloat);
    StepOutput out;
    out.loss = F::cross_entropy(logits, y).item<double>();
    count(logits, y, out);
    return out;
}

void recalibrateBatchNorm(CamNet& net, const std::function<at::Tensor()>& nextBatch,
                          const StepOptions& o) {
    struct Saved {
        torch::nn::BatchNorm2dImpl* bn;
        c10::optional<double> momentum;
        at::Tensor batches;
    };
    std::vector<Saved> saved;
    for (const auto& m : net->modules(/*include_self=*/false))
        if (auto* bn = m->as<torch::nn::BatchNorm2d>()) {
            if (!bn->options.track_running_stats()) continue;
            saved.push_back({bn, bn->options.momentum(), bn->num_batches_tracked.clone()});
            bn->reset_running_stats();
            bn->options.momentum(c10::nullopt);  // cumulative average: every batch counts once
        }
    if (saved.empty()) return;
    const bool wasTraining = net->is_training();
    net->train();
    {
        torch::NoGradGuard noGrad;
        for (at::Tensor x = nextBatch(); x.defined(); x = nextBatch()) forwardLogits(net, x, o);
    }
    for (auto& s : saved) {
        s.bn->options.momentum(s.momentum);
        s.bn->num_batches_tracked.copy_(s.batches);
    }
    net->train(wasTraining);
}

void toChannelsLast(CamNet& net) {
    torch::NoGradGuard g;
    for (auto& p : net->parameters())
        if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
}

bool cudaHasNativeBf16(const c10::Device& device) {
    if (!device.is_cuda()) return false;
#ifdef CAMX_WITH_CUDA
    int index = device.has_index() ? device.index() : 0;
    if (!device.has_index() && cudaGetDevice(&index) != cudaSuccess) return false;
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, index) != cudaSuccess) return false;
    return prop.major >= 8;  // Ampere and later have bf16 tensor cores
#else
    return false;
#endif
}

}  // namespace camx
