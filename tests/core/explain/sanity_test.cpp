// The sanity check by cascading model parameter randomisation (Adebayo et al., NeurIPS 2018) on
// tiny networks: our ResNet-18 at width 4 and the traced ResNet trunk of
// tests/fixtures/torchscript. Oracles:
//   - which tensors a step changes: exactly those of the modules of steps 0..k, every other one
//     bit-identical to the original's; re-initialised values as PyTorch's initialisers give them
//     (batch norm exactly 1/0/0/1, convolutions and Linear inside +-1/sqrt(fan_in));
//   - which maps a step changes: a layer before every re-initialised one computes what it did,
//     so Eigen-CAM there (a function of the activations alone) is unchanged, and at a
//     re-initialised layer it is not; with only the head re-initialised, CAM is the original
//     activations times the new weights;
//   - the original session gives the same maps afterwards; the same seed gives the same weights.

#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "../test_support.h"
#include "common/fs_util.h"
#include "data/image_io.h"
#include "explain/model_session.h"
#include "explain/randomization.h"
#include "metrics/similarity.h"
#include "nn/reinit.h"
#include "nn/script_meta.h"

namespace camx {
namespace {

namespace fs = std::filesystem;
using TensorMap = std::map<std::string, at::Tensor>;

// A ResNet-18 at width 4 whose every tensor is away from what re-initialisation gives (batch
// norm 1/0, statistics 0/1, a step count of 0), so that every re-initialised tensor differs.
CamNet tinyNet(int classes = 5) {
    at::manual_seed(3);
    CamNet net(Arch::ResNet18, classes, 4);
    torch::NoGradGuard g;
    for (auto& p : net->named_parameters()) p.value().add_(at::randn(p.value().sizes()) * 0.2);
    for (auto& b : net->named_buffers()) {
        if (b.key().find("running_var") != std::string::npos)
            b.value().uniform_(0.5, 1.5);
        else if (b.key().find("running_mean") != std::string::npos)
            b.value().uniform_(-0.1, 0.1);
        else
            b.value().fill_(7);
    }
    return net;
}

TensorMap snapshot(const CamNetImpl& net) {
    TensorMap m;
    for (const auto& p : net.named_parameters()) m[p.key()] = p.value().detach().clone();
    for (const auto& b : net.named_buffers()) m[b.key()] = b.value().detach().clone();
    return m;
}

TensorMap snapshot(const ScriptedNet& net) {
    TensorMap m;
    for (const auto& [name, t] : net.namedTensors()) m[name] = t.detach().clone();
    return m;
}

std::string moduleOf(const std::string& tensorName) {
    const std::size_t dot = tensorName.rfind('.');
    return dot == std::string::npos ? std::string() : tensorName.substr(0, dot);
}

std::set<std::string> modulesThrough(const std::vector<CascadeStep>& cascade, int k) {
    std::set<std::string> s;
    for (int j = 0; j <= k; ++j)
        s.insert(cascade[static_cast<std::size_t>(j)].modules.begin(),
                 cascade[static_cast<std::size_t>(j)].modules.end());
    return s;
}

// Every tensor of a module in `randomised` differs from `before`; every other one is equal.
// With `constantsMayStay`, a re-initialised tensor may also equal the original where both are
// all zeros or all ones (a fixture's attention bias that was never trained off its zero start).
void expectChangedExactly(const TensorMap& before, const TensorMap& after,
                          const std::set<std::string>& randomised, const std::string& what,
                          bool constantsMayStay = false) {
    ASSERT_EQ(before.size(), after.size()) << what;
    for (const auto& [name, t] : after) {
        ASSERT_TRUE(before.count(name)) << what << ": " << name;
        const at::Tensor& was = before.at(name);
        ASSERT_EQ(t.sizes(), was.sizes()) << what << ": " << name;
        const bool constant = constantsMayStay && (at::equal(was, at::zeros_like(was)) ||
                                                   at::equal(was, at::ones_like(was)));
        if (randomised.count(moduleOf(name)))
            EXPECT_TRUE(constant || !at::equal(t.cpu(), was.cpu()))
                << what << ": " << name << " kept";
        else
            EXPECT_TRUE(at::equal(t.cpu(), was.cpu())) << what << ": " << name << " changed";
    }
}

bool sameTensors(const TensorMap& a, const TensorMap& b) {
    if (a.size() != b.size()) return false;
    for (const auto& [name, t] : a)
        if (!b.count(name) || !at::equal(t.cpu(), b.at(name).cpu())) return false;
    return true;
}

double maxAbs(const Heatmap& h) {
    double m = 0;
    for (float v : h.data) m = std::max(m, double(std::fabs(v)));
    return m;
}

// Largest difference relative to the larger map's scale.
double relDiff(const Heatmap& a, const Heatmap& b) {
    EXPECT_EQ(a.data.size(), b.data.size());
    double d = 0;
    for (std::size_t i = 0; i < std::min(a.data.size(), b.data.size()); ++i)
        d = std::max(d, double(std::fabs(a.data[i] - b.data[i])));
    return d / std::max({maxAbs(a), maxAbs(b), 1e-30});
}

void expectSameMaps(const std::vector<ImageExplanation>& a,
                    const std::vector<ImageExplanation>& b) {
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].target, b[i].target);
        EXPECT_EQ(a[i].logits, b[i].logits);
        ASSERT_EQ(a[i].maps.size(), b[i].maps.size());
        for (std::size_t m = 0; m < a[i].maps.size(); ++m) {
            EXPECT_EQ(a[i].maps[m].method, b[i].maps[m].method);
            EXPECT_EQ(a[i].maps[m].tap, b[i].maps[m].tap);
            EXPECT_EQ(a[i].maps[m].raw.data, b[i].maps[m].raw.data);
        }
    }
}

