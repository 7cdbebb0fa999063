#include "data/image_io.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "common/fs_util.h"

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

cv::Mat readWith(const std::filesystem::path& path, int flags) {
    cv::Mat m;
    try {
        m = cv::imread(path.string(), flags);
    } catch (const cv::Exception& e) {
        throw ImageError("cannot decode image '" + path.string() + "': " + e.msg);
    }
    return toRgb(m, path.string());
}
}  // namespace

cv::Mat readRgb(const std::filesystem::path& path) {
    // IMREAD_COLOR turns grayscale and CMYK JPEGs into 3-channel BGR; the decoder is chosen by the
    // file's signature, not its extension, so PNG data named .jpg decodes too.
    return readWith(path, cv::IMREAD_COLOR);
}

cv::Mat decodeRgb(const void* data, std::size_t size, const std::string& name) {
    cv::Mat buf(1, static_cast<int>(size), CV_8U, const_cast<void*>(data));
    cv::Mat m;
    try {
        m = cv::imdecode(buf, cv::IMREAD_COLOR);
    } catch (const cv::Exception& e) {
        throw ImageError("cannot decode image '" + name + "': " + e.msg);
    }
    return toRgb(m, name);
}

cv::Mat readReduced(const std::filesystem::path& path) {
    return readWith(path, cv::IMREAD_REDUCED_COLOR_8);
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
        float* r = out + static_cast<std::size_t>(y) * w;
        float* g = r + plane;
        float* b = g + plane;
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
