#include "explorer/heatmap_panel.h"

#include <QPainter>
#include <QPainterPath>

#include "common/image_convert.h"
#include "explain/postprocess.h"

namespace camx::ui {

namespace {
const QColor kPredicted(255, 215, 0);  // gold: the method's box
const QColor kTruth(0, 230, 118);      // green: ground truth
const QColor kOutline(255, 255, 255);
}  // namespace

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
    m_hasMap = false;
    m_display = {};
    m_overlay = {};
    m_box.reset();
    m_outline.clear();
    m_iou = 0;
    update();
}

void HeatmapPanel::setTruth(const std::vector<Box>& truth, bool known) {
    m_truth = truth;
    m_truthKnown = known;
    m_iou = m_truthKnown ? bestIou(m_box, m_truth) : 0.0;
    update();
}

void HeatmapPanel::setMap(const Heatmap* raw, Method method, const QString& title) {
    m_method = method;
    m_title = title;
    m_hasMap = raw != nullptr;
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
    if (!m_hasMap || m_photo.isNull()) {
        m_display = {};
        m_overlay = {};
        m_box.reset();
        m_outline.clear();
        m_iou = 0;
        update();
        return;
    }
    m_display = displayMap(m_raw, m_method, m_photo.width(), m_photo.height());
    rebuildOverlay();
    rebuildBox();
}

void HeatmapPanel::rebuildOverlay() {
    if (m_display.empty()) return;
    m_overlay = toQImage(overlayHeatmap(m_photoMat, m_display, m_colormap, m_blend));
    update();
}

void HeatmapPanel::rebuildBox() {
    if (m_display.empty()) return;
    m_box = boxFromMap(m_display, m_tau, m_mode, m_truthKnown ? m_truth : std::vector<Box>{});
    m_outline = maskOutline(m_display, m_tau);
    m_iou = m_truthKnown ? bestIou(m_box, m_truth) : 0.0;
    update();
}

void HeatmapPanel::paintScene(QPainter& p, const QRectF& target, double scale) const {
    p.drawImage(target, m_overlay.isNull() ? m_photo : m_overlay);
    auto toRect = [&](const Box& b) {
        return QRectF(target.x() + b.xmin * scale, target.y() + b.ymin * scale,
                      (b.xmax - b.xmin + 1) * scale, (b.ymax - b.ymin + 1) * scale);
    };
    p.setRenderHint(QPainter::Antialiasing, true);
    if (!m_outline.empty() && m_overlay.width() > 0) {
        QPainterPath path;
        for (const auto& poly : m_outline) {
            if (poly.empty()) continue;
            path.moveTo(target.x() + (poly[0].first + 0.5) * scale,
                        target.y() + (poly[0].second + 0.5) * scale);
            for (std::size_t i = 1; i < poly.size(); ++i)
                path.lineTo(target.x() + (poly[i].first + 0.5) * scale,
                            target.y() + (poly[i].second + 0.5) * scale);
            path.closeSubpath();
        }
        p.setPen(QPen(kOutline, 1.2, Qt::DashLine));
        p.setBrush(Qt::NoBrush);
        p.drawPath(path);
    }
    QFont f = p.font();
    f.setBold(true);
    p.setFont(f);
    const QFontMetrics fm(f);
    auto label = [&](const QRectF& r, const QString& text, const QColor& c, bool below) {
        const QRectF tr(r.left(), below ? r.bottom() + 1 : r.top() - fm.height() - 2,
                        fm.horizontalAdvance(text) + 8, fm.height() + 2);
        p.fillRect(tr, c);
        p.setPen(Qt::black);
        p.drawText(tr, Qt::AlignCenter, text);
    };
    if (m_truthKnown)
        for (const Box& b : m_truth) {
            p.setPen(QPen(kTruth, 2.5));
            p.drawRect(toRect(b));
            label(toRect(b), tr("truth"), kTruth, true);
        }
    if (m_box && !m_overlay.isNull()) {
        p.setPen(QPen(kPredicted, 2.5));
        p.drawRect(toRect(*m_box));
        label(toRect(*m_box),
              m_truthKnown
                  ? tr("%1  IoU %2").arg(methodName(m_method).c_str()).arg(m_iou, 0, 'f', 3)
                  : QString::fromStdString(methodName(m_method)),
              kPredicted, false);
    }
}

void HeatmapPanel::paintPicture(QPainter& p, const QPointF& at) const {
    if (m_photo.isNull()) return;
    p.save();
    paintScene(p, QRectF(at, QSizeF(m_photo.size())), 1.0);
    p.restore();
}

QImage HeatmapPanel::composedImage() const {
    if (m_photo.isNull()) return {};
    QImage out(m_photo.size(), QImage::Format_RGB888);
    QPainter p(&out);
    paintScene(p, QRectF(0, 0, m_photo.width(), m_photo.height()), 1.0);
    return out;
}

void HeatmapPanel::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), palette().color(QPalette::Base).darker(115));
    const int header = fontMetrics().height() + 8;
    QRect head(0, 0, width(), header);
    p.fillRect(head, palette().color(QPalette::Window));
    QString title = m_title.isEmpty() ? QString::fromStdString(methodName(m_method)) : m_title;
    if (m_hasMap && !m_overlay.isNull())
        title += m_truthKnown ? tr("   IoU %1").arg(m_iou, 0, 'f', 3)
                              : tr("   (no ground truth: no IoU)");
    p.setPen(palette().color(QPalette::WindowText));
    p.drawText(head.adjusted(6, 0, -6, 0), Qt::AlignVCenter | Qt::AlignLeft, title);
    if (m_photo.isNull()) {
        p.drawText(rect().adjusted(0, header, 0, 0), Qt::AlignCenter, tr("Choose an image"));
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
    paintScene(p, target, scale);
    if (!m_message.isEmpty() || !m_hasMap) {
        const QString msg = m_message.isEmpty() ? tr("no map yet") : m_message;
        QRectF box(target.center().x() - 110, target.center().y() - 16, 220, 32);
        p.fillRect(box, QColor(0, 0, 0, 160));
        p.setPen(Qt::white);
        p.drawText(box, Qt::AlignCenter, msg);
    }
}

}  // namespace camx::ui