at::Tensor noise(int n, int size) {
    at::manual_seed(4);
    return at::randn({n, 3, size, size});
}

// ---------------------------------------------------------------------------------------------
// The initialisers

TEST(Reinit, ModulesGetTheirTypesDefaultInitialiserAsNewTensors) {
    const at::Tensor w = at::full({8, 4, 3, 3}, 5.0), b = at::full({8}, 5.0);
    NamedTensorList params{{"weight", w}, {"bias", b}}, buffers;
    reinitializeModule("features.0", "Conv2d", params, buffers, 1);
    // kaiming_uniform_(a=sqrt(5)): bound = sqrt(2/6) * sqrt(3/fan_in) = 1/sqrt(fan_in), 36 here;
    // the bias's bound is the same 1/sqrt(fan_in).
    const double bound = 1.0 / 6.0;
    for (const auto& [name, t] : params) {
        EXPECT_LE(t.abs().max().item<double>(), bound) << name;
        EXPECT_GT(t.abs().max().item<double>(), 0.8 * bound) << name;
        EXPECT_EQ(t.sizes(), (name == "weight" ? w : b).sizes());
    }
    // U(-b, b) has variance b^2/3: 288 draws put the sample's within 25%.
    const double var = params[0].second.var().item<double>();
    EXPECT_NEAR(var, bound * bound / 3, 0.25 * bound * bound / 3);
    EXPECT_TRUE(at::equal(w, at::full({8, 4, 3, 3}, 5.0)));  // replaced, not written into

    NamedTensorList lin{{"weight", at::zeros({3, 100})}, {"bias", at::zeros({3})}};
    reinitializeModule("fc", "Linear", lin, buffers, 1);
    EXPECT_LE(lin[0].second.abs().max().item<double>(), 0.1);
    EXPECT_GT(lin[0].second.abs().max().item<double>(), 0.09);
    EXPECT_LE(lin[1].second.abs().max().item<double>(), 0.1);
    EXPECT_GT(lin[1].second.abs().max().item<double>(), 0.0);

    NamedTensorList bn{{"weight", at::full({4}, 3.0)}, {"bias", at::full({4}, 3.0)}};
    NamedTensorList stats{{"running_mean", at::full({4}, 3.0)},
                          {"running_var", at::full({4}, 3.0)},
                          {"num_batches_tracked", at::full({}, 9, at::kLong)}};
    reinitializeModule("bn1", "BatchNorm2d", bn, stats, 1);
    EXPECT_TRUE(at::equal(bn[0].second, at::ones({4})));
    EXPECT_TRUE(at::equal(bn[1].second, at::zeros({4})));
    EXPECT_TRUE(at::equal(stats[0].second, at::zeros({4})));
    EXPECT_TRUE(at::equal(stats[1].second, at::ones({4})));
    EXPECT_EQ(stats[2].second.scalar_type(), at::kLong);
    EXPECT_EQ(stats[2].second.item<int64_t>(), 0);

    // An unknown module: its parameters are drawn, its buffers (structure) kept.
    const at::Tensor index = at::arange(6);
    NamedTensorList custom{{"class_token", at::zeros({1, 1, 16})}}, structure{{"index", index}};
    reinitializeModule("", "VisionTransformer", custom, structure, 1);
    EXPECT_GT(custom[0].second.abs().max().item<double>(), 0.0);
    EXPECT_LE(custom[0].second.abs().max().item<double>(), 1.0);  // fan_in = 1 * 16
    EXPECT_TRUE(structure[0].second.is_same(index));
}

