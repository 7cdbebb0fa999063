#pragma once
// Synchronised batch normalisation: in training mode every batch-norm layer normalises with the
// statistics of the global batch, all processes together, so N processes × batch B compute what
// one process × batch N·B computes (torch.nn.SyncBatchNorm's definition):
// - forward: each process's per-channel count, mean and sum of squared deviations are combined
//   exactly (Chan et al.'s parallel formula, no E[x²] − E[x]² cancellation); the output is
//   (x − μ)/√(σ² + ε)·γ + β with the biased global variance σ²; the running mean and variance
//   are updated with μ and the unbiased global variance, with the layer's momentum (or the
//   cumulative average when it has none);
// - backward: the input gradient needs Σ dy and Σ dy·x̂ over the global batch, which are summed
//   over the processes; γ's and β's gradients stay this process's share (the data-parallel
//   gradient reducer sums them with the other parameters).
// Every process must run the same layers in the same order (c10d's rule for collectives).

#include "nn/resnet.h"

namespace camx::dist {

class ProcessGroupHandle;

// The override for CamNet::setBatchNormOverride. `group` must outlive its use.
BatchNormOverride syncBatchNorm(ProcessGroupHandle& group);

// One layer, synchronised over `group` (what the override calls).
torch::Tensor syncBatchNormForward(ProcessGroupHandle& group, torch::nn::BatchNorm2dImpl& bn,
                                   const torch::Tensor& x);

}  // namespace camx::dist
