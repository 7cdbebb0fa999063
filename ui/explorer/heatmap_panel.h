#pragma once
// One comparison panel: the photo with a method's heatmap blended over it, the thresholded
// mask's outline, the predicted box and every ground-truth box, and the live IoU.
// Re-rendering from a cached map is cheap (no network pass): sliders call the setters freely.

#include <QImage>
#include <QWidget>
#include <memory>
#include <optional>

#include "common/box.h"
#include "explain/heatmap.h"
#include "figures/panel_scene.h"
#include "localize/boxes.h"
#include "render/overlay.h"

namespace camx::ui {

class HeatmapPanel : public QWidget {
    Q_OBJECT
public:
    explicit HeatmapPanel(QWidget* parent = nullptr);

    void setPhoto(const QImage& photo);  // RGB888, original size
    void setPhoto(const cv::Mat& rgb);   // shares the pixels (read only)
    // The ground-truth boxes; `known`: the image has some, so the method's box has an IoU (an
    // image without boxes, or from outside the dataset, says it has no ground truth).
    void setTruth(const std::vector<Box>& truth, bool known);
    // Ground-truth mask outlines in photo pixels (instances, and the region the benchmark
    // ignores), drawn like the boxes.
    void setTruthOutlines(std::vector<QPolygonF> instances, std::vector<QPolygonF> ignore);
    // Draw the ground truth (boxes and outlines) or not; the IoU is shown either way.
    void setShowTruth(bool show);
    // The raw map (feature resolution); nullptr when the method has no map yet.
    void setMap(const Heatmap* raw, Method method, const QString& title);
    void setThreshold(float tau);
    void setBlend(float blend);
    void setColormap(Colormap c);
    void setBoxMode(BoxMode m);
    void setZoom(double zoom);  // 0: fit to the panel
    // Shown over the picture (e.g. "computing"), or instead of it when there is no photo.
    void setMessage(const QString& text);
    QString message() const { return m_message; }

    // What the panel shows, for the status bar and tests.
    std::optional<Box> predictedBox() const { return m_scene.box; }
    double iou() const { return m_scene.iou; }
    bool hasTruth() const { return m_scene.truthKnown; }
    std::size_t truthOutlineCount() const { return m_scene.truthOutlines.size(); }
    bool showsTruth() const { return m_scene.showTruth; }
    // The IoU part of the header: "IoU 0.712", or why there is none.
    QString iouText() const;
    Method method() const { return m_scene.method; }
    bool hasMap() const { return m_scene.hasMap && !m_display.empty(); }
    // What the panel shows, for figure export.
    const PanelScene& scene() const { return m_scene; }
    QSize photoSize() const { return m_photo.size(); }
    const QImage& photo() const { return m_photo; }  // RGB, original size
    QString title() const { return m_title; }
    Colormap colormap() const { return m_colormap; }

    QSize sizeHint() const override { return {420, 360}; }

protected:
    void paintEvent(QPaintEvent*) override;

private:
    void rebuildMap();
    void rebuildOverlay();
    void rebuildBox();
    void resetScene();

    QImage m_photo;
    cv::Mat m_photoMat;
    Heatmap m_raw;
    QString m_title;
    Heatmap m_display;   // normalised, photo size
    PanelScene m_scene;  // what is painted: overlay (or photo), boxes, outline, IoU
    float m_tau = 0.2f;
    float m_blend = 0.5f;
    Colormap m_colormap = Colormap::Jet;
    BoxMode m_mode = BoxMode::Largest;
    double m_zoom = 0;
    QString m_message;
};

// The heat map's colour scale, from 0 to 1 of a map's maximum, with a mark at the threshold.
// Painted by paintColorScale, as in exported figures.
class ColorScale : public QWidget {
    Q_OBJECT
public:
    explicit ColorScale(QWidget* parent = nullptr);
    void setColormap(Colormap c);
    void setThreshold(float tau);
    Colormap colormap() const { return m_colormap; }
    float threshold() const { return m_tau; }
    // Where the bar is painted, in widget coordinates.
    QRectF barRect() const;

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent*) override;

private:
    Colormap m_colormap = Colormap::Jet;
    float m_tau = 0.2f;
};

}  // namespace camx::ui
