#pragma once
// Image decoding and model-input preprocessing (OpenCV only; no tensors here).

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

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
    // The network takes its channels in BGR order (Keras's caffe-style preprocess_input); mean
    // and std above stay per RGB channel.
    bool bgr = false;
};

// Decodes JPEG (incl. grayscale and CMYK), PNG, BMP, TIFF, WebP and PNM images, whatever their
// file name, to 8-bit RGB. Before decoding, the size the file's header declares is checked against
// camx::pixelBudget() (a small file can claim gigapixels); formats whose size cannot be read from
// their header are not decoded. Anything that is not a regular file (a FIFO, a device) is refused
// without being opened. Throws ImageError naming the file and what is wrong.
cv::Mat readRgb(const std::filesystem::path& path);
// The same checks, decoded to one 8-bit channel exactly as cv::imread(IMREAD_GRAYSCALE) does
// (segmentation masks: wsolevaluation reads them that way).
cv::Mat readGray(const std::filesystem::path& path);
// The same from bytes in memory; `name` only serves the error message.
cv::Mat decodeRgb(const void* data, std::size_t size, const std::string& name);
// Decodes at 1/8 scale where the codec allows (JPEGs of at least 64 x 64 pixels); other images,
// tiny ones included, at full size. For cheap verification of a file. Same checks as readRgb.
cv::Mat readReduced(const std::filesystem::path& path);

// The width and height an image file declares in its header, read without decoding (the first
// few KB; more only when a JPEG's frame header follows large metadata blocks). Nothing when the
// path is not a regular file, the format is not one decoded here, or the header is damaged; then
// `why` (when given) says which, without the file name.
std::optional<std::pair<int, int>> imageHeaderSize(const std::filesystem::path& path,
                                                   std::string* why = nullptr);

// The message when width x height is over camx::pixelBudget(), nothing when it fits. Names `name`,
// the declared size and the budget: "image 'x.png' declares 30000x30000 pixels (900 MP), over the
// 100 MP budget (--max-megapixels)".
std::optional<std::string> pixelBudgetProblem(std::int64_t width, std::int64_t height,
                                              const std::string& name);

// "900 MP", "0.25 MP": a pixel count for messages.
std::string megapixelText(std::uint64_t pixels);

// Exports camx::pixelBudget() as OPENCV_IO_MAX_IMAGE_PIXELS (unless the variable is set already),
// as a second line of defence behind the header checks above. Caveat: OpenCV 4.6 reads the
// variable once, when its library is loaded, so in this process it only takes effect if the
// variable was set before start-up; it does reach child processes. setenv is not thread-safe:
// the CLI and GUI call this at start-up, before any worker runs.
void applyDecoderLimits();

// Resizes the whole image to size x size (no crop, bilinear) and returns 8-bit RGB.
cv::Mat resizeForModel(const cv::Mat& rgb, int size);

// Writes `rgb8` (size x size, RGB) as normalised CHW floats into out[3*size*size], channels in
// the order `norm` asks for.
void toChwNormalized(const cv::Mat& rgb8, const Normalization& norm, float* out);

// Encodes and writes an RGB image; the format follows the extension. Atomic.
void writeRgb(const std::filesystem::path& path, const cv::Mat& rgb, int jpegQuality = 92);

}  // namespace camx
