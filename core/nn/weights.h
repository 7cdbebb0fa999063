#pragma once
// Putting torchvision (or any torch.save'd) weights into a CamNet.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "nn/resnet.h"
#include "nn/state_dict_io.h"
#include "nn/weights_catalog.h"

namespace camx {

struct ImportReport {
    std::size_t loaded = 0;
    bool headDropped = false;          // fc skipped: the file has another class count
    std::vector<std::string> ignored;  // keys in the file the network does not have (harmless)
};

// Copies matching tensors into `net`. Keys may carry a "module." or "model." prefix. The fc layer
// is dropped when its shape differs (another class count). Throws WeightsError listing every
// missing key and shape mismatch of the backbone (for example, resnet50 weights into resnet18).
ImportReport loadStateDict(CamNet& net, const NamedTensors& tensors, const std::string& source);
ImportReport loadWeightsFile(CamNet& net, const std::filesystem::path& path);

// Guesses the architecture and class count of a ResNet state dict, or nothing. Before anything is
// built from it: throws WeightsError naming `source` when the width or class count is out of
// bounds, or when the network it describes has more parameters than the file holds values (a
// 3 KB file cannot describe an 11 GB network).
struct InferredModel {
    Arch arch;
    int64_t numClasses;
    int64_t baseWidth;
};
std::optional<InferredModel> inferModel(const NamedTensors& tensors,
                                        const std::string& source = "");

// The cached file for `arch` when present; otherwise throws WeightsError that says where to put
// the file (the machine may be offline).
std::filesystem::path findImageNetWeights(Arch arch);

}  // namespace camx
