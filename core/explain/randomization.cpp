#include "explain/randomization.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>

#include "nn/reinit.h"

namespace camx {

namespace {

bool underPath(const std::string& path, const std::string& prefix) {
    return path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0 &&
           path[prefix.size()] == '.';
}

// The modules of a CamNet that hold tensors of their own, in registration order.
std::vector<std::string> tensorModulePaths(const CamNetImpl& net) {
    std::vector<std::string> out;
    for (const auto& item : net.named_modules("", /*include_self=*/false))
        if (!item.value()->named_parameters(false).is_empty() ||
            !item.value()->named_buffers(false).is_empty())
            out.push_back(item.key());
    return out;
}

std::string typeNameOf(const torch::nn::Module& m) {
    if (m.as<torch::nn::Conv2dImpl>()) return "Conv2d";
    if (m.as<torch::nn::BatchNorm2dImpl>()) return "BatchNorm2d";
    if (m.as<torch::nn::LinearImpl>()) return "Linear";
    return m.name();
}

// The longest dot-separated prefix every path shares ("classifier" for classifier.0 and
// classifier.3), or "" when there is none.
std::string commonPrefix(const std::vector<std::string>& paths) {
    if (paths.empty()) return {};
    std::string p = paths.front();
    for (const auto& q : paths) {
        while (!p.empty() && q != p && !underPath(q, p)) {
            const std::size_t dot = p.rfind('.');
            p = dot == std::string::npos ? std::string() : p.substr(0, dot);
        }
    }
    return p;
}

void reinitialize(CamNetImpl& net, const std::vector<std::string>& modules, std::uint64_t seed) {
    const std::set<std::string> wanted(modules.begin(), modules.end());
    torch::NoGradGuard noGrad;
    for (const auto& item : net.named_modules("", /*include_self=*/false)) {
        if (!wanted.count(item.key())) continue;
        torch::nn::Module& m = *item.value();
        NamedTensorList params, buffers;
        for (const auto& p : m.named_parameters(false)) params.emplace_back(p.key(), p.value());
        for (const auto& b : m.named_buffers(false)) buffers.emplace_back(b.key(), b.value());
        const NamedTensorList before = params, beforeBuffers = buffers;
        reinitializeModule(item.key(), typeNameOf(m), params, buffers, seed);
        for (std::size_t k = 0; k < params.size(); ++k) before[k].second.copy_(params[k].second);
        for (std::size_t k = 0; k < buffers.size(); ++k)
            beforeBuffers[k].second.copy_(buffers[k].second);
    }
}

std::vector<std::string> modulesThrough(const std::vector<CascadeStep>& cascade, int through) {
    if (through >= static_cast<int>(cascade.size()))
        throw std::invalid_argument("the randomisation cascade has " +
                                    std::to_string(cascade.size()) + " steps, not " +
                                    std::to_string(through + 1));
    std::vector<std::string> out;
    for (int k = 0; k <= through; ++k)
        out.insert(out.end(), cascade[static_cast<std::size_t>(k)].modules.begin(),
                   cascade[static_cast<std::size_t>(k)].modules.end());
    return out;
}

}  // namespace

std::vector<CascadeStep> randomizationCascade(const CamNetImpl& net) {
    const std::vector<std::string> modules = tensorModulePaths(net);
    std::set<std::string> taken;
    std::vector<CascadeStep> steps;
    auto take = [&](const std::string& label, auto belongs) {
        CascadeStep step{label, {}};
        for (const auto& m : modules)
            if (!taken.count(m) && belongs(m)) {
                step.modules.push_back(m);
                taken.insert(m);
            }
        if (!step.modules.empty()) steps.push_back(std::move(step));
    };
    take("fc", [](const std::string& m) { return m == "fc"; });
    // Each block's module path ("layer4.2"): the taps are the stem, then each stage's blocks
    // followed by the stage's own tap. The step is labelled with the tap's name, which for the
    // Keras architecture is Keras's ("conv5_block3_out"), not the module path.
    std::map<int, std::string> blockPath;
    int stage = 1, inStage = 0;
    for (int i = 1; i < static_cast<int>(net.taps().size()); ++i) {
        if (net.taps()[static_cast<std::size_t>(i)].isStage) {
            ++stage;
            inStage = 0;
            continue;
        }
        blockPath[i] = "layer" + std::to_string(stage) + "." + std::to_string(inStage++);
    }
    const std::vector<int> blocks = net.blockTaps();
    for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) {
        const std::string& name = net.taps()[static_cast<std::size_t>(*it)].name;
        const std::string& path = blockPath.at(*it);
        take(name, [&](const std::string& m) { return underPath(m, path); });
    }
    take("stem", [](const std::string&) { return true; });
    return steps;
}

