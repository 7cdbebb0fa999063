// The explorer's per-image faithfulness curves and its sanity check, on a tiny trained model:
// the curves under the panels are core's scoreMetrics for the map shown (exact), a new image
// supersedes a curve still computing, the sanity dialog has a thumbnail per cascade step in the
// cascade's order with the similarities core computes from explainRandomized's maps, and Cancel
// stops it without an outcome.
#include <gtest/gtest.h>

#include <QAction>
#include <QComboBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QTest>
#include <cmath>

#include "../core/test_support.h"
#include "data/image_io.h"
#include "eval/metric_eval.h"
#include "explain/model_session.h"
#include "explain/postprocess.h"
#include "explorer/explain_controller.h"
#include "explorer/explorer_metrics.h"
#include "explorer/explorer_view.h"
#include "explorer/faithfulness_chart.h"
#include "explorer/sanity_dialog.h"
#include "figures/comparison_figure.h"
#include "metrics/similarity.h"
#include "ui_test_support.h"

namespace camx::ui {
namespace {

// What core gives for the map panel `panel` shows, computed here from the pieces the evaluation
// uses (not through the explorer's helpers).
struct Oracle {
    std::vector<float> deletion, insertion;
    double deletionAuc = 0, insertionAuc = 0;
};

std::vector<float> inputOf(const cv::Mat& photo, const ModelInfo& info) {
    const int S = info.inputSize;
    std::vector<float> chw(3 * static_cast<std::size_t>(S) * S);
    toChwNormalized(resizeForModel(photo, S), info.norm, chw.data());
    return chw;
}

Heatmap asShown(const Heatmap& raw, Method m, int S) {
    return upsampleMap(normalizeMap(raw, methodUsesRelu(m)), S, S);
}

Oracle coreCurves(ModelSession& model, const ExplainResult& r, Method method, int tap) {
    const ModelInfo& info = model.info();
    const int S = info.inputSize;
    const std::vector<float> chw = inputOf(r.photo, info);
    const Heatmap* raw = r.explanation.find(method, tap);
    EXPECT_TRUE(raw);
    if (!raw) return {};
    MetricMap mm;
    mm.atInput = asShown(*raw, method, S).data;
    MetricOptions o;
    o.deletion = o.insertion = true;
    const InputClassifier classify = [&model](const float* x, int n) {
        return model.classifyPrepared(x, n);
    };
    const auto scored = scoreMetrics(classify, chw.data(), S, r.explanation.target, {mm}, {}, o);
    Oracle out;
    out.deletion = scored.at(0).deletion;
    out.insertion = scored.at(0).insertion;
    out.deletionAuc = scored.at(0).deletionAuc.value();
    out.insertionAuc = scored.at(0).insertionAuc.value();
    return out;
}

void expectSameValue(double got, double want, const std::string& what) {
    if (std::isnan(want))
        EXPECT_TRUE(std::isnan(got)) << what;
    else
        EXPECT_EQ(got, want) << what;
}

class FaithfulnessExplorer : public test::DemoSuite<2, 3, 3, 43, true> {
protected:
    void SetUp() override {
        window = std::make_unique<MainWindow>();
        QSignalSpy shown(window.get(), &MainWindow::explanationShown);
        openDatasetAndModelForTest(*window, dir() / "d", modelFile());
        if (HasFatalFailure()) return;
        ASSERT_TRUE(QTest::qWaitFor([&] { return shown.count() > 0; }, 60000))
            << window->lastError().toStdString();
    }
    void TearDown() override {
        if (window) window->explorer()->setCurvesShown(false);  // not remembered for others
        window.reset();
    }
    ExplorerView* view() const { return window->explorer(); }
    // Waits until panel i shows a curve for the image shown now.
    bool waitCurve(int i) {
        return QTest::qWaitFor(
            [&] {
                CurveRequest want;
                return view()->result() && view()->panelRequest(i, &want) &&
                       view()->curveChart(i)->hasCurve();
            },
            60000);
    }
    void checkAgainstCore(int i) {
        CurveRequest shown;
        ASSERT_TRUE(view()->panelRequest(i, &shown));
        const FaithfulnessChart* chart = view()->curveChart(i);
        const Oracle want =
            coreCurves(*window->model(), *view()->result(), shown.method, shown.tap);
        const int steps = MetricOptions{}.steps;
        const auto del = chart->deletionPoints();
        const auto ins = chart->insertionPoints();
        ASSERT_EQ(del.size(), static_cast<std::size_t>(steps + 1));
        ASSERT_EQ(ins.size(), static_cast<std::size_t>(steps + 1));
        ASSERT_EQ(want.deletion.size(), del.size());
        for (std::size_t k = 0; k < del.size(); ++k) {
            EXPECT_DOUBLE_EQ(del[k].x(), static_cast<double>(k) / steps);
            EXPECT_EQ(del[k].y(), static_cast<double>(want.deletion[k])) << "deletion " << k;
            EXPECT_EQ(ins[k].y(), static_cast<double>(want.insertion[k])) << "insertion " << k;
        }
        EXPECT_EQ(chart->deletionAuc(), want.deletionAuc);
        EXPECT_EQ(chart->insertionAuc(), want.insertionAuc);
        EXPECT_TRUE(chart->legendText().contains(QString::number(want.deletionAuc, 'f', 3)))
            << chart->legendText().toStdString();
        EXPECT_TRUE(chart->title().startsWith(QStringLiteral("Probability of")))
            << chart->title().toStdString();
    }

