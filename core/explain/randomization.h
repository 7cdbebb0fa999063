#pragma once
// The cascading parameter randomisation of explain/sanity.h on the networks themselves
// (LibTorch). ModelSession::explainRandomized is the torch-free way in; tests use this one to
// look at the randomised weights.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "common/job.h"
#include "explain/explainer.h"
#include "explain/sanity.h"
#include "nn/resnet.h"
#include "nn/scripted_net.h"

namespace camx {

// The cascade's steps, top down (sanity.h says how they are formed).
std::vector<CascadeStep> randomizationCascade(const CamNetImpl& net);
std::vector<CascadeStep> randomizationCascade(const ScriptedNet& net);

// A copy of `net` in which the modules of cascade[0..through] are re-initialised (nn/reinit.h)
// with `seed`; through = -1 gives a plain copy. `net` is not changed.
CamNet randomizedCopy(const CamNetImpl& net, const std::vector<CascadeStep>& cascade, int through,
                      std::uint64_t seed);
std::unique_ptr<ScriptedNet> randomizedCopy(const ScriptedNet& net,
                                            const std::vector<CascadeStep>& cascade, int through,
                                            std::uint64_t seed);

// `original`'s maps for `images` [B,3,S,S], then the randomised models' maps for the classes the
// original explained, at each requested step (SanityOptions::steps). `original`'s network is
// not changed. Reports progress per step (the original counts as one); throws Cancelled between
// steps (and inside Score-CAM) when `job`'s token fires, and std::invalid_argument for a step
// outside the cascade or what Explainer::explain refuses.
SanityResult explainRandomized(Explainer& original, const at::Tensor& images,
                               const std::vector<int>& targets, const SanityOptions& options,
                               const JobContext& job = {});

}  // namespace camx
