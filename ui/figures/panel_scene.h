#pragma once
// What one comparison picture shows, and the one painter for it: the photo (or the photo with a
// heatmap blended over it), the thresholded mask's outline, the method's box and every
// ground-truth box with their labels. The explorer's panels, exported figures and
// `cam-explorer-cli export` all paint through paintPanelScene, so they look the same.

#include <QColor>
#include <QImage>
#include <QPolygonF>
#include <QRectF>
#include <QString>
#include <optional>
#include <utility>
#include <vector>

#include "common/box.h"
#include "explain/heatmap.h"
#include "localize/boxes.h"
#include "render/overlay.h"

class QPainter;
class QFontMetricsF;

namespace camx::ui {

struct PanelScene {
    QImage picture;       // RGB at photo resolution: the overlay, or the plain photo
    bool hasMap = false;  // false: a plain photo (no method box, no outline)
    Method method = Method::Cam;
    std::vector<Box> truth;
    bool truthKnown = false;  // the image has ground-truth boxes: the method's box has an IoU
    // Ground-truth masks' outlines (a segmentation benchmark's images), closed polygons in photo
    // pixel coordinates, and the outlines of the image's "ignore" mask.
    std::vector<QPolygonF> truthOutlines;
    std::vector<QPolygonF> ignoreOutlines;
    // Whether the ground truth (boxes, mask outlines and their labels) is drawn; the IoU is
    // computed and shown either way.
    bool showTruth = true;
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
// Every box and outline is drawn first and the labels last, on their own background.
void paintPanelScene(QPainter& p, const PanelScene& scene, const QRectF& target, double scale);

// A box's label ("truth", "Grad-CAM  IoU 0.712") where paintPanelScene puts it: inside the
// picture, clear of every other label and, where the picture leaves room, of every other box's
// line (outside above or below its own box, or just inside it).
struct SceneLabel {
    QRectF rect;
    QString text;
    QColor colour;
    int box = -1;  // index into the truth boxes; truth.size() for the method's box
};
std::vector<SceneLabel> sceneLabels(const PanelScene& scene, const QRectF& target, double scale,
                                    const QFontMetricsF& bold);
// Whether `r` touches the drawn line of the box drawn at `box` with a pen `penWidth` wide.
bool crossesBoxLine(const QRectF& r, const QRectF& box, double penWidth);

// The colour scale of a colour map: `width` × 1 pixels from 0 (left) to 1 (right), coloured by
// the overlay's own colorize().
QImage colorScaleImage(Colormap colormap, int width = 256);
// A horizontal colour scale filling `rect`: the bar, "0" under its left end and "1" under its
// right end, `caption` between them, and a mark at `tau` (0..1) when it is not negative. Text
// in the painter's font and pen colour.
void paintColorScale(QPainter& p, const QRectF& rect, Colormap colormap, const QString& caption,
                     float tau = -1.f);

}  // namespace camx::ui
