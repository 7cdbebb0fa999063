#include "figures/mask_outlines.h"

#include <opencv2/imgproc.hpp>

#include "data/image_io.h"

namespace camx::ui {

std::vector<QPolygonF> maskContours(const cv::Mat& gray, double sx, double sy) {
    std::vector<QPolygonF> out;
    if (gray.empty()) return out;
    double lo = 0, hi = 0;
    cv::minMaxLoc(gray, &lo, &hi);
    if (hi <= 0) return out;
    // 0/255 masks, and 0/1 ones written as PNG without scaling, both have their foreground at
    // the maximum.
    cv::Mat binary;
    cv::threshold(gray, binary, hi / 2.0, 255, cv::THRESH_BINARY);
    std::vector<std::vector<cv::Point>> contours;
    cv::findContours(binary, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
    for (const auto& c : contours) {
        QPolygonF poly;
        poly.reserve(static_cast<qsizetype>(c.size()));
        for (const cv::Point& p : c) poly << QPointF(p.x * sx, p.y * sy);
        out.push_back(std::move(poly));
    }
    return out;
}

MaskOutlines readMaskOutlines(const Sample& sample) {
    MaskOutlines out;
    auto trace = [&](const std::filesystem::path& file, std::vector<QPolygonF>& into) {
        try {
            // readRgb checks the declared size against the pixel budget before decoding.
            const cv::Mat rgb = readRgb(file);
            cv::Mat gray;
            cv::cvtColor(rgb, gray, cv::COLOR_RGB2GRAY);
            const double sx = sample.width > 0 ? double(sample.width) / gray.cols : 1.0;
            const double sy = sample.height > 0 ? double(sample.height) / gray.rows : 1.0;
            for (auto& poly : maskContours(gray, sx, sy)) into.push_back(std::move(poly));
        } catch (const std::exception& e) {
            out.errors << QString::fromStdString(e.what());
        }
    };
    for (const auto& mask : sample.maskPaths) trace(mask, out.instances);
    if (!sample.ignoreMaskPath.empty()) trace(sample.ignoreMaskPath, out.ignore);
    return out;
}

}  // namespace camx::ui
