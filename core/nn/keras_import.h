#pragma once
// A Keras ResNet-50 v1 (keras.applications, include_top=False, pooling='avg') followed by one
// Dense layer, read from a Keras file (nn/keras_file.h) into a CamNet of Arch::KerasResNet50.

#include <string>
#include <vector>

#include "nn/keras_file.h"
#include "nn/resnet.h"

namespace camx {

struct KerasImport {
    CamNet net{nullptr};
    int64_t numClasses = 0;
    int64_t baseWidth = 64;  // 64 for the real network; narrower copies load too (tests)
    int inputSize = 224;     // the config's fixed input size, else 224
    std::string denseName;   // the head's layer name ("dense", "predictions")
    std::string activation;  // the Dense layer's activation per the config ("softmax"), or ""
    std::vector<std::string> notes;
};

// Checks the architecture (names the network found when it is not a ResNet-50 v1 and says what is
// supported), every weight's presence and shape, and the head (global average pooling and one
// Dense layer), then builds the network: kernels HWIO -> OIHW, the Dense kernel [in, out] ->
// [out, in]. Its logits are x.W + b: the Dense layer's softmax (if any) is not applied.
// Throws KerasModelError naming `where`.
KerasImport importKerasModel(const KerasFile& file, const std::string& where);

}  // namespace camx
