#pragma once
// Boxes from heatmaps, and how well they match the ground truth.
//
// Thresholds are fractions of the map's maximum: a pixel survives when its value is above
// tau * max. Boxes are in inclusive pixel coordinates, like the ground truth, and clipped to the
// image. IoU counts pixels inclusively (+1) and takes the best ground-truth box.

#include <optional>
#include <vector>

#include "common/box.h"
#include "explain/heatmap.h"

namespace camx {

enum class BoxMode {
    Largest,       // the largest connected component (CAM paper; MaxBoxAcc)
    BestOfAll,     // every component's box, the one that best fits the ground truth (MaxBoxAccV2)
    CourseContour  // the seed course: the first contour, its rotated rectangle made axis-aligned
};

const char* boxModeId(BoxMode m);  // "largest", "best", "course"
bool parseBoxMode(const std::string& id, BoxMode* out);

// Inclusive-pixel IoU of two boxes.
double iou(const Box& a, const Box& b);
// The best IoU against any ground-truth box; 0 without a box or without ground truth.
double bestIou(const std::optional<Box>& box, const std::vector<Box>& truth);

// Every connected component (8-connected) above tau * max, as boxes, largest area first.
std::vector<Box> componentBoxes(const Heatmap& map, float tau);

// The box for a mode. BestOfAll needs the ground truth (without it, it falls back to Largest).
// Nothing when no pixel survives the threshold.
std::optional<Box> boxFromMap(const Heatmap& map, float tau, BoxMode mode,
                              const std::vector<Box>& truth = {});

// The outline of the thresholded mask (for drawing), as polygons in pixel coordinates.
std::vector<std::vector<std::pair<int, int>>> maskOutline(const Heatmap& map, float tau);

}  // namespace camx
