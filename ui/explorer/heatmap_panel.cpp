#include "explorer/heatmap_panel.h"

#include <QPainter>
#include <QPainterPath>

#include "common/image_convert.h"
#include "explain/postprocess.h"

namespace camx::ui {

HeatmapPanel::HeatmapPanel(QWidget* parent) : QWidget(parent) {
    setMinimumSize(220, 200);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
    setAttribute(Qt::WA_OpaquePaintEvent);
}

void HeatmapPanel::setPhoto(const QImage& photo) {
    setPhoto(toRgbMat(photo));
}

void HeatmapPanel::setPhoto(const cv::Mat& rgb) {
    m_photoMat = rgb;
    m_photo = toQImage(rgb);
    m_display = {};
    resetScene();
    update();
}

void HeatmapPanel::setTruth(const std::vector<Box>& truth, bool known) {
    m_scene.truth = truth;
    m_scene.truthKnown = known;
    m_scene.iou = known ? bestIou(m_scene.box, truth) : 0.0;
    update();
}

void HeatmapPanel::setTruthOutlines(std::vector<QPolygonF> instances,
                                    std::vector<QPolygonF> ignore) {
    m_scene.truthOutlines = std::move(instances);
    m_scene.ignoreOutlines = std::move(ignore);
    update();
}

void HeatmapPanel::setShowTruth(bool show) {
    if (show == m_scene.showTruth) return;
    m_scene.showTruth = show;
    update();
}

QString HeatmapPanel::iouText() const {
    if (m_scene.truthKnown) return tr("IoU %1").arg(m_scene.iou, 0, 'f', 3);
    // A segmentation benchmark's image has masks and no boxes: the box has nothing to meet.
    if (!m_scene.truthOutlines.empty()) return tr("masks only: no box IoU");
    return tr("no ground truth: no IoU");
}

void HeatmapPanel::setMap(const Heatmap* raw, Method method, const QString& title) {
    m_scene.method = method;
    m_title = title;
    m_scene.hasMap = raw != nullptr;
    m_message.clear();
    if (raw) m_raw = *raw;
    rebuildMap();
}

void HeatmapPanel::setThreshold(float tau) {
    if (tau == m_tau) return;
    m_tau = tau;
    rebuildBox();
}

void HeatmapPanel::setBlend(float blend) {
    if (blend == m_blend) return;
    m_blend = blend;
    rebuildOverlay();
}

void HeatmapPanel::setColormap(Colormap c) {
    if (c == m_colormap) return;
    m_colormap = c;
    rebuildOverlay();
}

void HeatmapPanel::setBoxMode(BoxMode m) {
    if (m == m_mode) return;
    m_mode = m;
    rebuildBox();
}

void HeatmapPanel::setZoom(double zoom) {
    m_zoom = zoom;
    update();
}

void HeatmapPanel::setMessage(const QString& text) {
    m_message = text;
    update();
}

void HeatmapPanel::rebuildMap() {
    if (!m_scene.hasMap || m_photo.isNull()) {
        m_display = {};
        resetScene();
        update();
        return;
    }
    m_display = displayMap(m_raw, m_scene.method, m_photo.width(), m_photo.height());
    rebuildOverlay();
    rebuildBox();
}

void HeatmapPanel::rebuildOverlay() {
    if (m_display.empty()) return;
    m_scene.picture = toQImage(overlayHeatmap(m_photoMat, m_display, m_colormap, m_blend));
    update();
}

void HeatmapPanel::rebuildBox() {
    if (m_display.empty()) return;
    m_scene.box = boxFromMap(m_display, m_tau, m_mode,
                             m_scene.truthKnown ? m_scene.truth : std::vector<Box>{});
    m_scene.outline = maskOutline(m_display, m_tau);
    m_scene.iou = m_scene.truthKnown ? bestIou(m_scene.box, m_scene.truth) : 0.0;
    update();
}

void HeatmapPanel::resetScene() {
    // The plain photo until a map arrives; the truth stays.
    m_scene.picture = m_photo;
    m_scene.box.reset();
    m_scene.outline.clear();
    m_scene.iou = 0;
}

void HeatmapPanel::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), palette().color(QPalette::Base).darker(115));
    const int header = fontMetrics().height() + 8;
    QRect head(0, 0, width(), header);
    p.fillRect(head, palette().color(QPalette::Window));
    QString title =
        m_title.isEmpty() ? QString::fromStdString(methodName(m_scene.method)) : m_title;
    if (hasMap()) title += QStringLiteral("   ") + iouText();
    p.setPen(palette().color(QPalette::WindowText));
    p.drawText(head.adjusted(6, 0, -6, 0), Qt::AlignVCenter | Qt::AlignLeft, title);
    if (m_photo.isNull()) {
        p.drawText(rect().adjusted(8, header, -8, 0), Qt::AlignCenter | Qt::TextWordWrap,
                   m_message.isEmpty() ? tr("Choose an image") : m_message);
        return;
    }
    const QRect area = rect().adjusted(4, header + 4, -4, -4);
    double scale = m_zoom > 0 ? m_zoom
                              : std::min(double(area.width()) / m_photo.width(),
                                         double(area.height()) / m_photo.height());
    const QSizeF sz(m_photo.width() * scale, m_photo.height() * scale);
    const QRectF target(area.x() + (area.width() - sz.width()) / 2.0,
                        area.y() + (area.height() - sz.height()) / 2.0, sz.width(), sz.height());
    p.setClipRect(area);
    p.setRenderHint(QPainter::SmoothPixmapTransform, true);
    paintPanelScene(p, m_scene, target, scale);
    if (!m_message.isEmpty() || !m_scene.hasMap) {
        const QString msg = m_message.isEmpty() ? tr("no map yet") : m_message;
        // Short notes in a fixed box; a longer one (why a method has no map) wraps within the
        // picture.
        const QFontMetrics fm = fontMetrics();
        const int wrapWidth =
            std::max(200, static_cast<int>(std::min(area.width() - 16.0, target.width() - 16.0)));
        const QRect need =
            fm.boundingRect(QRect(0, 0, wrapWidth, 10000), Qt::AlignCenter | Qt::TextWordWrap, msg);
        const double w = std::max(220.0, need.width() + 20.0);
        const double h = std::max(32.0, need.height() + 12.0);
        const QPointF c = QRectF(area).intersected(target).center();
        QRectF box(c.x() - w / 2, c.y() - h / 2, w, h);
        p.fillRect(box, QColor(0, 0, 0, 160));
        p.setPen(Qt::white);
        p.drawText(box.adjusted(10, 6, -10, -6), Qt::AlignCenter | Qt::TextWordWrap, msg);
    }
}

ColorScale::ColorScale(QWidget* parent) : QWidget(parent) {
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    setToolTip(
        tr("Colour scale: each map is shown from 0 to 1 of its maximum; the mark is the "
           "threshold τ"));
}

void ColorScale::setColormap(Colormap c) {
    m_colormap = c;
    update();
}

void ColorScale::setThreshold(float tau) {
    m_tau = tau;
    update();
}

QSize ColorScale::sizeHint() const {
    return {360, fontMetrics().height() + 16};
}

QSize ColorScale::minimumSizeHint() const {
    return {160, fontMetrics().height() + 16};
}

QRectF ColorScale::barRect() const {
    const double th = QFontMetricsF(font()).height();
    const QRectF r = QRectF(rect()).adjusted(4, 2, -4, -2);
    return {r.left(), r.top(), r.width(), std::max(4.0, r.height() - th - 3)};
}

void ColorScale::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setPen(palette().color(QPalette::WindowText));
    paintColorScale(p, QRectF(rect()).adjusted(4, 2, -4, -2), m_colormap,
                    tr("map value (share of its maximum); mark: τ"), m_tau);
}

}  // namespace camx::ui
