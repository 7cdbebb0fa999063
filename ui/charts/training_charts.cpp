#include "charts/training_charts.h"

#include <QChart>
#include <QChartView>
#include <QHBoxLayout>
#include <QLineSeries>
#include <QScatterSeries>
#include <QValueAxis>
#include <algorithm>
#include <cmath>

namespace camx::ui {

namespace {
QLineSeries* line(const QString& name, const QColor& c, qreal width, bool points) {
    auto* s = new QLineSeries;
    s->setName(name);
    QPen pen(c);
    pen.setWidthF(width);
    s->setPen(pen);
    s->setPointsVisible(points);
    return s;
}

QChartView* makeView(const QString& title, const QList<QLineSeries*>& series, QValueAxis* x,
                     QValueAxis* y) {
    auto* chart = new QChart;
    chart->setTitle(title);
    chart->setAnimationOptions(QChart::NoAnimation);
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    for (auto* s : series) {
        chart->addSeries(s);
        s->attachAxis(x);
        s->attachAxis(y);
    }
    auto* view = new QChartView(chart);
    view->setRenderHint(QPainter::Antialiasing, true);
    view->setMinimumSize(320, 220);
    return view;
}

QValueAxis* axis(const QString& title, double lo, double hi) {
    auto* a = new QValueAxis;
    a->setTitleText(title);
    a->setRange(lo, hi);
    return a;
}
}  // namespace

TrainingCharts::TrainingCharts(QWidget* parent) : QWidget(parent) {
    m_stepLoss = line(tr("train (batch)"), QColor(160, 190, 230), 1.0, false);
    m_trainLoss = line(tr("train (epoch)"), QColor(31, 119, 180), 2.5, true);
    m_valLoss = line(tr("validation"), QColor(255, 127, 14), 2.5, true);
    m_stepAcc = line(tr("train (batch)"), QColor(160, 190, 230), 1.0, false);
    m_trainAcc = line(tr("train (epoch)"), QColor(31, 119, 180), 2.5, true);
    m_valAcc = line(tr("validation top-1"), QColor(255, 127, 14), 2.5, true);
    m_lossX = axis(tr("epoch"), 0, 1);
    m_lossY = axis(tr("loss"), 0, 1);
    m_accX = axis(tr("epoch"), 0, 1);
    m_lossView = makeView(tr("Loss"), {m_stepLoss, m_trainLoss, m_valLoss}, m_lossX, m_lossY);
    m_accView = makeView(tr("Accuracy"), {m_stepAcc, m_trainAcc, m_valAcc}, m_accX,
                         axis(tr("top-1"), 0, 1));
    m_lossView->setObjectName(QStringLiteral("lossChart"));
    m_accView->setObjectName(QStringLiteral("accuracyChart"));
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_lossView);
    layout->addWidget(m_accView);
    m_flush.setInterval(250);
    connect(&m_flush, &QTimer::timeout, this, &TrainingCharts::flush);
    clear(1);  // whole epochs on the axes from the start
}

void TrainingCharts::clear(int epochs) {
    for (auto* s : {m_stepLoss, m_stepAcc, m_trainLoss, m_valLoss, m_trainAcc, m_valAcc})
        s->clear();
    m_pendingLoss.clear();
    m_pendingAcc.clear();
    m_maxLoss = 1;
    m_lossY->setRange(0, 1);
    for (QValueAxis* x : {m_lossX, m_accX}) x->setRange(0, 1);
    setEpochs(epochs);
}

void TrainingCharts::setEpochs(int epochs) {
    const double hi = std::max({1.0, static_cast<double>(epochs), m_lossX->max()});
    for (QValueAxis* x : {m_lossX, m_accX}) {
        x->setRange(0, hi);
        // Whole epochs on the axis.
        x->setTickType(QValueAxis::TicksDynamic);
        x->setTickAnchor(0);
        x->setTickInterval(std::max(1, (static_cast<int>(hi) + 9) / 10));
        x->setLabelFormat(QStringLiteral("%.0f"));
    }
}

void TrainingCharts::setHistory(const std::vector<EpochRecord>& history) {
    flush();
    for (auto* s : {m_trainLoss, m_valLoss, m_trainAcc, m_valAcc}) s->clear();
    for (const auto& r : history) addEpoch(r);
}

void TrainingCharts::dropStepsAfter(double epoch) {
    flush();
    const double limit = epoch + 1e-9;
    for (QLineSeries* s : {m_stepLoss, m_stepAcc}) {
        QList<QPointF> kept = s->points();
        const auto end = std::find_if(kept.begin(), kept.end(),
                                      [limit](const QPointF& p) { return p.x() > limit; });
        if (end == kept.end()) continue;
        kept.erase(end, kept.end());
        s->replace(kept);
    }
}

void TrainingCharts::addStep(double x, double loss, double accuracy) {
    m_pendingLoss.append(QPointF(x, loss));
    m_pendingAcc.append(QPointF(x, accuracy));
    m_maxLoss = std::max(m_maxLoss, loss);
    if (!m_flush.isActive()) m_flush.start();
}

void TrainingCharts::addEpoch(const EpochRecord& r) {
    flush();
    m_trainLoss->append(r.epoch, r.trainLoss);
    m_valLoss->append(r.epoch, r.valLoss);
    m_trainAcc->append(r.epoch, r.trainTop1);
    m_valAcc->append(r.epoch, r.valTop1);
    m_maxLoss = std::max({m_maxLoss, r.valLoss, r.trainLoss});
    m_lossY->setRange(0, m_maxLoss * 1.05);
    m_lossY->applyNiceNumbers();
    m_lossX->setMax(std::max(m_lossX->max(), static_cast<double>(r.epoch)));
    m_accX->setMax(std::max(m_accX->max(), static_cast<double>(r.epoch)));
}

void TrainingCharts::flush() {
    m_flush.stop();
    if (m_pendingLoss.isEmpty()) return;
    m_stepLoss->append(m_pendingLoss);
    m_stepAcc->append(m_pendingAcc);
    const double x = m_pendingLoss.back().x();
    m_pendingLoss.clear();
    m_pendingAcc.clear();
    m_lossY->setRange(0, m_maxLoss * 1.05);
    m_lossY->applyNiceNumbers();
    m_lossX->setMax(std::max(m_lossX->max(), std::ceil(x)));
    m_accX->setMax(std::max(m_accX->max(), std::ceil(x)));
}

int TrainingCharts::stepPoints() const {
    return static_cast<int>(m_stepLoss->count());
}

int TrainingCharts::epochPoints() const {
    return static_cast<int>(m_valLoss->count());
}

}  // namespace camx::ui
