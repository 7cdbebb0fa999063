// The inference form (batch norm folded, oneDNN or channels-last, closed-form gradients at the
// last block) against the plain torch::nn network with autograd through the backbone.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "common/cpu_features.h"
#include "explain/explainer.h"
#include "explain/postprocess.h"

namespace camx {
namespace {

// A narrow copy of the real architecture, with batch norm that is far from the identity, so a
// wrong fold (a missing eps, scale or shift) shows in every map.
CamNet randomNet(Arch arch, int classes = 6, int width = 8) {
    at::manual_seed(7);
    CamNet net(arch, classes, width);
    at::NoGradGuard g;
    for (auto& b : net->named_buffers()) {
        if (b.key().find("running_var") != std::string::npos) b.value().uniform_(0.3, 2.0);
        if (b.key().find("running_mean") != std::string::npos) b.value().uniform_(-0.3, 0.3);
    }
    for (auto& p : net->named_parameters()) {
        const std::string& k = p.key();
        if (k.find("bn") != std::string::npos || k.find("downsample.1") != std::string::npos) {
            if (k.find("weight") != std::string::npos) p.value().uniform_(0.5, 1.5);
            if (k.find("bias") != std::string::npos) p.value().uniform_(-0.2, 0.2);
        }
    }
    return net;
}

at::Tensor images(int n, int size) {
    at::manual_seed(3);
    return at::randn({n, 3, size, size});
}

// The largest difference between two maps after the display normalisation (ReLU where the
// method uses it, then min-max to [0, 1]).
float normalisedGap(const Heatmap& a, const Heatmap& b, Method m) {
    const Heatmap na = normalizeMap(a, methodUsesRelu(m)), nb = normalizeMap(b, methodUsesRelu(m));
    EXPECT_EQ(na.data.size(), nb.data.size());
    float gap = 0;
    for (std::size_t i = 0; i < na.data.size() && i < nb.data.size(); ++i)
        gap = std::max(gap, std::fabs(na.data[i] - nb.data[i]));
    return gap;
}

double correlation(const Heatmap& a, const Heatmap& b) {
    const std::size_t n = std::min(a.data.size(), b.data.size());
    double ma = 0, mb = 0;
    for (std::size_t i = 0; i < n; ++i) ma += a.data[i], mb += b.data[i];
    ma /= static_cast<double>(n), mb /= static_cast<double>(n);
    double ab = 0, aa = 0, bb = 0;
    for (std::size_t i = 0; i < n; ++i) {
        ab += (a.data[i] - ma) * (b.data[i] - mb);
        aa += (a.data[i] - ma) * (a.data[i] - ma);
        bb += (b.data[i] - mb) * (b.data[i] - mb);
    }
    return ab / std::sqrt(aa * bb + 1e-30);
}

struct Case {
    Arch arch;
    ScoreKind score;
};

class FastPath : public ::testing::TestWithParam<Case> {};

void expectSameMaps(Explainer& ex, const ExplainOptions& o) {
    const at::Tensor x = images(3, 64);
    const std::vector<int> targets = {-1, 2, 5};
    ExplainOptions ref = o;
    ref.referencePath = true;
    const auto fast = ex.explain(x, targets, o);
    const auto plain = ex.explain(x, targets, ref);
    ASSERT_EQ(fast.size(), plain.size());
    for (std::size_t b = 0; b < fast.size(); ++b) {
        EXPECT_EQ(fast[b].target, plain[b].target);
        ASSERT_EQ(fast[b].logits.size(), plain[b].logits.size());
        for (std::size_t k = 0; k < fast[b].logits.size(); ++k)
            EXPECT_NEAR(fast[b].logits[k], plain[b].logits[k],
                        1e-4f * (1 + std::fabs(plain[b].logits[k])));
        ASSERT_EQ(fast[b].maps.size(), plain[b].maps.size());
        for (const MapResult& m : plain[b].maps) {
            const Heatmap* f = fast[b].find(m.method, m.tap);
            ASSERT_TRUE(f) << methodName(m.method);
            EXPECT_LT(normalisedGap(*f, m.raw, m.method), 1e-4f)
                << methodName(m.method) << " at " << ex.net()->taps()[m.tap].name << ", image "
                << b;
        }
    }
}

ExplainOptions everyMethod(ScoreKind score) {
    ExplainOptions o;
    o.methods = allMethods();
    o.score = score;
    o.scoreCamBatch = 16;
    o.scoreCamMaxChannels = 24;  // the same strongest channels on both paths
    return o;
}

// At the last block alone the gradients come from the closed form, without a backward pass.
TEST_P(FastPath, EveryMethodAtTheLastBlockEqualsThePlainFp32Path) {
    Explainer ex(randomNet(GetParam().arch));
    ExplainOptions o = everyMethod(GetParam().score);
    o.taps = {ex.net()->lastBlockTap(), ex.net()->findTap("layer4")};
    expectSameMaps(ex, o);
}

// With earlier taps the network backpropagates from the earliest one.
TEST_P(FastPath, EveryMethodAtEveryTapEqualsThePlainFp32Path) {
    Explainer ex(randomNet(GetParam().arch));
    ExplainOptions o = everyMethod(GetParam().score);
    o.taps = ex.net()->blockTaps();
    o.taps.push_back(ex.net()->findTap("stem"));
    expectSameMaps(ex, o);
}

// Test-time augmentation and eigen smoothing, at the last block (closed form) and earlier. On
// the logit: these random networks' logits are in the hundreds, so in the augmented versions the
// softmax saturates and the probability's gradient p_t (W_t - sum_k p_k W_k) cancels to float32
// noise, different on each path.
TEST(FastPathSmoothing, SmoothedGradientMapsEqualThePlainFp32Path) {
    for (Arch arch : {Arch::ResNet18, Arch::ResNet50}) {
        SCOPED_TRACE(archName(arch));
        Explainer ex(randomNet(arch));
        ExplainOptions o;
        o.methods = {Method::GradCam,  Method::GradCamPlusPlus, Method::XGradCam,
                     Method::LayerCam, Method::HiResCam,        Method::FinerCam};
        o.augSmooth = true;
        o.taps = {ex.net()->lastBlockTap()};
        expectSameMaps(ex, o);
        o.eigenSmooth = true;
        o.taps.push_back(ex.net()->findTap("layer3"));
        expectSameMaps(ex, o);
    }
}

INSTANTIATE_TEST_SUITE_P(Architectures, FastPath,
                         ::testing::Values(Case{Arch::ResNet18, ScoreKind::Logit},
                                           Case{Arch::ResNet18, ScoreKind::Probability},
                                           Case{Arch::ResNet50, ScoreKind::Logit},
                                           Case{Arch::ResNet50, ScoreKind::Probability}),
                         [](const auto& info) {
                             return archName(info.param.arch) +
                                    (info.param.score == ScoreKind::Logit ? "_logit"
                                                                          : "_probability");
                         });

TEST(FastPathNet, RawLastBlockFeaturesEqualTheEagerNetwork) {
    CamNet net = randomNet(Arch::ResNet50);
    net->eval();
    const at::Tensor x = images(2, 96);
    const int last = net->lastBlockTap(), early = net->findTap("layer2.1");
    InferenceNet fast(*net, c10::Device(c10::kCPU));
    EXPECT_EQ(fast.backend(), InferenceNet::backendFor(c10::Device(c10::kCPU)));
    c10::InferenceMode guard;
    const ForwardOutput want = net->forwardTaps(x, {last, early});
    const ForwardOutput got = fast.forward(x, {last, early});
    ASSERT_EQ(got.taps.size(), 2u);
    for (int k = 0; k < 2; ++k) {
        const at::Tensor a = got.taps[static_cast<std::size_t>(k)];
        const at::Tensor w = want.taps[static_cast<std::size_t>(k)];
        ASSERT_EQ(a.sizes(), w.sizes());
        const double scale = w.abs().max().item<double>();
        EXPECT_LT((a - w).abs().max().item<double>(), 1e-4 * scale);
    }
    EXPECT_LT((got.logits - want.logits).abs().max().item<double>(),
              1e-4 * want.logits.abs().max().item<double>());
}

TEST(FastPathNet, TheGradientLeafIsTheOnlyThingRecorded) {
    CamNet net = randomNet(Arch::ResNet18);
    net->eval();
    InferenceNet fast(*net, c10::Device(c10::kCPU));
    const int tap = net->findTap("layer3.0");
    torch::AutoGradMode on(true);
    const ForwardOutput out = fast.forward(images(1, 64), {tap, net->lastBlockTap()}, tap);
    EXPECT_TRUE(out.taps[0].is_leaf());
    EXPECT_TRUE(out.taps[0].requires_grad());
    EXPECT_TRUE(out.taps[1].requires_grad());
    EXPECT_FALSE(out.taps[1].is_leaf());
    EXPECT_TRUE(out.logits.requires_grad());
    // Without a leaf nothing is recorded at all.
    const ForwardOutput plain = fast.forward(images(1, 64), {tap});
    EXPECT_FALSE(plain.logits.requires_grad());
    EXPECT_FALSE(plain.taps[0].requires_grad());
}

TEST(FastPathNet, AForwardInInferenceModeFirstDoesNotBreakALaterBackward) {
    // logits() builds the inference form inside inference mode; its weights must still be
    // usable by a backward pass from an earlier block afterwards.
    Explainer ex(randomNet(Arch::ResNet18));
    const at::Tensor x = images(2, 64);
    ex.logits(x);
    ExplainOptions o;
    o.methods = {Method::GradCam};
    o.taps = {ex.net()->findTap("layer2.0")};
    std::vector<ImageExplanation> res;
    ASSERT_NO_THROW(res = ex.explain(x, {-1, 1}, o));
    ExplainOptions ref = o;
    ref.referencePath = true;
    const auto want = ex.explain(x, {-1, 1}, ref);
    EXPECT_LT(normalisedGap(res[0].maps[0].raw, want[0].maps[0].raw, Method::GradCam), 1e-4f);
}

TEST(FastPathNet, Bf16IsRefusedClearlyWhereTheCpuLacksIt) {
    Explainer ex(randomNet(Arch::ResNet18));
    ExplainOptions o;
    o.bf16 = true;
    overrideCpuBf16ForTesting(false);
    try {
        ex.explain(images(1, 64), {-1}, o);
        ADD_FAILURE() << "bf16 ran on a CPU reported without it";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("AVX-512 BF16"), std::string::npos) << e.what();
    }
    overrideCpuBf16ForTesting(std::nullopt);
}

// Every map of `o` explained in fp32 and in bf16, paired: (fp32 map, bf16 raw map).
std::vector<std::pair<MapResult, Heatmap>> fp32AndBf16Maps(Explainer& ex, const ExplainOptions& o) {
    ExplainOptions half = o;
    half.bf16 = true;
    const at::Tensor x = images(2, 64);
    const auto a = ex.explain(x, {1, 4}, o);
    const auto b = ex.explain(x, {1, 4}, half);
    std::vector<std::pair<MapResult, Heatmap>> pairs;
    for (std::size_t i = 0; i < a.size(); ++i)
        for (const MapResult& m : a[i].maps) {
            const Heatmap* h = b[i].find(m.method, m.tap);
            EXPECT_TRUE(h) << methodName(m.method);
            if (h) pairs.emplace_back(m, *h);
        }
    EXPECT_FALSE(pairs.empty());
    return pairs;
}

TEST(FastPathNet, Bf16GradientsReachEveryRequestedBlock) {
    if (!cpuHasFastBf16()) GTEST_SKIP() << "this CPU computes no bf16";
    Explainer ex(randomNet(Arch::ResNet18, 6, 16));
    ExplainOptions o;
    o.methods = {Method::GradCam, Method::HiResCam};
    o.taps = ex.net()->blockTaps();
    for (const auto& [m, h] : fp32AndBf16Maps(ex, o)) {
        float peak = 0;
        for (float v : h.data) peak = std::max(peak, std::fabs(v));
        EXPECT_GT(peak, 0.f) << methodName(m.method) << " at " << ex.net()->taps()[m.tap].name;
        // Pixel-wise methods at early blocks move by up to ~0.3 at single pixels in bf16; the
        // map as a whole stays the same (a dropped gradient would give zero or noise).
        EXPECT_GT(correlation(h, m.raw), 0.85)
            << methodName(m.method) << " at " << ex.net()->taps()[m.tap].name;
    }
}

TEST(FastPathNet, Bf16StaysCloseToFp32AndReturnsFp32) {
    if (!cpuHasFastBf16()) GTEST_SKIP() << "this CPU computes no bf16";
    Explainer ex(randomNet(Arch::ResNet18, 6, 16));
    for (const auto& [m, h] : fp32AndBf16Maps(ex, ExplainOptions{})) {
        const float gap = normalisedGap(h, m.raw, m.method);
        // bfloat16 keeps 8 bits of mantissa: close, and not identical.
        EXPECT_LT(gap, 0.1f) << methodName(m.method);
        EXPECT_GT(gap, 0.f) << methodName(m.method);
    }
}

}  // namespace
}  // namespace camx
