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

// Normalised maps (ReLU, min-max) of two explanations agree within `tol`.
void expectSameNormalised(const Heatmap* a, const Heatmap* b, float tol, const std::string& what) {
    ASSERT_TRUE(a && b) << what;
    const auto na = minmax(*a, true), nb = minmax(*b, true);
    ASSERT_EQ(na.size(), nb.size()) << what;
    float gap = 0;
    for (std::size_t i = 0; i < na.size(); ++i) gap = std::max(gap, std::fabs(na[i] - nb[i]));
    EXPECT_LE(gap, tol) << what;
}

// Finer-CAM's comparison classes written out: every other class by |y_k - y_t|, ties to the lower
// index, the classes at `ranks`.
std::vector<int> nearestClasses(const std::vector<float>& logits, int target,
                                const std::vector<int>& ranks) {
    std::vector<int> order;
    for (int k = 0; k < static_cast<int>(logits.size()); ++k)
        if (k != target) order.push_back(k);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
        return std::fabs(logits[a] - logits[target]) < std::fabs(logits[b] - logits[target]);
    });
    std::vector<int> out;
    for (int r : ranks) out.push_back(order[static_cast<std::size_t>(r - 1)]);
    return out;
}

TEST(ExplainerFinerCam, AlphaZeroIsGradCamOfTheTarget) {
    // alpha = 0: s = y_t * P / (P + 1e-9) with P the comparison classes' probability mass, whose
    // gradient is Grad-CAM's to about 1e-8 relative.
    Explainer ex(tinyNet());
    const int last = ex.net()->lastBlockTap(), early = ex.net()->findTap("layer3.1");
    ExplainOptions o;
    o.methods = {Method::GradCam, Method::FinerCam};
    o.finerAlpha = 0;
    // At the last block alone (closed form), and with an earlier block (backward passes).
    for (const auto& taps : {std::vector<int>{last}, std::vector<int>{early, last}}) {
        o.taps = taps;
        const auto res = ex.explain(images(), {-1, 3}, o);
        for (const auto& r : res) {
            EXPECT_EQ(r.finerClasses.size(), 3u);
            for (int t : taps)
                expectSameNormalised(r.find(Method::FinerCam, t), r.find(Method::GradCam, t), 1e-5f,
                                     "tap " + std::to_string(t));
        }
    }
    // With alpha 1 it is another map.
    o.finerAlpha = 1;
    o.taps = {early};
    const auto res = ex.explain(images(), {-1, 3}, o);
    const auto a = minmax(*res[0].find(Method::FinerCam, early), true);
    const auto b = minmax(*res[0].find(Method::GradCam, early), true);
    float gap = 0;
    for (std::size_t i = 0; i < a.size(); ++i) gap = std::max(gap, std::fabs(a[i] - b[i]));
    EXPECT_GT(gap, 0.05f);
}

TEST(ExplainerFinerCam, AgainstOneClassAtTheLastBlockIsByHand) {
    // One comparison class j: s = c (y_t - alpha y_j) with c = p_j / (p_j + e), e = 1e-9, so
    //   ds/dy = c (e_t - alpha e_j) + (y_t - alpha y_j) e / (p_j + e)^2 * p_j (e_j - p),
    // and with GAP + Dense the map is sum_k (ds/dy_k) CAM_k / (h*w). Where p_j >> 1e-9 that is
    // (CAM_t - alpha CAM_j) / (h*w); in this random ResNet-50, p_j is 2e-7 and 2e-8, so the second
    // term counts (about 8%).
    Explainer ex(tinyNet(Arch::ResNet50));
    ExplainOptions o;
    o.methods = {Method::FinerCam};
    o.finerAlpha = 0.6;
    o.finerCompare = {2};
    const at::Tensor x = images();
    const auto res = ex.explain(x, {-1, 1}, o);
    const int last = ex.net()->lastBlockTap();
    torch::NoGradGuard g;
    auto out = ex.net()->forwardTaps(x, {last});
    const at::Tensor W = ex.net()->classifier()->weight.to(at::kDouble);
    const at::Tensor y = out.logits.to(at::kDouble);
    for (int64_t b = 0; b < 2; ++b) {
        const auto& r = res[static_cast<std::size_t>(b)];
        ASSERT_EQ(r.finerClasses, nearestClasses(r.logits, r.target, {2}));
        const int t = r.target, j = r.finerClasses[0];
        const at::Tensor p = y[b].softmax(0);
        const double pj = p[j].item<double>(), e = 1e-9;
        const double diff = y[b][t].item<double>() - 0.6 * y[b][j].item<double>();
        at::Tensor v = -(diff * e / ((pj + e) * (pj + e)) * pj) * p;
        v[j] += diff * e / ((pj + e) * (pj + e)) * pj - 0.6 * pj / (pj + e);
        v[t] += pj / (pj + e);
        const at::Tensor A = out.taps[0][b].to(at::kDouble);
        const double hw = A.size(1) * A.size(2);
        const at::Tensor w = v.matmul(W) / hw;
        const at::Tensor want = (A * w.reshape({-1, 1, 1})).sum(0).flatten();
        const Heatmap* got = r.find(Method::FinerCam, last);
        ASSERT_TRUE(got);
        const double scale = want.abs().max().item<double>();
        for (int64_t i = 0; i < want.numel(); ++i)
            EXPECT_NEAR(got->data[static_cast<std::size_t>(i)], want[i].item<double>(),
                        1e-5 * scale);
    }
}

