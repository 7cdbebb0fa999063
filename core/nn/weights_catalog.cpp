#include "nn/weights_catalog.h"

#include "common/fs_util.h"

namespace camx {

std::string KnownWeights::hashPrefix() const {
    const auto dash = fileName.rfind('-');
    const auto dot = fileName.rfind('.');
    if (dash == std::string::npos || dot == std::string::npos || dot < dash) return {};
    return fileName.substr(dash + 1, dot - dash - 1);
}

const std::vector<KnownWeights>& knownImageNetWeights() {
    static const std::vector<KnownWeights> k = {
        {Arch::ResNet18, "resnet18-f37072fd.pth",
         "https://download.pytorch.org/models/resnet18-f37072fd.pth"},
        {Arch::ResNet34, "resnet34-b627a593.pth",
         "https://download.pytorch.org/models/resnet34-b627a593.pth"},
        {Arch::ResNet50, "resnet50-0676ba61.pth",
         "https://download.pytorch.org/models/resnet50-0676ba61.pth"},
        {Arch::ResNet101, "resnet101-63fe2227.pth",
         "https://download.pytorch.org/models/resnet101-63fe2227.pth"},
    };
    return k;
}

std::optional<KnownWeights> knownImageNetWeights(Arch arch) {
    for (const auto& k : knownImageNetWeights())
        if (k.arch == arch) return k;
    return std::nullopt;
}

std::filesystem::path weightsCacheDir() {
    return userCacheDir() / "weights";
}

}  // namespace camx
