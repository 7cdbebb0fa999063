#pragma once
// Saving and loading checkpoints with the network (torch types; not for the UI).

#include <torch/optim/optimizer.h>

#include <filesystem>

#include "nn/checkpoint.h"
#include "nn/resnet.h"

namespace camx {

// Writes meta + weights (+ optimizer state) atomically: serialised in memory first, then written
// by writeFileAtomically, so a full disk gives a CheckpointError ("could not write '<file>': No
// space left on device"), leaves no temporary behind and keeps the previous file.
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
// The same from a file's bytes (for fuzzing and for callers that already read the file): our own
// zip validation first, then LibTorch. `name` only serves messages.
LoadedCheckpoint loadCheckpointFromBytes(const std::string& bytes, const std::string& name);
void loadOptimizerState(const std::filesystem::path& path, torch::optim::Optimizer& optimizer);

}  // namespace camx
