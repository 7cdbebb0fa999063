// The evaluation dashboard's Faithfulness page, offscreen, on an evaluation filled in by hand (two
// methods and the three baseline maps, every metric including the sanity check): the table holds
// the summary's numbers with the baselines marked, the curves are the summary's with their areas,
// ROAD and the sanity check are charted at their percentiles and steps, a click on a curve or a
// row lists the method's images best first, an evaluation without metrics says how to get them,
// and the metric choice is remembered and reaches a new run's options.
#include <gtest/gtest.h>

#include <QAction>
#include <QAreaSeries>
#include <QBarCategoryAxis>
#include <QChart>
#include <QChartView>
#include <QHeaderView>
#include <QLabel>
#include <QLineSeries>
#include <QMenu>
#include <QSettings>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTabWidget>
#include <QTableView>
#include <QToolButton>
#include <cmath>

#include "../core/test_support.h"
#include "charts/eval_charts.h"
#include "charts/faith_charts.h"
#include "dashboard/eval_dashboard.h"

namespace camx::ui {
namespace {

constexpr int kImages = 45;
constexpr int kSteps = 4;
constexpr int kTap = 3;
const std::vector<int> kPercentiles{20, 50, 80};
const std::vector<std::string> kCascade{"fc", "layer4", "layer3", "stem"};
const std::vector<Method> kMethods{Method::Cam, Method::GradCam, Method::RandomMap,
                                   Method::CenterMap, Method::SobelMap};

// Per image, a value that orders the images differently for each method; image 7 lacks the
// metrics of Grad-CAM (and is left out of its rankings).
double imageValue(int image, int method) {
    static const int multipliers[] = {7, 11, 13, 17, 19, 23};  // coprime with 45: no ties
    return static_cast<double>((image * multipliers[method]) % kImages) / kImages;
}
constexpr std::size_t kRowOffset = 100;  // split rows differ from record positions

MetricSummary summaryOf(int k) {
    MetricSummary s;
    s.images = kImages;
    s.deletionAuc = 0.11 + 0.07 * k;
    s.insertionAuc = 0.72 - 0.09 * k;
    for (int i = 0; i <= kSteps; ++i) {
        s.deletionCurve.push_back(0.9 * std::pow(0.5 + 0.1 * k, i));
        s.insertionCurve.push_back(0.1 + 0.8 * i / kSteps * (1 - 0.1 * k));
    }
    for (std::size_t i = 0; i < kPercentiles.size(); ++i) {
        s.roadMorf.push_back(-0.1 * static_cast<double>(i + 1) / (k + 1));
        s.roadLerf.push_back(-0.02 * static_cast<double>(i + 1));
    }
    s.roadCombined = 0.0123 * (5 - k);
    s.avgDrop = 20.25 + 7.5 * k;
    s.increaseInConfidence = 31.5 - 4 * k;
    s.pointingGame = 0.81 - 0.1 * k;
    s.energyPointingGame = 0.457 - 0.05 * k;
    s.pointingImages = 40;
    if (methodIsBaseline(kMethods[static_cast<std::size_t>(k)])) {
        s.sanitySpearman.assign(kCascade.size(), 1.0);
        s.sanitySsim.assign(kCascade.size(), 1.0);
    } else {
        s.sanitySpearman = {0.8 - 0.2 * k, 0.4, std::nan(""), 0.05};
        s.sanitySsim = {0.7, 0.5 - 0.1 * k, 0.3, 0.2};
    }
    return s;
}

std::shared_ptr<SavedEvaluation> evaluationWithMetrics(bool metrics = true) {
    auto e = std::make_shared<SavedEvaluation>();
    e->options.methods = {Method::Cam, Method::GradCam};
    e->options.taps = {kTap};
    parseMetricList(metrics ? "all" : "", &e->options.metrics);
    e->options.metrics.sanity = metrics;
    e->options.metrics.steps = kSteps;
    e->options.metrics.roadPercentiles = kPercentiles;
    e->options.metrics.sanitySteps = kCascade;
    for (int i = 0; i < kImages; ++i) {
        ImageRecord r;
        r.index = kRowOffset + static_cast<std::size_t>(i);
        r.relPath = "img" + std::to_string(i) + ".jpg";
        r.label = i % 3;
        r.predicted = i % 3;
        for (std::size_t k = 0; k < kMethods.size(); ++k) {
            MapScore s;
            s.method = kMethods[k];
            s.tap = methodIsBaseline(s.method) ? -1 : kTap;
            s.iou = imageValue(i, static_cast<int>(k));
            if (metrics && !(i == 7 && s.method == Method::GradCam)) {
                MapMetrics m;
                const double v = imageValue(i, static_cast<int>(k));
                m.deletion.assign(kSteps + 1, 0.5f);
                m.insertion.assign(kSteps + 1, 0.5f);
                m.deletionAuc = v;
                m.insertionAuc = 1 - imageValue(i, static_cast<int>(k) + 1);
                m.roadCombined = v - 0.5;
                m.scoreBefore = 0.8;
                m.scoreMultiplied = 0.8 * v;
                m.pointingHit = i % 2 == 0;
                m.energyPointing = v;
                m.sanitySpearman = {static_cast<float>(v), 0.1f, 0.f, 0.f};
                m.sanitySsim = {0.5f, 0.1f, 0.f, 0.f};
                s.metrics = m;
            }
            r.scores.push_back(s);
        }
        e->records.push_back(r);
    }
    e->summary.images = kImages;
    for (std::size_t k = 0; k < kMethods.size(); ++k) {
        MethodSummary m;
        m.method = kMethods[k];
        m.tap = methodIsBaseline(m.method) ? -1 : kTap;
        m.tapName = methodIsBaseline(m.method) ? "" : "layer4";
        m.images = kImages;
        m.boxedImages = kImages;
        m.meanIou = 0.4;
        if (metrics) m.metrics = summaryOf(static_cast<int>(k));
        e->summary.methods.push_back(m);
    }
    return e;
}

class FaithfulnessDashboard : public ::testing::Test {
protected:
    void SetUp() override {
        QSettings().remove("eval/metrics");
        d = std::make_unique<EvalDashboard>();
        d->resize(1400, 900);
        d->showEvaluation(evaluationWithMetrics());
        d->pages()->setCurrentWidget(d->faithPage());
        d->show();
        QCoreApplication::processEvents();
    }
    void TearDown() override { QSettings().remove("eval/metrics"); }

