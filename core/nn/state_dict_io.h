#pragma once
// Reads the state dicts that PyTorch's torch.save writes (zip format): torchvision's published
// weights among them. LibTorch 1.13's torch::pickle_load rejects the OrderedDict that
// Module.state_dict() returns (pytorch/pytorch#100741, fixed only in 2.6), so the pickle stream
// is read here with the subset of opcodes torch.save emits; the zip container and the tensor
// records go through LibTorch's own PyTorchStreamReader.

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace camx {

class WeightsError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// The tensors of a torch.save'd dict (plain or ordered), in file order; nested dicts are
// flattened with '.' (as in a checkpoint that holds {"state_dict": {...}}). Throws WeightsError
// naming the file when it is not a torch.save zip file or holds something else.
NamedTensors readTorchStateDict(const std::filesystem::path& path);
// The same from bytes in memory (for fuzzing); `name` only serves messages.
NamedTensors readTorchStateDict(const std::string& bytes, const std::string& name);

}  // namespace camx
