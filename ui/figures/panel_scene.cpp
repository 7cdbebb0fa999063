#include "figures/panel_scene.h"

#include <QCoreApplication>
#include <QFontMetricsF>
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

namespace {
constexpr double kPen = 2.5;  // box lines

QRectF boxRect(const Box& b, const QRectF& target, double scale) {
    return QRectF(target.x() + b.xmin * scale, target.y() + b.ymin * scale,
                  (b.xmax - b.xmin + 1) * scale, (b.ymax - b.ymin + 1) * scale);
}
}  // namespace

bool crossesBoxLine(const QRectF& r, const QRectF& box, double penWidth) {
    const double d = penWidth / 2;
    const QRectF outer = box.adjusted(-d, -d, d, d), inner = box.adjusted(d, d, -d, -d);
    return r.intersects(outer) && !(inner.isValid() && inner.contains(r));
}

std::vector<SceneLabel> sceneLabels(const PanelScene& s, const QRectF& target, double scale,
                                    const QFontMetricsF& fm) {
    struct Item {
        QRectF rect;
        QString text;
        QColor colour;
        bool above;  // preferred side
        int index;
    };
    std::vector<Item> items;
    const int methodIndex = static_cast<int>(s.truth.size());
    // The method's label is placed first: it carries the IoU.
    if (s.hasMap && s.box) {
        const QString name = QString::fromStdString(methodName(s.method));
        items.push_back({boxRect(*s.box, target, scale),
                         s.truthKnown ? tr("%1  IoU %2").arg(name).arg(s.iou, 0, 'f', 3) : name,
                         kPredicted, true, methodIndex});
    }
    if (s.truthKnown && s.showTruth)
        for (std::size_t i = 0; i < s.truth.size(); ++i)
            items.push_back({boxRect(s.truth[i], target, scale), tr("truth"), kTruth, false,
                             static_cast<int>(i)});
    std::vector<SceneLabel> out;
    const double h = std::min(fm.height() + 2, target.height());
    const double d = kPen / 2;
    for (const Item& it : items) {
        const double w = std::min(fm.horizontalAdvance(it.text) + 8, target.width());
        auto clampX = [&](double x) {
            return std::clamp(x, target.left(), std::max(target.left(), target.right() - w));
        };
        const double xs[2] = {clampX(it.rect.left() - d), clampX(it.rect.right() + d - w)};
        const double outAbove = it.rect.top() - d - h, inTop = it.rect.top() + d;
        const double outBelow = it.rect.bottom() + d, inBottom = it.rect.bottom() - d - h;
        const double ys[4] = {it.above ? outAbove : outBelow, it.above ? inTop : inBottom,
                              it.above ? outBelow : outAbove, it.above ? inBottom : inTop};
        QRectF best;
        double bestCost = -1;
        int order = 0;
        for (double y : ys)
            for (double x : xs) {
                const QRectF c(x, y, w, h);
                ++order;
                if (c.top() < target.top() - 1e-6 || c.bottom() > target.bottom() + 1e-6) continue;
                double cost = order;  // earlier candidates win ties
                for (const SceneLabel& placed : out)
                    if (placed.rect.intersects(c)) cost += 1000;
                for (const Item& other : items)
                    if (other.index != it.index && crossesBoxLine(c, other.rect, kPen)) cost += 100;
                if (bestCost < 0 || cost < bestCost) {
                    bestCost = cost;
                    best = c;
                }
            }
        if (bestCost < 0) best = QRectF(xs[0], target.top(), w, h);  // a picture thinner than text
        out.push_back({best, it.text, it.colour, it.index});
    }
    return out;
}

