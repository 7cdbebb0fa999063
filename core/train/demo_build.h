#pragma once
// The demo, ready to open: the generated dataset and a model trained on it with the "demo"
// recipe, kept in the user's cache. What the start page's "Try the demo" and `setup.sh demo` do.
// Each part is made only when missing, so a second call returns at once; a training that was
// cancelled resumes from its last finished epoch.

#include <filesystem>
#include <functional>

#include "common/job.h"
#include "train/trainer.h"

namespace camx {

struct DemoBuildOptions {
    std::filesystem::path datasetDir;  // empty: demoDatasetDir()
    std::filesystem::path modelDir;    // empty: the folder of demoModelFile()
    // Called on the calling thread once the dataset exists (before training starts), so a viewer
    // can open it while the model trains.
    std::function<void(const std::filesystem::path& dataset)> onDatasetReady;
    TrainCallbacks train;
    JobContext job;  // progress: one stage at a time ("Generating…", "Training epoch 2/8")
};

struct DemoBuild {
    std::filesystem::path dataset;
    std::filesystem::path model;  // best.ckpt
    bool generated = false;       // the dataset was made by this call
    bool trained = false;         // the model was trained (or resumed) by this call
};

// Whether both parts are already in place (no work left for buildDemo).
bool demoIsReady(const DemoBuildOptions& options = {});

// Makes what is missing. Throws camx::Cancelled when cancelled (a finished dataset and the
// finished epochs' checkpoints are kept), std::runtime_error naming the folder otherwise.
DemoBuild buildDemo(const DemoBuildOptions& options = {});

}  // namespace camx
