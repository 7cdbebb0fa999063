#pragma once
// One forward and (at most) one backward pass per score per batch give every requested map: CAM
// from the class weights, and every gradient method at every requested tap from activation
// gradients only. Parameters never get gradients. Score-CAM adds its own batched forward passes.
//
// The passes run on the network's inference form (InferenceNet: batch norm folded, oneDNN or
// channels-last). At the last block no backward pass is needed at all: the score depends on the
// block's output A only through global average pooling and the fc layer, so its gradient is the
// same at every position, dy/dA[c,i,j] = W[t,c] / (h*w) for the logit (and, through the
// softmax, p_t * (W[t,c] - sum_k p_k W[k,c]) / (h*w) for the probability). Finer-CAM's score is
// a function of the logits too, so its gradient there is sum_k (ds/dy_k) W[k,c] / (h*w), with
// ds/dy from autograd on the logits alone. Only a request at an earlier tap backpropagates, and
// only from that tap on; where both the target's score and Finer-CAM's are asked for, twice
// through the same graph.
//
// Test-time augmentation (ExplainOptions::augSmooth) repeats the pass for five more versions of
// the input.

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

#include "common/job.h"
#include "explain/explanation.h"
#include "nn/inference_net.h"
#include "nn/resnet.h"
#include "nn/scripted_net.h"

namespace camx {

// The device LibTorch should use: the first GPU when the linked LibTorch has CUDA and one is
// present, else the CPU.
c10::Device preferredDevice();

class Explainer {
public:
    // Takes the network (shared), puts it in eval mode on `device` and freezes its parameters.
    explicit Explainer(CamNet net, c10::Device device = preferredDevice());
    // A user's TorchScript model (already on its device). Every layer it lists is a tap; CAM
    // exists where its head is GAP + one linear layer.
    explicit Explainer(std::shared_ptr<ScriptedNet> net);

    // `images` [B,3,S,S] normalised; `targets` per image: a class index, or -1 for the predicted
    // class. Throws std::invalid_argument for a bad tap, class or method/tap pair.
    std::vector<ImageExplanation> explain(const at::Tensor& images, const std::vector<int>& targets,
                                          const ExplainOptions& options,
                                          const JobContext& job = {});
    // The forward pass alone (inference mode), on the inference form unless `reference`.
    at::Tensor logits(const at::Tensor& images, bool reference = false);

    CamNet& net() { return m_net; }  // null for a TorchScript model
    ScriptedNet* scripted() { return m_script.get(); }
    c10::Device device() const { return m_device; }

private:
    at::Tensor scoreCam(const at::Tensor& x, const at::Tensor& A, const at::Tensor& targets,
                        const ExplainOptions& o, const JobContext& job);
    // The inference form for this request; built on first use (bf16 only when asked for).
    const InferenceNet* fastNet(const ExplainOptions& o);
    at::Tensor forwardLogits(const at::Tensor& x, const ExplainOptions& o);
    int numTaps() const;
    int camTap() const;
    int64_t numClasses() const;
    // One forward pass (and a backward pass per score whose gradients are asked for): the
    // logits, the class explained per image, Finer-CAM's comparison classes [B,n], and every
    // requested tap's map-shaped activations and gradients, of the target score (`grads`) and of
    // Finer-CAM's score (`finerGrads`).
    struct Pass {
        at::Tensor logits, targets, classWeights, finerClasses;
        std::map<int, at::Tensor> acts, grads, finerGrads;
    };
    // The taps that need gradients, and of which scores.
    struct GradRequest {
        std::set<int> taps;
        bool target = false, finer = false;
    };
    // `finerClasses`: Finer-CAM's comparison classes when already chosen (undefined: chosen
    // from this pass's logits).
    Pass runPass(const at::Tensor& x, const std::vector<int>& targets, const std::set<int>& allTaps,
                 const GradRequest& grads, const ExplainOptions& o, const at::Tensor& finerClasses);
    Pass passResNet(const at::Tensor& x, const std::vector<int>& targets,
                    const std::set<int>& allTaps, const GradRequest& grads, const ExplainOptions& o,
                    const at::Tensor& finerClasses);
    Pass passScripted(const at::Tensor& x, const std::vector<int>& targets,
                      const std::set<int>& allTaps, const GradRequest& grads,
                      const ExplainOptions& o, const at::Tensor& finerClasses);
    // A gradient method's raw map [B,h,w] from a pass (eigen-smoothed when asked).
    static at::Tensor gradientMap(Method m, int tap, const Pass& p, const ExplainOptions& o);
    // ExplainOptions::augSmooth: every gradient job's map, averaged over the six versions of the
    // input; `base` is the pass of the input as is.
    std::map<std::pair<Method, int>, at::Tensor> augmentationSmoothed(
        const at::Tensor& x, const Pass& base, const std::vector<std::pair<Method, int>>& jobs,
        const GradRequest& grads, const ExplainOptions& o, const JobContext& job);
    at::Tensor pickTargets(const at::Tensor& logits, const std::vector<int>& targets) const;
    CamNet m_net{nullptr};
    std::shared_ptr<ScriptedNet> m_script;
    c10::Device m_device;
    std::unique_ptr<InferenceNet> m_fast, m_fastBf16;
    std::mutex m_mutex;
};

}  // namespace camx
