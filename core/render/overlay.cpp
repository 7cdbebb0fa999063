#include "render/overlay.h"

#include <algorithm>
#include <opencv2/imgproc.hpp>
#include <stdexcept>

namespace camx {

const std::vector<Colormap>& allColormaps() {
    static const std::vector<Colormap> v = {Colormap::Jet,     Colormap::Turbo, Colormap::Viridis,
                                            Colormap::Inferno, Colormap::Magma, Colormap::Gray};
    return v;
}

std::string colormapName(Colormap c) {
    switch (c) {
        case Colormap::Jet:
            return "Jet";
        case Colormap::Turbo:
            return "Turbo";
        case Colormap::Viridis:
            return "Viridis";
        case Colormap::Inferno:
            return "Inferno";
        case Colormap::Magma:
            return "Magma";
        case Colormap::Gray:
            return "Gray";
    }
    return "Jet";
}

cv::Mat colorize(const Heatmap& map, Colormap c) {
    cv::Mat f(map.height, map.width, CV_32F, const_cast<float*>(map.data.data()));
    cv::Mat u8;
    f.convertTo(u8, CV_8U, 255.0);  // saturates outside 0..1
    cv::Mat bgr;
    if (c == Colormap::Gray) {
        cv::cvtColor(u8, bgr, cv::COLOR_GRAY2BGR);
    } else {
        const int cv_map = c == Colormap::Jet       ? cv::COLORMAP_JET
                           : c == Colormap::Turbo   ? cv::COLORMAP_TURBO
                           : c == Colormap::Viridis ? cv::COLORMAP_VIRIDIS
                           : c == Colormap::Inferno ? cv::COLORMAP_INFERNO
                                                    : cv::COLORMAP_MAGMA;
        cv::applyColorMap(u8, bgr, cv_map);
    }
    cv::Mat rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    return rgb;
}

cv::Mat overlayHeatmap(const cv::Mat& rgb, const Heatmap& map, Colormap c, float blend) {
    if (map.width != rgb.cols || map.height != rgb.rows)
        throw std::invalid_argument("overlay: map and photo differ in size");
    const float a = std::clamp(blend, 0.f, 1.f);
    cv::Mat out;
    cv::addWeighted(rgb, 1.0 - a, colorize(map, c), a, 0.0, out);
    return out;
}

}  // namespace camx
