#pragma once
// A user's own TorchScript model (torch.jit.trace or torch.jit.script), explained like the
// built-in ResNets: every requested layer from one forward and one backward pass.
//
// TorchScript modules have no hooks here, so the forward graph itself is opened: inlined (each
// node keeps the module call it came from), frozen (attributes become constants, `training`
// branches fold away) and made free of in-place mutation, so that every module call leaves one
// tensor nobody overwrites. The outputs of the modules a request names are added as extra graph
// outputs, and the graph is run with autograd recording from the input on: the gradient at every
// requested layer comes from one backward pass, and parameters never get gradients.
//
// Layer outputs are used as maps when they are N×C×H×W, N×H×W×C (Swin) or N×T×C tokens that,
// after `prefix_tokens` are dropped, fill a square grid (ViT, DeiT): the same reshaping that
// pytorch-grad-cam's reshape transforms do, applied to activations and gradients alike.
//
// CAM needs global average pooling followed by one linear layer; the head is read from the graph
// (linear/addmm after flatten/view/dropout after adaptive_avg_pool2d or mean over H and W) and
// checked numerically on a probe batch. Where it is something else, camUnavailableReason() says
// what was found.

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nn/arch.h"
#include "nn/resnet.h"
#include "nn/script_meta.h"

namespace camx {

class ScriptedNet {
public:
    enum class Layout { Nchw, Nhwc, Tokens, DictEntry };

    // Reads a TorchScript archive held in `bytes` (already checked by the caller's archive scan).
    // `overrides` replace what the file's own metadata says. Throws ScriptModelError naming
    // `source`: not TorchScript, an operator this LibTorch lacks, a forward that needs several
    // inputs, a model that fails on a 2×3×S×S batch, an output that is not class scores.
    // `parseMeta` reads the file's camx.json text (parseScriptMeta; it lives with the JSON
    // library, outside this LibTorch-only layer).
    using MetaParser =
        std::function<ScriptMeta(const std::string& text, const std::string& source)>;
    ScriptedNet(const std::string& bytes, const std::string& source, const ScriptMeta& overrides,
                c10::Device device, const MetaParser& parseMeta);
    ~ScriptedNet();
    ScriptedNet(const ScriptedNet&) = delete;
    ScriptedNet& operator=(const ScriptedNet&) = delete;

    const ScriptMeta& fileMeta() const { return m_fileMeta; }  // what the file says
    const ScriptMeta& meta() const { return m_meta; }          // with the overrides applied
    int inputSize() const { return m_inputSize; }
    int64_t numClasses() const { return m_numClasses; }
    std::string typeName() const { return m_typeName; }  // "DenseNet", "VisionTransformer"

    const std::vector<TapInfo>& taps() const { return m_taps; }
    // The CAM layer, else the last map the class score depends on (checked by a backward pass).
    int defaultTap() const { return m_defaultTap; }
    std::vector<int> blockTaps() const { return m_blockTaps; }
    Layout layout(int tap) const;

    bool camAvailable() const { return m_camTap >= 0; }
    int camTap() const { return m_camTap; }
    const std::string& camUnavailableReason() const { return m_camReason; }
    at::Tensor classWeights() const { return m_classWeights; }  // [classes, C]; CAM only

    // Things the user should know about this model ("forward returns a tuple: ...").
    const std::vector<std::string>& notes() const { return m_notes; }

    c10::Device device() const { return m_device; }

    // The logits alone, without autograd.
    at::Tensor logits(const at::Tensor& x);
    // The logits and the raw outputs of `tapIds` (as the module returns them: tokens stay
    // tokens). With `record`, autograd records from the input on, so one backward pass from a
    // score reaches every returned layer.
    ForwardOutput forward(const at::Tensor& x, const std::vector<int>& tapIds, bool record);
    // A raw layer output (or its gradient) as a map batch [B,C,h,w].
    at::Tensor toMap(const at::Tensor& raw, int tap) const;

    // Where things run in the forward pass, for the randomisation cascade (explain/sanity.h):
    // every module that holds parameters or buffers of its own ("" is the model itself), its
    // type name ("Conv2d", "BatchNorm2d", "Linear", "LayerNorm2d") and the index of the first
    // tensor operation of the prepared graph run under it. A module the graph never enters takes
    // the place of the nearest enclosing module it does enter (MultiheadAttention uses its
    // out_proj's weights itself); -1 where there is none (the model itself, an unused auxiliary
    // head).
    struct ModuleUse {
        std::string path, typeName;
        long firstNode = -1;
    };
    std::vector<ModuleUse> tensorModules() const;
    // The graph nodes a tap's module runs: its first node and the node that computes its output;
    // {-1, -1} for an entry of a dict forward returns (it has no place in the graph).
    std::pair<long, long> tapSpan(int tap) const;
    // Every parameter and buffer, by full name ("trunk.layer1.0.conv1.weight"), as loaded.
    std::vector<std::pair<std::string, at::Tensor>> namedTensors() const;

    // A copy of the model (parameters deep-copied) in which `edit` may replace the parameters
    // and buffers of each module of tensorModules(): it is called once per module, in that
    // order, with the module's own tensors by short name ("weight", "running_mean"); a tensor it
    // replaces must keep its shape, dtype and device. The copy is prepared as this model was (the
    // same metadata and overrides) and must list the same layers; this model is not changed.
    // Throws ScriptModelError naming the file when the copy cannot be prepared.
    using NamedTensorList = std::vector<std::pair<std::string, at::Tensor>>;
    using TensorEdit = std::function<void(const ModuleUse& module, NamedTensorList& parameters,
                                          NamedTensorList& buffers)>;
    std::unique_ptr<ScriptedNet> copyWith(const TensorEdit& edit) const;

private:
    struct Impl;
    ScriptedNet(std::unique_ptr<Impl> impl, const ScriptedNet& from);
    // Everything after loading: the frozen, inlined graph, the layers, the CAM head, the probe.
    void prepare(const std::string& source);
    int lastLayerWithGradient(const at::Tensor& x);

    std::unique_ptr<Impl> d;
    ScriptMeta m_fileMeta, m_meta;
    int m_inputSize = 224;
    int64_t m_numClasses = 0;
    std::string m_typeName;
    std::vector<TapInfo> m_taps;
    std::vector<int> m_blockTaps;
    int m_defaultTap = -1;
    int m_camTap = -1;
    std::string m_camReason;
    at::Tensor m_classWeights;
    std::vector<std::string> m_notes;
    c10::Device m_device;
    std::string m_source;  // how errors name the model
};

// The TorchScript archive test: a zip with constants.pkl and code/ records and no CAM Explorer
// checkpoint metadata.
bool looksLikeTorchScriptModel(const std::string& bytes);

}  // namespace camx
