#pragma once
// Everything that defines a training run: plain values, serialisable to JSON for checkpoints.

#include <cstdint>
#include <string>
#include <vector>

#include "common/precision.h"
#include "data/augment.h"
#include "nn/arch.h"

namespace camx {

struct TrainConfig {
    Arch arch = Arch::ResNet50;
    int64_t baseWidth = 64;
    int inputSize = 224;
    std::string weightsFile;      // torchvision .pth to start from; empty: random initialisation
    bool freezeBackbone = false;  // train the head only (the practical choice on a CPU)

    int epochs = 10;
    int batchSize = 32;
    enum class Optimizer { Sgd, AdamW } optimizer = Optimizer::Sgd;
    double learningRate = 0.01;
    double momentum = 0.9;
    double weightDecay = 1e-4;
    enum class Schedule { Constant, Step, Cosine } schedule = Schedule::Cosine;
    int stepEpochs = 10;  // Step: multiply by stepGamma every stepEpochs
    double stepGamma = 0.1;
    double warmupEpochs = 0;  // linear warm-up, in (fractional) epochs
    double labelSmoothing = 0;
    Augmentation augment;
    // Before each validation, re-estimate batch-norm statistics on this many training images
    // (plain resize, fixed subset); 0: keep the running averages. Ignored with a frozen backbone.
    int bnRecalibrationImages = 0;

    bool forceCpu = false;  // train on the CPU even when a GPU is usable
    // Auto: bf16 autocast where the device computes bf16 natively (see resolvePrecision), fp32
    // elsewhere. A checkpoint records what Auto resolved to, so a resumed run keeps its
    // arithmetic on any machine.
    Precision precision = Precision::Auto;
    // Channels-last activations and convolution weights in fp32 too; bf16 always uses them
    // (PrecisionChoice::channelsLast).
    bool channelsLast = false;
    std::uint64_t seed = 0;
    // Several processes (data parallel): batch-norm statistics over the global batch instead of
    // each process's own. Recorded, so a resumed run keeps it.
    bool syncBatchNorm = false;
    // How many processes trained the run (its latest epoch): recorded for the user; --batch is
    // per process, so the global batch is batchSize × processes.
    int processes = 1;
    int loaderThreads = 0;
    bool cacheImages = true;  // keep resized images in memory between epochs

    // The seed course: SGD 0.01 (no momentum, no decay), batch 16, plain resize, no augmentation.
    static TrainConfig coursePreset();

    std::string toJson() const;
    // Throws std::invalid_argument naming the field when the JSON is not a valid configuration.
    static TrainConfig fromJson(const std::string& json);
    // Checks ranges; throws std::invalid_argument naming the field at fault.
    void validate() const;
};

// A named recipe: the fields it sets, and nothing else. The CLI (`train --preset NAME`) and the
// training wizard apply the same presets; flags or fields the user sets explicitly win over them.
struct TrainPreset {
    std::string id;           // "course", "demo"
    std::string description;  // one line for help texts and tooltips
};
const std::vector<TrainPreset>& trainPresets();
// Sets the preset's fields in `config` and returns the user-facing names of the fields whose
// value changed ("learning rate 0.01 -> 0.002"). Throws std::invalid_argument for an unknown id.
std::vector<std::string> applyTrainPreset(const std::string& id, TrainConfig& config);

}  // namespace camx
