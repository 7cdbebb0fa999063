#include "train/train_step.h"

#include <ATen/autocast_mode.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/modules/batchnorm.h>

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
        for (at::Tensor x = nextBatch(); x.defined(); x = nextBatch()) {
            AutocastScope autocast(o.mixedPrecision && x.is_cuda());
            net->forward(prepare(x, o));
        }
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

}  // namespace camx