TEST(ExplainerFinerCam, IsGradCamOfTheFinerWeightedTargetWrittenOut) {
    // An independent autograd pass through the plain network, with pytorch-grad-cam's
    // FinerWeightedTarget written out term by term: sum_j p_j (y_t - alpha y_j) / (sum_j p_j +
    // 1e-9), the probabilities part of the score.
    Explainer ex(tinyNet(Arch::ResNet18, 7));
    const int early = ex.net()->findTap("layer3.0"), last = ex.net()->lastBlockTap();
    ExplainOptions o;
    o.methods = {Method::FinerCam};
    o.finerAlpha = 0.7;
    o.finerCompare = {1, 4, 4};  // a repeated rank counts twice, as in upstream's sum
    const at::Tensor x = images();
    const std::vector<int> targets{-1, 5};
    ExplainOptions closed = o;
    closed.taps = {last};
    o.taps = {early, last};
    const auto res = ex.explain(x, targets, o);
    const auto resClosed = ex.explain(x, targets, closed);

    at::Tensor xi = x.clone();
    torch::AutoGradMode on(true);
    auto out = ex.net()->forwardTaps(xi, {early, last}, early);
    const at::Tensor p = out.logits.softmax(1);
    at::Tensor score = at::zeros({}, at::kFloat);
    for (int64_t b = 0; b < 2; ++b) {
        const auto& r = res[static_cast<std::size_t>(b)];
        ASSERT_EQ(r.finerClasses, nearestClasses(r.logits, r.target, {1, 4, 4}));
        EXPECT_EQ(resClosed[static_cast<std::size_t>(b)].finerClasses, r.finerClasses);
        at::Tensor num = at::zeros({}, at::kFloat), den = at::zeros({}, at::kFloat);
        for (int j : r.finerClasses) {
            num = num + p[b][j] * (out.logits[b][r.target] - 0.7 * out.logits[b][j]);
            den = den + p[b][j];
        }
        score = score + num / (den + 1e-9);
    }
    out.taps[0].retain_grad();
    out.taps[1].retain_grad();
    score.backward();
    for (std::size_t k = 0; k < 2; ++k) {
        const at::Tensor A = out.taps[k].detach(), G = out.taps[k].grad();
        const at::Tensor want = (A * G.mean({2, 3}, true)).sum(1);
        const int tap = k == 0 ? early : last;
        for (int64_t b = 0; b < 2; ++b) {
            const at::Tensor w = want[b].flatten();
            const double scale = w.abs().max().item<double>();
            for (const auto* r :
                 {&res[static_cast<std::size_t>(b)], &resClosed[static_cast<std::size_t>(b)]}) {
                const Heatmap* got = r->find(Method::FinerCam, tap);
                if (!got) continue;  // the closed-form run has the last block only
                for (int64_t i = 0; i < w.numel(); ++i)
                    EXPECT_NEAR(got->data[static_cast<std::size_t>(i)], w[i].item<float>(),
                                1e-4 * scale)
                        << "tap " << tap << ", image " << b;
            }
        }
    }
}

