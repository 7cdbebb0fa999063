#pragma once
// The training engine behind the GUI wizard and `cam-explorer-cli train`. Synchronous: run it on
// a worker thread. Writes, after every epoch and atomically, last.ckpt (with optimizer state),
// best.ckpt (best validation top-1) and history.csv into the output folder. Cancelling stops at
// the next step; the checkpoints of finished epochs stay intact and a run resumes from them
// exactly as if it had not stopped.

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/job.h"
#include "data/dataset.h"
#include "nn/checkpoint.h"
#include "train/train_config.h"

namespace camx {

namespace dist {
class ProcessGroupHandle;
}

// Training in several processes at once (data parallel): each process reads its shard of every
// epoch, gradients are summed over the processes in buckets while the backward pass runs, and
// rank 0 writes the checkpoints and the log. Every process must call trainModel with the same
// dataset and configuration.
struct DataParallel {
    dist::ProcessGroupHandle* group = nullptr;  // none: one process
    std::size_t bucketBytes = std::size_t{25} << 20;
};

struct StepMetrics {
    int epoch = 0;
    int step = 0;  // within the epoch, from 0
    int stepsPerEpoch = 0;
    double loss = 0;
    double accuracy = 0;  // top-1 of this batch
    double learningRate = 0;
    double imagesPerSecond = 0;
};

struct TrainCallbacks {
    std::function<void(const StepMetrics&)> onStep;
    std::function<void(const EpochRecord&)> onEpoch;
    std::function<void(const std::string&)> onLog;
};

struct TrainResult {
    std::vector<EpochRecord> history;  // every finished epoch, resumed ones included
    std::filesystem::path lastCheckpoint;
    std::filesystem::path bestCheckpoint;
    std::string device;
};

// Trains on dataset.train and validates on dataset.test. With `resumeFrom`, continues the run
// stored in that checkpoint (its configuration wins, except the epoch count), in any number of
// processes. With `parallel.group`, this process is one of several (see DataParallel): batchSize
// is per process, the step and epoch figures are the global batch's, only rank 0 writes files,
// and a process that stops (fails, is cancelled or killed) makes the others stop at their next
// step, with an error naming it (or after the group's timeout). Throws
// std::invalid_argument for a bad configuration, CheckpointError / WeightsError for bad files.
// Cancelled: throws camx::Cancelled; last.ckpt and best.ckpt of the finished epochs are kept, and
// resuming from last.ckpt continues exactly as an uninterrupted run would.
TrainResult trainModel(const Dataset& dataset, TrainConfig config,
                       const std::filesystem::path& outDir, const TrainCallbacks& callbacks = {},
                       const JobContext& job = {},
                       const std::optional<std::filesystem::path>& resumeFrom = std::nullopt,
                       const DataParallel& parallel = {});

// The precision a run of `config` starts with on this machine: its device (the GPU unless
// `forceCpu`) and `config.precision` resolved for it. A resumed run keeps its checkpoint's instead.
PrecisionChoice trainingPrecision(const TrainConfig& config);

// Learning rate at a (fractional) epoch for a configuration: warm-up, then the schedule.
double learningRateAt(const TrainConfig& config, double epoch);

}  // namespace camx