TEST(Reinit, SameSeedAndPathGiveTheSameValues) {
    auto draw = [](const std::string& path, std::uint64_t seed) {
        NamedTensorList p{{"weight", at::zeros({6, 5})}}, none;
        reinitializeModule(path, "Linear", p, none, seed);
        return p[0].second;
    };
    EXPECT_TRUE(at::equal(draw("fc", 3), draw("fc", 3)));
    EXPECT_FALSE(at::equal(draw("fc", 3), draw("fc", 4)));
    EXPECT_FALSE(at::equal(draw("fc", 3), draw("head", 3)));
}

// ---------------------------------------------------------------------------------------------
// Our ResNet

TEST(SanityCascade, ResNetStepsGoFromTheHeadToTheStemAndCoverEveryModule) {
    CamNet net = tinyNet();
    const auto cascade = randomizationCascade(*net);
    std::vector<std::string> labels;
    for (const auto& s : cascade) labels.push_back(s.label);
    EXPECT_EQ(labels,
              (std::vector<std::string>{"fc", "layer4.1", "layer4.0", "layer3.1", "layer3.0",
                                        "layer2.1", "layer2.0", "layer1.1", "layer1.0", "stem"}));
    EXPECT_EQ(cascade.front().modules, std::vector<std::string>{"fc"});
    EXPECT_EQ(cascade.back().modules, (std::vector<std::string>{"conv1", "bn1"}));
    EXPECT_EQ(cascade[2].modules,
              (std::vector<std::string>{"layer4.0.conv1", "layer4.0.bn1", "layer4.0.conv2",
                                        "layer4.0.bn2", "layer4.0.downsample.0",
                                        "layer4.0.downsample.1"}));
    // Every tensor belongs to exactly one step.
    std::map<std::string, int> seen;
    for (const auto& s : cascade)
        for (const auto& m : s.modules) ++seen[m];
    for (const auto& [name, t] : snapshot(*net)) EXPECT_EQ(seen[moduleOf(name)], 1) << name;
}

TEST(SanityCascade, ResNetStepChangesExactlyTheModulesUpToIt) {
    CamNet net = tinyNet();
    const TensorMap before = snapshot(*net);
    const auto cascade = randomizationCascade(*net);
    for (int k = -1; k < static_cast<int>(cascade.size()); ++k) {
        CamNet copy = randomizedCopy(*net, cascade, k, 11);
        expectChangedExactly(before, snapshot(*copy),
                             k < 0 ? std::set<std::string>{} : modulesThrough(cascade, k),
                             "step " + std::to_string(k));
    }
    EXPECT_TRUE(sameTensors(before, snapshot(*net)));
    EXPECT_THROW(randomizedCopy(*net, cascade, static_cast<int>(cascade.size()), 11),
                 std::invalid_argument);

    // The fully re-initialised network holds what the initialisers give.
    CamNet random = randomizedCopy(*net, cascade, static_cast<int>(cascade.size()) - 1, 11);
    for (const auto& [name, t] : snapshot(*random)) {
        const bool bn =
            name.find("bn") != std::string::npos || name.find("downsample.1") != std::string::npos;
        const std::string leaf = name.substr(name.rfind('.') + 1);
        if (bn) {
            const double want = leaf == "weight" || leaf == "running_var" ? 1.0 : 0.0;
            EXPECT_TRUE(at::equal(t, at::full_like(t, want))) << name;
        } else {
            // Conv2d and fc: U(+-1/sqrt(fan_in)); the fc bias from the fc weight's fan-in.
            const at::Tensor w = random->named_parameters()[moduleOf(name) + ".weight"];
            const double fanIn = double(w.numel() / w.size(0));
            EXPECT_LE(t.abs().max().item<double>(), 1.0 / std::sqrt(fanIn)) << name;
            if (t.numel() >= 16) {
                EXPECT_GT(t.abs().max().item<double>(), 0.5 / std::sqrt(fanIn)) << name;
            }
        }
    }
}