TEST(ExplainerFinerCam, RefusesRanksTheModelDoesNotHave) {
    Explainer ex(tinyNet(Arch::ResNet18, 5));
    ExplainOptions o;
    o.methods = {Method::FinerCam};
    for (const auto& ranks : {std::vector<int>{0}, std::vector<int>{1, 5}, std::vector<int>{-1}}) {
        o.finerCompare = ranks;
        EXPECT_THROW(ex.explain(images(1), {-1}, o), std::invalid_argument) << ranks.size();
    }
    o.finerCompare = {4};
    o.finerAlpha = std::numeric_limits<double>::quiet_NaN();
    EXPECT_THROW(ex.explain(images(1), {-1}, o), std::invalid_argument);
    o.finerAlpha = 2;
    auto r = ex.explain(images(1), {-1}, o);
    EXPECT_EQ(r[0].finerClasses, nearestClasses(r[0].logits, r[0].target, {4}));
    // No ranks: pytorch-grad-cam's [1, 2, 3] ...
    o.finerCompare.clear();
    r = ex.explain(images(1), {-1}, o);
    EXPECT_EQ(r[0].finerClasses, nearestClasses(r[0].logits, r[0].target, {1, 2, 3}));
    // ... as far as the model has other classes.
    Explainer two(tinyNet(Arch::ResNet18, 2));
    r = two.explain(images(1), {-1}, o);
    EXPECT_EQ(r[0].finerClasses, std::vector<int>{1 - r[0].target});
    Explainer one(tinyNet(Arch::ResNet18, 1));
    EXPECT_THROW(one.explain(images(1), {-1}, o), std::invalid_argument);
    // Other methods do not look at the Finer-CAM options, and report no comparison classes.
    o.methods = {Method::GradCam};
    o.finerCompare = {0};
    EXPECT_TRUE(ex.explain(images(1), {-1}, o)[0].finerClasses.empty());
}

// pytorch-grad-cam's per-layer output: ReLU and min-max with 1e-7, twice.
std::vector<float> upstreamScaled(std::vector<float> v) {
    for (int round = 0; round < 2; ++round) {
        for (float& x : v) x = std::max(x, 0.f);
        const float lo = *std::min_element(v.begin(), v.end());
        for (float& x : v) x -= lo;
        const float hi = *std::max_element(v.begin(), v.end());
        for (float& x : v) x /= hi + 1e-7f;
    }
    return v;
}

TEST(ExplainerSmoothing, AugSmoothIsTheMeanOfTheSixVersionsBroughtBack) {
    // Each of {as is, flipped} x {0.9, 1, 1.1} explained on its own (for the unaugmented
    // prediction), flipped back, scaled as pytorch-grad-cam returns it, and averaged.
    Explainer ex(tinyNet());
    const int early = ex.net()->findTap("layer2.1"), last = ex.net()->lastBlockTap();
    ExplainOptions o;
    o.methods = {Method::GradCam, Method::LayerCam, Method::FinerCam, Method::Cam};
    o.taps = {early, last};
    const at::Tensor x = images();
    ExplainOptions smooth = o;
    smooth.augSmooth = true;
    const auto plain = ex.explain(x, {-1, 2}, o);
    const auto got = ex.explain(x, {-1, 2}, smooth);
    const std::vector<int> targets{plain[0].target, plain[1].target};
    std::map<std::tuple<Method, int, std::size_t>, std::vector<float>> sum;
    for (bool flip : {false, true})
        for (float factor : {0.9f, 1.f, 1.1f}) {
            at::Tensor xa = flip ? x.flip({3}) : x;
            const auto r = ex.explain(xa * factor, targets, o);
            for (std::size_t b = 0; b < 2; ++b) {
                // Finer-CAM compares with the unaugmented input's classes: these versions pick
                // the same ones here, so that a plain pass is the oracle.
                ASSERT_EQ(r[b].finerClasses, plain[b].finerClasses);
                for (Method m : {Method::GradCam, Method::LayerCam, Method::FinerCam})
                    for (int tap : o.taps) {
                        const Heatmap* h = r[b].find(m, tap);
                        ASSERT_TRUE(h);
                        std::vector<float> v(h->data.size());
                        for (int yy = 0; yy < h->height; ++yy)
                            for (int xx = 0; xx < h->width; ++xx)
                                v[static_cast<std::size_t>(yy * h->width + xx)] =
                                    h->at(flip ? h->width - 1 - xx : xx, yy);
                        v = upstreamScaled(v);
                        auto& acc = sum[{m, tap, b}];
                        if (acc.empty()) acc.assign(v.size(), 0.f);
                        for (std::size_t i = 0; i < v.size(); ++i) acc[i] += v[i];
                    }
            }
        }
    for (const auto& [key, acc] : sum) {
        const auto& [m, tap, b] = key;
        const Heatmap* h = got[b].find(m, tap);
        ASSERT_TRUE(h);
        for (std::size_t i = 0; i < acc.size(); ++i)
            EXPECT_NEAR(h->data[i], acc[i] / 6, 1e-6) << methodName(m) << " tap " << tap;
    }
    // CAM is not a gradient method: the same map as without smoothing.
    for (std::size_t b = 0; b < 2; ++b)
        EXPECT_EQ(got[b].find(Method::Cam, last)->data, plain[b].find(Method::Cam, last)->data);
    EXPECT_EQ(got[0].target, plain[0].target);
    EXPECT_EQ(got[0].logits, plain[0].logits);
}

