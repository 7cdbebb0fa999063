#include "charts/faith_charts.h"

#include <QAreaSeries>
#include <QBarCategoryAxis>
#include <QChart>
#include <QLegendMarker>
#include <QLineSeries>
#include <QValueAxis>
#include <algorithm>
#include <cmath>
#include <numeric>

namespace camx::ui {

namespace {
const QColor kMethodColours[] = {
    QColor(31, 119, 180),  QColor(255, 127, 14),  QColor(44, 160, 44),
    QColor(214, 39, 40),   QColor(148, 103, 189), QColor(140, 86, 75),
    QColor(227, 119, 194), QColor(188, 189, 34),  QColor(23, 190, 207)};

QChart* newChart(const QString& title) {
    auto* c = new QChart;
    c->setTitle(title);
    c->setAnimationOptions(QChart::NoAnimation);
    // Six methods' names with their figures: on the right, one per line, never elided.
    c->legend()->setAlignment(Qt::AlignRight);
    c->setMargins(QMargins(4, 4, 4, 4));
    return c;
}

QValueAxis* valueAxis(const QString& title, double lo, double hi, const QString& format) {
    auto* a = new QValueAxis;
    a->setTitleText(title);
    a->setRange(lo, hi);
    a->setLabelFormat(format);
    a->setTickCount(6);
    return a;
}

QPen methodPen(Method m, double width = 2) {
    QPen pen(faithColour(m));
    pen.setWidthF(width);
    if (m == Method::RandomMap) pen.setStyle(Qt::DotLine);
    if (m == Method::CenterMap) pen.setStyle(Qt::DashLine);
    if (m == Method::SobelMap) pen.setStyle(Qt::DashDotLine);
    return pen;
}

// What a click on a series means: whose images, ranked by what (the dashboard reads these).
void tag(QObject* series, const MethodSummary& m, FaithMetric metric) {
    series->setProperty("camxMethod", static_cast<int>(m.method));
    series->setProperty("camxTap", m.tap);
    series->setProperty("camxMetric", static_cast<int>(metric));
}

void attach(QChart* c, QAbstractSeries* s, QAbstractAxis* x, QAbstractAxis* y) {
    c->addSeries(s);
    s->attachAxis(x);
    s->attachAxis(y);
}

void hideMarkers(QChart* c, QAbstractSeries* s) {
    for (auto* marker : c->legend()->markers(s)) marker->setVisible(false);
}
}  // namespace

const std::vector<FaithMetric>& faithTableMetrics() {
    static const std::vector<FaithMetric> all{
        FaithMetric::DeletionAuc,          FaithMetric::InsertionAuc,
        FaithMetric::RoadCombined,         FaithMetric::AvgDrop,
        FaithMetric::IncreaseInConfidence, FaithMetric::PointingGame,
        FaithMetric::EnergyPointingGame};
    return all;
}

QString faithMetricName(FaithMetric m) {
    switch (m) {
        case FaithMetric::DeletionAuc:
            return QObject::tr("Deletion AUC");
        case FaithMetric::InsertionAuc:
            return QObject::tr("Insertion AUC");
        case FaithMetric::RoadCombined:
            return QObject::tr("ROAD combined");
        case FaithMetric::AvgDrop:
            return QObject::tr("Avg drop %");
        case FaithMetric::IncreaseInConfidence:
            return QObject::tr("Increase in confidence %");
        case FaithMetric::PointingGame:
            return QObject::tr("Pointing game");
        case FaithMetric::EnergyPointingGame:
            return QObject::tr("Energy pointing game");
        case FaithMetric::Sanity:
            return QObject::tr("sanity (mean Spearman)");
    }
    return {};
}

QString faithMetricHeader(FaithMetric m) {
    QString name = faithMetricName(m);
    // Break before the last word, or before "confidence" / "pointing": two short lines.
    int at = name.lastIndexOf(QLatin1Char(' '));
    if (m == FaithMetric::IncreaseInConfidence || m == FaithMetric::EnergyPointingGame)
        at = name.indexOf(QLatin1Char(' '), name.indexOf(QLatin1Char(' ')) + 1);
    if (m == FaithMetric::EnergyPointingGame) at = name.indexOf(QLatin1Char(' '));
    if (at > 0) name[at] = QLatin1Char('\n');
    return name + (faithLowerIsBetter(m) ? QStringLiteral(" ↓") : QStringLiteral(" ↑"));
}

QString faithMetricTip(FaithMetric m) {
    switch (m) {
        case FaithMetric::DeletionAuc:
            return QObject::tr(
                "Lower is better. Area under the class score as the map's most important pixels "
                "are removed first (Petsiuk et al., RISE): a faithful map makes the score fall "
                "fast.");
        case FaithMetric::InsertionAuc:
            return QObject::tr(
                "Higher is better. Area under the class score as the map's most important pixels "
                "are inserted first into a blurred image: a faithful map makes the score rise "
                "fast.");
        case FaithMetric::RoadCombined:
            return QObject::tr(
                "Higher is better. ROAD (Rong et al.): (LeRF − MoRF) / 2, the mean score change "
                "when the least relevant pixels are removed minus when the most relevant are, "
                "with noisy linear imputation so the removal itself leaks no shape.");
        case FaithMetric::AvgDrop:
            return QObject::tr(
                "Lower is better. Average drop (Chattopadhay et al.): mean of max(0, Y − O) / Y "
                "in %, Y the class score of the image, O that of the image times the map.");
        case FaithMetric::IncreaseInConfidence:
            return QObject::tr(
                "Higher is better. Share of images (%) whose class score rises when the image "
                "is multiplied by the map (Chattopadhay et al.).");
        case FaithMetric::PointingGame:
            return QObject::tr(
                "Higher is better. Share of images whose map maximum falls on the ground truth "
                "(within the tolerance); images with ground truth only.");
        case FaithMetric::EnergyPointingGame:
            return QObject::tr(
                "Higher is better. Share of the map's energy inside the ground-truth boxes or "
                "masks (Score-CAM's energy-based pointing game).");
        case FaithMetric::Sanity:
            return QObject::tr(
                "Lower is better. Mean Spearman correlation between the map and the map of "
                "the model with its weights randomised top down (Adebayo et al.): a map that "
                "stays the same does not depend on the model.");
    }
    return {};
}

bool faithLowerIsBetter(FaithMetric m) {
    return m == FaithMetric::DeletionAuc || m == FaithMetric::AvgDrop || m == FaithMetric::Sanity;
}

int faithDecimals(FaithMetric m) {
    return m == FaithMetric::AvgDrop || m == FaithMetric::IncreaseInConfidence ? 1 : 3;
}

std::optional<double> summaryMetric(const MetricSummary& s, FaithMetric m) {
    switch (m) {
        case FaithMetric::DeletionAuc:
            return s.deletionAuc;
        case FaithMetric::InsertionAuc:
            return s.insertionAuc;
        case FaithMetric::RoadCombined:
            return s.roadCombined;
        case FaithMetric::AvgDrop:
            return s.avgDrop;
        case FaithMetric::IncreaseInConfidence:
            return s.increaseInConfidence;
        case FaithMetric::PointingGame:
            return s.pointingGame;
        case FaithMetric::EnergyPointingGame:
            return s.energyPointingGame;
        case FaithMetric::Sanity: {
            double sum = 0;
            int n = 0;
            for (double v : s.sanitySpearman)
                if (std::isfinite(v)) sum += v, ++n;
            return n ? std::optional<double>(sum / n) : std::nullopt;
        }
    }
    return std::nullopt;
}

std::optional<double> imageMetric(const MapMetrics& m, FaithMetric metric) {
    switch (metric) {
        case FaithMetric::DeletionAuc:
            return m.deletionAuc;
        case FaithMetric::InsertionAuc:
            return m.insertionAuc;
        case FaithMetric::RoadCombined:
            return m.roadCombined;
        case FaithMetric::AvgDrop:
            // As the summary: max(0, Y − O) / Y; a score of 0 has nothing to drop.
            if (!m.scoreBefore || !m.scoreMultiplied || *m.scoreBefore <= 0) return std::nullopt;
            return 100.0 * std::max(0.0, *m.scoreBefore - *m.scoreMultiplied) / *m.scoreBefore;
        case FaithMetric::IncreaseInConfidence:
            // Per image, the relative rise itself (the summary counts the images where it is
            // positive): the largest rise ranks first.
            if (!m.scoreBefore || !m.scoreMultiplied || *m.scoreBefore <= 0) return std::nullopt;
            return 100.0 * (*m.scoreMultiplied - *m.scoreBefore) / *m.scoreBefore;
        case FaithMetric::PointingGame:
            if (!m.pointingHit) return std::nullopt;
            return *m.pointingHit ? 1.0 : 0.0;
        case FaithMetric::EnergyPointingGame:
            return m.energyPointing;
        case FaithMetric::Sanity: {
            double sum = 0;
            int n = 0;
            for (float v : m.sanitySpearman)
                if (std::isfinite(v)) sum += v, ++n;
            return n ? std::optional<double>(sum / n) : std::nullopt;
        }
    }
    return std::nullopt;
}

std::vector<int> rankImagesBy(const std::vector<ImageRecord>& records, Method method, int tap,
                              FaithMetric metric) {
    std::vector<std::pair<double, int>> scored;
    for (const auto& r : records) {
        const MapScore* s = r.find(method, tap);
        if (!s || !s->metrics) continue;
        const auto v = imageMetric(*s->metrics, metric);
        if (!v || !std::isfinite(*v)) continue;
        scored.emplace_back(faithLowerIsBetter(metric) ? *v : -*v, static_cast<int>(r.index));
    }
    std::sort(scored.begin(), scored.end());
    std::vector<int> rows;
    rows.reserve(scored.size());
    for (const auto& [v, row] : scored) rows.push_back(row);
    return rows;
}

QColor faithColour(Method m) {
    switch (m) {
        case Method::RandomMap:
            return QColor(150, 150, 150);
        case Method::CenterMap:
            return QColor(110, 110, 110);
        case Method::SobelMap:
            return QColor(70, 70, 70);
        default:
            return kMethodColours[static_cast<int>(m) % 9];
    }
}

QString faithMethodLabel(const MethodSummary& m) {
    const QString name = QString::fromStdString(methodName(m.method));
    return methodIsBaseline(m.method) ? QObject::tr("%1 (baseline)").arg(name) : name;
}

QChart* makeDeletionChart(const std::vector<const MethodSummary*>& methods, bool insertion) {
    QChart* c = newChart(insertion ? QObject::tr("Insertion: score as pixels are inserted")
                                   : QObject::tr("Deletion: score as pixels are removed"));
    const FaithMetric metric = insertion ? FaithMetric::InsertionAuc : FaithMetric::DeletionAuc;
    double top = 0;
    for (const MethodSummary* m : methods)
        if (m->metrics)
            for (double v : insertion ? m->metrics->insertionCurve : m->metrics->deletionCurve)
                top = std::max(top, v);
    auto* x = valueAxis(insertion ? QObject::tr("fraction of pixels inserted")
                                  : QObject::tr("fraction of pixels removed"),
                        0, 1, QStringLiteral("%.1f"));
    auto* y =
        valueAxis(QObject::tr("mean score"), 0, top > 1 ? top * 1.05 : 1.0, QStringLiteral("%.1f"));
    if (top > 1) y->applyNiceNumbers();  // logits
    c->addAxis(x, Qt::AlignBottom);
    c->addAxis(y, Qt::AlignLeft);
    for (const MethodSummary* m : methods) {
        if (!m->metrics) continue;
        const auto& curve = insertion ? m->metrics->insertionCurve : m->metrics->deletionCurve;
        const auto auc = summaryMetric(*m->metrics, metric);
        if (curve.size() < 2) continue;
        auto* upper = new QLineSeries;
        auto* lower = new QLineSeries;
        const double step = 1.0 / static_cast<double>(curve.size() - 1);
        for (std::size_t i = 0; i < curve.size(); ++i) {
            upper->append(static_cast<double>(i) * step, curve[i]);
            lower->append(static_cast<double>(i) * step, 0);
        }
        // The area first, under its line; its own marker hidden (the line names the method).
        auto* area = new QAreaSeries(upper, lower);
        upper->setParent(area);
        lower->setParent(area);
        QColor fill = faithColour(m->method);
        fill.setAlpha(methodIsBaseline(m->method) ? 16 : 32);
        area->setBrush(fill);
        area->setPen(Qt::NoPen);
        area->setName(faithMethodLabel(*m));
        attach(c, area, x, y);
        hideMarkers(c, area);
        auto* line = new QLineSeries;
        line->append(upper->points());
        line->setPen(methodPen(m->method));
        line->setName(auc ? QObject::tr("%1: AUC %2").arg(faithMethodLabel(*m)).arg(*auc, 0, 'f', 3)
                          : faithMethodLabel(*m));
        tag(line, *m, metric);
        tag(area, *m, metric);
        attach(c, line, x, y);
    }
    return c;
}

QChart* makeRoadChart(const std::vector<const MethodSummary*>& methods,
                      const std::vector<int>& percentiles) {
    QChart* c = newChart(QObject::tr("ROAD: score change — MoRF (solid) and LeRF (faint)"));
    double lo = 0, hi = 0;
    for (const MethodSummary* m : methods)
        if (m->metrics)
            for (const auto* curve : {&m->metrics->roadMorf, &m->metrics->roadLerf})
                for (double v : *curve) lo = std::min(lo, v), hi = std::max(hi, v);
    if (hi - lo < 1e-9) hi = lo + 1;
    auto* x = valueAxis(QObject::tr("percentile of pixels removed"), 0, 100, QStringLiteral("%d"));
    x->setTickCount(11);
    auto* y = valueAxis(QObject::tr("Δ score"), lo, hi, QStringLiteral("%.2f"));
    y->applyNiceNumbers();
    c->addAxis(x, Qt::AlignBottom);
    c->addAxis(y, Qt::AlignLeft);
    for (const MethodSummary* m : methods) {
        if (!m->metrics) continue;
        const auto& morf = m->metrics->roadMorf;
        const auto& lerf = m->metrics->roadLerf;
        if (morf.size() != percentiles.size() || lerf.size() != percentiles.size()) continue;
        auto* mo = new QLineSeries;
        auto* le = new QLineSeries;
        for (std::size_t i = 0; i < percentiles.size(); ++i) {
            mo->append(percentiles[i], morf[i]);
            le->append(percentiles[i], lerf[i]);
        }
        mo->setPen(methodPen(m->method));
        // LeRF: the same colour and dashes, lighter, so the pair reads as one method.
        QPen lePen = methodPen(m->method, 1.5);
        QColor faint = lePen.color();
        faint.setAlpha(110);
        lePen.setColor(faint);
        le->setPen(lePen);
        const auto road = m->metrics->roadCombined;
        mo->setName(road ? QObject::tr("%1: %2").arg(faithMethodLabel(*m)).arg(*road, 0, 'f', 3)
                         : faithMethodLabel(*m));
        le->setName(QObject::tr("%1 LeRF").arg(faithMethodLabel(*m)));
        mo->setProperty("camxRoad", QStringLiteral("morf"));
        le->setProperty("camxRoad", QStringLiteral("lerf"));
        tag(mo, *m, FaithMetric::RoadCombined);
        tag(le, *m, FaithMetric::RoadCombined);
        attach(c, mo, x, y);
        attach(c, le, x, y);
        hideMarkers(c, le);
    }
    return c;
}

QChart* makeSanityChart(const std::vector<const MethodSummary*>& methods,
                        const std::vector<std::string>& steps, bool ssim) {
    QChart* c =
        newChart(ssim ? QObject::tr("Sanity check: SSIM to the original map (baselines: 1)")
                      : QObject::tr("Sanity check: Spearman ρ to the original map (baselines: 1)"));
    QStringList cats{QObject::tr("original")};
    for (const auto& s : steps) {
        // A long cascade (a ResNet-50's 18 steps): "layer3.1" -> "3.1", as the layer chart.
        QString name = QString::fromStdString(s);
        if (steps.size() > 8 && name.startsWith(QLatin1String("layer"))) name = name.mid(5);
        cats << name;
    }
    auto* x = new QBarCategoryAxis;
    x->append(cats);
    x->setTitleText(steps.size() > 8
                        ? QObject::tr("weights randomised from the top down to (layerN.M)")
                        : QObject::tr("weights randomised from the top down to"));
    x->setTruncateLabels(false);
    // Upright: a slanted first or last label would reach past the axis and be dropped.
    if (cats.size() > 8) x->setLabelsAngle(-90);
    double lo = 0;
    for (const MethodSummary* m : methods)
        if (m->metrics)
            for (double v : ssim ? m->metrics->sanitySsim : m->metrics->sanitySpearman)
                if (std::isfinite(v)) lo = std::min(lo, v);
    lo = std::floor(lo * 5) / 5;
    auto* y =
        valueAxis(ssim ? QObject::tr("SSIM") : QObject::tr("ρ"), lo, 1.05, QStringLiteral("%.1f"));
    y->setTickType(QValueAxis::TicksDynamic);  // 0, 0.2, ..., 1: every label exact
    y->setTickAnchor(0);
    // Anti-correlated maps (a randomised head can invert CAM) double the range: fewer labels.
    y->setTickInterval(lo < 0 ? 0.5 : 0.2);
    c->addAxis(x, Qt::AlignBottom);
    c->addAxis(y, Qt::AlignLeft);
    for (const MethodSummary* m : methods) {
        if (!m->metrics) continue;
        const auto& values = ssim ? m->metrics->sanitySsim : m->metrics->sanitySpearman;
        if (values.size() != steps.size() || values.empty()) continue;
        auto* line = new QLineSeries;
        line->append(0, 1.0);  // the original model's map is its own
        for (std::size_t i = 0; i < values.size(); ++i)
            if (std::isfinite(values[i])) line->append(static_cast<double>(i + 1), values[i]);
        line->setPen(methodPen(m->method));
        line->setPointsVisible(true);
        line->setName(faithMethodLabel(*m));
        tag(line, *m, FaithMetric::Sanity);
        attach(c, line, x, y);
    }
    return c;
}

}  // namespace camx::ui
