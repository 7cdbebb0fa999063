#pragma once
// The checkpoint: one file with the weights and everything needed to use or resume them.
// Written atomically; a corrupt, truncated, foreign or mismatched file gives a CheckpointError
// naming the file, never a crash.

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/image_io.h"
#include "nn/arch.h"

namespace torch::serialize {
class InputArchive;
class OutputArchive;
}  // namespace torch::serialize

namespace camx {

class CheckpointError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct EpochRecord {
    int epoch = 0;
    double trainLoss = 0, trainTop1 = 0, valLoss = 0, valTop1 = 0, valTop5 = 0;
    double learningRate = 0, seconds = 0, imagesPerSecond = 0;
};

// Plain metadata: readable without building a network (the UI shows it in dialogs).
struct CheckpointMeta {
    Arch arch = Arch::ResNet50;
    int64_t baseWidth = 64;
    std::vector<std::string> classNames;    // display names
    std::vector<std::string> classFolders;  // dataset folder names, when known
    int inputSize = 224;
    Normalization norm;
    std::string trainConfigJson = "{}";  // the TrainConfig that produced it
    std::vector<EpochRecord> history;
    int epoch = 0;  // epochs completed
    double bestValTop1 = 0;
    std::string createdBy = "cam-explorer";
    std::string weightsDigest;  // checked on load; set by saveCheckpoint
    // How weightsDigest was computed: "xxh3-64" (written now) or "fnv1a-64" (files without the
    // field, written by earlier versions; still accepted). saveCheckpoint writes what this says.
    std::string weightsDigestAlgorithm = "xxh3-64";

    int64_t numClasses() const { return static_cast<int64_t>(classNames.size()); }
};

// The checkpoint's metadata, read without its weights and without LibTorch's archive reader.
// What it reads: the zip's end records and central directory from the end of the file (the last
// 64 KiB, then the directory: at most 32 MiB), then the one record holding the metadata
// (archive/data.pkl, where torch::serialize puts the "camx_meta" string; at most 64 MiB), whose
// local header and CRC-32 are checked and whose pickle passes the same scan as a full load.
// Tensor and optimizer records are never read, so damage inside them goes unnoticed here (a load
// reports it). Cost: a few reads, proportional to the number of records and the metadata's size
// (tens to hundreds of KiB for our checkpoints), whatever the size of the weights; memory of the
// same order. It keeps no state and opens the file on its own: safe to call from any thread, also
// while other threads load or save (a file replaced by saveCheckpoint's rename is read whole, old
// or new). A corrupt, truncated, foreign or unreadable file gives a CheckpointError naming it.
CheckpointMeta readCheckpointMeta(const std::filesystem::path& path);

// Whether a file is meant as a CAM Explorer checkpoint (so its errors are checkpoint errors): a
// .ckpt name, or content that carries our checkpoint's marks even when damaged. `bytes` is the
// file's content.
bool looksLikeCheckpoint(const std::filesystem::path& path, const std::string& bytes);

}  // namespace camx
