#include "data/image_io.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "common/fs_util.h"
#include "common/limits.h"
#include "data/formats/tfrecord.h"
#include "data/image_header.h"
#include "data/safe_file.h"

namespace camx {

namespace {
cv::Mat toRgb(const cv::Mat& decoded, const std::string& name) {
    if (decoded.empty())
        throw ImageError("cannot decode image '" + name + "': unreadable or unsupported data");
    cv::Mat rgb;
    switch (decoded.channels()) {
        case 1:
            cv::cvtColor(decoded, rgb, cv::COLOR_GRAY2RGB);
            break;
        case 3:
            cv::cvtColor(decoded, rgb, cv::COLOR_BGR2RGB);
            break;
        case 4:
            cv::cvtColor(decoded, rgb, cv::COLOR_BGRA2RGB);
            break;
        default:
            throw ImageError("cannot use image '" + name +
                             "': " + std::to_string(decoded.channels()) + " channels");
    }
    if (rgb.depth() != CV_8U) {
        cv::Mat eight;
        rgb.convertTo(eight, CV_8U, rgb.depth() == CV_16U ? 1.0 / 257.0 : 1.0);
        rgb = eight;
    }
    return rgb;
}

// Largest image file read into memory for decoding: generous for uncompressed formats (8 bytes
// per pixel of the budget) and never below 64 MB.
std::uintmax_t maxImageFileBytes() {
    return std::max<std::uintmax_t>(64u << 20,
                                    std::min<std::uint64_t>(pixelBudget(), 1ull << 36) * 8);
}

enum class Decode { Color, Reduced, Gray };

// Checks the declared size against the budget, then decodes. Reduced: 1/8 scale for JPEGs large
// enough to gain from it (OpenCV asserts when it shrinks tiny non-JPEG images itself); Gray: one
// 8-bit channel as cv::IMREAD_GRAYSCALE decodes it.
cv::Mat decodeChecked(const void* data, std::size_t size, const std::string& name, Decode how) {
    if (size == 0) throw ImageError("cannot decode image '" + name + "': empty file");
    std::string why;
    const auto header = parseImageHeader(static_cast<const unsigned char*>(data), size, why);
    if (!header) throw ImageError("cannot decode image '" + name + "': " + why);
    if (auto problem = pixelBudgetProblem(header->width, header->height, name))
        throw ImageError(*problem);
    const bool useReduced = how == Decode::Reduced && header->format == ImageFormat::Jpeg &&
                            std::min(header->width, header->height) >= 64;
    if (size > static_cast<std::size_t>(std::numeric_limits<int>::max()))
        throw ImageError("cannot decode image '" + name + "': over 2 GB of data");
    cv::Mat buf(1, static_cast<int>(size), CV_8U, const_cast<void*>(data));
    cv::Mat m;
    try {
        m = cv::imdecode(buf, how == Decode::Gray ? cv::IMREAD_GRAYSCALE
                              : useReduced        ? cv::IMREAD_REDUCED_COLOR_8
                                                  : cv::IMREAD_COLOR);
    } catch (const cv::Exception& e) {
        throw ImageError("cannot decode image '" + name + "': " + e.msg);
    }
    if (how != Decode::Gray) return toRgb(m, name);
    if (m.empty())
        throw ImageError("cannot decode image '" + name + "': unreadable or unsupported data");
    return m;
}

// The bytes of an image file, or of an image inside a TFRecord shard (a path below the shard:
// data/formats/tfrecord.h). `why` reads after "cannot read image '<path>': ".
bool readImageBytes(const std::filesystem::path& path, std::uintmax_t maxBytes, bool wholeFile,
                    std::string& bytes, std::string& why) {
    if (readRegularFile(path, maxBytes, wholeFile, bytes, why)) return true;
    why = "it " + why;
    // Only a path that cannot be a file is looked for inside a shard.
    if (!parseTfdsImagePath(path, nullptr, nullptr) || !notRegularFileReason(path)) return false;
    if (!readTfdsImage(path, bytes, why)) return false;
    if (bytes.size() > maxBytes) {
        if (wholeFile) {
            why = "it is too large (" + std::to_string(bytes.size()) + " bytes, the limit is " +
                  std::to_string(maxBytes) + ")";
            return false;
        }
        bytes.resize(static_cast<std::size_t>(maxBytes));
    }
    return true;
}

cv::Mat readChecked(const std::filesystem::path& path, Decode how) {
    // The file is read by us, not by OpenCV: refused before opening when it is not a regular file
    // (a FIFO would block forever), and the header checked is the one of the bytes decoded.
    std::string bytes, why;
    if (!readImageBytes(path, maxImageFileBytes(), true, bytes, why))
        throw ImageError("cannot read image '" + path.string() + "': " + why);
    return decodeChecked(bytes.data(), bytes.size(), path.string(), how);
}
}  // namespace

std::string megapixelText(std::uint64_t pixels) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g MP", static_cast<double>(pixels) / 1e6);
    return buf;
}