void paintPanelScene(QPainter& p, const PanelScene& s, const QRectF& target, double scale) {
    p.drawImage(target, s.picture);
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
    p.setBrush(Qt::NoBrush);
    if (s.showTruth) {
        // Masks as outlines, like the boxes: the region ignored by the benchmark dashed and grey,
        // every instance in the truth's colour.
        auto outline = [&](const std::vector<QPolygonF>& polygons) {
            QPainterPath path;
            for (const QPolygonF& poly : polygons) {
                if (poly.size() < 2) continue;
                QPolygonF placed;
                placed.reserve(poly.size());
                for (const QPointF& pt : poly)
                    placed << QPointF(target.x() + (pt.x() + 0.5) * scale,
                                      target.y() + (pt.y() + 0.5) * scale);
                path.addPolygon(placed);
                path.closeSubpath();
            }
            p.drawPath(path);
        };
        p.setPen(QPen(QColor(200, 200, 200), 1.5, Qt::DashLine));
        outline(s.ignoreOutlines);
        p.setPen(QPen(kTruth, 2.0));
        outline(s.truthOutlines);
    }
    if (s.truthKnown && s.showTruth)
        for (const Box& b : s.truth) {
            p.setPen(QPen(kTruth, kPen));
            p.drawRect(boxRect(b, target, scale));
        }
    if (s.hasMap && s.box) {
        p.setPen(QPen(kPredicted, kPen));
        p.drawRect(boxRect(*s.box, target, scale));
    }
    // Labels last, on their own background: no line runs through one.
    QFont f = p.font();
    f.setBold(true);
    p.setFont(f);
    for (const SceneLabel& l : sceneLabels(s, target, scale, QFontMetricsF(f, p.device()))) {
        p.fillRect(l.rect, l.colour);
        p.setPen(Qt::black);
        p.drawText(l.rect, Qt::AlignCenter, l.text);
    }
    p.restore();
}

QImage colorScaleImage(Colormap colormap, int width) {
    width = std::max(2, width);
    Heatmap ramp;
    ramp.width = width;
    ramp.height = 1;
    ramp.data.resize(static_cast<std::size_t>(width));
    for (int i = 0; i < width; ++i)
        ramp.data[static_cast<std::size_t>(i)] =
            static_cast<float>(i) / static_cast<float>(width - 1);
    return toQImage(colorize(ramp, colormap));
}

void paintColorScale(QPainter& p, const QRectF& rect, Colormap colormap, const QString& caption,
                     float tau) {
    if (rect.isEmpty()) return;
    const QFontMetricsF fm(p.font(), p.device());
    const double th = fm.height();
    const QRectF bar(rect.left(), rect.top(), rect.width(), std::max(4.0, rect.height() - th - 3));
    const QColor ink = p.pen().color();
    p.save();
    p.setRenderHint(QPainter::SmoothPixmapTransform, false);
    p.drawImage(bar, colorScaleImage(colormap, 256));
    p.setRenderHint(QPainter::Antialiasing, true);
    p.setBrush(Qt::NoBrush);
    if (tau >= 0) {
        const double x = bar.left() + std::clamp(tau, 0.f, 1.f) * bar.width();
        p.setPen(QPen(Qt::white, 3));
        p.drawLine(QPointF(x, bar.top()), QPointF(x, bar.bottom()));
        p.setPen(QPen(Qt::black, 1.2));
        p.drawLine(QPointF(x, bar.top()), QPointF(x, bar.bottom()));
    }
    p.setPen(QPen(ink, 1));
    p.drawRect(bar);
    p.drawLine(QPointF(bar.left(), bar.bottom()), QPointF(bar.left(), bar.bottom() + 3));
    p.drawLine(QPointF(bar.right(), bar.bottom()), QPointF(bar.right(), bar.bottom() + 3));
    const QRectF row(rect.left(), bar.bottom() + 3, rect.width(), th);
    p.drawText(row, Qt::AlignLeft | Qt::AlignVCenter, QStringLiteral("0"));
    p.drawText(row, Qt::AlignRight | Qt::AlignVCenter, QStringLiteral("1"));
    const double side = fm.horizontalAdvance(QStringLiteral("0")) + 8;
    const QRectF middle = row.adjusted(side, 0, -side, 0);
    if (!caption.isEmpty() && middle.width() > 0)
        p.drawText(middle, Qt::AlignCenter, fm.elidedText(caption, Qt::ElideRight, middle.width()));
    p.restore();
}

}  // namespace camx::ui
