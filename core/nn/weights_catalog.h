#pragma once
// torchvision's published ImageNet weights: which file each depth uses, where it is published,
// and where CAM Explorer keeps it. Plain data (no torch), so the wizard can offer downloads.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "nn/arch.h"

namespace camx {

struct KnownWeights {
    Arch arch;
    std::string fileName;  // e.g. "resnet50-0676ba61.pth": the suffix is the SHA-256's first digits
    std::string url;

    // The hex digits of the SHA-256 the file name promises ("0676ba61").
    std::string hashPrefix() const;
};
const std::vector<KnownWeights>& knownImageNetWeights();
std::optional<KnownWeights> knownImageNetWeights(Arch arch);
// Where the application keeps downloaded weights: userCacheDir()/weights.
std::filesystem::path weightsCacheDir();

}  // namespace camx
