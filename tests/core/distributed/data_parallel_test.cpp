// Data-parallel training's two pieces, with two ranks in one process (ranks.h): synchronised batch
// norm against one batch-norm layer over the whole batch (torch.nn's definition is the oracle),
// and the bucketed gradient reducer against the sum of each rank's own gradients.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/nn/functional/batchnorm.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/linear.h>

#include <vector>

#include "distributed/grad_reducer.h"
#include "distributed/sync_batchnorm.h"
#include "ranks.h"

namespace camx::dist {
namespace {

torch::nn::BatchNorm2d layerWith(const at::Tensor& weight, const at::Tensor& bias,
                                 c10::optional<double> momentum) {
    torch::nn::BatchNorm2d bn(torch::nn::BatchNorm2dOptions(weight.size(0)).momentum(momentum));
    torch::NoGradGuard g;
    bn->weight.copy_(weight);
    bn->bias.copy_(bias);
    return bn;
}

void expectClose(const at::Tensor& a, const at::Tensor& b, double tol, const char* what) {
    ASSERT_EQ(a.sizes(), b.sizes()) << what;
    EXPECT_LE((a - b).abs().max().item<double>(), tol) << what;
}

// Two processes holding 5 and 2 images of one batch: outputs, input gradients, running
// statistics and (summed) parameter gradients equal one layer's over the 7 images.
TEST(SyncBatchNorm, UnequalSharesNormaliseLikeOneLayerOverTheWholeBatch) {
    CAMX_NEEDS_GLOO();
    at::manual_seed(5);
    const at::Tensor x = at::randn({7, 3, 4, 5}) * 2 + 1;
    const at::Tensor upstream = at::randn({7, 3, 4, 5});  // the loss is Σ y·upstream
    const at::Tensor weight = at::rand({3}) + 0.5, bias = at::randn({3});
    for (const c10::optional<double> momentum :
         {c10::optional<double>(0.1), c10::optional<double>()}) {
        auto whole = layerWith(weight, bias, momentum);
        const at::Tensor xw = x.clone().requires_grad_(true);
        for (int step = 0; step < 2; ++step) (whole(xw) * upstream).sum().backward();
        const at::Tensor y = whole(x.clone()).detach();  // a third step, for the output

        const int64_t start[2] = {0, 5}, count[2] = {5, 2};
        std::vector<at::Tensor> ys(2), dx(2), dw(2), db(2), mean(2), var(2);
        onRanks(2, [&](ProcessGroupHandle& pg) {
            const int r = pg.rank();
            auto bn = layerWith(weight, bias, momentum);
            const at::Tensor xs = x.narrow(0, start[r], count[r]).clone().requires_grad_(true);
            const at::Tensor up = upstream.narrow(0, start[r], count[r]);
            for (int step = 0; step < 2; ++step)
                (syncBatchNormForward(pg, *bn, xs) * up).sum().backward();
            ys[r] = syncBatchNormForward(pg, *bn, x.narrow(0, start[r], count[r])).detach();
            dx[r] = xs.grad();
            dw[r] = bn->weight.grad();
            db[r] = bn->bias.grad();
            mean[r] = bn->running_mean.clone();
            var[r] = bn->running_var.clone();
            EXPECT_EQ(bn->num_batches_tracked.item<int64_t>(), 3);
        });
        expectClose(at::cat(ys), y, 1e-5, "output");
        expectClose(at::cat(dx), xw.grad(), 1e-5, "input gradient");
        expectClose(dw[0] + dw[1], whole->weight.grad(), 1e-4, "weight gradient");
        expectClose(db[0] + db[1], whole->bias.grad(), 1e-4, "bias gradient");
        for (int r = 0; r < 2; ++r) {
            expectClose(mean[r], whole->running_mean, 1e-5, "running mean");
            expectClose(var[r], whole->running_var, 1e-5, "running variance");
        }
    }
}

// A small network whose parameters fill several 40-byte buckets, one of them unused by the
// forward pass: after finish(), every rank's gradients are the sum of both ranks' own.
TEST(GradientReducer, SumsEveryGradientOverTheProcessesBucketByBucket) {
    CAMX_NEEDS_GLOO();
    at::manual_seed(9);
    const at::Tensor w1 = at::randn({5, 6}), b1 = at::randn({5}), w2 = at::randn({3, 5}),
                     b2 = at::randn({3}), spare = at::randn({4});
    const std::vector<at::Tensor> inputs = {at::randn({4, 6}), at::randn({2, 6})};
    auto forward = [](const std::vector<at::Tensor>& p, const at::Tensor& x) {
        return at::relu(at::linear(at::relu(at::linear(x, p[0], p[1])), p[2], p[3])).square().sum();
    };
    auto fresh = [&] {
        std::vector<at::Tensor> p;
        for (const auto& t : {w1, b1, w2, b2, spare}) p.push_back(t.clone().requires_grad_(true));
        return p;
    };
    // The oracle: each rank's own gradients, summed.
    std::vector<at::Tensor> expected;
    for (int r = 0; r < 2; ++r) {
        auto p = fresh();
        forward(p, inputs[static_cast<std::size_t>(r)] * (1 + r)).backward();
        for (std::size_t k = 0; k < 4; ++k)
            expected.size() > k ? (void)(expected[k] = expected[k] + p[k].grad())
                                : expected.push_back(p[k].grad().clone());
    }
    expected.push_back(at::zeros({4}));

    std::vector<std::vector<at::Tensor>> got(2);
    std::vector<std::size_t> buckets(2);
    onRanks(2, [&](ProcessGroupHandle& pg) {
        const int r = pg.rank();
        auto p = fresh();
        GradientReducer reducer(pg, p, 40);
        buckets[static_cast<std::size_t>(r)] = reducer.bucketCount();
        for (int step = 0; step < 2; ++step) {  // the second step starts from clean buckets
            for (auto& t : p)
                if (t.grad().defined()) t.mutable_grad().zero_();
            reducer.prepare();
            forward(p, inputs[static_cast<std::size_t>(r)] * (1 + r)).backward();
            reducer.finish();
        }
        for (auto& t : p) got[static_cast<std::size_t>(r)].push_back(t.grad().clone());
    });
    // 20 + 5 + 15 + 3 + 4 floats of 4 bytes in 40-byte buckets, largest ones alone.
    EXPECT_GE(buckets[0], 4u);
    EXPECT_EQ(buckets[0], buckets[1]);
    for (int r = 0; r < 2; ++r)
        for (std::size_t k = 0; k < expected.size(); ++k)
            expectClose(got[static_cast<std::size_t>(r)][k], expected[k], 1e-5, "gradient");
}

}  // namespace
}  // namespace camx::dist
