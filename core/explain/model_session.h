#pragma once
// A loaded model, ready to classify and explain photos: the one object the UI, the CLI and the
// evaluation hold. No torch types here; the network lives behind the pointer.
//
// Thread use: calls are serialised inside; run them on a worker thread, never the GUI thread.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "common/job.h"
#include "data/image_io.h"
#include "explain/explanation.h"
#include "explain/sanity.h"
#include "nn/arch.h"
#include "nn/keras_preprocess.h"
#include "nn/script_meta.h"

namespace camx {

struct ModelInfo {
    Arch arch = Arch::ResNet50;
    int64_t baseWidth = 64;
    std::vector<std::string> classNames;
    std::vector<std::string> classFolders;
    int inputSize = 224;
    Normalization norm;
    std::vector<TapInfo> taps;
    int lastBlockTap = -1;
    std::string device;  // "cpu (2 threads)" or "cuda:0 (NVIDIA H100 ...)"
    std::filesystem::path source;
    // XXH3 of the bytes the model was loaded from (not of the file now on disk): what results
    // computed with this session are keyed by, e.g. an evaluation's resume key.
    std::string contentDigest;
    bool fromCheckpoint = true;
    // A user's TorchScript model: `arch` means nothing then, `archLabel` names the model.
    bool torchScript = false;
    std::string archLabel;  // "resnet50", or "DenseNet (TorchScript)"
    ScriptMeta fileMeta;    // what the TorchScript file says about itself (empty: nothing)
    // CAM needs global average pooling + one linear layer; where the model has something else,
    // the reason says what was found. Every other method works on every model.
    bool camAvailable = true;
    std::string camUnavailableReason;
    std::vector<std::string> notes;  // things the user should be told about the model
    // A Keras model (.h5 / .keras): the preprocessing it was opened with.
    std::optional<KerasPreprocess> kerasPreprocess;

    int numClasses() const { return static_cast<int>(classNames.size()); }
    int findTap(const std::string& nameOrKeras) const;
    std::vector<int> blockTaps() const;
};

class ModelSession {
public:
    // Opens a CAM Explorer checkpoint, or a torchvision-style .pth state dict (architecture and
    // class count are read from its tensors; `classNames` names the classes when given, else
    // "class 0", ...). The kind is decided from the name and content: a .ckpt file, or anything
    // recognisably our checkpoint, reports checkpoint errors. Throws CheckpointError or
    // WeightsError naming the file, or Cancelled when `job`'s token fires while reading.
    // `names` says whether `classNames` must fit the state dict (an error otherwise) or only
    // names its classes when their count fits (the explorer offers the open dataset's names).
    //
    // A TorchScript model (torch.jit.trace / torch.jit.script) is recognised by its content; its
    // own metadata (script_meta.h) may be overridden by `scriptOverrides`. Its class names come
    // from its metadata, else from `classNames` as above, else the ImageNet names for a
    // 1000-class model, else "class 0", .... Throws ScriptModelError naming the file.
    //
    // A Keras model (.h5 from model.save / save_weights, or a Keras 3 .keras archive; see
    // nn/keras_import.h) holding a keras.applications ResNet-50 v1 with a GAP + Dense head opens
    // as Arch::KerasResNet50. Its input preprocessing is not in the file: `kerasPreprocess` must
    // say it (KerasModelError otherwise). Class names as for a state dict. Throws KerasModelError
    // naming the file.
    enum class Names { Required, IfCountMatches };
    static std::unique_ptr<ModelSession> open(const std::filesystem::path& file,
                                              const std::vector<std::string>& classNames = {},
                                              const JobContext& job = {},
                                              Names names = Names::Required,
                                              const ScriptMeta& scriptOverrides = {},
                                              std::optional<KerasPreprocess> kerasPreprocess = {});
    ~ModelSession();

    const ModelInfo& info() const;

    // The network input of an RGB photo of any size: resized whole to the input size,
    // normalised, CHW (3 * S * S floats): what explain() feeds the network.
    std::vector<float> prepareInput(const cv::Mat& rgb) const;
    // Explains RGB photos of any size: resized whole to the input size, normalised, one pass.
    // `targets`: a class per image, or -1 for the predicted class.
    std::vector<ImageExplanation> explain(const std::vector<cv::Mat>& rgb,
                                          const std::vector<int>& targets,
                                          const ExplainOptions& options,
                                          const JobContext& job = {});
    // The same on already preprocessed input: `chw` holds n * 3 * S * S floats.
    std::vector<ImageExplanation> explainPrepared(const float* chw, int n,
                                                  const std::vector<int>& targets,
                                                  const ExplainOptions& options,
                                                  const JobContext& job = {});
    // Logits only (inference mode), on the network's inference form.
    std::vector<std::vector<float>> classifyPrepared(const float* chw, int n);

    // The sanity check by cascading parameter randomisation (explain/sanity.h): its steps, top
    // down, and the maps of the randomised models for already preprocessed input (`chw`, n * 3 *
    // S * S floats, as explainPrepared). The randomised models are copies: this session's model
    // is not changed and gives the same maps afterwards. They explain the classes the original
    // explains (`targets` as explainPrepared: -1 for the original's prediction). Progress is
    // reported per step; cancelling throws Cancelled between steps. Throws
    // std::invalid_argument for a step outside the cascade or a request explainPrepared refuses.
    std::vector<CascadeStep> randomizationCascade() const;
    SanityResult explainRandomized(const float* chw, int n, const std::vector<int>& targets,
                                   const SanityOptions& options, const JobContext& job = {});

private:
    struct Impl;
    explicit ModelSession(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> d;
};

}  // namespace camx