TEST(ExplainerSmoothing, AugSmoothMapsOfAMirrorSymmetricInputAreMirrorSymmetric) {
    Explainer ex(tinyNet());
    at::Tensor x = images(1);
    x = (x + x.flip({3})) / 2;
    ExplainOptions o;
    o.methods = {Method::GradCam, Method::GradCamPlusPlus, Method::HiResCam, Method::FinerCam};
    o.taps = {ex.net()->findTap("layer2.0"), ex.net()->lastBlockTap()};
    // The largest difference between a normalised map and its mirror image.
    auto asymmetry = [](const Heatmap& h) {
        const auto n = minmax(h, true);
        float gap = 0;
        for (int yy = 0; yy < h.height; ++yy)
            for (int xx = 0; xx < h.width; ++xx)
                gap = std::max(
                    gap, std::fabs(n[static_cast<std::size_t>(yy * h.width + xx)] -
                                   n[static_cast<std::size_t>(yy * h.width + h.width - 1 - xx)]));
        return gap;
    };
    const auto plain = ex.explain(x, {-1}, o);
    o.augSmooth = true;
    const auto smooth = ex.explain(x, {-1}, o);
    for (Method m : o.methods)
        for (int tap : o.taps) {
            // Convolutions are not mirror symmetric, so neither are the plain maps...
            EXPECT_GT(asymmetry(*plain[0].find(m, tap)), 1e-2) << methodName(m) << " " << tap;
            // ... but averaging each version with its mirrored twin is.
            EXPECT_LE(asymmetry(*smooth[0].find(m, tap)), 1e-6) << methodName(m) << " " << tap;
        }
}

TEST(ExplainerSmoothing, EigenSmoothProjectsTheWeightedActivationsOnTheirFirstComponent) {
    Explainer ex(tinyNet());
    const int tap = ex.net()->findTap("layer3.1");
    ExplainOptions o;
    o.methods = {Method::GradCam, Method::LayerCam};
    o.taps = {tap};
    o.eigenSmooth = true;
    const at::Tensor x = images(1);
    const auto res = ex.explain(x, {2}, o);

    at::Tensor xi = x.clone();
    torch::AutoGradMode on(true);
    auto out = ex.net()->forwardTaps(xi, {tap}, tap);
    out.taps[0].retain_grad();
    out.logits[0][2].backward();
    const at::Tensor A = out.taps[0].detach()[0].to(at::kDouble);
    const at::Tensor G = out.taps[0].grad()[0].to(at::kDouble);
    const int64_t C = A.size(0), h = A.size(1), w = A.size(2);
    for (Method m : o.methods) {
        const at::Tensor T = m == Method::GradCam ? A * G.mean({1, 2}, true) : at::relu(G) * A;
        // Positions as rows, channels as centred columns; the first right singular vector by
        // power iteration on the covariance, the sign chosen so that max >= -min.
        at::Tensor X = T.reshape({C, h * w}).t();
        X = X - X.mean(0, true);
        const at::Tensor cov = X.t().matmul(X);
        at::Tensor v = at::ones({C}, at::kDouble);
        for (int it = 0; it < 2000; ++it) v = cov.matmul(v), v = v / v.norm();
        at::Tensor proj = X.matmul(v);
        if (proj.max().item<double>() < -proj.min().item<double>()) proj = -proj;
        const Heatmap* got = res[0].find(m, tap);
        ASSERT_TRUE(got);
        const double scale = proj.abs().max().item<double>();
        for (int64_t i = 0; i < proj.numel(); ++i)
            EXPECT_NEAR(got->data[static_cast<std::size_t>(i)], proj[i].item<double>(),
                        1e-4 * scale)
                << methodName(m);
    }
}

}  // namespace
}  // namespace camx
