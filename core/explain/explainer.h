#pragma once
// One forward and (at most) one backward pass per batch give every requested map: CAM from the
// class weights, and every gradient method at every requested tap from activation gradients
// only. Parameters never get gradients. Score-CAM adds its own batched forward passes.

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <mutex>
#include <vector>

#include "common/job.h"
#include "explain/heatmap.h"
#include "nn/resnet.h"

namespace camx {

struct ExplainOptions {
    std::vector<Method> methods{Method::Cam, Method::GradCam};
    std::vector<int> taps;  // tap ids; empty means the last block. CAM exists at the last block only.
    ScoreKind score = ScoreKind::Logit;
    int topK = 5;
    int scoreCamBatch = 32;
    int scoreCamMaxChannels = 0;  // 0: every channel, as in the paper
};

struct MapResult {
    Method method;
    int tap;
    Heatmap raw;  // at feature resolution, before ReLU and normalisation
};

struct ImageExplanation {
    int target = -1;                 // the class explained
    std::vector<ClassScore> top;     // best first
    std::vector<float> logits;       // every class
    std::vector<MapResult> maps;

    const Heatmap* find(Method m, int tap) const;
};

// The device LibTorch should use: the first GPU when the linked LibTorch has CUDA and one is
// present, else the CPU.
c10::Device preferredDevice();

class Explainer {
public:
    // Takes the network (shared), puts it in eval mode on `device` and freezes its parameters.
    explicit Explainer(CamNet net, c10::Device device = preferredDevice());

    // `images` [B,3,S,S] normalised; `targets` per image: a class index, or -1 for the predicted
    // class. Throws std::invalid_argument for a bad tap, class or method/tap pair.
    std::vector<ImageExplanation> explain(const at::Tensor& images, const std::vector<int>& targets,
                                          const ExplainOptions& options, const JobContext& job = {});
    // The plain forward pass (inference mode): the baseline every benchmark compares with.
    at::Tensor logits(const at::Tensor& images);

    CamNet& net() { return m_net; }
    c10::Device device() const { return m_device; }

private:
    at::Tensor scoreCam(const at::Tensor& x, const at::Tensor& A, const at::Tensor& targets,
                        const ExplainOptions& o, const JobContext& job);
    CamNet m_net;
    c10::Device m_device;
    std::mutex m_mutex;
};

}  // namespace camx
