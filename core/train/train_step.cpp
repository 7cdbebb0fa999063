#include "train/train_step.h"

#include <ATen/autocast_mode.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/nn/functional/loss.h>

namespace camx {
namespace F = torch::nn::functional;

namespace {
struct AutocastScope {
    bool on;
    explicit AutocastScope(bool enable) : on(enable) {
        if (on) {
            at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
            at::autocast::set_enabled(true);
        }
    }
    ~AutocastScope() {
        if (on) {
            at::autocast::set_enabled(false);
            at::autocast::clear_cache();
        }
    }
};

at::Tensor prepare(const at::Tensor& x, const StepOptions& o) {
    return o.channelsLast && x.is_cuda() ? x.contiguous(at::MemoryFormat::ChannelsLast) : x;
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

StepOutput trainStep(CamNet& net, torch::optim::Optimizer& optimizer, const at::Tensor& x,
                     const at::Tensor& y, const StepOptions& o) {
    torch::AutoGradMode grad(true);
    optimizer.zero_grad();
    at::Tensor logits;
    {
        AutocastScope autocast(o.mixedPrecision && x.is_cuda());
        logits = net->forward(prepare(x, o));
    }
    at::Tensor loss = F::cross_entropy(
        logits.to(at::kFloat), y, F::CrossEntropyFuncOptions().label_smoothing(o.labelSmoothing));
    loss.backward();
    optimizer.step();
    StepOutput out;
    out.loss = loss.item<double>();
    count(logits.detach(), y, out);
    return out;
}

StepOutput evalStep(CamNet& net, const at::Tensor& x, const at::Tensor& y, const StepOptions& o) {
    c10::InferenceMode guard;
    at::Tensor logits;
    {
        AutocastScope autocast(o.mixedPrecision && x.is_cuda());
        logits = net->forward(prepare(x, o)).to(at::kFloat);
    }
    StepOutput out;
    out.loss = F::cross_entropy(logits, y).item<double>();
    count(logits, y, out);
    return out;
}

void toChannelsLast(CamNet& net) {
    torch::NoGradGuard g;
    for (auto& p : net->parameters())
        if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
}

}  // namespace camx
