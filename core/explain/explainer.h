#pragma once
// One forward and (at most) one backward pass per batch give every requested map: CAM from the
// class weights, and every gradient method at every requested tap from activation gradients
// only. Parameters never get gradients. Score-CAM adds its own batched forward passes.

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <mutex>
#include <vector>

#include "common/job.h"
#include "explain/explanation.h"
#include "nn/resnet.h"

namespace camx {

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
                                          const ExplainOptions& options,
                                          const JobContext& job = {});
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
