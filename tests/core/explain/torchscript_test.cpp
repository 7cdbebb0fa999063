// Users' own TorchScript models: torchvision architectures in tiny configurations, traced and
// scripted (tests/fixtures/torchscript, made by its make_torchscript_fixtures.py with Debian's
// python3-torch). Oracles:
//   - logits equal the eager Python model's;
//   - maps equal pytorch-grad-cam's on the eager model (ReLU + min-max, at the layer's own
//     resolution), for six gradient methods (Finer-CAM with the classes upstream chose, also with
//     other options and class) at two or more layers per model, and with aug_smooth /
//     eigen_smooth;
//   - each formula re-derived from the activations and gradients Python autograd computed;
//   - CAM equals sum_k W[c,k] A_k where the head is GAP + linear, and Grad-CAM there equals
//     ReLU(CAM)/(h*w);
//   - a traced ResNet-50 gives the built-in ResNet-50's maps for the same weights.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xnpy.hpp>

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>

#include "../test_support.h"
#include "data/imagenet_classes.h"
#include "explain/cam_methods.h"
#include "explain/model_session.h"
#include "nn/script_meta.h"

namespace camx {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

fs::path tsDir() {
    return test::fixture("torchscript");
}

const json& manifest() {
    static const json j = [] {
        std::ifstream in(tsDir() / "manifest.json");
        return json::parse(in);
    }();
    return j;
}

xt::xarray<float> npy(const fs::path& p) {
    return xt::load_npy<float>(p.string());
}

// What pytorch-grad-cam does to one layer's map, without the resize: ReLU, then
// (m - min) / (max + 1e-7) in scale_cam_image, and ReLU + the same again when it aggregates the
// layers. The 1e-7 matters for the tiny maps of tiny models: it is reproduced, not idealised.
std::vector<float> gradCamNormalised(const float* raw, std::size_t n) {
    std::vector<float> m(raw, raw + n);
    for (int pass = 0; pass < 2; ++pass) {
        for (float& v : m) v = std::max(v, 0.0f);
        const float lo = *std::min_element(m.begin(), m.end());
        for (float& v : m) v -= lo;
        const float hi = *std::max_element(m.begin(), m.end());
        for (float& v : m) v /= (1e-7f + hi);
    }
    return m;
}

// Min-max without ReLU (CAM keeps its sign).
std::vector<float> minMax(const float* raw, std::size_t n) {
    std::vector<float> m(raw, raw + n);
    const float lo = *std::min_element(m.begin(), m.end());
    const float hi = *std::max_element(m.begin(), m.end());
    for (float& v : m) v = (v - lo) / (hi - lo + 1e-12f);
    return m;
}

double maxDiff(const std::vector<float>& a, const std::vector<float>& b) {
    EXPECT_EQ(a.size(), b.size());
    double d = 0;
    for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
        d = std::max(d, static_cast<double>(std::abs(a[i] - b[i])));
    return d;
}

std::optional<Method> methodFromFixture(const std::string& id) {
    Method m;
    if (parseMethod(id, &m)) return m;
    return std::nullopt;
}

struct Loaded {
    std::unique_ptr<ModelSession> session;
    std::vector<ImageExplanation> result;
};

std::vector<float> input() {
    const auto x = npy(tsDir() / manifest()["input"].get<std::string>());
    return std::vector<float>(x.begin(), x.end());
}

class TorchScriptFixture : public ::testing::TestWithParam<std::string> {};

std::vector<std::string> fixtureFiles() {
    std::vector<std::string> out;
    std::ifstream in(test::fixture("torchscript/manifest.json"));
    const json j = json::parse(in);
    for (const auto& m : j["models"])
        for (const auto& f : m["files"])
            out.push_back(m["name"].get<std::string>() + "|" + f.get<std::string>());
    return out;
}

TEST_P(TorchScriptFixture, LogitsAndMapsEqualPythonAndPytorchGradCam) {
    const std::string param = GetParam();
    const std::string name = param.substr(0, param.find('|'));
    const std::string file = param.substr(param.find('|') + 1);
    const json* model = nullptr;
    for (const auto& m : manifest()["models"])
        if (m["name"] == name) model = &m;
    ASSERT_NE(model, nullptr);
    ScriptMeta overrides;
    overrides.inputSize = 64;  // for the file without metadata; the others say 64 themselves
    auto session =
        ModelSession::open(tsDir() / file, {}, {}, ModelSession::Names::Required, overrides);
    const ModelInfo& info = session->info();
    EXPECT_TRUE(info.torchScript);
    EXPECT_EQ(info.numClasses(), (*model)["num_classes"].get<int>());
    EXPECT_EQ(info.inputSize, 64);
    EXPECT_EQ(info.camAvailable, (*model)["cam"].get<bool>()) << info.camUnavailableReason;
    if (!info.camAvailable) {
        EXPECT_FALSE(info.camUnavailableReason.empty());
    }

    const std::vector<int> targets = (*model)["targets"].get<std::vector<int>>();
    // A scripted ViT's encoder blocks are not listed (manifest: scripted_note); that is checked,
    // so a later fix shows up here.
    const bool scripted = file.find(".scripted.") != std::string::npos;
    std::vector<std::string> layers;
    for (const auto& l : (*model)["layers"]) {
        const std::string layer = l.get<std::string>();
        if (scripted && model->contains("scripted_unlisted") &&
            std::find((*model)["scripted_unlisted"].begin(), (*model)["scripted_unlisted"].end(),
                      layer) != (*model)["scripted_unlisted"].end()) {
            EXPECT_LT(info.findTap(layer), 0) << layer << " is listed now: update the manifest";
            continue;
        }
        layers.push_back(layer);
    }
    ASSERT_GE(layers.size(), 2u);
    std::vector<int> taps;
    for (const auto& l : layers) {
        const int t = info.findTap(l);
        ASSERT_GE(t, 0) << name << ": layer " << l << " not listed";
        taps.push_back(t);
    }
    ExplainOptions o;
    o.methods.clear();
    for (const auto& id : (*model)["methods"]) {
        auto m = methodFromFixture(id.get<std::string>());
        ASSERT_TRUE(m) << id;
        o.methods.push_back(*m);
    }
    if (info.camAvailable) o.methods.push_back(Method::Cam);
    o.taps = taps;
    const std::vector<float> x = input();
    const auto r = session->explainPrepared(x.data(), 2, targets, o);
    ASSERT_EQ(r.size(), 2u);

    // Logits, within 1e-4 relative.
    const auto logits = npy(tsDir() / "expected" / name / "logits.npy");
    for (std::size_t b = 0; b < 2; ++b) {
        double scale = 0, err = 0;
        for (std::size_t c = 0; c < r[b].logits.size(); ++c) {
            scale = std::max(scale, std::abs(static_cast<double>(logits(b, c))));
            err = std::max(err, std::abs(static_cast<double>(logits(b, c) - r[b].logits[c])));
        }
        EXPECT_LE(err, 1e-4 * scale + 1e-6) << name << " logits of image " << b;
        EXPECT_EQ(r[b].target, targets[b]);
    }

    // Maps, against pytorch-grad-cam.
    for (std::size_t li = 0; li < taps.size(); ++li) {
        const std::string& layer = layers[li];
        for (const auto& id : (*model)["methods"]) {
            const auto expected =
                npy(tsDir() / "expected" / name / (id.get<std::string>() + "__" + layer + ".npy"));
            const Method m = *methodFromFixture(id.get<std::string>());
            for (std::size_t b = 0; b < 2; ++b) {
                const Heatmap* h = r[b].find(m, taps[li]);
                ASSERT_NE(h, nullptr);
                ASSERT_EQ(static_cast<std::size_t>(h->height), expected.shape(1)) << layer;
                ASSERT_EQ(static_cast<std::size_t>(h->width), expected.shape(2)) << layer;
                const std::size_t n = h->data.size();
                std::vector<float> want(
                    expected.begin() + static_cast<std::ptrdiff_t>(b * n),
                    expected.begin() + static_cast<std::ptrdiff_t>((b + 1) * n));
                // HiResCAM sums signed products G*A over channels: where they cancel, fp32
                // rounding of A and G (equal to Python's to ~1e-6) moves the normalised map by up
                // to a few 1e-2 on these tiny random models. Its formula is checked to 1e-4 below
                // from Python's own activations and gradients.
                const double tol = m == Method::HiResCam ? 6e-2 : 1e-4;
                EXPECT_LE(maxDiff(gradCamNormalised(h->data.data(), n), want), tol)
                    << name << " " << id << " at " << layer << ", image " << b;
            }
        }
    }

    // Finer-CAM compared the prediction with the classes upstream's FinerCAM chose.
    for (std::size_t b = 0; b < 2; ++b)
        EXPECT_EQ(r[b].finerClasses,
                  (*model)["finer"]["comparison_classes"][b].get<std::vector<int>>())
            << name << " image " << b;

    // Finer-CAM with other options, for a class that is not the prediction.
    {
        const json& v = (*model)["finer_variant"];
        const int tap = info.findTap(v["layer"].get<std::string>());
        ASSERT_GE(tap, 0);
        ExplainOptions fo;
        fo.methods = {Method::FinerCam};
        fo.taps = {tap};
        fo.finerAlpha = v["alpha"].get<double>();
        fo.finerCompare = v["ranks"].get<std::vector<int>>();
        const auto rv =
            session->explainPrepared(x.data(), 2, v["targets"].get<std::vector<int>>(), fo);
        const auto expected = npy(tsDir() / v["file"].get<std::string>());
        for (std::size_t b = 0; b < 2; ++b) {
            EXPECT_EQ(rv[b].finerClasses, v["comparison_classes"][b].get<std::vector<int>>())
                << name << " image " << b;
            const Heatmap* h = rv[b].find(Method::FinerCam, tap);
            ASSERT_NE(h, nullptr);
            const std::size_t n = h->data.size();
            ASSERT_EQ(expected.size(), 2 * n);
            const std::vector<float> want(
                expected.begin() + static_cast<std::ptrdiff_t>(b * n),
                expected.begin() + static_cast<std::ptrdiff_t>((b + 1) * n));
            EXPECT_LE(maxDiff(gradCamNormalised(h->data.data(), n), want), 1e-4)
                << name << " Finer-CAM variant, image " << b;
        }
    }

    // The smoothing options: each (aug_smooth, eigen_smooth) pair in one explanation.
    std::map<std::pair<bool, bool>, std::vector<const json*>> smoothing;
    for (const auto& e : (*model)["smoothed"])
        smoothing[{e["aug_smooth"].get<bool>(), e["eigen_smooth"].get<bool>()}].push_back(&e);
    for (const auto& [flags, entries] : smoothing) {
        ExplainOptions so;
        so.methods.clear();
        so.augSmooth = flags.first;
        so.eigenSmooth = flags.second;
        for (const json* e : entries) {
            const Method m = *methodFromFixture((*e)["method"].get<std::string>());
            const int tap = info.findTap((*e)["layer"].get<std::string>());
            if (tap < 0) continue;  // a layer the scripted file does not list (checked above)
            if (std::find(so.methods.begin(), so.methods.end(), m) == so.methods.end())
                so.methods.push_back(m);
            if (std::find(so.taps.begin(), so.taps.end(), tap) == so.taps.end())
                so.taps.push_back(tap);
        }
        if (so.taps.empty()) continue;
        const auto rs = session->explainPrepared(x.data(), 2, targets, so);
        for (const json* e : entries) {
            const std::string id = (*e)["method"].get<std::string>();
            const int tap = info.findTap((*e)["layer"].get<std::string>());
            if (tap < 0) continue;
            const auto expected = npy(tsDir() / (*e)["file"].get<std::string>());
            for (std::size_t b = 0; b < 2; ++b) {
                const Heatmap* h = rs[b].find(*methodFromFixture(id), tap);
                ASSERT_NE(h, nullptr);
                const std::size_t n = h->data.size();
                ASSERT_EQ(expected.size(), 2 * n);
                const std::vector<float> want(
                    expected.begin() + static_cast<std::ptrdiff_t>(b * n),
                    expected.begin() + static_cast<std::ptrdiff_t>((b + 1) * n));
                const std::string what =
                    name + " " + (*e)["file"].get<std::string>() + ", image " + std::to_string(b);
                // HiResCAM: as above, fp32 rounding where G*A cancels.
                const double tol = id == "hirescam" ? 6e-2 : 1e-4;
                if (flags.first) {
                    // Upstream's mean of the six normalised versions, as it returns it (not
                    // normalised again): our raw map is that mean.
                    EXPECT_LE(maxDiff(h->data, want), tol) << what << " (the mean itself)";
                    EXPECT_LE(maxDiff(gradCamNormalised(h->data.data(), n),
                                      gradCamNormalised(want.data(), n)),
                              tol)
                        << what;
                } else {
                    // Upstream's normalised map (normalising it again is not the identity where
                    // the raw map's range is near the 1e-7).
                    EXPECT_LE(maxDiff(gradCamNormalised(h->data.data(), n), want), tol) << what;
                }
            }
        }
    }

    // Each formula from the activations and gradients Python's autograd computed.
    const std::string rawLayer = (*model)["raw_layer"];
    const at::Tensor A = [&] {
        auto a = npy(tsDir() / "expected" / name / ("activations__" + rawLayer + ".npy"));
        std::vector<int64_t> shape(a.shape().begin(), a.shape().end());
        return at::from_blob(a.data(), shape, at::kFloat).clone();
    }();
    const at::Tensor G = [&] {
        auto g = npy(tsDir() / "expected" / name / ("gradients__" + rawLayer + ".npy"));
        std::vector<int64_t> shape(g.shape().begin(), g.shape().end());
        return at::from_blob(g.data(), shape, at::kFloat).clone();
    }();
    const int rawTap = info.findTap(rawLayer);
    ASSERT_GE(rawTap, 0);
    const std::map<Method, at::Tensor> derived{{Method::GradCam, gradCamRaw(A, G)},
                                               {Method::GradCamPlusPlus, gradCamPlusPlusRaw(A, G)},
                                               {Method::XGradCam, xGradCamRaw(A, G)},
                                               {Method::LayerCam, layerCamRaw(A, G)},
                                               {Method::HiResCam, hiResCamRaw(A, G)}};
    for (const auto& [m, maps] : derived) {
        for (int64_t b = 0; b < 2; ++b) {
            const Heatmap* h = r[static_cast<std::size_t>(b)].find(m, rawTap);
            ASSERT_NE(h, nullptr);
            const at::Tensor want = maps[b].contiguous();
            const std::size_t n = h->data.size();
            ASSERT_EQ(static_cast<std::size_t>(want.numel()), n);
            EXPECT_LE(maxDiff(gradCamNormalised(h->data.data(), n),
                              gradCamNormalised(want.data_ptr<float>(), n)),
                      1e-4)
                << name << " " << methodName(m) << " re-derived at " << rawLayer;
        }
    }

    // CAM: the class weights times the pooled layer; Grad-CAM there is ReLU(CAM)/(h*w).
    if (info.camAvailable) {
        const int camTap = info.lastBlockTap;
        for (std::size_t b = 0; b < 2; ++b) {
            const Heatmap* cam = r[b].find(Method::Cam, camTap);
            ASSERT_NE(cam, nullptr);
            if ((*model).contains("cam_layer") && !(*model)["cam_layer"].is_null()) {
                const auto want =
                    npy(tsDir() / "expected" / name /
                        ("cam_raw__" + (*model)["cam_layer"].get<std::string>() + ".npy"));
                const std::size_t n = cam->data.size();
                ASSERT_EQ(want.size(), 2 * n);
                std::vector<float> w(want.begin() + static_cast<std::ptrdiff_t>(b * n),
                                     want.begin() + static_cast<std::ptrdiff_t>((b + 1) * n));
                EXPECT_LE(maxDiff(minMax(cam->data.data(), n), minMax(w.data(), n)), 1e-4) << name;
            }
        }
        ExplainOptions g;
        g.methods = {Method::Cam, Method::GradCam};
        g.taps = {camTap};
        const auto rg = session->explainPrepared(x.data(), 2, targets, g);
        for (const auto& e : rg) {
            const Heatmap* cam = e.find(Method::Cam, camTap);
            const Heatmap* gc = e.find(Method::GradCam, camTap);
            ASSERT_TRUE(cam && gc);
            const float hw = static_cast<float>(cam->data.size());
            double err = 0, scale = 0;
            for (std::size_t i = 0; i < cam->data.size(); ++i) {
                scale = std::max(scale, std::abs(static_cast<double>(gc->data[i])));
                err = std::max(err, std::abs(static_cast<double>(std::max(0.0f, cam->data[i]) / hw -
                                                                 std::max(0.0f, gc->data[i]))));
            }
            EXPECT_LE(err, 1e-4 * scale + 1e-7) << name << ": Grad-CAM at the CAM layer";
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Models, TorchScriptFixture, ::testing::ValuesIn(fixtureFiles()),
                         [](const auto& info) {
                             std::string s = info.param;
                             for (char& c : s)
                                 if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                             return s;
                         });

TEST(TorchScript, TracedResNet50EqualsTheBuiltInWithTheSameWeights) {
    // A .pth carries no input size: both at 224 px (the traced ResNet is size-agnostic).
    ScriptMeta at224;
    at224.inputSize = 224;
    auto builtIn = ModelSession::open(test::fixture("weights/resnet50_w4_c10.pth"));
    auto traced = ModelSession::open(tsDir() / "resnet50_w4.traced.pt", {}, {},
                                     ModelSession::Names::Required, at224);
    ASSERT_EQ(builtIn->info().inputSize, 224);
    ASSERT_EQ(traced->info().inputSize, 224);
    std::vector<float> x(2u * 3 * 224 * 224);
    for (std::size_t i = 0; i < x.size(); ++i)
        x[i] = std::sin(0.37f * static_cast<float>(i % 9973)) + 0.2f * std::cos(0.001f * i);
    const std::vector<std::string> layers{"layer2", "layer3", "layer4.0", "layer4"};
    ExplainOptions ob, ot;
    ob.methods = ot.methods = {Method::GradCam, Method::GradCamPlusPlus, Method::LayerCam,
                               Method::HiResCam, Method::XGradCam};
    for (const auto& l : layers) {
        ob.taps.push_back(builtIn->info().findTap(l));
        ot.taps.push_back(traced->info().findTap(l));
        ASSERT_GE(ob.taps.back(), 0) << l;
        ASSERT_GE(ot.taps.back(), 0) << l;
    }
    ob.methods.push_back(Method::Cam);
    ot.methods.push_back(Method::Cam);
    ASSERT_TRUE(traced->info().camAvailable) << traced->info().camUnavailableReason;
    ob.referencePath = true;  // the plain fp32 network, no folded batch norm
    const auto rb = builtIn->explainPrepared(x.data(), 2, {-1, -1}, ob);
    const auto rt = traced->explainPrepared(x.data(), 2, {-1, -1}, ot);
    for (std::size_t b = 0; b < 2; ++b) {
        ASSERT_EQ(rb[b].target, rt[b].target);
        for (std::size_t c = 0; c < rb[b].logits.size(); ++c)
            EXPECT_NEAR(rb[b].logits[c], rt[b].logits[c], 1e-4);
        for (std::size_t k = 0; k < layers.size(); ++k) {
            for (Method m : ob.methods) {
                const int tb = m == Method::Cam ? builtIn->info().lastBlockTap : ob.taps[k];
                const int tt = m == Method::Cam ? traced->info().lastBlockTap : ot.taps[k];
                const Heatmap* hb = rb[b].find(m, tb);
                const Heatmap* ht = rt[b].find(m, tt);
                ASSERT_TRUE(hb && ht) << methodName(m) << " " << layers[k];
                const std::size_t n = hb->data.size();
                ASSERT_EQ(n, ht->data.size());
                const auto norm = m == Method::Cam ? minMax : gradCamNormalised;
                EXPECT_LE(maxDiff(norm(hb->data.data(), n), norm(ht->data.data(), n)), 1e-5)
                    << methodName(m) << " at " << layers[k];
            }
        }
    }
}

TEST(TorchScript, ListsSpatialLayersInForwardOrderAndDefaultsToTheCamLayer) {
    auto s = ModelSession::open(tsDir() / "resnet50_w4.traced.pt");
    const ModelInfo& info = s->info();
    // Every block, in forward order, and the default is the last block (the CAM layer).
    int prev = -1;
    for (const char* name : {"conv1", "layer1.0", "layer1", "layer2.3", "layer3.5", "layer4.2"}) {
        const int t = info.findTap(name);
        ASSERT_GE(t, 0) << name;
        EXPECT_GT(t, prev) << name;
        prev = t;
    }
    EXPECT_EQ(info.taps[static_cast<std::size_t>(info.lastBlockTap)].channels, 64 * 4 / 2);
    EXPECT_EQ(info.taps[static_cast<std::size_t>(info.lastBlockTap)].stride, 32);
    // fc's output is no map.
    EXPECT_LT(info.findTap("fc"), 0);
    EXPECT_EQ(info.findTap("no.such.layer"), -1);
    // "All blocks": the bottlenecks, not every convolution.
    const auto blocks = info.blockTaps();
    EXPECT_EQ(blocks.size(), 16u);
}

TEST(TorchScript, WithoutCamTheDefaultIsTheLastLayerTheScoreReads) {
    // A ViT's layers after its last attention carry the class token alone to the head: Grad-CAM
    // there is zero at every patch. The default is the last block's first norm instead (what
    // pytorch-grad-cam's README advises), and a note names the blank layers.
    for (const char* file : {"vit.traced.pt", "vit.scripted.pt"}) {
        auto s = ModelSession::open(tsDir() / file);
        const ModelInfo& info = s->info();
        EXPECT_EQ(info.taps.at(static_cast<std::size_t>(info.lastBlockTap)).name,
                  "encoder.layers.encoder_layer_1.ln_1")
            << file;
        const bool noted = std::any_of(info.notes.begin(), info.notes.end(), [](const auto& n) {
            return n.find("zero everywhere") != std::string::npos &&
                   n.find("encoder.ln") == std::string::npos &&
                   n.find("encoder") != std::string::npos;
        });
        EXPECT_TRUE(noted) << file;
        // And the map there is not blank.
        ExplainOptions o;
        o.methods = {Method::GradCam};
        o.taps = {info.lastBlockTap};
        const std::vector<float> x = input();
        const auto r = s->explainPrepared(x.data(), 1, {-1}, o);
        const auto& raw = r.front().maps.front().raw;
        EXPECT_TRUE(std::any_of(raw.data.begin(), raw.data.end(), [](float v) {
            return v != 0.0f;
        })) << file;
    }
    // Where every layer reaches the score, the default stays the last map.
    for (const char* file :
         {"vgg11.traced.pt", "convnext_tiny.traced.pt", "mobilenet_v3.traced.pt"}) {
        auto s = ModelSession::open(tsDir() / file);
        EXPECT_EQ(s->info().lastBlockTap, static_cast<int>(s->info().taps.size()) - 1) << file;
    }
}

TEST(TorchScript, ClassNamesComeFromMetadataElseTheDatasetElseNumbers) {
    auto withNames = ModelSession::open(tsDir() / "resnet_gap_head.traced.pt");
    EXPECT_EQ(withNames->info().classNames.front(), "class 0");
    ScriptMeta size64;
    size64.inputSize = 64;
    const std::vector<std::string> ten{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};
    auto given = ModelSession::open(tsDir() / "resnet_gap_head.nometa.traced.pt", ten, {},
                                    ModelSession::Names::Required, size64);
    EXPECT_EQ(given->info().classNames, ten);
    EXPECT_TRUE(given->info().fileMeta.empty());
    auto other = ModelSession::open(tsDir() / "resnet_gap_head.nometa.traced.pt", {"x", "y"}, {},
                                    ModelSession::Names::IfCountMatches, size64);
    EXPECT_EQ(other->info().classNames.at(3), "class 3");
    EXPECT_THROW(ModelSession::open(tsDir() / "resnet_gap_head.nometa.traced.pt", {"x", "y"}, {},
                                    ModelSession::Names::Required, size64),
                 std::exception);
}

TEST(TorchScript, ImageNetNamesAreShipped) {
    const auto& names = imageNetClassNames();
    ASSERT_EQ(names.size(), 1000u);
    EXPECT_EQ(names.front(), "tench");
    EXPECT_EQ(names[207], "golden retriever");
    EXPECT_EQ(names.back(), "toilet tissue");
}

std::string openError(const fs::path& file, const ScriptMeta& overrides = {}) {
    try {
        ModelSession::open(file, {}, {}, ModelSession::Names::Required, overrides);
    } catch (const std::exception& e) {
        return e.what();
    }
    return "";
}

TEST(TorchScript, BadModelsGetMessagesNamingTheFileAndTheFault) {
    const fs::path odd = test::fixture("torchscript_odd");
    std::string e = openError(odd / "two_inputs.pt");
    EXPECT_NE(e.find("two_inputs.pt"), std::string::npos) << e;
    EXPECT_NE(e.find("needs 2 inputs"), std::string::npos) << e;

    e = openError(odd / "needs_sdpa.pt");
    EXPECT_NE(e.find("needs_sdpa.pt"), std::string::npos) << e;
    EXPECT_NE(e.find("scaled_dot_product_attention"), std::string::npos) << e;
    EXPECT_NE(e.find("newer PyTorch"), std::string::npos) << e;

    e = openError(odd / "scalar_output.pt");
    EXPECT_NE(e.find("not class scores"), std::string::npos) << e;

    // A ViT built for 64 px fed 224 px: the model's own error, and what to do.
    ScriptMeta big;
    big.inputSize = 224;
    e = openError(tsDir() / "vit.traced.pt", big);
    EXPECT_NE(e.find("fails on a batch of two 3x224x224 images"), std::string::npos) << e;

    // Not TorchScript at all.
    test::TempDir dir;
    { std::ofstream(dir / "junk.pt") << "this is not a model"; }
    e = openError(dir / "junk.pt");
    EXPECT_NE(e.find("junk.pt"), std::string::npos) << e;
}

TEST(TorchScript, TupleOutputUsesTheFirstTensorAndSaysSo) {
    auto s = ModelSession::open(test::fixture("torchscript_odd/tuple_output.pt"), {}, {},
                                ModelSession::Names::Required, [] {
                                    ScriptMeta m;
                                    m.inputSize = 32;
                                    return m;
                                }());
    ASSERT_FALSE(s->info().notes.empty());
    EXPECT_NE(s->info().notes.front().find("tuple"), std::string::npos);
    EXPECT_EQ(s->info().numClasses(), 5);
    EXPECT_TRUE(s->info().camAvailable) << s->info().camUnavailableReason;
}

TEST(TorchScript, DictOutputConventionGivesNamedLayers) {
    ScriptMeta m;
    m.inputSize = 32;
    auto s = ModelSession::open(test::fixture("torchscript_odd/dict_output.pt"), {}, {},
                                ModelSession::Names::Required, m);
    const ModelInfo& info = s->info();
    EXPECT_EQ(info.numClasses(), 5);
    const int l1 = info.findTap("layer1"), l2 = info.findTap("layer2");
    ASSERT_GE(l1, 0);
    ASSERT_GE(l2, 0);
    std::vector<float> x(2 * 3 * 32 * 32);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.01f * static_cast<float>(i));
    ExplainOptions o;
    o.methods = {Method::GradCam, Method::LayerCam};
    o.taps = {l1, l2};
    const auto r = s->explainPrepared(x.data(), 2, {-1, -1}, o);
    const Heatmap* h1 = r[0].find(Method::GradCam, l1);
    ASSERT_NE(h1, nullptr);
    EXPECT_EQ(h1->width, 16);
    const Heatmap* h2 = r[0].find(Method::LayerCam, l2);
    ASSERT_NE(h2, nullptr);
    EXPECT_EQ(h2->width, 8);
    EXPECT_GT(*std::max_element(h2->data.begin(), h2->data.end()), 0.0f);
}

TEST(TorchScript, CamOnAModelWithoutAGapLinearHeadSaysWhy) {
    auto s = ModelSession::open(tsDir() / "resnet_mlp_head.traced.pt");
    EXPECT_FALSE(s->info().camAvailable);
    EXPECT_FALSE(s->info().camUnavailableReason.empty());
    const std::vector<float> x = input();
    ExplainOptions o;
    o.methods = {Method::Cam};
    try {
        s->explainPrepared(x.data(), 2, {-1, -1}, o);
        FAIL() << "CAM computed on an MLP head";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("CAM is not available"), std::string::npos);
    }
    // Every other method works.
    o.methods = {Method::GradCam, Method::EigenCam, Method::ScoreCam};
    o.scoreCamMaxChannels = 4;
    const auto r = s->explainPrepared(x.data(), 2, {-1, -1}, o);
    EXPECT_EQ(r[0].maps.size(), 3u);
}

TEST(TorchScript, MetadataIsValidatedWithClearMessages) {
    EXPECT_THROW(parseScriptMeta("{}", "m.pt"), ScriptMetaError);
    EXPECT_THROW(parseScriptMeta(R"({"format":"camx-model/1","std":[1,0,1]})", "m.pt"),
                 ScriptMetaError);
    EXPECT_THROW(parseScriptMeta(R"({"format":"camx-model/1","input_size":[224,160]})", "m.pt"),
                 ScriptMetaError);
    try {
        parseScriptMeta(R"({"format":"camx-model/1","class_names":[1,2]})", "m.pt");
        FAIL();
    } catch (const ScriptMetaError& e) {
        EXPECT_NE(std::string(e.what()).find("m.pt"), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("class_names"), std::string::npos);
    }
    const ScriptMeta m = parseScriptMeta(
        R"({"format":"camx-model/1","input_size":[96,96],"mean":[0.5,0.5,0.5],"std":[0.25,0.25,0.25],
            "layout":"nhwc","prefix_tokens":1,"patch_grid":[6,6],"class_names":["a","b"],"later":1})",
        "m.pt");
    EXPECT_EQ(*m.inputSize, 96);
    EXPECT_EQ(m.layout, MapLayout::Nhwc);
    EXPECT_EQ(*m.prefixTokens, 1);
    EXPECT_EQ((*m.patchGrid)[1], 6);
    EXPECT_EQ(m.classNames.size(), 2u);
    const ScriptMeta back = parseScriptMeta(scriptMetaToJson(m), "again");
    EXPECT_EQ(back.classNames, m.classNames);
    EXPECT_EQ(*back.std, *m.std);
}

TEST(TorchScript, MemoryStaysFlatOverRepeatedExplanations) {
#if defined(__SANITIZE_ADDRESS__)
    GTEST_SKIP() << "AddressSanitizer keeps freed memory in quarantine, so RSS says nothing about "
                    "leaks here";
#endif
    auto s = ModelSession::open(tsDir() / "resnet_gap_head.traced.pt");
    const std::vector<float> x = input();
    ExplainOptions o;
    o.methods = {Method::GradCam, Method::LayerCam};
    o.taps = s->info().blockTaps();
    auto rss = [] {
        std::ifstream in("/proc/self/statm");
        long pages = 0, resident = 0;
        in >> pages >> resident;
        return resident * 4096L;
    };
    for (int i = 0; i < 20; ++i) s->explainPrepared(x.data(), 2, {-1, -1}, o);
    const long before = rss();
    for (int i = 0; i < 200; ++i) s->explainPrepared(x.data(), 2, {-1, -1}, o);
    const long after = rss();
    EXPECT_LT(after - before, 16L << 20) << "RSS grew by " << (after - before) << " bytes";
}

}  // namespace
}  // namespace camx
