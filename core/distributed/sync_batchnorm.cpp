#include "distributed/sync_batchnorm.h"

#include <torch/autograd.h>

#include <cstdint>

#include "distributed/process_group.h"

namespace camx::dist {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

ProcessGroupHandle& groupOf(AutogradContext* ctx) {
    return *reinterpret_cast<ProcessGroupHandle*>(
        static_cast<std::intptr_t>(ctx->saved_data["group"].toInt()));
}

// Statistics of the global batch: count, mean and biased variance per channel.
struct GlobalStats {
    double count = 0;
    at::Tensor mean, var;
};

GlobalStats globalStats(ProcessGroupHandle& group, const at::Tensor& x32) {
    const int64_t c = x32.size(1);
    const int64_t n = c > 0 ? x32.numel() / c : 0;
    const int world = group.worldSize();
    // Row r holds rank r's count, means and M2s; the sum over the ranks is an all-gather.
    at::Tensor rows = at::zeros({world, 1 + 2 * c}, x32.options());
    at::Tensor mine = rows[group.rank()];
    mine[0].fill_(static_cast<double>(n));
    if (n > 0) {
        const at::Tensor mean = x32.mean({0, 2, 3});
        const at::Tensor centred = x32 - mean.view({1, c, 1, 1});
        mine.narrow(0, 1, c).copy_(mean);
        mine.narrow(0, 1 + c, c).copy_(centred.square().sum({0, 2, 3}));
    }
    group.allReduceSum(rows);
    const at::Tensor counts = rows.select(1, 0).unsqueeze(1);  // [world, 1]
    const at::Tensor means = rows.narrow(1, 1, c), m2s = rows.narrow(1, 1 + c, c);
    GlobalStats s;
    s.count = counts.sum().item<double>();
    TORCH_CHECK(s.count > 0, "synchronised batch norm over an empty global batch");
    s.mean = (counts * means).sum(0) / s.count;
    const at::Tensor m2 = (m2s + counts * (means - s.mean.unsqueeze(0)).square()).sum(0);
    s.var = m2 / s.count;
    return s;
}

struct SyncBatchNormFunction : public torch::autograd::Function<SyncBatchNormFunction> {
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight,
                              const at::Tensor& bias, torch::nn::BatchNorm2dImpl* bn,
                              ProcessGroupHandle* group) {
        const at::Tensor x32 = x.to(at::kFloat);
        const int64_t c = x.size(1);
        const GlobalStats s = globalStats(*group, x32);
        const double eps = bn->options.eps();
        const at::Tensor invstd = (s.var + eps).rsqrt();
        if (bn->options.track_running_stats()) {
            torch::NoGradGuard noGrad;
            bn->num_batches_tracked.add_(1);
            const auto m = bn->options.momentum();
            const double factor =
                m ? *m : 1.0 / static_cast<double>(bn->num_batches_tracked.item<int64_t>());
            const double unbias = s.count > 1 ? s.count / (s.count - 1) : 1.0;
            bn->running_mean.mul_(1 - factor).add_(s.mean, factor);
            bn->running_var.mul_(1 - factor).add_(s.var * unbias, factor);
        }
        const at::Tensor scale = weight.defined() ? invstd * weight : invstd;
        at::Tensor y = (x32 - s.mean.view({1, c, 1, 1})) * scale.view({1, c, 1, 1});
        if (bias.defined()) y = y + bias.view({1, c, 1, 1});
        ctx->save_for_backward({x, weight, s.mean, invstd});
        ctx->saved_data["group"] = static_cast<int64_t>(reinterpret_cast<std::intptr_t>(group));
        ctx->saved_data["count"] = s.count;
        return y.to(x.scalar_type());
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const at::Tensor& x = saved[0];
        const at::Tensor& weight = saved[1];
        const at::Tensor& mean = saved[2];
        const at::Tensor& invstd = saved[3];
        const double count = ctx->saved_data["count"].toDouble();
        const int64_t c = x.size(1);
        const at::Tensor dy = grads[0].to(at::kFloat);
        const at::Tensor xhat =
            (x.to(at::kFloat) - mean.view({1, c, 1, 1})) * invstd.view({1, c, 1, 1});
        const at::Tensor sumDy = dy.sum({0, 2, 3});
        const at::Tensor sumDyXhat = (dy * xhat).sum({0, 2, 3});
        at::Tensor global = at::cat({sumDy, sumDyXhat});
        groupOf(ctx).allReduceSum(global);
        const at::Tensor gDy = global.narrow(0, 0, c) / count;
        const at::Tensor gDyXhat = global.narrow(0, c, c) / count;
        const at::Tensor scale = weight.defined() ? invstd * weight : invstd;
        const at::Tensor dx = (dy - gDy.view({1, c, 1, 1}) - xhat * gDyXhat.view({1, c, 1, 1})) *
                              scale.view({1, c, 1, 1});
        return {dx.to(x.scalar_type()), weight.defined() ? sumDyXhat : at::Tensor(),
                weight.defined() ? sumDy : at::Tensor(), at::Tensor(), at::Tensor()};
    }
};

}  // namespace

torch::Tensor syncBatchNormForward(ProcessGroupHandle& group, torch::nn::BatchNorm2dImpl& bn,
                                   const torch::Tensor& x) {
    TORCH_CHECK(x.dim() == 4, "synchronised batch norm expects NCHW input");
    return SyncBatchNormFunction::apply(x, bn.weight, bn.bias, &bn, &group);
}

BatchNormOverride syncBatchNorm(ProcessGroupHandle& group) {
    return [&group](torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& x) {
        return syncBatchNormForward(group, bn, x);
    };
}

}  // namespace camx::dist
