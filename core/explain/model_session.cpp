#include "explain/model_session.h"

#include "common/hash.h"

#include <ATen/ATen.h>

#include "common/fs_util.h"
#include "explain/explainer.h"
#include "nn/checkpoint_io.h"
#include "nn/runtime.h"
#include "nn/weights.h"

namespace camx {

int ModelInfo::findTap(const std::string& name) const {
    return camx::findTap(taps, name);
}

std::vector<int> ModelInfo::blockTaps() const {
    return camx::blockTaps(taps);
}

struct ModelSession::Impl {
    ModelInfo info;
    std::unique_ptr<Explainer> explainer;
};

ModelSession::ModelSession(std::unique_ptr<Impl> impl) : d(std::move(impl)) {}
ModelSession::~ModelSession() = default;

const ModelInfo& ModelSession::info() const {
    return d->info;
}

std::unique_ptr<ModelSession> ModelSession::open(const std::filesystem::path& file,
                                                 const std::vector<std::string>& classNames,
                                                 const JobContext& job, Names names) {
    auto impl = std::make_unique<Impl>();
    CamNet net{nullptr};
    ModelInfo& info = impl->info;
    info.source = file;
    std::error_code ec;
    if (std::filesystem::is_directory(file, ec))
        throw CheckpointError("'" + file.string() +
                              "' is a folder, not a model file (pass a .ckpt checkpoint or a "
                              ".pth state dict)");
    if (!std::filesystem::exists(file, ec))
        throw CheckpointError("model file '" + file.string() + "' does not exist");
    if (!std::filesystem::is_regular_file(file, ec))
        throw CheckpointError("'" + file.string() + "' is not a regular file, not a model file");
    std::string bytes;
    try {
        bytes = readFile(file);
    } catch (const std::bad_alloc&) {
        throw CheckpointError("cannot read model file '" + file.string() + "': out of memory");
    } catch (const std::exception& e) {
        throw CheckpointError(std::string("cannot read model file: ") + e.what());
    }
    job.throwIfCancelled();
    info.contentDigest = toHex(hashBytes(bytes.data(), bytes.size()));
    // The kind comes from the name and the content, and that kind's error is the one reported.
    if (looksLikeCheckpoint(file, bytes)) {
        LoadedCheckpoint l = loadCheckpointFromBytes(bytes, file.string());
        net = l.net;
        info.arch = l.meta.arch;
        info.baseWidth = l.meta.baseWidth;
        info.classNames = l.meta.classNames;
        info.classFolders = l.meta.classFolders;
        info.inputSize = l.meta.inputSize;
        info.norm = l.meta.norm;
    } else {
        const NamedTensors tensors = readTorchStateDict(bytes, file.string(), job);
        bytes = std::string();
        const auto inferred = inferModel(tensors, file.string());
        if (!inferred)
            throw WeightsError("'" + file.string() +
                               "' is neither a CAM Explorer checkpoint nor a ResNet state dict");
        net = CamNet(inferred->arch, inferred->numClasses, inferred->baseWidth);
        loadStateDict(net, tensors, file.string());
        info.arch = inferred->arch;
        info.baseWidth = inferred->baseWidth;
        info.fromCheckpoint = false;
        const bool fits = static_cast<int64_t>(classNames.size()) == inferred->numClasses;
        if (!classNames.empty() && (fits || names == Names::Required)) {
            if (!fits)
                throw WeightsError("'" + file.string() + "' has " +
                                   std::to_string(inferred->numClasses) + " classes but " +
                                   std::to_string(classNames.size()) + " class names were given");
            info.classNames = classNames;
        } else {
            for (int64_t i = 0; i < inferred->numClasses; ++i)
                info.classNames.push_back("class " + std::to_string(i));
        }
    }
    info.taps = net->taps();
    info.lastBlockTap = net->lastBlockTap();
    impl->explainer = std::make_unique<Explainer>(net);
    info.device = deviceDescription();
    return std::unique_ptr<ModelSession>(new ModelSession(std::move(impl)));
}

std::vector<ImageExplanation> ModelSession::explainPrepared(const float* chw, int n,
                                                            const std::vector<int>& targets,
                                                            const ExplainOptions& options,
                                                            const JobContext& job) {
    const int s = d->info.inputSize;
    at::Tensor x = at::from_blob(const_cast<float*>(chw), {n, 3, s, s}, at::kFloat);
    return d->explainer->explain(x, targets, options, job);
}

std::vector<ImageExplanation> ModelSession::explain(const std::vector<cv::Mat>& rgb,
                                                    const std::vector<int>& targets,
                                                    const ExplainOptions& options,
                                                    const JobContext& job) {
    const int s = d->info.inputSize;
    const std::size_t per = 3u * static_cast<std::size_t>(s) * s;
    std::vector<float> buf(per * rgb.size());
    for (std::size_t i = 0; i < rgb.size(); ++i)
        toChwNormalized(resizeForModel(rgb[i], s), d->info.norm, buf.data() + i * per);
    return explainPrepared(buf.data(), static_cast<int>(rgb.size()), targets, options, job);
}

std::vector<std::vector<float>> ModelSession::classifyPrepared(const float* chw, int n) {
    const int s = d->info.inputSize;
    at::Tensor x = at::from_blob(const_cast<float*>(chw), {n, 3, s, s}, at::kFloat);
    at::Tensor logits = d->explainer->logits(x).to(at::kFloat).contiguous();
    std::vector<std::vector<float>> out(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i)
        out[static_cast<std::size_t>(i)].assign(logits[i].data_ptr<float>(),
                                                logits[i].data_ptr<float>() + logits.size(1));
    return out;
}

}  // namespace camx
