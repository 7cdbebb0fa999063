#include "explorer/faithfulness_chart.h"

#include <QAreaSeries>
#include <QChart>
#include <QChartView>
#include <QLegendMarker>
#include <QLineSeries>
#include <QVBoxLayout>
#include <QValueAxis>

#include "explorer/explorer_metrics.h"

namespace camx::ui {

namespace {
const QColor kDeletion(214, 39, 40);    // red: lower is better
const QColor kInsertion(31, 119, 180);  // blue: higher is better

QAreaSeries* area(QLineSeries* upper, QLineSeries* lower, const QColor& colour) {
    auto* a = new QAreaSeries(upper, lower);
    QColor fill = colour;
    fill.setAlpha(45);
    a->setBrush(fill);
    QPen pen(colour);
    pen.setWidthF(1.6);
    a->setPen(pen);
    return a;
}
}  // namespace

FaithfulnessChart::FaithfulnessChart(QWidget* parent) : QWidget(parent) {
    m_chart = new QChart;
    m_chart->setAnimationOptions(QChart::NoAnimation);
    m_chart->setMargins(QMargins(2, 2, 2, 2));
    m_chart->setBackgroundRoundness(0);
    m_chart->legend()->setAlignment(Qt::AlignRight);
    QFont small = font();
    small.setPointSizeF(small.pointSizeF() * 0.85);
    m_chart->setTitleFont(small);
    m_chart->legend()->setFont(small);
    m_deletion = new QLineSeries(this);
    m_insertion = new QLineSeries(this);
    m_deletionBase = new QLineSeries(this);
    m_insertionBase = new QLineSeries(this);
    m_deletionArea = area(m_deletion, m_deletionBase, kDeletion);
    m_insertionArea = area(m_insertion, m_insertionBase, kInsertion);
    m_chart->addSeries(m_insertionArea);
    m_chart->addSeries(m_deletionArea);
    m_x = new QValueAxis;
    m_x->setRange(0, 1);
    m_x->setTickCount(6);
    m_x->setLabelFormat("%.1f");
    m_x->setTitleText(tr("fraction of pixels changed"));
    m_y = new QValueAxis;
    m_y->setRange(0, 1);
    m_y->setTickCount(3);
    m_y->setLabelFormat("%.1f");
    for (QValueAxis* a : {m_x, m_y}) {
        a->setLabelsFont(small);
        a->setTitleFont(small);
    }
    m_chart->addAxis(m_x, Qt::AlignBottom);
    m_chart->addAxis(m_y, Qt::AlignLeft);
    for (QAreaSeries* s : {m_deletionArea, m_insertionArea}) {
        s->attachAxis(m_x);
        s->attachAxis(m_y);
    }
    m_view = new QChartView(m_chart);
    m_view->setRenderHint(QPainter::Antialiasing, true);
    m_view->setObjectName(QStringLiteral("faithfulnessChartView"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_view);
    setToolTip(
        tr("Deletion (red): the class's probability as the map's most relevant pixels are "
           "replaced by zeros (the mean colour), most relevant first; a low area is good.\n"
           "Insertion (blue): the probability as they are put back into a blurred image; a "
           "high area is good. RISE (Petsiuk et al., 2018), 50 steps, as `eval --metrics` "
           "scores them."));
    showMessage(tr("Faithfulness curve: not computed"));
}

void FaithfulnessChart::clearSeries() {
    for (QLineSeries* s : {m_deletion, m_insertion, m_deletionBase, m_insertionBase}) s->clear();
    m_hasCurve = false;
    m_deletionAuc = m_insertionAuc = 0;
    m_deletionArea->setName(tr("Deletion"));
    m_insertionArea->setName(tr("Insertion"));
}

void FaithfulnessChart::showMessage(const QString& text) {
    clearSeries();
    m_message = text;
    m_chart->setTitle(text);
    m_y->setTitleText({});
}

void FaithfulnessChart::showCurve(const CurveResult& r, const QString& className) {
    if (!r.error.isEmpty()) {
        showMessage(tr("Faithfulness curve failed: %1").arg(r.error));
        return;
    }
    clearSeries();
    m_message.clear();
    auto fill = [](QLineSeries* line, QLineSeries* base, const std::vector<float>& pts) {
        QList<QPointF> upper, lower;
        const int n = static_cast<int>(pts.size()) - 1;
        for (int i = 0; i <= n; ++i) {
            const double x = n > 0 ? static_cast<double>(i) / n : 0.0;
            upper.append(QPointF(x, pts[static_cast<std::size_t>(i)]));
            lower.append(QPointF(x, 0.0));
        }
        line->replace(upper);
        base->replace(lower);
    };
    fill(m_deletion, m_deletionBase, r.deletion);
    fill(m_insertion, m_insertionBase, r.insertion);
    m_deletionAuc = r.deletionAuc;
    m_insertionAuc = r.insertionAuc;
    m_deletionArea->setName(tr("Deletion AUC %1 ↓").arg(r.deletionAuc, 0, 'f', 3));
    m_insertionArea->setName(tr("Insertion AUC %1 ↑").arg(r.insertionAuc, 0, 'f', 3));
    const bool probability = r.options.score == MetricScore::Probability;
    double top = 1.0;
    if (!probability) {
        double lo = 0, hi = 1;
        for (const auto* v : {&r.deletion, &r.insertion})
            for (float x : *v) {
                lo = std::min(lo, static_cast<double>(x));
                hi = std::max(hi, static_cast<double>(x));
            }
        m_y->setRange(lo, hi);
        top = hi;
    } else {
        m_y->setRange(0, top);
    }
    m_y->setTitleText(probability ? tr("probability") : tr("logit"));
    m_chart->setTitle(tr("%1 of %2 · deletion: %3, insertion: %4, %5 steps")
                          .arg(probability ? tr("Probability") : tr("Logit"), className,
                               QString::fromLatin1(substrateId(r.options.deletionSubstrate)),
                               QString::fromLatin1(substrateId(r.options.insertionSubstrate)))
                          .arg(r.options.steps));
    m_hasCurve = true;
}

std::vector<QPointF> FaithfulnessChart::deletionPoints() const {
    const auto pts = m_deletion->points();
    return {pts.begin(), pts.end()};
}

std::vector<QPointF> FaithfulnessChart::insertionPoints() const {
    const auto pts = m_insertion->points();
    return {pts.begin(), pts.end()};
}

QString FaithfulnessChart::legendText() const {
    return m_deletionArea->name() + QStringLiteral("; ") + m_insertionArea->name();
}

QString FaithfulnessChart::title() const {
    return m_chart->title();
}

}  // namespace camx::ui
