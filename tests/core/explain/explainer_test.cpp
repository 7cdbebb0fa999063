#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "explain/explainer.h"

namespace camx {
namespace {

CamNet tinyNet(Arch arch = Arch::ResNet18, int classes = 5) {
    at::manual_seed(1);
    CamNet net(arch, classes, 4);
    // Random batch-norm statistics so that eval mode is not the identity.
    torch::NoGradGuard g;
    for (auto& b : net->named_buffers())
        if (b.key().find("running_var") != std::string::npos)
            b.value().uniform_(0.5, 1.5);
        else if (b.key().find("running_mean") != std::string::npos)
            b.value().uniform_(-0.1, 0.1);
    return net;
}

at::Tensor images(int n = 2, int size = 64) {
    at::manual_seed(2);
    return at::randn({n, 3, size, size});
}

std::vector<float> minmax(const Heatmap& h, bool relu) {
    std::vector<float> v = h.data;
    if (relu)
        for (float& x : v) x = std::max(x, 0.f);
    const auto [mn, mx] = std::minmax_element(v.begin(), v.end());
    const float lo = *mn, hi = *mx;
    for (float& x : v) x = (x - lo) / (hi - lo + 1e-7f);
    return v;
}

TEST(Explainer, GradCamAtTheLastBlockEqualsReluCamUpToScale) {
    // With GAP + Dense, dy_c/dA_k(i,j) = W[c,k]/(h*w), so Grad-CAM = ReLU(CAM)/(h*w) exactly.
    Explainer ex(tinyNet(Arch::ResNet50));
    ExplainOptions o;
    o.methods = {Method::Cam, Method::GradCam, Method::XGradCam};
    auto res = ex.explain(images(), {-1, 3}, o);
    ASSERT_EQ(res.size(), 2u);
    EXPECT_EQ(res[1].target, 3);
    const int last = ex.net()->lastBlockTap();
    for (const auto& r : res) {
        const Heatmap* cam = r.find(Method::Cam, last);
        const Heatmap* grad = r.find(Method::GradCam, last);
        ASSERT_TRUE(cam && grad);
        const float hw = static_cast<float>(cam->width * cam->height);
        for (std::size_t i = 0; i < cam->data.size(); ++i)
            EXPECT_NEAR(grad->data[i], cam->data[i] / hw,
                        1e-6f + 1e-5f * std::fabs(cam->data[i] / hw));
        const auto a = minmax(*cam, true), b = minmax(*grad, true);
        for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5f);
        // XGradCAM agrees too (reference.md §3).
        const auto c = minmax(*r.find(Method::XGradCam, last), true);
        for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], c[i], 1e-5f);
    }
}

TEST(Explainer, EarlierLayerGradientsMatchAnIndependentAutogradPass) {
    CamNet net = tinyNet();
    Explainer ex(net);
    const int tap = ex.net()->findTap("layer3.1");
    const int early = ex.net()->findTap("layer2.0");
    ExplainOptions o;
    o.methods = {Method::GradCam, Method::HiResCam};
    o.taps = {tap, early};
    const at::Tensor x = images(1);
    auto res = ex.explain(x, {2}, o);

    // Independent pass: the whole graph from an input that requires grad, retain_grad on taps.
    at::Tensor xi = x.clone().requires_grad_(true);
    torch::AutoGradMode on(true);
    auto out = ex.net()->forwardTaps(xi, {tap, early});
    out.taps[0].retain_grad();
    out.taps[1].retain_grad();
    out.logits[0][2].backward();
    for (int k = 0; k < 2; ++k) {
        const at::Tensor A = out.taps[static_cast<std::size_t>(k)].detach();
        const at::Tensor G = out.taps[static_cast<std::size_t>(k)].grad();
        const at::Tensor want = (A * G.mean({2, 3}, true)).sum(1)[0];
        const Heatmap* got = res[0].find(Method::GradCam, k == 0 ? tap : early);
        ASSERT_TRUE(got);
        for (int64_t i = 0; i < want.numel(); ++i)
            EXPECT_NEAR(got->data[static_cast<std::size_t>(i)], want.flatten()[i].item<float>(),
                        1e-5);
        const at::Tensor hires = (A * G).sum(1)[0];
        const Heatmap* gotHi = res[0].find(Method::HiResCam, k == 0 ? tap : early);
        for (int64_t i = 0; i < hires.numel(); ++i)
            EXPECT_NEAR(gotHi->data[static_cast<std::size_t>(i)], hires.flatten()[i].item<float>(),
                        1e-5);
    }
}

