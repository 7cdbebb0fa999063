#include "explain/model_session.h"

#include "common/hash.h"
#include "data/imagenet_classes.h"

#include <ATen/ATen.h>

#include "common/fs_util.h"
#include "explain/explainer.h"
#include "explain/randomization.h"
#include "nn/checkpoint_io.h"
#include "nn/keras_import.h"
#include "nn/pickle_scan.h"
#include "nn/runtime.h"
#include "nn/scripted_net.h"
#include "nn/torch_zip.h"
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
                                                 const JobContext& job, Names names,
                                                 const ScriptMeta& scriptOverrides,
                                                 std::optional<KerasPreprocess> kerasPreprocess) {
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
    auto nameClasses = [&](int64_t count) {
        const bool fits = static_cast<int64_t>(classNames.size()) == count;
        if (!classNames.empty() && (fits || names == Names::Required)) {
            if (!fits)
                throw WeightsError("'" + file.string() + "' has " + std::to_string(count) +
                                   " classes but " + std::to_string(classNames.size()) +
                                   " class names were given");
            info.classNames = classNames;
            return;
        }
        for (int64_t i = 0; i < count; ++i) info.classNames.push_back("class " + std::to_string(i));
    };
    if (file.extension() != ".ckpt" && file.extension() != ".pth" &&
        looksLikeKerasFile(file, bytes)) {
        const std::string where = file.string();
        const KerasFile keras = readKerasFile(bytes, where);
        bytes = std::string();
        job.throwIfCancelled();
        KerasImport k = importKerasModel(keras, where);
        if (!kerasPreprocess)
            throw KerasModelError(
                "'" + where +
                "' is a Keras model, and Keras files do not record how their input was "
                "preprocessed: say which (--keras-preprocess caffe for "
                "keras.applications' preprocess_input, unit for pixel / 255)");
        net = k.net;
        info.arch = Arch::KerasResNet50;
        info.baseWidth = k.baseWidth;
        info.inputSize = k.inputSize;
        info.norm = kerasNormalization(*kerasPreprocess);
        info.kerasPreprocess = kerasPreprocess;
        info.fromCheckpoint = false;
        nameClasses(k.numClasses);
        info.archLabel = archName(info.arch) + " (" + kerasFormatName(keras.format) + ")";
        info.notes = k.notes;
        info.notes.push_back("input preprocessing " + kerasPreprocessDescription(*kerasPreprocess));
        info.taps = net->taps();
        info.lastBlockTap = net->lastBlockTap();
        impl->explainer = std::make_unique<Explainer>(net);
        info.device = deviceDescription();
        return std::unique_ptr<ModelSession>(new ModelSession(std::move(impl)));
    }
    // Our checkpoints are TorchScript archives too, told apart by their metadata record and
    // their .ckpt name.
    if (looksLikeTorchScriptModel(bytes) && file.extension() != ".ckpt") {
        const std::string where = file.string();
        try {
            const TorchZip zip =
                validateTorchZip(bytes.data(), bytes.size(), where, torchScriptZipLimits());
            scanUserTorchScriptRecords(bytes.data(), bytes.size(), zip, where);
        } catch (const TorchZipError& e) {
            throw ScriptModelError("'" + where +
                                   "' is not a readable TorchScript model: " + e.what());
        } catch (const PickleScanError& e) {
            throw ScriptModelError(e.what());
        }
        job.throwIfCancelled();
        auto script = std::make_shared<ScriptedNet>(bytes, where, scriptOverrides,
                                                    preferredDevice(), parseScriptMeta);
        bytes = std::string();
        info.torchScript = true;
        info.fromCheckpoint = false;
        info.archLabel = (script->typeName().empty() ? std::string("model") : script->typeName()) +
                         " (TorchScript)";
        info.fileMeta = script->fileMeta();
        const ScriptMeta& meta = script->meta();
        info.inputSize = script->inputSize();
        if (meta.mean) info.norm.mean = *meta.mean;
        if (meta.std) info.norm.std = *meta.std;
        const int64_t count = script->numClasses();
        if (!meta.classNames.empty()) {
            if (static_cast<int64_t>(meta.classNames.size()) != count)
                throw ScriptModelError("'" + where + "' outputs " + std::to_string(count) +
                                       " classes but its metadata names " +
                                       std::to_string(meta.classNames.size()));
            info.classNames = meta.classNames;
        } else if (count == 1000 && (classNames.empty() || names == Names::IfCountMatches) &&
                   static_cast<int64_t>(classNames.size()) != count) {
            info.classNames = imageNetClassNames();
            info.notes.push_back(
                "no class names in the file: a 1000-class model is given the "
                "ImageNet-1k names");
        } else {
            nameClasses(count);
        }
        info.camAvailable = script->camAvailable();
        info.camUnavailableReason = script->camUnavailableReason();
        for (const auto& n : script->notes()) info.notes.push_back(n);
        info.taps = script->taps();
        info.lastBlockTap = script->defaultTap();
        impl->explainer = std::make_unique<Explainer>(script);
        info.device = deviceDescription();
        return std::unique_ptr<ModelSession>(new ModelSession(std::move(impl)));
    }
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
        nameClasses(inferred->numClasses);
    }
    info.archLabel = archName(info.arch);
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

std::vector<float> ModelSession::prepareInput(const cv::Mat& rgb) const {
    const int s = d->info.inputSize;
    std::vector<float> chw(3u * static_cast<std::size_t>(s) * s);
    toChwNormalized(resizeForModel(rgb, s), d->info.norm, chw.data());
    return chw;
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

std::vector<CascadeStep> ModelSession::randomizationCascade() const {
    Explainer& e = *d->explainer;
    return e.scripted() ? camx::randomizationCascade(*e.scripted())
                        : camx::randomizationCascade(*e.net());
}

SanityResult ModelSession::explainRandomized(const float* chw, int n,
                                             const std::vector<int>& targets,
                                             const SanityOptions& options, const JobContext& job) {
    const int s = d->info.inputSize;
    at::Tensor x = at::from_blob(const_cast<float*>(chw), {n, 3, s, s}, at::kFloat);
    return camx::explainRandomized(*d->explainer, x, targets, options, job);
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
