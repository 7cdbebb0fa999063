#pragma once
// A data-parallel run on this machine started from inside an application (the training wizard):
// this process trains as rank 0, in its own thread, so its callbacks (curves, log, progress) and
// cancel token work as in a one-process run; ranks 1..N-1 are `cam-explorer-cli train` worker
// processes that read the same dataset with the same configuration (written next to the run's
// checkpoints as workers/config.json) and log to workers/rank<r>.log.

#include <filesystem>
#include <optional>
#include <string>

#include "train/trainer.h"

namespace camx {

struct LocalParallelOptions {
    int processes = 2;
    std::filesystem::path workerExecutable;  // cam-explorer-cli
    // How the workers open the dataset the caller opened: the folder given to openDataset and
    // its format (Auto: detected again).
    std::filesystem::path datasetDir;
    DatasetFormat datasetFormat = DatasetFormat::Auto;
    std::string backend = "gloo";  // "nccl" for GPUs (one per process)
    double timeoutSeconds = 300;   // joining, and each exchange
};

// Trains like trainModel, in `options.processes` processes. Throws std::invalid_argument for a
// bad option (no worker executable, fewer than 2 processes), std::runtime_error when a worker
// cannot start or fails: the message names the rank, how it ended and the end of its log.
// Cancelling stops every process at the same step; the workers are stopped and reaped before
// this returns, whatever happens.
TrainResult trainWithLocalProcesses(const Dataset& dataset, const TrainConfig& config,
                                    const std::filesystem::path& outDir,
                                    const TrainCallbacks& callbacks, const JobContext& job,
                                    const std::optional<std::filesystem::path>& resumeFrom,
                                    const LocalParallelOptions& options);

}  // namespace camx