    std::unique_ptr<MainWindow> window;
};

TEST_F(FaithfulnessExplorer, CurvesUnderThePanelsAreCoresScoreMetricsAndFollowTheImage) {
    EXPECT_FALSE(view()->curveChart(0)->isVisible());
    view()->setCurvesShown(true);
    EXPECT_TRUE(view()->curveChart(0)->isVisible());
    for (int i = 0; i < view()->panelCount(); ++i) {
        ASSERT_TRUE(waitCurve(i)) << "panel " << i << ": "
                                  << view()->curveChart(i)->message().toStdString();
        checkAgainstCore(i);
    }
    // Another image: the old curves go at once, the new image's come.
    const QString before = view()->result()->key.path;
    QSignalSpy shown(window.get(), &MainWindow::explanationShown);
    window->findChild<QAction*>(QStringLiteral("nextImageAction"))->trigger();
    EXPECT_FALSE(view()->curveChart(0)->hasCurve());
    ASSERT_TRUE(QTest::qWaitFor(
        [&] { return view()->result() && view()->result()->key.path != before; }, 60000));
    ASSERT_TRUE(waitCurve(1));
    checkAgainstCore(1);
    // Another method in a panel: its curve is for that method.
    auto* combo = view()->findChild<QComboBox*>(QStringLiteral("method1"));
    ASSERT_TRUE(combo);
    combo->setCurrentIndex(combo->findData(static_cast<int>(Method::LayerCam)));
    EXPECT_FALSE(view()->curveChart(1)->hasCurve());
    ASSERT_TRUE(waitCurve(1));
    CurveRequest now;
    ASSERT_TRUE(view()->panelRequest(1, &now));
    EXPECT_EQ(now.method, Method::LayerCam);
    checkAgainstCore(1);
    // Save Figure / Copy: each panel's picture carries the curves shown under it.
    const ComparisonFigure f = view()->figure();
    ASSERT_EQ(f.panels.size(), 1u + static_cast<std::size_t>(view()->panelCount()));
    EXPECT_TRUE(f.panels[0].curves.empty());  // the photo
    const auto ins = view()->curveChart(1)->insertionPoints();
    ASSERT_EQ(f.panels[2].curves.insertion.size(), ins.size());
    for (std::size_t k = 0; k < ins.size(); ++k)
        EXPECT_EQ(static_cast<double>(f.panels[2].curves.insertion[k]), ins[k].y());
    EXPECT_EQ(f.panels[2].curves.deletionAuc, view()->curveChart(1)->deletionAuc());
    view()->setCurvesShown(false);  // off: a figure without them
    EXPECT_FALSE(hasCurves(view()->figure()));
}

TEST_F(FaithfulnessExplorer, SanityDialogHasAThumbnailPerCascadeStepWithCoresSimilarities) {
    ModelSession& model = *window->model();
    const auto cascade = model.randomizationCascade();
    ASSERT_GE(cascade.size(), 3u);
    for (int panel : {0, 1}) {  // CAM at its layer, Grad-CAM at the layer shown
        CurveRequest shown;
        ASSERT_TRUE(view()->panelRequest(panel, &shown));
        ASSERT_TRUE(window->startSanityCheck(panel));
        SanityDialog* dialog = window->sanityDialog();
        ASSERT_TRUE(dialog);
        EXPECT_TRUE(dialog->running());
        ASSERT_TRUE(QTest::qWaitFor([&] { return !dialog->running(); }, 120000));
        ASSERT_TRUE(dialog->outcome()) << dialog->statusText().toStdString();
        ASSERT_EQ(dialog->thumbnailCount(), static_cast<int>(cascade.size()));
        ASSERT_EQ(dialog->strip()->cells().size(), cascade.size() + 1);
        QStringList labels;
        for (const auto& s : cascade) labels << QString::fromStdString(s.label);
        EXPECT_EQ(dialog->stepLabels(), labels);
        EXPECT_EQ(labels.front(), QStringLiteral("fc"));
        EXPECT_EQ(labels.back(), QStringLiteral("stem"));

        // The similarities, from explainRandomized's maps directly.
        const auto base = window->controller()->cached(shown.image);
        ASSERT_TRUE(base);
        const int S = model.info().inputSize;
        const std::vector<float> chw = inputOf(base->photo, model.info());
        SanityOptions so;
        so.explain.methods = {shown.method};
        so.explain.taps = {shown.tap};
        so.explain.score = shown.image.score;
        const SanityResult sr =
            model.explainRandomized(chw.data(), 1, {base->explanation.target}, so);
        ASSERT_EQ(sr.steps.size(), cascade.size());
        const Heatmap original =
            asShown(*sr.original.at(0).find(shown.method, shown.tap), shown.method, S);
        ASSERT_EQ(dialog->spearman().size(), cascade.size());
        ASSERT_EQ(dialog->ssim().size(), cascade.size());
        for (std::size_t k = 0; k < sr.steps.size(); ++k) {
            const Heatmap* raw = sr.steps[k].explanations.at(0).find(shown.method, shown.tap);
            ASSERT_TRUE(raw);
            const Heatmap step = asShown(*raw, shown.method, S);
            expectSameValue(dialog->spearman()[k], spearmanCorrelation(original, step),
                            "spearman " + sr.steps[k].step.label);
            expectSameValue(dialog->ssim()[k], ssim(original, step),
                            "ssim " + sr.steps[k].step.label);
        }
        // The strip saves.
        const test::TempDir out;
        const QString png = QString::fromStdString((out.path() / "strip.png").string());
        ASSERT_TRUE(dialog->savePng(png));
        const QImage saved(png);
        EXPECT_FALSE(saved.isNull());
        EXPECT_GT(saved.width(), 6 * 160);
    }
}

TEST_F(FaithfulnessExplorer, SanityCheckCancelStopsWithoutAnOutcome) {
    QSignalSpy ready(window->controller(), &ExplainController::sanityReady);
    QSignalSpy busy(window->controller(), &ExplainController::busyChanged);
    ASSERT_TRUE(window->startSanityCheck(1));
    SanityDialog* dialog = window->sanityDialog();
    ASSERT_TRUE(dialog && dialog->running());
    ASSERT_TRUE(dialog->cancelButton()->isVisible());
    dialog->cancelButton()->click();
    EXPECT_FALSE(dialog->running());
    EXPECT_FALSE(window->controller()->sanityRunning());
    EXPECT_EQ(dialog->statusText(), QStringLiteral("Cancelled"));
    // The worker winds down and nothing comes of it.
    ASSERT_TRUE(
        QTest::qWaitFor([&] { return !busy.isEmpty() && !busy.last().at(0).toBool(); }, 120000));
    QTest::qWait(0);
    EXPECT_EQ(ready.count(), 0);
    EXPECT_FALSE(dialog->outcome());
    EXPECT_EQ(dialog->thumbnailCount(), 0);
    // A check asked for again runs to the end.
    ASSERT_TRUE(window->startSanityCheck(1));
    ASSERT_TRUE(ready.wait(120000));
    EXPECT_EQ(dialog->thumbnailCount(),
              static_cast<int>(window->model()->randomizationCascade().size()));
}

// The controller alone: a curve still computing when another image is asked for is never
// announced; one that is not superseded is.
class FaithfulnessController : public test::DemoSuite<2, 3, 3, 47, true> {
protected:
    static QString image(std::size_t i) {
        return QString::fromStdString(s_ds->test.samples.at(i).imagePath.string());
    }
};

TEST_F(FaithfulnessController, AnotherImageSupersedesACurveAndCancelledSanityIsNotAnnounced) {
    ExplainController c;
    QSignalSpy ready(&c, &ExplainController::ready);
    QSignalSpy curves(&c, &ExplainController::curveReady);
    QSignalSpy busy(&c, &ExplainController::busyChanged);
    QSignalSpy sanity(&c, &ExplainController::sanityReady);
    QSignalSpy stopped(&c, &ExplainController::sanityStopped);
    auto model = std::shared_ptr<ModelSession>(ModelSession::open(modelFile()));
    c.setModel(model);
    const ExplainKey a{image(0), -1, ScoreKind::Logit}, b{image(1), -1, ScoreKind::Logit};
    c.request(a);
    ASSERT_TRUE(ready.wait(60000));
    const int tap = model->info().lastBlockTap;
    c.requestCurve({a, Method::GradCam, tap, 0});
    c.request(b);  // no event in between: the curve is queued, running or done but not delivered
    ASSERT_TRUE(
        QTest::qWaitFor([&] { return !busy.isEmpty() && !busy.last().at(0).toBool(); }, 120000));
    EXPECT_EQ(curves.count(), 0) << "a superseded curve was announced";
    // The same request for the image now shown comes back, for it.
    c.requestCurve({b, Method::GradCam, tap, 0});
    ASSERT_TRUE(curves.wait(120000));
    const auto r = curves.last().at(0).value<std::shared_ptr<const CurveResult>>();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->request.image, b);
    EXPECT_TRUE(r->error.isEmpty()) << r->error.toStdString();
    EXPECT_EQ(r->deletion.size(), static_cast<std::size_t>(MetricOptions{}.steps + 1));
    // A newer request for the same panel supersedes the older.
    curves.clear();
    c.requestCurve({b, Method::GradCam, tap, 0});
    c.requestCurve({b, Method::LayerCam, tap, 0});
    ASSERT_TRUE(curves.wait(120000));
    QTest::qWait(0);
    ASSERT_TRUE(
        QTest::qWaitFor([&] { return !busy.isEmpty() && !busy.last().at(0).toBool(); }, 120000));
    ASSERT_EQ(curves.count(), 1);
    EXPECT_EQ(curves.last().at(0).value<std::shared_ptr<const CurveResult>>()->request.method,
              Method::LayerCam);
    // Sanity: cancelled before its completion is delivered, never announced.
    c.requestSanity({b, Method::GradCam, tap});
    c.cancelSanity();
    ASSERT_EQ(stopped.count(), 1);
    ASSERT_TRUE(
        QTest::qWaitFor([&] { return !busy.isEmpty() && !busy.last().at(0).toBool(); }, 120000));
    EXPECT_EQ(sanity.count(), 0);
    EXPECT_EQ(stopped.count(), 1);
}

}  // namespace
}  // namespace camx::ui
