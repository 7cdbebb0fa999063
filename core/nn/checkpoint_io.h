#pragma once
// Saving and loading checkpoints with the network (torch types; not for the UI).

#include <torch/optim/optimizer.h>

#include <filesystem>

#include "nn/checkpoint.h"
#include "nn/resnet.h"

namespace camx {

// Writes meta + weights (+ optimizer state) atomically.
void saveCheckpoint(const std::filesystem::path& path, const CheckpointMeta& meta, CamNet& net,
                    torch::optim::Optimizer* optimizer = nullptr);

struct LoadedCheckpoint {
    CheckpointMeta meta;
    CamNet net{nullptr};
};

// Builds the network the checkpoint describes and loads its weights. With `optimizer`, restores
// its state too (the optimizer must have been built over `net`'s parameters: use
// loadOptimizerState for that).
LoadedCheckpoint loadCheckpoint(const std::filesystem::path& path);
void loadOptimizerState(const std::filesystem::path& path, torch::optim::Optimizer& optimizer);

}  // namespace camx