std::vector<CascadeStep> randomizationCascade(const ScriptedNet& net) {
    const std::vector<ScriptedNet::ModuleUse> modules = net.tensorModules();
    struct Block {
        std::string name;
        long begin, end;
    };
    std::vector<Block> blocks;
    for (int t : net.blockTaps()) {
        const auto [begin, end] = net.tapSpan(t);
        if (end < 0) continue;
        blocks.push_back({net.taps()[static_cast<std::size_t>(t)].name, begin, end});
    }
    std::stable_sort(blocks.begin(), blocks.end(),
                     [](const Block& a, const Block& b) { return a.end < b.end; });
    if (blocks.empty()) {
        CascadeStep all{"all", {}};
        for (const auto& m : modules) all.modules.push_back(m.path);
        return all.modules.empty() ? std::vector<CascadeStep>{} : std::vector<CascadeStep>{all};
    }
    long firstBegin = std::numeric_limits<long>::max();
    for (const Block& b : blocks) firstBegin = std::min(firstBegin, b.begin);
    // Group index: blocks.size() for the head, -1 for the stem, else the block's.
    std::map<long, std::vector<std::string>> groups;
    const long head = static_cast<long>(blocks.size());
    for (const auto& m : modules) {
        long g = -1;
        if (m.firstNode < 0 || m.firstNode < firstBegin) {
            g = -1;
        } else if (m.firstNode > blocks.back().end) {
            g = head;
        } else {
            for (std::size_t i = 0; i < blocks.size(); ++i)
                if (m.firstNode <= blocks[i].end) {
                    g = static_cast<long>(i);
                    break;
                }
        }
        groups[g].push_back(m.path);
    }
    std::vector<CascadeStep> steps;
    if (!groups[head].empty()) {
        const std::string prefix = commonPrefix(groups[head]);
        steps.push_back({prefix.empty() ? "head" : prefix, groups[head]});
    }
    for (long i = head - 1; i >= 0; --i)
        if (!groups[i].empty())
            steps.push_back({blocks[static_cast<std::size_t>(i)].name, groups[i]});
    if (!groups[-1].empty()) steps.push_back({"stem", groups[-1]});
    return steps;
}

CamNet randomizedCopy(const CamNetImpl& net, const std::vector<CascadeStep>& cascade, int through,
                      std::uint64_t seed) {
    const std::vector<std::string> modules = modulesThrough(cascade, through);
    c10::InferenceMode notInference(false);
    CamNet copy(net.arch(), net.numClasses(), net.baseWidth());
    {
        torch::NoGradGuard noGrad;
        const auto params = net.named_parameters(true);
        for (auto& p : copy->named_parameters(true)) p.value().copy_(params[p.key()]);
        const auto buffers = net.named_buffers(true);
        for (auto& b : copy->named_buffers(true)) b.value().copy_(buffers[b.key()]);
    }
    reinitialize(*copy, modules, seed);
    return copy;
}

std::unique_ptr<ScriptedNet> randomizedCopy(const ScriptedNet& net,
                                            const std::vector<CascadeStep>& cascade, int through,
                                            std::uint64_t seed) {
    const std::vector<std::string> list = modulesThrough(cascade, through);
    const std::set<std::string> modules(list.begin(), list.end());
    c10::InferenceMode notInference(false);
    return net.copyWith(
        [&](const ScriptedNet::ModuleUse& m, NamedTensorList& params, NamedTensorList& buffers) {
            if (modules.count(m.path))
                reinitializeModule(m.path, m.typeName, params, buffers, seed);
        });
}

SanityResult explainRandomized(Explainer& original, const at::Tensor& images,
                               const std::vector<int>& targets, const SanityOptions& o,
                               const JobContext& job) {
    ScriptedNet* script = original.scripted();
    const std::vector<CascadeStep> cascade =
        script ? randomizationCascade(*script) : randomizationCascade(*original.net());
    std::vector<int> wanted = o.steps;
    if (wanted.empty())
        for (int k = 0; k < static_cast<int>(cascade.size()); ++k) wanted.push_back(k);
    std::sort(wanted.begin(), wanted.end());
    wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
    for (int k : wanted)
        if (k < 0 || k >= static_cast<int>(cascade.size()))
            throw std::invalid_argument("no randomisation step " + std::to_string(k) +
                                        ": the cascade has " + std::to_string(cascade.size()) +
                                        " steps");
    // The randomised copies may find another default layer (a TorchScript model without CAM
    // picks it by a backward pass): ask for the original's explicitly.
    ExplainOptions eo = o.explain;
    if (eo.taps.empty()) eo.taps = {script ? script->defaultTap() : original.net()->lastBlockTap()};
    // Progress is counted in steps here; Score-CAM's own per-channel reports would interleave.
    const JobContext inner{{}, job.cancel};
    const std::size_t total = wanted.size() + (o.explainOriginal ? 1 : 0);

    SanityResult result;
    std::vector<int> classes = targets;
    if (o.explainOriginal) {
        job.report(0, total, "Explaining the original model");
        result.original = original.explain(images, targets, eo, inner);
        classes.clear();
        for (const auto& e : result.original) classes.push_back(e.target);
        job.report(1, total, "Explaining the original model");
    } else if (std::any_of(targets.begin(), targets.end(), [](int t) { return t < 0; })) {
        throw std::invalid_argument("without the original's explanation every class must be given");
    }

    CamNet work{nullptr};
    if (!script && !wanted.empty()) work = randomizedCopy(*original.net(), cascade, -1, o.seed);
    std::size_t done = o.explainOriginal ? 1 : 0;
    int applied = -1;
    for (int k : wanted) {
        job.throwIfCancelled();
        const CascadeStep& step = cascade[static_cast<std::size_t>(k)];
        job.report(done, total, "Randomised through " + step.label);
        std::unique_ptr<Explainer> ex;
        if (script) {
            ex = std::make_unique<Explainer>(
                std::shared_ptr<ScriptedNet>(randomizedCopy(*script, cascade, k, o.seed)));
        } else {
            // Cumulative: only the steps since the last one explained are new.
            std::vector<std::string> fresh;
            for (int j = applied + 1; j <= k; ++j)
                fresh.insert(fresh.end(), cascade[static_cast<std::size_t>(j)].modules.begin(),
                             cascade[static_cast<std::size_t>(j)].modules.end());
            {
                c10::InferenceMode notInference(false);
                reinitialize(*work, fresh, o.seed);
            }
            applied = k;
            ex = std::make_unique<Explainer>(work, original.device());
        }
        SanityStep s;
        s.index = k;
        s.step = step;
        s.explanations = ex->explain(images, classes, eo, inner);
        result.steps.push_back(std::move(s));
        job.report(++done, total, "Randomised through " + step.label);
    }
    return result;
}

}  // namespace camx
