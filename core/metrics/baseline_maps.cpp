#include "metrics/baseline_maps.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <random>

namespace camx {

const std::vector<BaselineMap>& allBaselineMaps() {
    static const std::vector<BaselineMap> v = {BaselineMap::Random, BaselineMap::Center,
                                               BaselineMap::Sobel};
    return v;
}

const char* baselineMapId(BaselineMap b) {
    switch (b) {
        case BaselineMap::Random:
            return "random";
        case BaselineMap::Center:
            return "center";
        case BaselineMap::Sobel:
            return "sobel";
    }
    return "random";
}

namespace {
void minMax(std::vector<float>& v) {
    if (v.empty()) return;
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    const float a = *lo, range = *hi - *lo;
    for (float& x : v) x = range > 0 ? (x - a) / range : 0.f;
}
}  // namespace

std::vector<float> makeBaselineMap(BaselineMap kind, const float* chw, int size,
                                   const Normalization& norm, std::uint64_t seed) {
    const std::size_t plane = static_cast<std::size_t>(size) * size;
    std::vector<float> map(plane, 0.f);
    switch (kind) {
        case BaselineMap::Random: {
            std::mt19937_64 rng(seed);
            std::uniform_real_distribution<float> u(0.f, 1.f);
            for (float& v : map) v = u(rng);
            break;
        }
        case BaselineMap::Center: {
            const double c = (size - 1) / 2.0, sigma = size / 4.0;
            for (int y = 0; y < size; ++y)
                for (int x = 0; x < size; ++x)
                    map[static_cast<std::size_t>(y) * size + x] = static_cast<float>(
                        std::exp(-((x - c) * (x - c) + (y - c) * (y - c)) / (2 * sigma * sigma)));
            break;
        }
        case BaselineMap::Sobel: {
            // Grey levels of the photo (ITU-R 601 weights) from the normalised input.
            cv::Mat grey(size, size, CV_32F, cv::Scalar(0));
            const float weights[3] = {0.299f, 0.587f, 0.114f};
            for (int c = 0; c < 3; ++c) {
                // RGB channel c sits at plane 2 - c of a BGR network's input.
                const int at = norm.bgr ? 2 - c : c;
                const float* in = chw + static_cast<std::size_t>(at) * plane;
                for (std::size_t p = 0; p < plane; ++p)
                    grey.ptr<float>()[p] += weights[c] * (in[p] * norm.std[c] + norm.mean[c]);
            }
            cv::Mat dx, dy, magnitude;
            cv::Sobel(grey, dx, CV_32F, 1, 0, 3, 1, 0, cv::BORDER_REFLECT_101);
            cv::Sobel(grey, dy, CV_32F, 0, 1, 3, 1, 0, cv::BORDER_REFLECT_101);
            cv::magnitude(dx, dy, magnitude);
            std::copy(magnitude.ptr<float>(), magnitude.ptr<float>() + plane, map.begin());
            break;
        }
    }
    minMax(map);
    return map;
}

}  // namespace camx
