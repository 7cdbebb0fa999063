#include "nn/weights.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <cstring>
#include <map>
#include <sstream>

#include "common/fs_util.h"

namespace camx {

namespace {
std::string stripPrefix(const std::string& k) {
    for (const char* p : {"module.", "model.", "state_dict."})
        if (k.rfind(p, 0) == 0) return k.substr(std::strlen(p));
    return k;
}
std::string shapeText(at::IntArrayRef s) {
    std::ostringstream o;
    o << "[";
    for (std::size_t i = 0; i < s.size(); ++i) o << (i ? "," : "") << s[i];
    o << "]";
    return o.str();
}
}  // namespace

ImportReport loadStateDict(CamNet& net, const NamedTensors& tensors, const std::string& source) {
    std::map<std::string, at::Tensor> byName;
    for (const auto& [k, v] : tensors) byName[stripPrefix(k)] = v;

    ImportReport report;
    std::vector<std::string> problems;
    std::vector<std::pair<at::Tensor, at::Tensor>> copies;
    auto consider = [&](const std::string& key, at::Tensor& dst) {
        auto it = byName.find(key);
        const bool isHead = key.rfind("fc.", 0) == 0;
        if (it == byName.end()) {
            if (isHead) {
                report.headDropped = true;
                return;
            }
            problems.push_back("missing " + key);
            return;
        }
        if (it->second.sizes() != dst.sizes()) {
            if (isHead) {
                report.headDropped = true;
            } else {
                problems.push_back(key + ": file has " + shapeText(it->second.sizes()) +
                                   ", network has " + shapeText(dst.sizes()));
            }
            byName.erase(it);
            return;
        }
        copies.emplace_back(dst, it->second);
        byName.erase(it);
    };
    for (auto& p : net->named_parameters()) consider(p.key(), p.value());
    for (auto& b : net->named_buffers()) {
        // Old files have no num_batches_tracked; it only matters for momentum=None batch norm.
        if (b.key().size() > 20 &&
            b.key().compare(b.key().size() - 19, 19, "num_batches_tracked") == 0 &&
            !byName.count(b.key()))
            continue;
        consider(b.key(), b.value());
    }
    if (!problems.empty()) {
        std::ostringstream msg;
        msg << "the weights in '" << source << "' do not fit " << archName(net->arch()) << " ("
            << problems.size() << " mismatches):";
        for (std::size_t i = 0; i < problems.size() && i < 12; ++i) msg << "\n  " << problems[i];
        if (problems.size() > 12) msg << "\n  ... " << problems.size() - 12 << " more";
        throw WeightsError(msg.str());
    }
    torch::NoGradGuard noGrad;
    for (auto& [dst, src] : copies) dst.copy_(src.to(dst.dtype()));
    if (report.headDropped) {
        // A fresh head, initialised as torch.nn.Linear does.
        auto fc = net->classifier();
        const double bound = 1.0 / std::sqrt(static_cast<double>(fc->weight.size(1)));
        fc->weight.uniform_(-bound, bound);
        fc->bias.uniform_(-bound, bound);
    }
    report.loaded = copies.size();
    for (const auto& [k, v] : byName) report.ignored.push_back(k);
    return report;
}

ImportReport loadWeightsFile(CamNet& net, const std::filesystem::path& path) {
    return loadStateDict(net, readTorchStateDict(path), path.string());
}

std::optional<InferredModel> inferModel(const NamedTensors& tensors, const std::string& source) {
    std::map<std::string, at::Tensor> byName;
    for (const auto& [k, v] : tensors) byName[stripPrefix(k)] = v;
    auto conv1 = byName.find("conv1.weight");
    auto fcw = byName.find("fc.weight");
    if (conv1 == byName.end() || fcw == byName.end() || conv1->second.dim() != 4 ||
        fcw->second.dim() != 2)
        return std::nullopt;
    const bool bottleneck = byName.count("layer1.0.conv3.weight") > 0;
    int layer3 = 0;
    while (byName.count("layer3." + std::to_string(layer3) + ".conv1.weight")) ++layer3;
    InferredModel m{};
    m.baseWidth = conv1->second.size(0);
    m.numClasses = fcw->second.size(0);
    if (!bottleneck && layer3 == 2)
        m.arch = Arch::ResNet18;
    else if (!bottleneck && layer3 == 6)
        m.arch = Arch::ResNet34;
    else if (bottleneck && layer3 == 6)
        m.arch = Arch::ResNet50;
    else if (bottleneck && layer3 == 23)
        m.arch = Arch::ResNet101;
    else
        return std::nullopt;
    const std::string where = source.empty() ? std::string("the state dict") : "'" + source + "'";
    if (m.baseWidth < 1 || m.baseWidth > kMaxBaseWidth)
        throw WeightsError(where + " describes a " + archName(m.arch) + " of width " +
                           std::to_string(m.baseWidth) + " (conv1.weight); at most " +
                           std::to_string(kMaxBaseWidth) + " is supported");
    if (m.numClasses < 1 || m.numClasses > kMaxClasses)
        throw WeightsError(where + " describes " + std::to_string(m.numClasses) +
                           " classes (fc.weight); 1 to " + std::to_string(kMaxClasses) +
                           " are supported");
    std::uint64_t held = 0;
    for (const auto& [k, v] : tensors) held += static_cast<std::uint64_t>(v.numel());
    const std::uint64_t needed = parameterCount(m.arch, m.numClasses, m.baseWidth);
    if (needed > held)
        throw WeightsError(where + " describes a " + archName(m.arch) + " of width " +
                           std::to_string(m.baseWidth) + " with " + std::to_string(m.numClasses) +
                           " classes (" + std::to_string(needed) + " parameters), but holds only " +
                           std::to_string(held) +
                           " values: it is not a complete state dict of that network");
    return m;
}

std::filesystem::path findImageNetWeights(Arch arch) {
    for (const auto& k : knownImageNetWeights()) {
        if (k.arch != arch) continue;
        const auto p = weightsCacheDir() / k.fileName;
        if (std::filesystem::is_regular_file(p)) return p;
        throw WeightsError("ImageNet weights for " + archName(arch) + " are not here. Download " +
                           k.url + " and put it at '" + p.string() +
                           "' (or pass the file with --weights; the GUI's training wizard can "
                           "download it).");
    }
    throw WeightsError("no known ImageNet weights for " + archName(arch));
}

}  // namespace camx
