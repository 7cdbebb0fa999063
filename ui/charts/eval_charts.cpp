#include "charts/eval_charts.h"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QLegendMarker>
#include <QLineSeries>
#include <QPainter>
#include <QScatterSeries>
#include <QValueAxis>
#include <algorithm>
#include <map>

#include "figures/figure_writer.h"

namespace camx::ui {

namespace {
const QColor kMethodColours[] = {QColor(31, 119, 180), QColor(255, 127, 14),  QColor(44, 160, 44),
                                 QColor(214, 39, 40),  QColor(148, 103, 189), QColor(140, 86, 75)};

QColor colourFor(Method m) {
    return kMethodColours[static_cast<int>(m) % 6];
}

QChart* newChart(const QString& title) {
    auto* c = new QChart;
    c->setTitle(title);
    c->setAnimationOptions(QChart::NoAnimation);
    c->legend()->setAlignment(Qt::AlignBottom);
    c->setMargins(QMargins(4, 4, 4, 4));
    return c;
}

QValueAxis* valueAxis(const QString& title, double lo, double hi, const QString& format = "%.1f") {
    auto* a = new QValueAxis;
    a->setTitleText(title);
    a->setRange(lo, hi);
    a->setLabelFormat(format);
    a->setTickCount(6);  // 0, 0.2, ..., 1: every label is exact
    return a;
}

QString label(const MethodSummary& m) {
    return QString::fromStdString(methodName(m.method));
}
}  // namespace

int iouBin(double iou) {
    return std::clamp(static_cast<int>(iou * kIouBins), 0, kIouBins - 1);
}

std::vector<int> iouHistogram(const std::vector<ImageRecord>& records, Method method, int tap) {
    std::vector<int> bins(kIouBins, 0);
    for (const auto& r : records)
        if (const MapScore* s = r.find(method, tap); s && r.hasBoxes)
            ++bins[static_cast<std::size_t>(iouBin(s->iou))];
    return bins;
}

bool withoutBoxes(const MethodSummary& m) {
    return m.images > 0 && m.boxedImages == 0;
}

QString noBoxesText() {
    return QObject::tr("no ground-truth boxes");
}

namespace {
// Whether every method shown lacks boxes: the chart says so in its title and draws nothing.
bool noneWithBoxes(const std::vector<const MethodSummary*>& methods) {
    return !methods.empty() && std::all_of(methods.begin(), methods.end(),
                                           [](const MethodSummary* m) { return withoutBoxes(*m); });
}

void sayNoBoxes(QChart* c) {
    c->setTitle(QObject::tr("%1: %2").arg(c->title(), noBoxesText()));
}
}  // namespace

std::vector<const MethodSummary*> summariesAt(const EvalSummary& s, int tap, int lastTap) {
    std::vector<const MethodSummary*> out;
    std::vector<Method> seen;
    for (const auto& m : s.methods) {
        const int want = methodTap(m.method, tap, lastTap);
        if (m.tap == want && std::find(seen.begin(), seen.end(), m.method) == seen.end()) {
            out.push_back(&m);
            seen.push_back(m.method);
        }
    }
    return out;
}

QChart* makeIouHistogramChart(const std::vector<ImageRecord>& records,
                              const std::vector<const MethodSummary*>& methods) {
    QChart* c = newChart(QObject::tr("IoU with the ground truth"));
    if (noneWithBoxes(methods)) sayNoBoxes(c);
    auto* series = new QBarSeries;
    int top = 1;
    for (const MethodSummary* m : methods) {
        if (withoutBoxes(*m)) continue;
        auto* set = new QBarSet(label(*m));
        set->setColor(colourFor(m->method));
        for (int v : iouHistogram(records, m->method, m->tap)) {
            *set << v;
            top = std::max(top, v);
        }
        series->append(set);
    }
    c->addSeries(series);
    QStringList cats;
    for (int b = 0; b < kIouBins; ++b) cats << QString::number(b / double(kIouBins), 'f', 1);
    auto* x = new QBarCategoryAxis;
    x->append(cats);
    {
        // Ten labels side by side: a little smaller, so a narrow chart still shows them whole.
        const QFont title = x->titleFont();
        QFont f = x->labelsFont();
        if (f.pointSizeF() > 0) f.setPointSizeF(f.pointSizeF() * 0.85);
        x->setLabelsFont(f);
        x->setTitleFont(title);
    }
    // No interaction hint here: the chart is also saved; the dashboard says what a click does.
    x->setTitleText(QObject::tr("IoU (bins of 0.1)"));
    c->addAxis(x, Qt::AlignBottom);
    series->attachAxis(x);
    auto* y = valueAxis(QObject::tr("images"), 0, top * 1.1, "%d");
    y->applyNiceNumbers();
    c->addAxis(y, Qt::AlignLeft);
    series->attachAxis(y);
    return c;
}

QChart* makeLayerChart(const EvalSummary& s, const std::vector<std::string>& tapNames) {
    QChart* c = newChart(QObject::tr("Mean IoU per layer"));
    std::vector<const MethodSummary*> all;
    for (const auto& m : s.methods) all.push_back(&m);
    if (noneWithBoxes(all)) {
        sayNoBoxes(c);
        return c;
    }
    std::vector<int> taps;
    std::vector<Method> methods;
    for (const auto& m : s.methods) {
        if (methodIsBaseline(m.method)) continue;  // no layer: not on a chart by layer
        if (std::find(taps.begin(), taps.end(), m.tap) == taps.end()) taps.push_back(m.tap);
        if (std::find(methods.begin(), methods.end(), m.method) == methods.end())
            methods.push_back(m.method);
    }
    std::sort(taps.begin(), taps.end());
    auto* series = new QBarSeries;
    for (Method method : methods) {
        auto* set = new QBarSet(QString::fromStdString(methodName(method)));
        set->setColor(colourFor(method));
        for (int t : taps) {
            double v = 0;
            for (const auto& m : s.methods)
                if (m.method == method && m.tap == t) v = m.meanIou;
            *set << v;  // 0 where the method has no map (CAM below the last block)
        }
        series->append(set);
    }
    c->addSeries(series);
    QStringList cats;
    for (int t : taps) {
        // "layer3.1" -> "3.1": short enough for a dozen bars.
        QString name = t >= 0 && t < static_cast<int>(tapNames.size())
                           ? QString::fromStdString(tapNames[static_cast<std::size_t>(t)])
                           : QString::number(t);
        if (name.startsWith(QLatin1String("layer"))) name = name.mid(5);
        cats << name;
    }
    auto* x = new QBarCategoryAxis;
    x->append(cats);
    x->setTitleText(QObject::tr("block (layerN.M)"));
    c->addAxis(x, Qt::AlignBottom);
    series->attachAxis(x);
    auto* y = valueAxis(QObject::tr("mean IoU"), 0, 1, "%.1f");
    c->addAxis(y, Qt::AlignLeft);
    series->attachAxis(y);
    return c;
}

namespace {
// The WSOL protocol sweeps its own thresholds (0 to 1 in steps of 0.01 or 0.001) and scores the
// best contour's box: its curve at IoU 50, in percent, with its best point.
QChart* makeWsolSweepChart(const EvalSummary& s, const std::vector<const MethodSummary*>& methods) {
    QChart* c = newChart(QObject::tr("WSOL box accuracy at IoU 0.5 by threshold; ● best"));
    auto* x = valueAxis(QObject::tr("score-map threshold"), 0, 1);
    auto* y = valueAxis(QObject::tr("box accuracy (%)"), 0, 100, "%d");
    c->addAxis(x, Qt::AlignBottom);
    c->addAxis(y, Qt::AlignLeft);
    for (const MethodSummary* m : methods) {
        if (!m->wsol || withoutBoxes(*m)) continue;
        const auto& curve = m->wsol->boxAccCurve50;
        if (curve.size() != s.wsolThresholds.size() || curve.empty()) continue;
        const auto best = std::max_element(curve.begin(), curve.end()) - curve.begin();
        auto* line = new QLineSeries;
        line->setName(QObject::tr("%1 %2 @ %3")
                          .arg(label(*m))
                          .arg(curve[static_cast<std::size_t>(best)], 0, 'f', 1)
                          .arg(s.wsolThresholds[static_cast<std::size_t>(best)], 0, 'g', 3));
        line->setColor(colourFor(m->method));
        for (std::size_t i = 0; i < curve.size(); ++i) line->append(s.wsolThresholds[i], curve[i]);
        c->addSeries(line);
        line->attachAxis(x);
        line->attachAxis(y);
        auto* dot = new QScatterSeries;
        dot->setColor(colourFor(m->method));
        dot->setMarkerSize(12);
        dot->append(s.wsolThresholds[static_cast<std::size_t>(best)],
                    curve[static_cast<std::size_t>(best)]);
        c->addSeries(dot);
        dot->attachAxis(x);
        dot->attachAxis(y);
        for (auto* marker : c->legend()->markers(dot)) marker->setVisible(false);
    }
    return c;
}
}  // namespace

QChart* makeSweepChart(const EvalSummary& s, const std::vector<const MethodSummary*>& methods) {
    const bool wsolCurves =
        s.protocol == EvalProtocol::Wsol && !s.wsolThresholds.empty() &&
        std::any_of(methods.begin(), methods.end(), [&](const MethodSummary* m) {
            return m->wsol && m->wsol->boxAccCurve50.size() == s.wsolThresholds.size();
        });
    if (wsolCurves && !noneWithBoxes(methods)) return makeWsolSweepChart(s, methods);
    QChart* c = newChart(QObject::tr("Box accuracy (IoU ≥ 0.5) against τ; ● MaxBoxAcc"));
    if (noneWithBoxes(methods)) sayNoBoxes(c);
    auto* x = valueAxis(QObject::tr("threshold τ (fraction of the maximum)"), 0, 1);
    auto* y = valueAxis(QObject::tr("box accuracy"), 0, 1);
    c->addAxis(x, Qt::AlignBottom);
    c->addAxis(y, Qt::AlignLeft);
    for (const MethodSummary* m : methods) {
        if (m->sweepCurve.size() != s.sweep.size() || s.sweep.empty() || withoutBoxes(*m)) continue;
        auto* line = new QLineSeries;
        line->setName(QObject::tr("%1: %2 (τ %3)")
                          .arg(label(*m))
                          .arg(m->maxBoxAcc, 0, 'f', 3)
                          .arg(m->maxBoxAccTau, 0, 'f', 2));
        line->setColor(colourFor(m->method));
        for (std::size_t i = 0; i < s.sweep.size(); ++i) line->append(s.sweep[i], m->sweepCurve[i]);
        c->addSeries(line);
        line->attachAxis(x);
        line->attachAxis(y);
        auto* best = new QScatterSeries;  // the MaxBoxAcc point; named in the line's legend
        best->setColor(colourFor(m->method));
        best->setMarkerSize(12);
        best->append(m->maxBoxAccTau, m->maxBoxAcc);
        c->addSeries(best);
        best->attachAxis(x);
        best->attachAxis(y);
        for (auto* marker : c->legend()->markers(best)) marker->setVisible(false);
    }
    return c;
}

QChart* makeIouThresholdChart(const std::vector<const MethodSummary*>& methods) {
    QChart* c = newChart(QObject::tr("Localisation accuracy against the IoU threshold"));
    if (noneWithBoxes(methods)) sayNoBoxes(c);
    auto* x = valueAxis(QObject::tr("IoU threshold"), 0, 1);
    auto* y = valueAxis(QObject::tr("images localised"), 0, 1);
    c->addAxis(x, Qt::AlignBottom);
    c->addAxis(y, Qt::AlignLeft);
    for (const MethodSummary* m : methods) {
        if (withoutBoxes(*m)) continue;
        auto* line = new QLineSeries;
        line->setName(label(*m));
        line->setColor(colourFor(m->method));
        for (std::size_t i = 0; i < m->iouThresholdCurve.size(); ++i)
            line->append(0.05 * static_cast<double>(i + 1), m->iouThresholdCurve[i]);
        c->addSeries(line);
        line->attachAxis(x);
        line->attachAxis(y);
    }
    return c;
}

bool saveChart(QChartView* view, const QString& file, int widthPx, QString* error) {
    const QSizeF size = view->size().isEmpty() ? QSizeF(800, 500) : QSizeF(view->size());
    ExportOptions o;
    o.widthPx = widthPx > 0 ? widthPx : static_cast<int>(size.width() * 2);
    o.title = view->chart() ? view->chart()->title() : QString();
    return writeFigure(file,
                       {FigurePage{size,
                                   [view](QPainter& p, const QRectF& r) {
                                       p.setRenderHint(QPainter::Antialiasing, true);
                                       view->render(&p, r, view->viewport()->rect());
                                   }}},
                       o, error);
}

}  // namespace camx::ui
