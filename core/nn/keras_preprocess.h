#pragma once
// How a Keras model's input is prepared. A Keras file does not record it, so the user states it
// (the open dialog, or --keras-preprocess on the command line). Plain values, no torch.

#include <optional>
#include <string>
#include <vector>

#include "data/image_io.h"

namespace camx {

enum class KerasPreprocess {
    Caffe,  // keras.applications.resnet50.preprocess_input: RGB->BGR, minus the ImageNet means
            // [103.939, 116.779, 123.68] (B, G, R) on 0..255 values, no scaling
    Unit    // pixel / 255 (what the course notebook did), RGB
};

std::string kerasPreprocessName(KerasPreprocess p);  // "caffe", "unit"
// Accepts "caffe" and "unit" (any case); nothing otherwise.
std::optional<KerasPreprocess> parseKerasPreprocess(const std::string& name);
std::vector<std::string> kerasPreprocessNames();
// One line for dialogs and notes: "caffe: RGB->BGR, minus ImageNet means on 0-255, no scaling".
std::string kerasPreprocessDescription(KerasPreprocess p);
// The Normalization that toChwNormalized turns into exactly this preprocessing.
Normalization kerasNormalization(KerasPreprocess p);

}  // namespace camx
