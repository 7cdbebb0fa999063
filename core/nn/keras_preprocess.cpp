#include "nn/keras_preprocess.h"

#include <algorithm>
#include <cctype>

namespace camx {

std::string kerasPreprocessName(KerasPreprocess p) {
    return p == KerasPreprocess::Caffe ? "caffe" : "unit";
}

std::optional<KerasPreprocess> parseKerasPreprocess(const std::string& name) {
    std::string n = name;
    std::transform(n.begin(), n.end(), n.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (n == "caffe") return KerasPreprocess::Caffe;
    if (n == "unit") return KerasPreprocess::Unit;
    return std::nullopt;
}

std::vector<std::string> kerasPreprocessNames() {
    return {"caffe", "unit"};
}

std::string kerasPreprocessDescription(KerasPreprocess p) {
    if (p == KerasPreprocess::Caffe)
        return "caffe: keras.applications.resnet50.preprocess_input (RGB to BGR, minus the "
               "ImageNet means 103.939, 116.779, 123.68 on 0-255 values, no scaling)";
    return "unit: pixel / 255, RGB (as the course notebook did)";
}

Normalization kerasNormalization(KerasPreprocess p) {
    Normalization n;
    if (p == KerasPreprocess::Caffe) {
        // toChwNormalized computes (v/255 - mean) / std per RGB channel: with std = 1/255 that
        // is v - 255*mean, so the means are Keras's (given B, G, R) divided by 255.
        n.mean = {123.68f / 255.f, 116.779f / 255.f, 103.939f / 255.f};
        n.std = {1.f / 255.f, 1.f / 255.f, 1.f / 255.f};
        n.bgr = true;
    } else {
        n.mean = {0.f, 0.f, 0.f};
        n.std = {1.f, 1.f, 1.f};
        n.bgr = false;
    }
    return n;
}

}  // namespace camx
