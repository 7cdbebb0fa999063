#include "figures/panel_scene.h"

#include <QCoreApplication>
#include <QPainter>
#include <QPainterPath>
#include <algorithm>

#include "common/image_convert.h"
#include "explain/postprocess.h"

namespace camx::ui {

namespace {
const QColor kPredicted(255, 215, 0);  // gold: the method's box
const QColor kTruth(0, 230, 118);      // green: ground truth
const QColor kOutline(255, 255, 255);

QString tr(const char* s) {
    return QCoreApplication::translate("PanelScene", s);
}
}  // namespace

PanelScene makePanelScene(const cv::Mat& rgb, const Heatmap* raw, Method method,
                          const SceneStyle& style, const std::vector<Box>& truth, bool truthKnown) {
    PanelScene s;
    s.method = method;
    s.truth = truth;
    s.truthKnown = truthKnown;
    if (!raw) {
        s.picture = toQImage(rgb);
        return s;
    }
    const Heatmap display = displayMap(*raw, method, rgb.cols, rgb.rows);
    s.hasMap = true;
    s.picture = toQImage(overlayHeatmap(rgb, display, style.colormap, style.blend));
    s.box = boxFromMap(display, style.tau, style.mode, truthKnown ? truth : std::vector<Box>{});
    s.outline = maskOutline(display, style.tau);
    s.iou = truthKnown ? bestIou(s.box, truth) : 0.0;
    return s;
}

void paintPanelScene(QPainter& p, const PanelScene& s, const QRectF& target, double scale) {
    p.drawImage(target, s.picture);
    auto toRect = [&](const Box& b) {
        return QRectF(target.x() + b.xmin * scale, target.y() + b.ymin * scale,
                      (b.xmax - b.xmin + 1) * scale, (b.ymax - b.ymin + 1) * scale);
    };
    p.save();
    p.setRenderHint(QPainter::Antialiasing, true);
    if (s.hasMap && !s.outline.empty()) {
        QPainterPath path;
        for (const auto& poly : s.outline) {
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
    const QFontMetricsF fm(f, p.device());
    auto label = [&](const QRectF& r, const QString& text, const QColor& c, bool below) {
        // Outside the box when the picture has room, inside it otherwise: labels never spill
        // over the picture's edge (onto captions or a neighbouring panel).
        const double h = fm.height() + 2;
        double y = below ? r.bottom() + 1 : r.top() - h;
        if (y < target.top() || y + h > target.bottom()) y = below ? r.bottom() - h : r.top() + 1;
        const double w = std::min(fm.horizontalAdvance(text) + 8, target.width());
        const double x = std::clamp(r.left(), target.left(), target.right() - w);
        const QRectF box(x, std::max(target.top(), y), w, h);
        p.fillRect(box, c);
        p.setPen(Qt::black);
        p.drawText(box, Qt::AlignCenter, text);
    };
    if (s.truthKnown)
        for (const Box& b : s.truth) {
            p.setPen(QPen(kTruth, 2.5));
            p.drawRect(toRect(b));
            label(toRect(b), tr("truth"), kTruth, true);
        }
    if (s.hasMap && s.box) {
        const QString name = QString::fromStdString(methodName(s.method));
        p.setPen(QPen(kPredicted, 2.5));
        p.drawRect(toRect(*s.box));
        label(toRect(*s.box),
              s.truthKnown ? tr("%1  IoU %2").arg(name).arg(s.iou, 0, 'f', 3) : name, kPredicted,
              false);
    }
    p.restore();
}

}  // namespace camx::ui
