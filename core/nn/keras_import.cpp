#include "nn/keras_import.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace camx {

namespace {

using json = nlohmann::json;

constexpr int kBlocks[4] = {3, 4, 6, 3};

std::string blockName(int stage, int block) {  // stage 2..5, block 1..
    return "conv" + std::to_string(stage) + "_block" + std::to_string(block);
}

// Every layer name keras.applications.ResNet50(include_top=False, pooling='avg') creates.
std::set<std::string> resnetLayerNames() {
    std::set<std::string> s = {"conv1_pad", "conv1_conv", "conv1_bn", "conv1_relu",
                               "pool1_pad", "pool1_pool", "avg_pool"};
    for (int st = 0; st < 4; ++st)
        for (int b = 1; b <= kBlocks[st]; ++b) {
            const std::string n = blockName(st + 2, b);
            for (const char* suffix : {"_1_conv", "_1_bn", "_1_relu", "_2_conv", "_2_bn", "_2_relu",
                                       "_3_conv", "_3_bn", "_add", "_out"})
                s.insert(n + suffix);
            if (b == 1) {
                s.insert(n + "_0_conv");
                s.insert(n + "_0_bn");
            }
        }
    return s;
}

struct ConfigLayer {
    std::string className, name;
    json config;
};

void walk(const json& model, int depth, std::vector<ConfigLayer>& out,
          std::vector<std::string>& models, std::string& inputShape) {
    if (depth > 16 || !model.is_object()) return;
    const json* cfg = model.contains("config") ? &model["config"] : nullptr;
    if (!cfg || !cfg->is_object()) return;
    if (cfg->contains("name") && (*cfg)["name"].is_string())
        models.push_back((*cfg)["name"].get<std::string>());
    if (!cfg->contains("layers") || !(*cfg)["layers"].is_array()) return;
    for (const json& l : (*cfg)["layers"]) {
        if (!l.is_object()) continue;
        const std::string cls = l.value("class_name", std::string());
        const json lc = l.value("config", json::object());
        if (cls == "Functional" || cls == "Sequential" || cls == "Model") {
            walk(l, depth + 1, out, models, inputShape);
            continue;
        }
        std::string name = lc.is_object() ? lc.value("name", std::string()) : std::string();
        // The input's declared shape: (None, H, W, 3) with H, W fixed or null.
        for (const char* key : {"batch_input_shape", "batch_shape"})
            if (lc.is_object() && lc.contains(key) && inputShape.empty())
                inputShape = lc[key].dump();
        out.push_back({cls, name, lc});
    }
}

// A name for a network that is not a ResNet-50 v1, from its layer names.
std::string describeOther(const KerasFile& f, const std::vector<std::string>& models) {
    auto has = [&](const std::string& n) { return f.find(n) != nullptr; };
    std::string guess;
    if (has("conv2_block1_preact_bn"))
        guess = "a ResNet v2 (ResNet50V2/101V2/152V2)";
    else if (has("conv4_block7_1_conv") && has("conv4_block23_1_conv") &&
             !has("conv4_block24_1_conv"))
        guess = "ResNet-101";
    else if (has("conv4_block36_1_conv"))
        guess = "ResNet-152";
    else if (has("conv2_block1_0_bn") || has("conv1/conv"))
        guess = "a DenseNet";
    else if (has("block1_conv1") && has("block5_conv3"))
        guess = has("block5_conv4") ? "VGG-19" : "VGG-16";
    else if (has("expanded_conv_project") || has("block_1_expand"))
        guess = "a MobileNet";
    else if (has("stem_conv"))
        guess = "an EfficientNet";
    else if (has("conv2d_1") || has("conv2d"))
        guess = "a custom network";
    if (guess.empty() && !models.empty()) {
        for (const auto& m : models)
            if (m != "sequential" && m.rfind("model", 0) != 0 && m.rfind("functional", 0) != 0 &&
                m.rfind("sequential", 0) != 0)
                guess = "'" + m + "'";
    }
    std::ostringstream s;
    s << (guess.empty() ? "an unrecognised network" : guess);
    s << " (layers with weights: ";
    for (std::size_t i = 0; i < f.layers.size() && i < 4; ++i)
        s << (i ? ", " : "") << f.layers[i].name;
    if (f.layers.size() > 4) s << ", ... " << f.layers.size() << " in all";
    s << ")";
    return s.str();
}

std::string shapeText(const std::vector<int64_t>& s) {
    std::string t = "(";
    for (std::size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
    return t + (s.size() == 1 ? ",)" : ")");
}

}  // namespace

KerasImport importKerasModel(const KerasFile& f, const std::string& where) {
    auto fail = [&](const std::string& what) -> KerasModelError {
        return KerasModelError("'" + where + "': " + what);
    };
    const std::string supported =
        "CAM Explorer reads keras.applications ResNet-50 (v1) with global average pooling and "
        "one Dense layer";

    // The config, when the file has one: the head's layers and the input size.
    std::vector<ConfigLayer> configLayers;
    std::vector<std::string> models;
    std::string inputShape;
    if (!f.modelConfig.empty()) {
        json config;
        try {
            config = json::parse(f.modelConfig);
        } catch (const json::exception& e) {
            throw fail(std::string("its model_config is not valid JSON: ") + e.what());
        }
        walk(config, 0, configLayers, models, inputShape);
    }

    // The architecture, from the weights.
    if (!f.find("conv1_conv") || !f.find("conv5_block3_3_conv") || f.find("conv4_block7_1_conv") ||
        f.find("conv2_block1_preact_bn"))
        throw fail("the model is " + describeOther(f, models) + ", not a ResNet-50 v1. " +
                   supported + ".");

    const std::set<std::string> resnet = resnetLayerNames();
    const KerasLayer* dense = nullptr;
    for (const KerasLayer& l : f.layers) {
        if (resnet.count(l.name)) continue;
        auto k = l.vars.find("kernel");
        if (k != l.vars.end() && k->second.shape.size() == 2 && l.vars.size() <= 2) {
            if (dense)
                throw fail("the model has two Dense layers after the backbone ('" + dense->name +
                           "', '" + l.name + "'). " + supported + ".");
            dense = &l;
            continue;
        }
        throw fail("layer '" + l.name + "' (" +
                   (l.className.empty() ? std::string("with weights") : l.className) +
                   ") is not part of a ResNet-50 v1 + Dense model. " + supported + ".");
    }
    if (!dense)
        throw fail(
            "the model has no Dense layer after the ResNet-50 backbone (saved with "
            "include_top=False and no classifier?). " +
            supported + ".");

    KerasImport out;
    out.denseName = dense->name;
    // The head, per the config: global average pooling before the Dense layer, nothing else
    // that computes.
    if (!configLayers.empty()) {
        bool gap = false;
        const ConfigLayer* otherPool = nullptr;  // global max pooling, flattening
        for (const ConfigLayer& l : configLayers) {
            if (l.className == "GlobalAveragePooling2D") gap = true;
            if (!otherPool && (l.className == "GlobalMaxPooling2D" || l.className == "Flatten"))
                otherPool = &l;
            if (resnet.count(l.name) || l.name == dense->name) continue;
            if (l.className == "InputLayer" || l.className == "Dropout" ||
                l.className == "GlobalAveragePooling2D")
                continue;
            if (l.className == "Activation" && l.config.is_object() &&
                l.config.value("activation", "") == "softmax")
                continue;
            throw fail("its head has a " + l.className + " layer ('" + l.name +
                       "'); CAM needs global average pooling and one Dense layer. " + supported +
                       ".");
        }
        if (!gap && otherPool)
            throw fail("its head has a " + otherPool->className + " layer ('" + otherPool->name +
                       "') where CAM needs global average pooling. " + supported + ".");
        if (!gap)
            throw fail(
                "the model has no GlobalAveragePooling2D layer (ResNet50 built without "
                "pooling='avg'?); CAM needs global average pooling. " +
                supported + ".");
        for (const ConfigLayer& l : configLayers)
            if (l.name == dense->name && l.config.is_object() && l.config.contains("activation") &&
                l.config["activation"].is_string())
                out.activation = l.config["activation"].get<std::string>();
    } else {
        out.notes.push_back("the file holds weights only: global average pooling before '" +
                            dense->name + "' is assumed, as keras.applications' pooling='avg'");
    }
    if (!out.activation.empty() && out.activation != "softmax" && out.activation != "linear")
        out.notes.push_back("the Dense layer's activation is '" + out.activation +
                            "'; scores here are its input x.W + b and softmax of them");
    // (None, 224, 224, 3): a fixed square size is the model's; otherwise 224.
    if (!inputShape.empty()) {
        try {
            const json s = json::parse(inputShape);
            if (s.is_array() && s.size() == 4 && s[1].is_number_integer() && s[1] == s[2] &&
                s[1].get<int>() >= 32 && s[1].get<int>() <= 4096)
                out.inputSize = s[1].get<int>();
        } catch (const json::exception&) {
        }
    }

    // Shapes: every weight checked before the network is built from them.
    const KerasLayer& stem = *f.find("conv1_conv");
    auto k0 = stem.vars.find("kernel");
    if (k0 == stem.vars.end() || k0->second.shape.size() != 4 || k0->second.shape[0] != 7 ||
        k0->second.shape[1] != 7 || k0->second.shape[2] != 3)
        throw fail("conv1_conv's kernel is not 7x7x3xN as in ResNet-50");
    const int64_t w = k0->second.shape[3];
    if (w < 1 || w > kMaxBaseWidth) throw fail("conv1_conv has an unusable width");
    const int64_t features = w * 32;
    const auto& dk = dense->vars.at("kernel");
    if (dk.shape[0] != features)
        throw fail("Dense layer '" + dense->name + "' takes " + std::to_string(dk.shape[0]) +
                   " inputs but the backbone gives " + std::to_string(features));
    const int64_t classes = dk.shape[1];
    if (classes < 1 || classes > kMaxClasses)
        throw fail("Dense layer '" + dense->name + "' has an unusable class count (" +
                   std::to_string(classes) + ")");

    // Keras name -> (module path in CamNet, kind).
    struct Expect {
        std::string keras, module;
        bool conv;
        int64_t in, out, k;
    };
    std::vector<Expect> expects;
    expects.push_back({"conv1_conv", "conv1", true, 3, w, 7});
    expects.push_back({"conv1_bn", "bn1", false, 0, w, 0});
    int64_t in = w;
    for (int st = 0; st < 4; ++st) {
        const int64_t planes = w << st, outCh = planes * 4;
        for (int b = 0; b < kBlocks[st]; ++b) {
            const std::string kn = blockName(st + 2, b + 1);
            const std::string mod = "layer" + std::to_string(st + 1) + "." + std::to_string(b);
            expects.push_back({kn + "_1_conv", mod + ".conv1", true, in, planes, 1});
            expects.push_back({kn + "_1_bn", mod + ".bn1", false, 0, planes, 0});
            expects.push_back({kn + "_2_conv", mod + ".conv2", true, planes, planes, 3});
            expects.push_back({kn + "_2_bn", mod + ".bn2", false, 0, planes, 0});
            expects.push_back({kn + "_3_conv", mod + ".conv3", true, planes, outCh, 1});
            expects.push_back({kn + "_3_bn", mod + ".bn3", false, 0, outCh, 0});
            if (b == 0) {
                expects.push_back({kn + "_0_conv", mod + ".downsample.0", true, in, outCh, 1});
                expects.push_back({kn + "_0_bn", mod + ".downsample.1", false, 0, outCh, 0});
            }
            in = outCh;
        }
    }
    std::vector<std::string> problems;
    auto check = [&](const KerasLayer* l, const std::string& name, const std::string& var,
                     const std::vector<int64_t>& shape) {
        if (!l) return;
        auto it = l->vars.find(var);
        if (it == l->vars.end())
            problems.push_back(name + "/" + var + " missing");
        else if (it->second.shape != shape)
            problems.push_back(name + "/" + var + " is " + shapeText(it->second.shape) +
                               ", expected " + shapeText(shape));
    };
    for (const Expect& e : expects) {
        const KerasLayer* l = f.find(e.keras);
        if (!l) {
            problems.push_back(e.keras + " missing");
            continue;
        }
        if (e.conv) {
            check(l, e.keras, "kernel", {e.k, e.k, e.in, e.out});
            check(l, e.keras, "bias", {e.out});
        } else {
            for (const char* v : {"gamma", "beta", "moving_mean", "moving_variance"})
                check(l, e.keras, v, {e.out});
        }
    }
    if (dense->vars.count("bias")) check(dense, dense->name, "bias", {classes});
    if (!problems.empty()) {
        std::string msg =
            "the weights do not fit a ResNet-50 v1 of width " + std::to_string(w) + ": ";
        for (std::size_t i = 0; i < problems.size() && i < 8; ++i)
            msg += (i ? "; " : "") + problems[i];
        if (problems.size() > 8) msg += "; ... " + std::to_string(problems.size()) + " in all";
        throw fail(msg);
    }

    // Build and fill.
    out.net = CamNet(Arch::KerasResNet50, classes, w);
    out.numClasses = classes;
    out.baseWidth = w;
    at::NoGradGuard noGrad;
    std::map<std::string, at::Tensor> params, buffers;
    for (auto& p : out.net->named_parameters()) params[p.key()] = p.value();
    for (auto& b : out.net->named_buffers()) buffers[b.key()] = b.value();
    auto tensorOf = [](const KerasArray& a) {
        return at::from_blob(const_cast<float*>(a.values.data()), a.shape, at::kFloat);
    };
    auto copy = [&](std::map<std::string, at::Tensor>& into, const std::string& key,
                    const at::Tensor& value) {
        at::Tensor& t = into.at(key);
        TORCH_CHECK(t.sizes() == value.sizes(), "shape mismatch for ", key);
        t.copy_(value);
    };
    for (const Expect& e : expects) {
        const KerasLayer& l = *f.find(e.keras);
        if (e.conv) {
            copy(params, e.module + ".weight", tensorOf(l.vars.at("kernel")).permute({3, 2, 0, 1}));
            copy(params, e.module + ".bias", tensorOf(l.vars.at("bias")));
        } else {
            copy(params, e.module + ".weight", tensorOf(l.vars.at("gamma")));
            copy(params, e.module + ".bias", tensorOf(l.vars.at("beta")));
            copy(buffers, e.module + ".running_mean", tensorOf(l.vars.at("moving_mean")));
            copy(buffers, e.module + ".running_var", tensorOf(l.vars.at("moving_variance")));
        }
    }
    copy(params, "fc.weight", tensorOf(dk).t());
    if (dense->vars.count("bias"))
        copy(params, "fc.bias", tensorOf(dense->vars.at("bias")));
    else
        params.at("fc.bias").zero_();
    out.net->eval();
    return out;
}

}  // namespace camx
