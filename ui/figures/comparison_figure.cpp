#include "figures/comparison_figure.h"

#include <QCoreApplication>
#include <QFontMetricsF>
#include <QPainter>
#include <algorithm>

#include "explain/model_session.h"

namespace camx::ui {

namespace {
constexpr double kHeader = 30;      // header band
constexpr double kCaption = 26;     // caption band under the pictures
constexpr double kGap = 8;          // between pictures
constexpr double kRowHeight = 300;  // grid rows are scaled to this picture height
constexpr double kTitle = 36;
constexpr double kScale = 40;  // colour scale band under the captions
constexpr double kScaleWidth = 260;
constexpr double kCurves = 130;  // the band of deletion and insertion curves under the captions
const QColor kDeletionColor(200, 40, 40), kInsertionColor(30, 90, 200);

QString tr(const char* s) {
    return QCoreApplication::translate("ComparisonFigure", s);
}

QSizeF pictureSize(const ComparisonFigure& f) {
    return f.panels.empty() ? QSizeF() : QSizeF(f.panels.front().scene.picture.size());
}

QFont textFont(const QPainter& p, double pixels, bool bold = false) {
    QFont f = p.font();
    f.setPixelSize(std::max(1, static_cast<int>(pixels)));
    f.setBold(bold);
    return f;
}

// A panel's deletion and insertion curves in `r`: the score against the share of pixels, the
// area under each shaded, their AUCs above. Probabilities on a fixed 0-1 axis; logits on the
// range of the values.
void paintCurves(QPainter& p, const PanelCurves& c, const QRectF& r) {
    p.save();
    p.setRenderHint(QPainter::Antialiasing, true);
    p.setFont(textFont(p, 12));
    const QFontMetricsF fm(p.font(), p.device());
    const QRectF legend(r.left(), r.top(), r.width(), fm.height() + 4);
    const QRectF plot(r.left() + 30, legend.bottom() + 2, r.width() - 36,
                      r.bottom() - legend.bottom() - fm.height() - 6);
    if (plot.width() <= 4 || plot.height() <= 4) {
        p.restore();
        return;
    }
    double lo = 0, hi = 1;
    if (!c.probability) {
        lo = hi = c.deletion.empty() ? c.insertion.front() : c.deletion.front();
        for (const auto* curve : {&c.deletion, &c.insertion})
            for (float v : *curve) lo = std::min<double>(lo, v), hi = std::max<double>(hi, v);
        if (hi - lo < 1e-9) hi = lo + 1;
    }
    auto point = [&](std::size_t i, std::size_t n, double v) {
        const double x = n > 1 ? static_cast<double>(i) / static_cast<double>(n - 1) : 0;
        const double y = std::clamp((v - lo) / (hi - lo), 0.0, 1.0);
        return QPointF(plot.left() + x * plot.width(), plot.bottom() - y * plot.height());
    };
    p.setPen(QPen(QColor(150, 150, 150), 1));
    p.setBrush(Qt::NoBrush);
    p.drawRect(plot);
    p.setPen(QColor(90, 90, 90));
    p.setFont(textFont(p, 10));
    const QFontMetricsF small(p.font(), p.device());
    auto number = [](double v) { return QString::number(v, 'g', 3); };
    p.drawText(QRectF(r.left(), plot.top() - 2, 28, small.height()), Qt::AlignRight, number(hi));
    p.drawText(QRectF(r.left(), plot.bottom() - small.height() + 2, 28, small.height()),
               Qt::AlignRight, number(lo));
    p.drawText(QRectF(plot.left(), plot.bottom() + 1, plot.width(), small.height()), Qt::AlignLeft,
               QStringLiteral("0"));
    p.drawText(QRectF(plot.left(), plot.bottom() + 1, plot.width(), small.height()),
               Qt::AlignHCenter, tr("share of pixels"));
    p.drawText(QRectF(plot.left(), plot.bottom() + 1, plot.width(), small.height()), Qt::AlignRight,
               QStringLiteral("1"));
    auto draw = [&](const std::vector<float>& curve, const QColor& color) {
        if (curve.empty()) return;
        QPolygonF line;
        for (std::size_t i = 0; i < curve.size(); ++i) line << point(i, curve.size(), curve[i]);
        QPolygonF area = line;
        area << QPointF(line.back().x(), plot.bottom()) << QPointF(line.front().x(), plot.bottom());
        QColor fill = color;
        fill.setAlpha(45);
        p.setPen(Qt::NoPen);
        p.setBrush(fill);
        p.drawPolygon(area);
        p.setPen(QPen(color, 1.6));
        p.setBrush(Qt::NoBrush);
        p.drawPolyline(line);
    };
    draw(c.deletion, kDeletionColor);
    draw(c.insertion, kInsertionColor);
    p.setFont(textFont(p, 12));
    double x = legend.left() + 4;
    auto entry = [&](const QColor& color, const QString& text) {
        p.setPen(color);
        p.drawText(QRectF(x, legend.top(), legend.right() - x, legend.height()),
                   Qt::AlignLeft | Qt::AlignVCenter, text);
        x += fm.horizontalAdvance(text) + 14;
    };
    if (!c.deletion.empty())
        entry(kDeletionColor, tr("deletion AUC %1").arg(c.deletionAuc, 0, 'f', 3));
    if (!c.insertion.empty())
        entry(kInsertionColor, tr("insertion AUC %1").arg(c.insertionAuc, 0, 'f', 3));
    p.restore();
}

// What the curves show, in the band under the photo (which has none of its own).
void paintCurveKey(QPainter& p, const PanelCurves& any, const QRectF& r) {
    p.save();
    p.setPen(QColor(60, 60, 60));
    p.setFont(textFont(p, 12));
    p.drawText(r.adjusted(8, 6, -8, -6), Qt::AlignLeft | Qt::AlignTop | Qt::TextWordWrap,
               tr("Below each map: the explained class's %1 as the pixels the map ranks highest "
                  "are deleted (red; lower area is better) or inserted into a blurred copy "
                  "(blue; higher is better), %2 steps.")
                   .arg(any.probability ? tr("probability") : tr("logit"))
                   .arg(std::max<std::size_t>(any.deletion.size(), any.insertion.size()) - 1));
    p.restore();
}

// One image's header, pictures (scaled by k) and captions, top-left at `at`, in the painter's
// natural coordinates. Text keeps its size whatever k is.
void paintCell(QPainter& p, const ComparisonFigure& f, const QPointF& at, double k, double width) {
    const QSizeF pic = pictureSize(f) * k;
    // The header on the left, the file name on the right: each elided, never over the other.
    // In a grid, `width` is the column's: the name ends over this image's own last picture.
    const double n = static_cast<double>(f.panels.size());
    const double own = n * pic.width() + (n - 1) * kGap;
    const QRectF band(at.x() + 4, at.y(), std::min(width, own) - 8, kHeader);
    double nameWidth = 0;
    if (!f.name.isEmpty()) {
        p.setFont(textFont(p, 14));
        const QFontMetricsF fm(p.font(), p.device());
        nameWidth = std::min(fm.horizontalAdvance(f.name) + 2, band.width() / 2);
        p.setPen(QColor(70, 70, 70));
        p.drawText(QRectF(band.right() - nameWidth, band.top(), nameWidth, band.height()),
                   Qt::AlignRight | Qt::AlignVCenter,
                   fm.elidedText(f.name, Qt::ElideMiddle, nameWidth));
    }
    p.setPen(Qt::black);
    p.setFont(textFont(p, 16, true));
    const double headerWidth = band.width() - (nameWidth > 0 ? nameWidth + 12 : 0);
    p.drawText(QRectF(band.left(), band.top(), headerWidth, band.height()),
               Qt::AlignLeft | Qt::AlignVCenter,
               QFontMetricsF(p.font(), p.device())
                   .elidedText(f.header, Qt::ElideRight, std::max(0.0, headerWidth)));
    for (std::size_t i = 0; i < f.panels.size(); ++i) {
        const double x = at.x() + static_cast<double>(i) * (pic.width() + kGap);
        p.setFont(textFont(p, 13));
        paintPanelScene(p, f.panels[i].scene, QRectF(QPointF(x, at.y() + kHeader), pic), k);
        p.setPen(Qt::black);
        p.setFont(textFont(p, 14));
        p.drawText(QRectF(x, at.y() + kHeader + pic.height(), pic.width(), kCaption),
                   Qt::AlignCenter, f.panels[i].caption);
    }
    if (!hasCurves(f)) return;
    const PanelCurves* any = nullptr;
    for (const auto& panel : f.panels)
        if (!panel.curves.empty() && !any) any = &panel.curves;
    for (std::size_t i = 0; i < f.panels.size(); ++i) {
        const double x = at.x() + static_cast<double>(i) * (pic.width() + kGap);
        const QRectF band(x, at.y() + kHeader + pic.height() + kCaption, pic.width(), kCurves);
        if (!f.panels[i].curves.empty())
            paintCurves(p, f.panels[i].curves, band.adjusted(2, 2, -2, -4));
        else if (!f.panels[i].scene.hasMap)
            paintCurveKey(p, *any, band);
    }
}

// Saves the painter and maps natural coordinates (0,0)-size onto the middle of `target`,
// uniformly scaled, on a white background. The caller restores the painter.
void beginFitted(QPainter& p, const QSizeF& size, const QRectF& target) {
    const double scale = std::min(target.width() / size.width(), target.height() / size.height());
    p.save();
    p.translate(target.x() + (target.width() - size.width() * scale) / 2,
                target.y() + (target.height() - size.height() * scale) / 2);
    p.scale(scale, scale);
    p.setRenderHint(QPainter::SmoothPixmapTransform, true);
    p.fillRect(QRectF(QPointF(0, 0), size), Qt::white);
}

// The colour scale centred in a band of height kScale at the top of `band`.
void paintScaleBand(QPainter& p, const QRectF& band, Colormap colormap) {
    const double w = std::min(kScaleWidth, band.width() - 8);
    if (w <= 0) return;
    p.setPen(Qt::black);
    p.setFont(textFont(p, 12));
    paintColorScale(p, QRectF(band.center().x() - w / 2, band.top() + 8, w, kScale - 12), colormap,
                    tr("map value (share of its maximum)"));
}

QString breed(const ModelInfo& info, int c) {
    return c >= 0 && c < info.numClasses()
               ? QString::fromStdString(info.classNames[static_cast<std::size_t>(c)])
               : tr("class %1").arg(c);
}
}  // namespace

bool hasColorScale(const ComparisonFigure& f) {
    return std::any_of(f.panels.begin(), f.panels.end(),
                       [](const FigurePanel& panel) { return panel.scene.hasMap; });
}

bool hasCurves(const ComparisonFigure& f) {
    return std::any_of(f.panels.begin(), f.panels.end(),
                       [](const FigurePanel& panel) { return !panel.curves.empty(); });
}

QSizeF naturalSize(const ComparisonFigure& f) {
    const QSizeF pic = pictureSize(f);
    if (pic.isEmpty()) return {};
    const double n = static_cast<double>(f.panels.size());
    return {n * pic.width() + (n - 1) * kGap, kHeader + pic.height() + kCaption +
                                                  (hasCurves(f) ? kCurves : 0) +
                                                  (hasColorScale(f) ? kScale : 0)};
}

void paintFigure(QPainter& p, const ComparisonFigure& f, const QRectF& target) {
    const QSizeF size = naturalSize(f);
    if (size.isEmpty() || target.isEmpty()) return;
    beginFitted(p, size, target);
    paintCell(p, f, QPointF(0, 0), 1.0, size.width());
    if (hasColorScale(f))
        paintScaleBand(p, QRectF(0, size.height() - kScale, size.width(), kScale), f.colormap);
    p.restore();
}

namespace {
// A grid cell's size once its pictures are scaled to kRowHeight (text keeps its size).
QSizeF cellSize(const ComparisonFigure& f) {
    const QSizeF pic = pictureSize(f);
    if (pic.isEmpty()) return {};
    const double n = static_cast<double>(f.panels.size());
    const double w = pic.width() * kRowHeight / pic.height();
    return {n * w + (n - 1) * kGap, kHeader + kRowHeight + kCaption + (hasCurves(f) ? kCurves : 0)};
}

struct GridLayout {
    int columns = 1;
    double columnWidth = 0;
    double cellHeight = kHeader + kRowHeight + kCaption;
    double top = 0;
    bool scale = false;  // a colour scale under the grid
    QSizeF size;
};

GridLayout layoutOf(const GridFigure& g) {
    GridLayout l;
    l.columns = std::max(1, std::min<int>(g.columns, static_cast<int>(g.rows.size())));
    for (const auto& r : g.rows) l.columnWidth = std::max(l.columnWidth, cellSize(r).width());
    if (l.columnWidth <= 0) return l;
    l.top = g.title.isEmpty() ? 0 : kTitle;
    if (std::any_of(g.rows.begin(), g.rows.end(),
                    [](const ComparisonFigure& r) { return hasCurves(r); }))
        l.cellHeight += kCurves;
    const int rows = (static_cast<int>(g.rows.size()) + l.columns - 1) / l.columns;
    l.scale = std::any_of(g.rows.begin(), g.rows.end(),
                          [](const ComparisonFigure& r) { return hasColorScale(r); });
    l.size = QSizeF(l.columns * l.columnWidth + (l.columns - 1) * 3 * kGap,
                    l.top + rows * (l.cellHeight + 2 * kGap) - 2 * kGap + (l.scale ? kScale : 0));
    return l;
}
}  // namespace

QSizeF naturalSize(const GridFigure& g) {
    return layoutOf(g).size;
}

void paintFigure(QPainter& p, const GridFigure& g, const QRectF& target) {
    const GridLayout l = layoutOf(g);
    const QSizeF size = l.size;
    if (size.isEmpty() || target.isEmpty()) return;
    beginFitted(p, size, target);
    if (!g.title.isEmpty()) {
        p.setPen(Qt::black);
        p.setFont(textFont(p, 20, true));
        p.drawText(QRectF(4, 0, size.width() - 8, kTitle), Qt::AlignLeft | Qt::AlignVCenter,
                   g.title);
    }
    for (std::size_t c = 0; c < g.rows.size(); ++c) {
        const ComparisonFigure& r = g.rows[c];
        const QSizeF pic0 = pictureSize(r);
        if (pic0.isEmpty()) continue;
        const int col = static_cast<int>(c) % l.columns, row = static_cast<int>(c) / l.columns;
        const double x0 = col * (l.columnWidth + 3 * kGap);
        const double y0 = l.top + row * (l.cellHeight + 2 * kGap);
        paintCell(p, r, QPointF(x0, y0), kRowHeight / pic0.height(), l.columnWidth);
    }
    if (l.scale)
        paintScaleBand(p, QRectF(0, size.height() - kScale, size.width(), kScale),
                       g.rows.front().colormap);
    p.restore();
}

QString figureHeader(const ModelInfo& info, const ImageExplanation& e, const TruthClass& truth) {
    if (e.top.empty()) return {};
    QString h = tr("Predicted: %1 (%2 %)")
                    .arg(breed(info, e.top[0].classIndex))
                    .arg(100.0 * e.top[0].probability, 0, 'f', 1);
    if (truth.known()) {
        h += tr("   Truth: %1").arg(truth.name);
        const int label = truth.modelClass;
        if (label >= 0 && e.top[0].classIndex != label)
            for (const auto& c : e.top)
                if (c.classIndex == label) h += tr(" (%1 %)").arg(100.0 * c.probability, 0, 'f', 1);
    }
    if (e.target != e.top[0].classIndex) h += tr("   Explained: %1").arg(breed(info, e.target));
    return h;
}

QString panelCaption(Method m, const QString& layer, float tau, const PanelScene& scene) {
    QString c =
        tr("%1 · %2 · τ %3").arg(QString::fromStdString(methodName(m)), layer).arg(tau, 0, 'f', 2);
    if (!scene.hasMap)
        c += tr(" · no map");
    else if (scene.truthKnown)
        c += tr(" · IoU %1").arg(scene.iou, 0, 'f', 3);
    return c;
}

QString photoCaption(bool truthKnown) {
    return truthKnown ? tr("Photo · ground truth in green") : tr("Photo");
}

ComparisonFigure makeComparison(const ModelInfo& info, const cv::Mat& rgb,
                                const ImageExplanation& e, const std::vector<Box>& truth,
                                const TruthClass& truthClass, const FigureRequest& req,
                                const std::vector<QPolygonF>& masks,
                                const std::vector<QPolygonF>& ignoreMasks) {
    ComparisonFigure f;
    // An image without boxes (an image folder) has a class but nothing to score a box against.
    const bool known = truthClass.known() && !truth.empty();
    f.header = figureHeader(info, e, truthClass);
    f.colormap = req.style.colormap;
    const int lastTap = req.tap >= 0 ? req.tap : info.lastBlockTap;
    auto tapName = [&](int tap) {
        return tap >= 0 && tap < static_cast<int>(info.taps.size())
                   ? QString::fromStdString(info.taps[static_cast<std::size_t>(tap)].name)
                   : QString();
    };
    if (req.includePhoto) {
        FigurePanel photo;
        photo.scene = makePanelScene(rgb, nullptr, Method::Cam, req.style, truth, known);
        photo.scene.truthOutlines = masks;
        photo.scene.ignoreOutlines = ignoreMasks;
        photo.caption = photoCaption(known || !masks.empty());
        f.panels.push_back(std::move(photo));
    }
    for (Method m : req.methods) {
        const int tap = methodTap(m, lastTap, info.lastBlockTap);
        FigurePanel panel;
        const Heatmap* raw = e.find(m, tap);
        panel.scene = makePanelScene(rgb, raw, m, req.style, truth, known);
        panel.scene.truthOutlines = masks;
        panel.scene.ignoreOutlines = ignoreMasks;
        panel.caption = panelCaption(m, tapName(tap), req.style.tau, panel.scene);
        f.panels.push_back(std::move(panel));
    }
    return f;
}

}  // namespace camx::ui