    QChart* chart(EvalDashboard::ChartId id) const { return d->chartView(id)->chart(); }
    // The chart's line series of one method (the one whose name starts with its label).
    static QLineSeries* lineOf(QChart* c, const QString& label, const QString& skip = {}) {
        for (QAbstractSeries* s : c->series())
            if (auto* l = qobject_cast<QLineSeries*>(s))
                if (l->name().startsWith(label) && (skip.isEmpty() || !l->name().contains(skip)))
                    return l;
        return nullptr;
    }
    // The table row of a method (the view may be sorted).
    int rowOf(Method m) const {
        QAbstractItemModel* model = d->faithTable()->model();
        for (int r = 0; r < model->rowCount(); ++r)
            if (model->index(r, 0).data(Qt::UserRole + 2).toInt() == static_cast<int>(m)) return r;
        return -1;
    }
    int columnOf(const QString& header) const {
        QAbstractItemModel* model = d->faithTable()->model();
        for (int c = 0; c < model->columnCount(); ++c)
            if (model->headerData(c, Qt::Horizontal)
                    .toString()
                    .replace('\n', ' ')
                    .startsWith(header))
                return c;
        return -1;
    }
    // The split rows of a method's images ranked by hand, best first.
    static std::vector<int> expectedRanking(int k, bool lowerIsBetter, bool insertion = false) {
        std::vector<std::pair<double, int>> v;
        for (int i = 0; i < kImages; ++i) {
            if (i == 7 && kMethods[static_cast<std::size_t>(k)] == Method::GradCam) continue;
            const double x = insertion ? 1 - imageValue(i, k + 1) : imageValue(i, k);
            v.emplace_back(lowerIsBetter ? x : -x, static_cast<int>(kRowOffset) + i);
        }
        std::sort(v.begin(), v.end());
        std::vector<int> rows;
        for (const auto& p : v) rows.push_back(p.second);
        std::vector<int> bestAndWorst(rows.begin(), rows.begin() + 20);
        bestAndWorst.insert(bestAndWorst.end(), rows.end() - 20, rows.end());
        return bestAndWorst;
    }

