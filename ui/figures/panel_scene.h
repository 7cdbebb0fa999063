#pragma once
// What one comparison picture shows, and the one painter for it: the photo (or the photo with a
// heatmap blended over it), the thresholded mask's outline, the method's box and every
// ground-truth box with their labels. The explorer's panels, exported figures and
// `cam-explorer-cli export` all paint through paintPanelScene, so they look the same.

#include <QImage>
#include <optional>
#include <utility>
#include <vector>

#include "common/box.h"
#include "explain/heatmap.h"
#include "localize/boxes.h"
#include "render/overlay.h"

class QPainter;
class QRectF;

namespace camx::ui {

struct PanelScene {
    QImage picture;       // RGB at photo resolution: the overlay, or the plain photo
    bool hasMap = false;  // false: a plain photo (no method box, no outline)
    Method method = Method::Cam;
    std::vector<Box> truth;
    bool truthKnown = false;
    std::optional<Box> box;  // the method's box at the threshold
    double iou = 0;          // of `box` against the truth (0 without truth)
    std::vector<std::vector<std::pair<int, int>>> outline;  // mask outline, pixel coordinates
};

// How a map becomes a picture.
struct SceneStyle {
    float tau = 0.2f;
    float blend = 0.5f;
    Colormap colormap = Colormap::Jet;
    BoxMode mode = BoxMode::Largest;
};

// Builds a scene from an RGB photo and a method's raw map (nullptr: the plain photo).
PanelScene makePanelScene(const cv::Mat& rgb, const Heatmap* raw, Method method,
                          const SceneStyle& style, const std::vector<Box>& truth, bool truthKnown);

// Paints the scene into `target`; `scale` is target size / photo size (boxes stay vectors).
void paintPanelScene(QPainter& p, const PanelScene& scene, const QRectF& target, double scale);

}  // namespace camx::ui
