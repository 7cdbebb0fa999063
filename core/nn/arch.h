#pragma once
// Architecture names and tap descriptions: plain values the UI and CLI may use without torch.

#include <optional>
#include <string>
#include <vector>

namespace camx {

// KerasResNet50 is ResNet-50 v1 as keras.applications builds it (imported from .h5 / .keras
// files): the stride on a stage's first 1x1 convolution and its shortcut, biased convolutions,
// batch-norm epsilon 1.001e-5, and Keras's layer names as tap names ("conv5_block3_out").
enum class Arch { ResNet18, ResNet34, ResNet50, ResNet101, KerasResNet50 };

std::string archName(Arch a);                            // "resnet50", "keras-resnet50"
std::optional<Arch> parseArch(const std::string& name);  // accepts "resnet50", "ResNet-50"
std::vector<std::string> archNames();

// One place in the network whose output can be explained.
struct TapInfo {
    std::string name;       // "stem", "layer1.0" ... "layer4.2", or a stage "layer4"
    std::string kerasName;  // the course's names: "pool1_pool", "conv5_block3_out"
    int channels = 0;
    int stride = 0;        // input pixels per feature cell (4, 8, 16, 32)
    bool isStage = false;  // a stage tap is the same tensor as its last block
    bool block = true;     // one of the taps "all blocks" means (blockTaps)
};

// Finds a tap by name ("layer4.2", "layer4", "stem") or Keras alias ("conv5_block3_out"), or -1.
int findTap(const std::vector<TapInfo>& taps, const std::string& name);
// The block outputs, in network order (no stem, no stage aliases).
std::vector<int> blockTaps(const std::vector<TapInfo>& taps);

}  // namespace camx