    std::unique_ptr<EvalDashboard> d;
};

TEST_F(FaithfulnessDashboard, TableHoldsTheSummarysValuesWithTheBaselinesMarked) {
    EXPECT_TRUE(d->faithMessage().isEmpty()) << d->faithMessage().toStdString();
    QAbstractItemModel* model = d->faithTable()->model();
    ASSERT_EQ(model->rowCount(), 5);
    struct Column {
        QString header;
        std::optional<double> MetricSummary::*field;
        int decimals;
    };
    const std::vector<Column> columns{
        {"Deletion AUC", &MetricSummary::deletionAuc, 3},
        {"Insertion AUC", &MetricSummary::insertionAuc, 3},
        {"ROAD combined", &MetricSummary::roadCombined, 3},
        {"Avg drop %", &MetricSummary::avgDrop, 1},
        {"Increase in confidence %", &MetricSummary::increaseInConfidence, 1},
        {"Pointing game", &MetricSummary::pointingGame, 3},
        {"Energy pointing game", &MetricSummary::energyPointingGame, 3}};
    ASSERT_EQ(model->columnCount(), 2 + static_cast<int>(columns.size()));
    EXPECT_TRUE(model->headerData(columnOf("Deletion AUC"), Qt::Horizontal, Qt::ToolTipRole)
                    .toString()
                    .startsWith("Lower is better"));
    EXPECT_TRUE(model->headerData(columnOf("Insertion AUC"), Qt::Horizontal, Qt::ToolTipRole)
                    .toString()
                    .startsWith("Higher is better"));
    EXPECT_TRUE(
        model->headerData(columnOf("Deletion AUC"), Qt::Horizontal).toString().endsWith("↓"));
    for (std::size_t k = 0; k < kMethods.size(); ++k) {
        const int row = rowOf(kMethods[k]);
        ASSERT_GE(row, 0) << methodName(kMethods[k]);
        const QModelIndex name = model->index(row, 0);
        const bool baseline = methodIsBaseline(kMethods[k]);
        EXPECT_EQ(name.data().toString().contains("(baseline)"), baseline);
        EXPECT_EQ(name.data(Qt::FontRole).value<QFont>().italic(), baseline);
        if (!baseline) {
            EXPECT_EQ(name.data().toString().toStdString(), methodName(kMethods[k]) + " @ layer4");
        }
        const MetricSummary s = summaryOf(static_cast<int>(k));
        for (const Column& c : columns) {
            const QModelIndex cell = model->index(row, columnOf(c.header));
            EXPECT_EQ(cell.data().toString(), QString::number(*(s.*c.field), 'f', c.decimals))
                << c.header.toStdString() << " of " << methodName(kMethods[k]);
            EXPECT_DOUBLE_EQ(cell.data(Qt::UserRole + 1).toDouble(), *(s.*c.field));
        }
    }
    // Sorted by deletion AUC: CAM (the lowest) first, Sobel last.
    d->faithTable()->sortByColumn(columnOf("Deletion AUC"), Qt::AscendingOrder);
    EXPECT_EQ(model->index(0, 0).data(Qt::UserRole + 2).toInt(), static_cast<int>(Method::Cam));
    EXPECT_EQ(model->index(4, 0).data(Qt::UserRole + 2).toInt(),
              static_cast<int>(Method::SobelMap));
    d->faithTable()->sortByColumn(columnOf("Deletion AUC"), Qt::DescendingOrder);
    EXPECT_EQ(model->index(0, 0).data(Qt::UserRole + 2).toInt(),
              static_cast<int>(Method::SobelMap));
    // The best method's value in bold; a baseline's never.
    EXPECT_TRUE(model->index(rowOf(Method::Cam), columnOf("Deletion AUC"))
                    .data(Qt::FontRole)
                    .value<QFont>()
                    .bold());
    EXPECT_FALSE(model->index(rowOf(Method::GradCam), columnOf("Deletion AUC"))
                     .data(Qt::FontRole)
                     .value<QFont>()
                     .bold());
}

TEST_F(FaithfulnessDashboard, DeletionAndInsertionCurvesAreTheSummarysWithShadedAreas) {
    for (bool insertion : {false, true}) {
        QChart* c = chart(insertion ? EvalDashboard::Insertion : EvalDashboard::Deletion);
        int areas = 0;
        for (QAbstractSeries* s : c->series())
            if (auto* a = qobject_cast<QAreaSeries*>(s)) {
                ++areas;
                EXPECT_GT(a->brush().color().alpha(), 0);
                EXPECT_LT(a->brush().color().alpha(), 128);  // translucent
                ASSERT_NE(a->upperSeries(), nullptr);
                EXPECT_EQ(a->upperSeries()->count(), kSteps + 1);
            }
        EXPECT_EQ(areas, 5);
        for (std::size_t k = 0; k < kMethods.size(); ++k) {
            const MetricSummary s = summaryOf(static_cast<int>(k));
            const QString label = QString::fromStdString(methodName(kMethods[k]));
            QLineSeries* line = lineOf(c, label + (methodIsBaseline(kMethods[k]) ? " (" : ":"));
            ASSERT_NE(line, nullptr) << label.toStdString();
            const auto& curve = insertion ? s.insertionCurve : s.deletionCurve;
            ASSERT_EQ(line->count(), kSteps + 1);
            for (int i = 0; i <= kSteps; ++i) {
                EXPECT_DOUBLE_EQ(line->at(i).x(), static_cast<double>(i) / kSteps);
                EXPECT_DOUBLE_EQ(line->at(i).y(), curve[static_cast<std::size_t>(i)]);
            }
            const double auc = insertion ? *s.insertionAuc : *s.deletionAuc;
            EXPECT_TRUE(line->name().endsWith("AUC " + QString::number(auc, 'f', 3)))
                << line->name().toStdString();
        }
    }
}

TEST_F(FaithfulnessDashboard, RoadAndSanityChartsHaveThePercentilesAndTheCascadeSteps) {
    QChart* road = chart(EvalDashboard::Road);
    const MetricSummary grad = summaryOf(1);
    int morf = 0, lerf = 0;
    for (QAbstractSeries* s : road->series()) {
        auto* l = qobject_cast<QLineSeries*>(s);
        ASSERT_NE(l, nullptr);
        const bool isMorf = l->property("camxRoad").toString() == "morf";
        ++(isMorf ? morf : lerf);
        ASSERT_EQ(l->count(), static_cast<int>(kPercentiles.size()));
        for (std::size_t i = 0; i < kPercentiles.size(); ++i)
            EXPECT_EQ(l->at(static_cast<int>(i)).x(), kPercentiles[i]);
        if (l->property("camxMethod").toInt() != static_cast<int>(Method::GradCam)) continue;
        for (std::size_t i = 0; i < kPercentiles.size(); ++i) {
            EXPECT_DOUBLE_EQ(l->at(static_cast<int>(i)).y(),
                             isMorf ? grad.roadMorf[i] : grad.roadLerf[i]);
        }
    }
    EXPECT_EQ(morf, 5);
    EXPECT_EQ(lerf, 5);

    for (bool ssim : {false, true}) {
        d->setSanityShowsSsim(ssim);
        QChart* c = chart(EvalDashboard::Sanity);
        auto* x = qobject_cast<QBarCategoryAxis*>(c->axes(Qt::Horizontal).value(0));
        ASSERT_NE(x, nullptr);
        EXPECT_EQ(x->categories(), (QStringList{"original", "fc", "layer4", "layer3", "stem"}));
        QLineSeries* g = lineOf(c, "Grad-CAM");
        ASSERT_NE(g, nullptr);
        const auto& values = ssim ? grad.sanitySsim : grad.sanitySpearman;
        // "original" at 1, then each step where defined (Spearman's NaN at layer3 left out).
        std::vector<QPointF> want{{0, 1}};
        for (std::size_t i = 0; i < values.size(); ++i)
            if (std::isfinite(values[i])) want.emplace_back(static_cast<double>(i + 1), values[i]);
        ASSERT_EQ(g->count(), static_cast<int>(want.size())) << ssim;
        for (std::size_t i = 0; i < want.size(); ++i) {
            EXPECT_DOUBLE_EQ(g->at(static_cast<int>(i)).x(), want[i].x());
            EXPECT_DOUBLE_EQ(g->at(static_cast<int>(i)).y(), want[i].y());
        }
        QLineSeries* random = lineOf(c, "Random (baseline)");
        ASSERT_NE(random, nullptr);
        for (const QPointF& p : random->points()) EXPECT_DOUBLE_EQ(p.y(), 1.0);
    }
}

TEST_F(FaithfulnessDashboard, ClickingACurveOrARowListsTheMethodsImagesBestFirst) {
    QSignalSpy spy(d.get(), &EvalDashboard::showImages);
    // Grad-CAM's deletion curve: lowest AUC first; image 7 has no metrics and is left out.
    QLineSeries* del = lineOf(chart(EvalDashboard::Deletion), "Grad-CAM:");
    ASSERT_NE(del, nullptr);
    Q_EMIT del->clicked(QPointF(0.5, 0.5));
    ASSERT_EQ(spy.count(), 1);
    auto rows = spy.at(0).at(0).value<std::vector<int>>();
    EXPECT_EQ(rows, expectedRanking(1, true));
    EXPECT_EQ(std::count(rows.begin(), rows.end(), static_cast<int>(kRowOffset) + 7), 0);
    EXPECT_EQ(spy.at(0).at(1).toString(),
              "Grad-CAM @ layer4: best 20 and worst 20 by Deletion AUC");
    // CAM's insertion curve: highest AUC first.
    QLineSeries* ins = lineOf(chart(EvalDashboard::Insertion), "CAM:");
    ASSERT_NE(ins, nullptr);
    Q_EMIT ins->clicked(QPointF(0.5, 0.5));
    ASSERT_EQ(spy.count(), 2);
    EXPECT_EQ(spy.at(1).at(0).value<std::vector<int>>(), expectedRanking(0, false, true));
    EXPECT_TRUE(spy.at(1).at(1).toString().endsWith("by Insertion AUC"));
    // A baseline's table row, clicked in its Energy pointing game cell: highest first.
    QTableView* table = d->faithTable();
    const QModelIndex cell =
        table->model()->index(rowOf(Method::CenterMap), columnOf("Energy pointing game"));
    Q_EMIT table->clicked(cell);
    ASSERT_EQ(spy.count(), 3);
    EXPECT_EQ(spy.at(2).at(0).value<std::vector<int>>(), expectedRanking(3, false));
    EXPECT_EQ(spy.at(2).at(1).toString(),
              "Center (baseline): best 20 and worst 20 by Energy pointing game");
    // Its name cell: the first column's metric (deletion AUC, lowest first).
    Q_EMIT table->clicked(table->model()->index(rowOf(Method::Cam), 0));
    ASSERT_EQ(spy.count(), 4);
    EXPECT_EQ(spy.at(3).at(0).value<std::vector<int>>(), expectedRanking(0, true));
}

TEST_F(FaithfulnessDashboard, AnEvaluationWithoutMetricsSaysHowToGetThem) {
    d->showEvaluation(evaluationWithMetrics(false));
    EXPECT_TRUE(d->faithMessage().contains("Evaluate with faithfulness metrics"))
        << d->faithMessage().toStdString();
    EXPECT_TRUE(d->findChild<QLabel*>("faithMessage")->isVisible());
    EXPECT_FALSE(d->faithTable()->isVisible());
    EXPECT_EQ(d->faithTable()->model()->rowCount(), 0);
    EXPECT_TRUE(chart(EvalDashboard::Deletion)->series().isEmpty());
    // Back with metrics: the view returns.
    d->showEvaluation(evaluationWithMetrics());
    EXPECT_TRUE(d->faithMessage().isEmpty());
    EXPECT_TRUE(d->faithTable()->isVisible());
}

TEST_F(FaithfulnessDashboard, TheMetricChoiceIsRememberedAndReachesANewRun) {
    EXPECT_EQ(d->metricList(), "");
    EXPECT_FALSE(d->newRunOptions().metrics.any());
    d->setMetricList("sanity,deletion,bogus");
    EXPECT_EQ(d->metricList(), "deletion,sanity");
    EXPECT_EQ(QSettings().value("eval/metrics").toString(), "deletion,sanity");
    EvalOptions o = d->newRunOptions();
    EXPECT_TRUE(o.metrics.deletion);
    EXPECT_TRUE(o.metrics.sanity);
    EXPECT_FALSE(o.metrics.insertion);
    EXPECT_FALSE(o.metrics.road);
    // Through the menu, as a user does.
    auto* button = d->findChild<QToolButton*>("evalMetricsButton");
    ASSERT_NE(button, nullptr);
    EXPECT_TRUE(button->toolTip().contains("forward passes"));
    for (QAction* a : button->menu()->actions())
        if (a->data().toString() == "road") a->trigger();
    EXPECT_EQ(QSettings().value("eval/metrics").toString(), "deletion,road,sanity");
    EXPECT_TRUE(d->newRunOptions().metrics.road);
    // A new dashboard starts with the remembered choice.
    EvalDashboard again;
    EXPECT_EQ(again.metricList(), "deletion,road,sanity");
    EXPECT_TRUE(again.newRunOptions().metrics.sanity);
}

TEST_F(FaithfulnessDashboard, ChartsSaveUnderTheirOwnNames) {
    EXPECT_EQ(d->defaultChartFileName(EvalDashboard::Deletion), "deletion-test.png");
    EXPECT_EQ(d->defaultChartFileName(EvalDashboard::Sanity), "sanity-test.png");
    test::TempDir out;
    QString error;
    const QString svg = QString::fromStdString((out / "del.svg").string());
    ASSERT_TRUE(saveChart(d->chartView(EvalDashboard::Deletion), svg, 0, &error))
        << error.toStdString();
    EXPECT_NE(test::slurp(out / "del.svg").find("Deletion"), std::string::npos);
}

}  // namespace
}  // namespace camx::ui
