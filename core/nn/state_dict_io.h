#pragma once
// Reads the state dicts that PyTorch's torch.save writes (zip format): torchvision's published
// weights among them. LibTorch 1.13's torch::pickle_load rejects the OrderedDict that
// Module.state_dict() returns (pytorch/pytorch#100741, fixed only in 2.6), so the pickle stream
// is read here with the subset of opcodes torch.save emits; the zip container is checked and read
// by our own code (nn/torch_zip.h), never by LibTorch's trusting reader.
//
// The files are untrusted: nothing in them is executed (a pickled call of any other function is
// kept as an opaque value), and every resource they can make us spend is bounded by the file's
// own size: pickle values, nesting, memo entries, visited entries, output tensors, and tensor
// bytes (each tensor fits its storage; all tensors together fit the file's records).

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "common/job.h"

namespace camx {

class WeightsError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// Bounds on what one file may make the reader do (the defaults fit any real ResNet state dict
// many times over: ResNet-101 needs a few thousand pickle values and ~600 tensors).
struct StateDictLimits {
    std::uint64_t maxPickleBytes = 64ull << 20;  // data.pkl
    std::uint64_t maxValues = 2'000'000;         // pickle values built
    std::uint64_t maxLinks = 8'000'000;          // references held by containers
    std::uint64_t maxMemo = 1'000'000;           // memo entries
    std::uint64_t maxDepth = 1000;               // nesting of pickle values
    std::uint64_t maxStack = 100'000;            // pickle machine stack
    std::uint64_t maxVisits = 1'000'000;         // entries visited while flattening
    std::uint64_t maxTensors = 100'000;          // tensors returned
    std::uint64_t tensorByteSlack = 1ull << 20;  // over the file's record bytes, for all tensors
};

// The tensors of a torch.save'd dict (plain or ordered), in file order; nested dicts are
// flattened with '.' (as in a checkpoint that holds {"state_dict": {...}}). Throws WeightsError
// naming the file when it is not a torch.save zip file, holds something else or exceeds a bound;
// throws Cancelled when `job`'s token fires (checked every ~64k pickle operations).
NamedTensors readTorchStateDict(const std::filesystem::path& path, const JobContext& job = {});
// The same from bytes in memory (for fuzzing); `name` only serves messages.
NamedTensors readTorchStateDict(const std::string& bytes, const std::string& name,
                                const JobContext& job = {},
                                const StateDictLimits& limits = StateDictLimits{});

}  // namespace camx