std::optional<std::string> pixelBudgetProblem(std::int64_t width, std::int64_t height,
                                              const std::string& name) {
    const std::uint64_t budget = pixelBudget();
    const std::uint64_t pixels = static_cast<std::uint64_t>(std::max<std::int64_t>(width, 0)) *
                                 static_cast<std::uint64_t>(std::max<std::int64_t>(height, 0));
    if (pixels <= budget) return std::nullopt;
    return "image '" + name + "' declares " + std::to_string(width) + "x" + std::to_string(height) +
           " pixels (" + megapixelText(pixels) + "), over the " + megapixelText(budget) +
           " budget (--max-megapixels)";
}

void applyDecoderLimits() {
    static const bool userSet = std::getenv("OPENCV_IO_MAX_IMAGE_PIXELS") != nullptr;
    if (userSet) return;
    static std::mutex m;
    std::lock_guard<std::mutex> lock(m);
    ::setenv("OPENCV_IO_MAX_IMAGE_PIXELS", std::to_string(pixelBudget()).c_str(), 1);
}

std::optional<std::pair<int, int>> imageHeaderSize(const std::filesystem::path& path,
                                                   std::string* whyOut) {
    std::string why, bytes;
    std::optional<ImageHeader> header;
    // Start with 64 KB; a JPEG frame header can follow megabytes of EXIF/ICC data, so grow the
    // window (up to 64 MB) while libturbojpeg has not found it and the file goes on.
    for (std::uintmax_t window = 64u << 10; !header; window *= 8) {
        if (!readImageBytes(path, window, false, bytes, why)) break;
        bool needMore = false;
        header = parseImageHeader(reinterpret_cast<const unsigned char*>(bytes.data()),
                                  bytes.size(), why, &needMore);
        if (!needMore || bytes.size() < window || window >= (64u << 20)) break;
    }
    if (!header) {
        if (whyOut) *whyOut = why;
        return std::nullopt;
    }
    return std::pair<int, int>{header->width, header->height};
}

cv::Mat readRgb(const std::filesystem::path& path) {
    // IMREAD_COLOR turns grayscale and CMYK JPEGs into 3-channel BGR; the decoder is chosen by the
    // file's signature, not its extension, so PNG data named .jpg decodes too.
    return readChecked(path, Decode::Color);
}

cv::Mat readGray(const std::filesystem::path& path) {
    return readChecked(path, Decode::Gray);
}

cv::Mat decodeRgb(const void* data, std::size_t size, const std::string& name) {
    return decodeChecked(data, size, name, Decode::Color);
}

cv::Mat readReduced(const std::filesystem::path& path) {
    return readChecked(path, Decode::Reduced);
}

cv::Mat resizeForModel(const cv::Mat& rgb, int size) {
    cv::Mat out;
    if (rgb.cols == size && rgb.rows == size) return rgb;
    cv::resize(rgb, out, cv::Size(size, size), 0, 0, cv::INTER_LINEAR);
    return out;
}

void toChwNormalized(const cv::Mat& rgb8, const Normalization& norm, float* out) {
    CV_Assert(rgb8.type() == CV_8UC3);
    const int h = rgb8.rows, w = rgb8.cols;
    const std::size_t plane = static_cast<std::size_t>(h) * w;
    float scale[3], shift[3];
    for (int c = 0; c < 3; ++c) {
        scale[c] = 1.0f / (255.0f * norm.std[c]);
        shift[c] = -norm.mean[c] / norm.std[c];
    }
    for (int y = 0; y < h; ++y) {
        const unsigned char* row = rgb8.ptr<unsigned char>(y);
        float* first = out + static_cast<std::size_t>(y) * w;
        float* g = first + plane;
        float* third = g + plane;
        float* r = norm.bgr ? third : first;
        float* b = norm.bgr ? first : third;
        for (int x = 0; x < w; ++x) {
            r[x] = row[3 * x] * scale[0] + shift[0];
            g[x] = row[3 * x + 1] * scale[1] + shift[1];
            b[x] = row[3 * x + 2] * scale[2] + shift[2];
        }
    }
}

void writeRgb(const std::filesystem::path& path, const cv::Mat& rgb, int jpegQuality) {
    cv::Mat bgr;
    cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
    std::vector<unsigned char> bytes;
    std::string ext = path.extension().string();
    if (ext.empty()) ext = ".png";
    if (!cv::imencode(ext, bgr, bytes, {cv::IMWRITE_JPEG_QUALITY, jpegQuality}))
        throw ImageError("cannot encode '" + path.string() + "'");
    writeFileAtomically(path, std::string(bytes.begin(), bytes.end()));
}

}  // namespace camx