TEST(Explainer, ProbabilityTargetFollowsTheSoftmaxChainRule) {
    // d softmax_c / dA = p_c * (dy_c/dA - sum_j p_j dy_j/dA); at the last block that is
    // p_c * (W_c - sum_j p_j W_j) / (h*w) per channel.
    Explainer ex(tinyNet());
    ExplainOptions o;
    o.methods = {Method::GradCam};
    o.score = ScoreKind::Probability;
    const at::Tensor x = images(1);
    auto res = ex.explain(x, {1}, o);
    const int last = ex.net()->lastBlockTap();
    torch::NoGradGuard g;
    auto out = ex.net()->forwardTaps(x, {last});
    const at::Tensor p = out.logits.softmax(1)[0];
    const at::Tensor Wt = ex.net()->classifier()->weight;
    const at::Tensor A = out.taps[0][0];
    const double hw = A.size(1) * A.size(2);
    const at::Tensor alpha = p[1] * (Wt[1] - (p.unsqueeze(1) * Wt).sum(0)) / hw;
    const at::Tensor want = (A * alpha.reshape({-1, 1, 1})).sum(0);
    const Heatmap* got = res[0].find(Method::GradCam, last);
    for (int64_t i = 0; i < want.numel(); ++i)
        EXPECT_NEAR(got->data[static_cast<std::size_t>(i)], want.flatten()[i].item<float>(), 1e-6);
}

TEST(Explainer, NeverComputesParameterGradients) {
    Explainer ex(tinyNet());
    ExplainOptions o;
    o.methods = {Method::GradCam, Method::LayerCam};
    o.taps = ex.net()->blockTaps();
    auto res = ex.explain(images(), {-1, -1}, o);
    EXPECT_EQ(res[0].maps.size(), 2 * o.taps.size());
    for (auto& p : ex.net()->parameters()) {
        EXPECT_FALSE(p.grad().defined());
        EXPECT_FALSE(p.requires_grad());
    }
}

TEST(Explainer, TopKAndPredictedTarget) {
    Explainer ex(tinyNet());
    ExplainOptions o;
    o.methods = {Method::Cam};
    auto res = ex.explain(images(1), {-1}, o);
    ASSERT_EQ(res[0].top.size(), 5u);
    EXPECT_EQ(res[0].target, res[0].top[0].classIndex);
    float sum = 0;
    for (std::size_t i = 0; i + 1 < res[0].top.size(); ++i) {
        EXPECT_GE(res[0].top[i].probability, res[0].top[i + 1].probability);
        sum += res[0].top[i].probability;
    }
    EXPECT_LE(sum, 1.0f);
    EXPECT_THROW(ex.explain(images(1), {7}, o), std::invalid_argument);
}

TEST(Explainer, ScoreCamWeightsAreASoftmaxOverMaskedScores) {
    Explainer ex(tinyNet());
    ExplainOptions o;
    o.methods = {Method::ScoreCam};
    o.scoreCamBatch = 7;  // uneven chunks on purpose
    const at::Tensor x = images(1, 64);
    auto res = ex.explain(x, {0}, o);
    const int last = ex.net()->lastBlockTap();
    torch::NoGradGuard g;
    auto out = ex.net()->forwardTaps(x, {last});
    const at::Tensor A = out.taps[0][0];
    const int64_t C = A.size(0);
    std::vector<double> scores;
    for (int64_t k = 0; k < C; ++k) {
        at::Tensor up = at::upsample_bilinear2d(A[k].unsqueeze(0).unsqueeze(0), {64, 64}, false);
        up = (up - up.min()) / (up.max() - up.min() + 1e-7);
        scores.push_back(ex.net()->forward(x * up)[0][0].item<double>());
    }
    const at::Tensor w = at::tensor(scores, at::kDouble).softmax(0).to(at::kFloat);
    const at::Tensor want = (A * w.reshape({-1, 1, 1})).sum(0);
    const Heatmap* got = res[0].find(Method::ScoreCam, last);
    for (int64_t i = 0; i < want.numel(); ++i)
        EXPECT_NEAR(got->data[static_cast<std::size_t>(i)], want.flatten()[i].item<float>(), 1e-4);
}

}  // namespace
}  // namespace camx
