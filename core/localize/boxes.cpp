#include "localize/boxes.h"

#include <algorithm>
#include <opencv2/imgproc.hpp>

namespace camx {

const char* boxModeId(BoxMode m) {
    switch (m) {
        case BoxMode::Largest:
            return "largest";
        case BoxMode::BestOfAll:
            return "best";
        case BoxMode::CourseContour:
            return "course";
    }
    return "largest";
}

bool parseBoxMode(const std::string& id, BoxMode* out) {
    for (BoxMode m : {BoxMode::Largest, BoxMode::BestOfAll, BoxMode::CourseContour})
        if (id == boxModeId(m)) {
            *out = m;
            return true;
        }
    return false;
}

double iou(const Box& a, const Box& b) {
    const int ix0 = std::max(a.xmin, b.xmin), iy0 = std::max(a.ymin, b.ymin);
    const int ix1 = std::min(a.xmax, b.xmax), iy1 = std::min(a.ymax, b.ymax);
    const double iw = std::max(0, ix1 - ix0 + 1), ih = std::max(0, iy1 - iy0 + 1);
    const double inter = iw * ih;
    const double areaA = double(a.xmax - a.xmin + 1) * (a.ymax - a.ymin + 1);
    const double areaB = double(b.xmax - b.xmin + 1) * (b.ymax - b.ymin + 1);
    const double uni = areaA + areaB - inter;
    return uni > 0 ? inter / uni : 0.0;
}

double bestIou(const std::optional<Box>& box, const std::vector<Box>& truth) {
    if (!box) return 0.0;
    double best = 0.0;
    for (const Box& t : truth) best = std::max(best, iou(*box, t));
    return best;
}

namespace {
cv::Mat mask(const Heatmap& map, float tau) {
    float mx = 0.f;
    for (float v : map.data) mx = std::max(mx, v);
    cv::Mat src(map.height, map.width, CV_32F, const_cast<float*>(map.data.data()));
    cv::Mat m = src > tau * mx;
    if (mx <= 0.f) m.setTo(0);
    return m;
}
Box clip(int x0, int y0, int x1, int y1, int w, int h) {
    return Box{std::clamp(x0, 0, w - 1), std::clamp(y0, 0, h - 1), std::clamp(x1, 0, w - 1),
               std::clamp(y1, 0, h - 1)};
}
}  // namespace

std::vector<Box> componentBoxes(const Heatmap& map, float tau) {
    if (map.empty()) return {};
    cv::Mat labels, stats, centroids;
    const int n =
        cv::connectedComponentsWithStats(mask(map, tau), labels, stats, centroids, 8, CV_32S);
    std::vector<std::pair<int, Box>> boxes;
    for (int i = 1; i < n; ++i) {
        const int x = stats.at<int>(i, cv::CC_STAT_LEFT), y = stats.at<int>(i, cv::CC_STAT_TOP);
        const int w = stats.at<int>(i, cv::CC_STAT_WIDTH), h = stats.at<int>(i, cv::CC_STAT_HEIGHT);
        boxes.emplace_back(stats.at<int>(i, cv::CC_STAT_AREA), Box{x, y, x + w - 1, y + h - 1});
    }
    std::stable_sort(boxes.begin(), boxes.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    std::vector<Box> out;
    for (auto& b : boxes) out.push_back(b.second);
    return out;
}

std::optional<Box> boxFromMap(const Heatmap& map, float tau, BoxMode mode,
                              const std::vector<Box>& truth) {
    if (map.empty()) return std::nullopt;
    if (mode == BoxMode::CourseContour) {
        std::vector<std::vector<cv::Point>> contours;
        cv::findContours(mask(map, tau), contours, cv::RETR_TREE, cv::CHAIN_APPROX_SIMPLE);
        if (contours.empty()) return std::nullopt;
        // The course took contours[0], whichever it is, and made its rotated rectangle upright.
        cv::Point2f pts[4];
        cv::minAreaRect(contours[0]).points(pts);
        float x0 = pts[0].x, x1 = pts[0].x, y0 = pts[0].y, y1 = pts[0].y;
        for (const auto& p : pts) {
            x0 = std::min(x0, p.x);
            x1 = std::max(x1, p.x);
            y0 = std::min(y0, p.y);
            y1 = std::max(y1, p.y);
        }
        return clip(static_cast<int>(std::floor(x0)), static_cast<int>(std::floor(y0)),
                    static_cast<int>(std::ceil(x1)), static_cast<int>(std::ceil(y1)), map.width,
                    map.height);
    }
    const std::vector<Box> boxes = componentBoxes(map, tau);
    if (boxes.empty()) return std::nullopt;
    if (mode == BoxMode::BestOfAll && !truth.empty()) {
        std::size_t best = 0;
        double bestScore = -1;
        for (std::size_t i = 0; i < boxes.size(); ++i) {
            const double s = bestIou(boxes[i], truth);
            if (s > bestScore) {
                bestScore = s;
                best = i;
            }
        }
        return boxes[best];
    }
    return boxes.front();
}

std::vector<std::vector<std::pair<int, int>>> maskOutline(const Heatmap& map, float tau) {
    std::vector<std::vector<std::pair<int, int>>> out;
    if (map.empty()) return out;
    std::vector<std::vector<cv::Point>> contours;
    cv::findContours(mask(map, tau), contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
    for (const auto& c : contours) {
        std::vector<std::pair<int, int>> poly;
        for (const auto& p : c) poly.emplace_back(p.x, p.y);
        out.push_back(std::move(poly));
    }
    return out;
}

}  // namespace camx
