#include "explain/postprocess.h"

#include <cmath>
#include <limits>
#include <opencv2/imgproc.hpp>

namespace camx {

Heatmap normalizeMap(const Heatmap& raw, bool relu) {
    Heatmap out = raw;
    float lo = std::numeric_limits<float>::infinity(), hi = -lo;
    for (float& v : out.data) {
        if (!std::isfinite(v)) v = 0.f;
        if (relu && v < 0.f) v = 0.f;
        lo = std::min(lo, v);
        hi = std::max(hi, v);
    }
    if (out.data.empty()) return out;
    const float scale = 1.f / (hi - lo + 1e-7f);
    for (float& v : out.data) v = (v - lo) * scale;
    return out;
}

Heatmap upsampleMap(const Heatmap& map, int width, int height) {
    if (map.empty() || (map.width == width && map.height == height)) return map;
    cv::Mat src(map.height, map.width, CV_32F, const_cast<float*>(map.data.data()));
    Heatmap out;
    out.width = width;
    out.height = height;
    out.data.resize(static_cast<std::size_t>(width) * height);
    cv::Mat dst(height, width, CV_32F, out.data.data());
    cv::resize(src, dst, dst.size(), 0, 0, cv::INTER_LINEAR);
    return out;
}

Heatmap displayMap(const Heatmap& raw, Method method, int width, int height) {
    return upsampleMap(normalizeMap(raw, methodUsesRelu(method)), width, height);
}

}  // namespace camx
