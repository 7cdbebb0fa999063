#pragma once
// Image decoding and model-input preprocessing (OpenCV only; no tensors here).

#include <array>
#include <filesystem>
#include <stdexcept>
#include <string>

#include <opencv2/core/mat.hpp>

namespace camx {

class ImageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Mean and std of the training data the backbone saw, per RGB channel on a 0..1 scale.
struct Normalization {
    std::array<float, 3> mean{0.485f, 0.456f, 0.406f};  // ImageNet
    std::array<float, 3> std{0.229f, 0.224f, 0.225f};
};

// Decodes any image OpenCV reads (JPEG incl. grayscale and CMYK, PNG whatever its file name) to
// 8-bit RGB. Throws ImageError naming the file when it cannot be decoded.
cv::Mat readRgb(const std::filesystem::path& path);
// The same from bytes in memory; `name` only serves the error message.
cv::Mat decodeRgb(const void* data, std::size_t size, const std::string& name);
// Decodes at 1/8 scale where the codec allows (JPEG); for cheap verification of a file.
cv::Mat readReduced(const std::filesystem::path& path);

// Resizes the whole image to size x size (no crop, bilinear) and returns 8-bit RGB.
cv::Mat resizeForModel(const cv::Mat& rgb, int size);

// Writes `rgb8` (size x size, RGB) as normalised CHW floats into out[3*size*size].
void toChwNormalized(const cv::Mat& rgb8, const Normalization& norm, float* out);

// Encodes and writes an RGB image; the format follows the extension. Atomic.
void writeRgb(const std::filesystem::path& path, const cv::Mat& rgb, int jpegQuality = 92);

}  // namespace camx