TEST(SanityCascade, SameSeedSameWeightsAndEachLayerKeepsItsWeightsDownTheCascade) {
    CamNet net = tinyNet();
    const auto cascade = randomizationCascade(*net);
    const TensorMap a = snapshot(*randomizedCopy(*net, cascade, 4, 5));
    EXPECT_TRUE(sameTensors(a, snapshot(*randomizedCopy(*net, cascade, 4, 5))));
    const TensorMap other = snapshot(*randomizedCopy(*net, cascade, 4, 6));
    EXPECT_FALSE(at::equal(a.at("fc.weight"), other.at("fc.weight")));
    EXPECT_FALSE(at::equal(a.at("layer4.1.conv1.weight"), other.at("layer4.1.conv1.weight")));
    // Step 6 re-initialises layer2.1 and layer2.0 too, and everything of step 4 as step 4 did.
    const TensorMap deeper = snapshot(*randomizedCopy(*net, cascade, 6, 5));
    const std::set<std::string> first = modulesThrough(cascade, 4);
    for (const auto& [name, t] : a)
        if (first.count(moduleOf(name))) {
            EXPECT_TRUE(at::equal(t, deeper.at(name))) << name;
        }
    EXPECT_FALSE(at::equal(a.at("layer2.1.conv1.weight"), deeper.at("layer2.1.conv1.weight")));
}

TEST(SanityCascade, ResNetMapsChangeFromTheRandomisedLayerUpOnly) {
    CamNet net = tinyNet();
    Explainer ex(net, c10::Device(c10::kCPU));
    const at::Tensor x = noise(2, 64);
    SanityOptions o;
    o.explain.methods = {Method::Cam, Method::GradCam, Method::EigenCam};
    o.explain.taps = net->blockTaps();
    o.explain.taps.push_back(net->findTap("stem"));
    o.seed = 2;
    const TensorMap before = snapshot(*net);
    const auto first = ex.explain(x, {-1, 2}, o.explain);
    const SanityResult r = explainRandomized(ex, x, {-1, 2}, o);
    const auto cascade = randomizationCascade(*net);
    ASSERT_EQ(r.steps.size(), cascade.size());
    expectSameMaps(r.original, first);
    expectSameMaps(ex.explain(x, {-1, 2}, o.explain), first);  // the original is untouched
    EXPECT_TRUE(sameTensors(before, snapshot(*net)));

    const int blocks = static_cast<int>(net->blockTaps().size());
    for (const SanityStep& s : r.steps) {
        EXPECT_EQ(s.step.label, cascade[static_cast<std::size_t>(s.index)].label);
        ASSERT_EQ(s.explanations.size(), 2u);
        for (std::size_t i = 0; i < 2; ++i) {
            const ImageExplanation& orig = r.original[i];
            const ImageExplanation& rnd = s.explanations[i];
            // The original's class, also where the original was asked for its prediction.
            EXPECT_EQ(rnd.target, orig.target);
            EXPECT_NE(rnd.logits, orig.logits);
            for (int tap : o.explain.taps) {
                // Step 0 re-initialises fc; step k > 0 also the last k blocks; the last the stem.
                const int depth = net->tapDepth(tap);
                const bool unchanged = depth < blocks - s.index;
                const double d =
                    relDiff(*orig.find(Method::EigenCam, tap), *rnd.find(Method::EigenCam, tap));
                if (unchanged)
                    EXPECT_LT(d, 1e-5) << s.step.label << " tap " << tap;
                else
                    EXPECT_GT(d, 1e-2) << s.step.label << " tap " << tap;
                // Grad-CAM reads the class weights, which change at every step.
                EXPECT_GT(
                    relDiff(*orig.find(Method::GradCam, tap), *rnd.find(Method::GradCam, tap)),
                    1e-3)
                    << s.step.label << " tap " << tap;
            }
            EXPECT_GT(relDiff(*orig.find(Method::Cam, net->lastBlockTap()),
                              *rnd.find(Method::Cam, net->lastBlockTap())),
                      1e-2);
        }
    }
}

