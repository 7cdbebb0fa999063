#pragma once
// Ground-truth masks (a segmentation benchmark's images, e.g. OpenImages in wsolevaluation's
// layout) as outlines drawn like the ground-truth boxes: in the explorer's panels and in exported
// figures. Plain polygons in photo pixel coordinates; reading them blocks (call it on a worker).

#include <QPolygonF>
#include <QStringList>
#include <opencv2/core/mat.hpp>
#include <vector>

#include "data/dataset.h"

namespace camx::ui {

struct MaskOutlines {
    std::vector<QPolygonF> instances;  // every instance mask's outer contours
    std::vector<QPolygonF> ignore;     // the image's "ignore" mask, when it has one
    // The masks that could not be read, each with why (the others are still traced).
    QStringList errors;
    bool empty() const { return instances.empty() && ignore.empty(); }
};

// The outer contours of a mask's foreground (pixels of at least half the maximum value), scaled
// by (sx, sy) from mask to photo pixels. `gray` is 8-bit, one channel.
std::vector<QPolygonF> maskContours(const cv::Mat& gray, double sx = 1.0, double sy = 1.0);

// Reads and traces every mask of `sample` (blocking: call it on a worker). Masks of another size
// than the sample's width x height are scaled to it.
MaskOutlines readMaskOutlines(const Sample& sample);

}  // namespace camx::ui
