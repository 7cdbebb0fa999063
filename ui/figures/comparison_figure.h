#pragma once
// Comparison figures: one image (the photo, then each method's overlay with its boxes, captions
// with the breed, the probability, each IoU, the layer and the threshold) and grids of several
// images. Plain data plus painters; the explorer, the export dialog and the CLI build them.

#include <QSizeF>
#include <QString>
#include <vector>

#include "explain/explanation.h"
#include "figures/panel_scene.h"

class QPainter;
class QRectF;

namespace camx {
struct ModelInfo;
}

namespace camx::ui {

// A panel's deletion and insertion curves (Petsiuk et al., RISE; eval/metric_eval.h): the
// explained class's score after each step, from no pixel to every pixel deleted or inserted in
// the map's order. Empty when the figure does not show curves or the panel has no map.
struct PanelCurves {
    std::vector<float> deletion, insertion;  // steps + 1 points each
    double deletionAuc = 0, insertionAuc = 0;
    bool probability = true;  // the score is the softmax probability (else the logit)
    bool empty() const { return deletion.empty() && insertion.empty(); }
};

struct FigurePanel {
    PanelScene scene;
    QString caption;  // under the picture, e.g. "Grad-CAM · layer4 · τ 0.20 · IoU 0.712"
    PanelCurves curves;
};

struct ComparisonFigure {
    QString header;  // over the pictures: breed, prediction and probability
    QString name;    // the image's file name, at the header's right end
    std::vector<FigurePanel> panels;
    Colormap colormap = Colormap::Jet;  // of the overlays: the colour scale under the captions
};

// Whether a figure shows a colour scale: when any of its pictures has a heat map.
bool hasColorScale(const ComparisonFigure& figure);
// Whether a figure shows a band of curves under its captions: when any panel has curves.
bool hasCurves(const ComparisonFigure& figure);

struct GridFigure {
    QString title;
    std::vector<ComparisonFigure> rows;  // one image each (captioned with its name), in order
    int columns = 2;                     // images side by side
    // One colour scale under the grid, in the first row's colour map, when any row has a map.
};

// Sizes at which text and pictures have their natural proportions (photo pixels); painting into
// any other rectangle scales everything uniformly, so every size and format looks the same.
QSizeF naturalSize(const ComparisonFigure& figure);
QSizeF naturalSize(const GridFigure& grid);
void paintFigure(QPainter& p, const ComparisonFigure& figure, const QRectF& target);
void paintFigure(QPainter& p, const GridFigure& grid, const QRectF& target);

// What one image's figure shows.
struct FigureRequest {
    std::vector<Method> methods{Method::Cam, Method::GradCam};
    int tap = -1;  // -1: the last block
    SceneStyle style;
    ScoreKind score = ScoreKind::Logit;
    bool includePhoto = true;
    // Under each map, its deletion and insertion curves (buildComparisons computes them: one
    // network pass per step and curve, batched), measured on the softmax probability as RISE
    // does, or on the logit.
    bool curves = false;
    int curveSteps = 50;
    bool curveOnLogit = false;
};

// An image's true class as a figure names it: the dataset's name for it (empty: unknown), and its
// index among the model's classes (-1: the model has no such class, e.g. another model's classes).
struct TruthClass {
    QString name;
    int modelClass = -1;
    bool known() const { return !name.isEmpty(); }
};

// The header line (prediction, probability, truth, explained class) and a panel's caption.
QString figureHeader(const ModelInfo& info, const ImageExplanation& explanation,
                     const TruthClass& truth);
QString panelCaption(Method method, const QString& layer, float tau, const PanelScene& scene);
QString photoCaption(bool truthKnown);

// Builds an image's figure from its explanation (which must hold each method at the tap).
// `truthClass` is the true class (unknown: no IoU); `masks` the ground-truth masks' outlines and
// the ignore mask's, in photo pixels (a segmentation benchmark's image), drawn like the boxes.
// Missing maps are reported in the caption. The caller names the figure (`name`); its colour
// scale uses the request's colour map.
ComparisonFigure makeComparison(const ModelInfo& info, const cv::Mat& rgb,
                                const ImageExplanation& explanation, const std::vector<Box>& truth,
                                const TruthClass& truthClass, const FigureRequest& request,
                                const std::vector<QPolygonF>& masks = {},
                                const std::vector<QPolygonF>& ignoreMasks = {});

}  // namespace camx::ui