TEST(SanityCascade, StepsAskedForAreTheSameAsInTheWholeCascade) {
    CamNet net = tinyNet();
    Explainer ex(net, c10::Device(c10::kCPU));
    const at::Tensor x = noise(1, 64);
    SanityOptions o;
    o.explain.methods = {Method::GradCam};
    o.explain.taps = {net->findTap("layer2.1")};
    o.seed = 9;
    const SanityResult all = explainRandomized(ex, x, {1}, o);
    o.steps = {7, 2, 2};
    const SanityResult some = explainRandomized(ex, x, {1}, o);
    ASSERT_EQ(some.steps.size(), 2u);
    EXPECT_EQ(some.steps[0].index, 2);
    EXPECT_EQ(some.steps[1].index, 7);
    expectSameMaps(some.steps[0].explanations, all.steps[2].explanations);
    expectSameMaps(some.steps[1].explanations, all.steps[7].explanations);
    o.steps = {10};
    EXPECT_THROW(explainRandomized(ex, x, {1}, o), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// Through ModelSession, on a trained tiny model and photos of the demo dataset

class SanitySession : public test::DemoSuite<3, 4, 3, 17, true> {
protected:
    // The first `n` test photos, prepared for `s`.
    std::vector<float> prepared(const ModelSession& s, int n) {
        const int size = s.info().inputSize;
        const std::size_t per = 3u * static_cast<std::size_t>(size) * size;
        std::vector<float> buf(per * static_cast<std::size_t>(n));
        for (int i = 0; i < n; ++i)
            toChwNormalized(
                resizeForModel(readRgb(s_ds->test.samples[static_cast<std::size_t>(i)].imagePath),
                               size),
                s.info().norm, buf.data() + per * static_cast<std::size_t>(i));
        return buf;
    }
};

TEST_F(SanitySession, OriginalSessionUnchangedAndRandomisedMapsDiffer) {
    auto session = ModelSession::open(modelFile());
    const int n = 4;
    const std::vector<float> x = prepared(*session, n);
    const std::vector<int> targets(n, -1);
    SanityOptions o;
    o.explain.methods = {Method::GradCam, Method::Cam};
    o.explain.taps = {session->info().findTap("layer1.1"), session->info().findTap("layer2.1")};
    const auto before = session->explainPrepared(x.data(), n, targets, o.explain);
    std::vector<Progress> reports;
    const SanityResult r = session->explainRandomized(
        x.data(), n, targets, o, JobContext{[&](const Progress& p) { reports.push_back(p); }});
    expectSameMaps(session->explainPrepared(x.data(), n, targets, o.explain), before);
    expectSameMaps(r.original, before);

    const auto cascade = session->randomizationCascade();
    ASSERT_EQ(r.steps.size(), cascade.size());
    ASSERT_FALSE(reports.empty());
    EXPECT_EQ(reports.back().done, cascade.size() + 1);
    EXPECT_EQ(reports.back().total, cascade.size() + 1);

    // The fully re-initialised network's Grad-CAM has little to do with the trained one's.
    const SanityStep& last = r.steps.back();
    EXPECT_EQ(last.step.label, "stem");
    for (int tap : o.explain.taps) {
        double mean = 0;
        for (int i = 0; i < n; ++i) {
            const double rho =
                spearmanCorrelation(*r.original[i].find(Method::GradCam, tap),
                                    *last.explanations[i].find(Method::GradCam, tap));
            mean += (std::isnan(rho) ? 0.0 : rho) / n;
        }
        EXPECT_LT(mean, 0.5) << "tap " << tap;
    }
}

TEST_F(SanitySession, WithoutTheOriginalTheStepsAreTheSameForTheClassesGiven) {
    auto session = ModelSession::open(modelFile());
    const int n = 2;
    const std::vector<float> x = prepared(*session, n);
    SanityOptions o;
    o.explain.methods = {Method::GradCam};
    o.seed = 3;
    const SanityResult full = session->explainRandomized(x.data(), n, {-1, -1}, o);
    std::vector<int> classes;
    for (const auto& e : full.original) classes.push_back(e.target);
    o.explainOriginal = false;
    std::vector<Progress> reports;
    const SanityResult steps = session->explainRandomized(
        x.data(), n, classes, o, JobContext{[&](const Progress& p) { reports.push_back(p); }});
    EXPECT_TRUE(steps.original.empty());
    ASSERT_EQ(steps.steps.size(), full.steps.size());
    for (std::size_t k = 0; k < full.steps.size(); ++k)
        expectSameMaps(steps.steps[k].explanations, full.steps[k].explanations);
    ASSERT_FALSE(reports.empty());
    EXPECT_EQ(reports.back().total, full.steps.size());  // no pass for the original
    // The prediction is the original's to resolve: without it, every class must be given.
    EXPECT_THROW(session->explainRandomized(x.data(), n, {-1, classes[1]}, o),
                 std::invalid_argument);
}

TEST_F(SanitySession, CancelStopsBetweenSteps) {
    auto session = ModelSession::open(modelFile());
    const std::vector<float> x = prepared(*session, 1);
    SanityOptions o;
    o.explain.methods = {Method::GradCam};
    CancelToken stop;
    int steps = 0;
    JobContext job{[&](const Progress& p) {
                       if (p.done >= 3) stop.cancel();
                       steps = static_cast<int>(p.done);
                   },
                   &stop};
    EXPECT_THROW(session->explainRandomized(x.data(), 1, {-1}, o, job), Cancelled);
    EXPECT_EQ(steps, 3);
}

// ---------------------------------------------------------------------------------------------
// A TorchScript model

fs::path tsFile(const std::string& name) {
    return test::fixture("torchscript") / name;
}

std::unique_ptr<ScriptedNet> openScript(const std::string& name) {
    const fs::path p = tsFile(name);
    return std::make_unique<ScriptedNet>(readFile(p), p.string(), ScriptMeta{},
                                         c10::Device(c10::kCPU), parseScriptMeta);
}

TEST(SanityScripted, GapHeadCascadeFollowsTheGraphFromTheClassifierDown) {
    auto net = openScript("resnet_gap_head.traced.pt");
    const auto cascade = randomizationCascade(*net);
    std::vector<std::string> labels;
    for (const auto& s : cascade) labels.push_back(s.label);
    EXPECT_EQ(labels, (std::vector<std::string>{"classifier", "trunk.layer4.1", "trunk.layer4.0",
                                                "trunk.layer3.1", "trunk.layer3.0",
                                                "trunk.layer2.1", "trunk.layer2.0",
                                                "trunk.layer1.1", "trunk.layer1.0", "stem"}));
    EXPECT_EQ(cascade.front().modules, std::vector<std::string>{"classifier"});
    EXPECT_EQ(cascade.back().modules, (std::vector<std::string>{"trunk.conv1", "trunk.bn1"}));
    std::set<std::string> l40(cascade[2].modules.begin(), cascade[2].modules.end());
    EXPECT_EQ(
        l40, (std::set<std::string>{"trunk.layer4.0.conv1", "trunk.layer4.0.bn1",
                                    "trunk.layer4.0.conv2", "trunk.layer4.0.bn2",
                                    "trunk.layer4.0.downsample.0", "trunk.layer4.0.downsample.1"}));
    std::map<std::string, int> seen;
    for (const auto& s : cascade)
        for (const auto& m : s.modules) ++seen[m];
    for (const auto& [name, t] : snapshot(*net)) EXPECT_EQ(seen[moduleOf(name)], 1) << name;
}

TEST(SanityScripted, StepChangesExactlyItsModulesAndTheSeedFixesThem) {
    auto net = openScript("resnet_gap_head.traced.pt");
    const TensorMap before = snapshot(*net);
    const auto cascade = randomizationCascade(*net);
    for (int k : {0, 1, 4, static_cast<int>(cascade.size()) - 1}) {
        auto copy = randomizedCopy(*net, cascade, k, 21);
        expectChangedExactly(before, snapshot(*copy), modulesThrough(cascade, k),
                             "step " + std::to_string(k));
    }
    EXPECT_TRUE(sameTensors(before, snapshot(*net)));
    EXPECT_TRUE(sameTensors(snapshot(*randomizedCopy(*net, cascade, 3, 21)),
                            snapshot(*randomizedCopy(*net, cascade, 3, 21))));
    EXPECT_FALSE(sameTensors(snapshot(*randomizedCopy(*net, cascade, 3, 21)),
                             snapshot(*randomizedCopy(*net, cascade, 3, 22))));
}

TEST(SanityScripted, SessionMapsFollowTheNewHeadAndTheOriginalStays) {
    const fs::path file = tsFile("resnet_gap_head.traced.pt");
    auto session = ModelSession::open(file);
    const int S = session->info().inputSize;
    at::manual_seed(5);
    const at::Tensor x = at::randn({2, 3, S, S}).contiguous();
    const float* chw = x.data_ptr<float>();
    const std::vector<int> targets{-1, 3};
    SanityOptions o;
    o.seed = 4;
    o.explain.methods = {Method::Cam, Method::GradCam, Method::EigenCam};
    o.explain.taps = {session->info().findTap("trunk.layer3"), session->info().lastBlockTap};
    const auto before = session->explainPrepared(chw, 2, targets, o.explain);
    const SanityResult r = session->explainRandomized(chw, 2, targets, o);
    expectSameMaps(session->explainPrepared(chw, 2, targets, o.explain), before);
    expectSameMaps(r.original, before);
    ASSERT_EQ(r.steps.size(), session->randomizationCascade().size());

    // Step 0: only the classifier is new, so the activations are the original's and CAM is
    // sum_k W'[c,k] A_k with the copy's weights W'.
    auto net = openScript("resnet_gap_head.traced.pt");
    const auto cascade = randomizationCascade(*net);
    auto copy = randomizedCopy(*net, cascade, 0, o.seed);
    at::Tensor W;
    for (const auto& [name, t] : copy->namedTensors())
        if (name == "classifier.weight") W = t;
    ASSERT_TRUE(W.defined());
    const int camTap = net->camTap();
    const at::Tensor A = net->toMap(net->forward(x, {camTap}, false).taps[0], camTap).detach();
    const SanityStep& head = r.steps.front();
    EXPECT_EQ(head.step.label, "classifier");
    for (int i = 0; i < 2; ++i) {
        const ImageExplanation& e = head.explanations[static_cast<std::size_t>(i)];
        EXPECT_EQ(e.target, before[static_cast<std::size_t>(i)].target);
        const at::Tensor cam = at::einsum("c,chw->hw", {W[e.target], A[i]}).contiguous();
        const Heatmap* got = e.find(Method::Cam, camTap);
        ASSERT_TRUE(got);
        for (int64_t j = 0; j < cam.numel(); ++j)
            EXPECT_NEAR(got->data[static_cast<std::size_t>(j)], cam.data_ptr<float>()[j],
                        1e-5 * (1 + std::fabs(cam.data_ptr<float>()[j])));
        for (int tap : o.explain.taps)
            EXPECT_LT(relDiff(*e.find(Method::EigenCam, tap),
                              *before[static_cast<std::size_t>(i)].find(Method::EigenCam, tap)),
                      1e-5);
    }
    // The last step re-initialised every layer: the maps at both taps moved.
    for (int tap : o.explain.taps)
        EXPECT_GT(relDiff(*r.steps.back().explanations[0].find(Method::EigenCam, tap),
                          *before[0].find(Method::EigenCam, tap)),
                  1e-2);
}

std::vector<std::string> labels(const std::vector<CascadeStep>& cascade) {
    std::vector<std::string> v;
    for (const auto& s : cascade) v.push_back(s.label);
    return v;
}

std::set<std::string> modulesOf(const std::vector<CascadeStep>& cascade, const std::string& label) {
    for (const auto& s : cascade)
        if (s.label == label) return {s.modules.begin(), s.modules.end()};
    ADD_FAILURE() << "no step " << label;
    return {};
}

TEST(SanityScripted, ModelsWithUnlistedOrNestedBlocksAndAttention) {
    // VGG lists no blocks (a flat Sequential): its steps are resolution stages, each named by
    // the last layer at its resolution, and its first convolution is the first stage's.
    auto vgg = openScript("vgg11.traced.pt");
    const auto vggCascade = randomizationCascade(*vgg);
    EXPECT_EQ(labels(vggCascade),
              (std::vector<std::string>{"classifier", "features.19", "features.14", "features.9",
                                        "features.4", "features.1"}));
    EXPECT_EQ(modulesOf(vggCascade, "classifier"),
              (std::set<std::string>{"classifier.0", "classifier.3", "classifier.6"}));
    EXPECT_EQ(modulesOf(vggCascade, "features.19"),
              (std::set<std::string>{"features.16", "features.18"}));
    EXPECT_EQ(modulesOf(vggCascade, "features.1"), std::set<std::string>{"features.0"});

    // DenseNet: the transitions are blocks of their own; the final norm goes with the head.
    auto dense = openScript("densenet121.traced.pt");
    const auto denseCascade = randomizationCascade(*dense);
    EXPECT_EQ(labels(denseCascade),
              (std::vector<std::string>{"head", "features.denseblock4", "features.transition3",
                                        "features.denseblock3", "features.transition2",
                                        "features.denseblock2", "features.transition1",
                                        "features.denseblock1", "stem"}));
    EXPECT_EQ(modulesOf(denseCascade, "head"),
              (std::set<std::string>{"features.norm5", "classifier"}));
    EXPECT_EQ(modulesOf(denseCascade, "stem"),
              (std::set<std::string>{"features.conv0", "features.norm0"}));

    // ViT: the patch embedding, the position embedding (held by the encoder) and the class token
    // (held by the model) come last; an attention's out_proj, whose weights the attention reads
    // itself, goes with its block.
    auto vit = openScript("vit.traced.pt");
    const auto vitCascade = randomizationCascade(*vit);
    const std::string l0 = "encoder.layers.encoder_layer_0";
    EXPECT_EQ(labels(vitCascade),
              (std::vector<std::string>{"head", "encoder.layers.encoder_layer_1", l0, "stem"}));
    EXPECT_EQ(modulesOf(vitCascade, "head"), (std::set<std::string>{"encoder.ln", "heads.head"}));
    EXPECT_EQ(modulesOf(vitCascade, "stem"), (std::set<std::string>{"", "conv_proj", "encoder"}));
    EXPECT_EQ(modulesOf(vitCascade, l0),
              (std::set<std::string>{l0 + ".ln_1", l0 + ".self_attention",
                                     l0 + ".self_attention.out_proj", l0 + ".ln_2", l0 + ".mlp.0",
                                     l0 + ".mlp.3"}));

    for (const auto* net : {vgg.get(), dense.get(), vit.get()}) {
        const auto cascade = randomizationCascade(*net);
        const TensorMap before = snapshot(*net);
        std::map<std::string, int> seen;
        for (const auto& s : cascade)
            for (const auto& m : s.modules) ++seen[m];
        for (const auto& [name, t] : before)
            EXPECT_EQ(seen[moduleOf(name)], 1) << net->typeName() << " " << name;
        const int last = static_cast<int>(cascade.size()) - 1;
        for (int k : {0, 1, last})
            expectChangedExactly(before, snapshot(*randomizedCopy(*net, cascade, k, 8)),
                                 modulesThrough(cascade, k),
                                 net->typeName() + " step " + std::to_string(k), true);
    }
}

TEST(SanityScripted, ViTSessionExplainsTheOriginalsClassAtTheOriginalsLayer) {
    // Without CAM the default layer is found by a backward pass, which a randomised copy could
    // answer otherwise: the randomised maps are still of the original's layer.
    auto session = ModelSession::open(tsFile("vit.traced.pt"));
    const int S = session->info().inputSize;
    at::manual_seed(6);
    const at::Tensor x = at::randn({2, 3, S, S}).contiguous();
    SanityOptions o;
    o.explain.methods = {Method::GradCam};
    const auto cascade = session->randomizationCascade();
    o.steps = {0, static_cast<int>(cascade.size()) - 1};
    const auto before = session->explainPrepared(x.data_ptr<float>(), 2, {-1, -1}, o.explain);
    const SanityResult r = session->explainRandomized(x.data_ptr<float>(), 2, {-1, -1}, o);
    expectSameMaps(r.original, before);
    ASSERT_EQ(r.steps.size(), 2u);
    for (const SanityStep& s : r.steps)
        for (std::size_t i = 0; i < 2; ++i) {
            EXPECT_EQ(s.explanations[i].target, before[i].target);
            ASSERT_EQ(s.explanations[i].maps.size(), 1u);
            EXPECT_EQ(s.explanations[i].maps[0].tap, session->info().lastBlockTap);
            EXPECT_GT(relDiff(s.explanations[i].maps[0].raw, before[i].maps[0].raw), 1e-3);
        }
}

}  // namespace
}  // namespace camx
