// The evaluation dashboard and grid export, offscreen, on 21 demo images: the dashboard's numbers
// are core's, its results survive a restart, clicks lead to the right images, charts export.
#include <gtest/gtest.h>

#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QImage>
#include <QListView>
#include <QScatterSeries>
#include <QSignalSpy>
#include <QTableView>
#include <QTest>

#include "../core/test_support.h"
#include "browser/browser_panel.h"
#include "charts/eval_charts.h"
#include "dashboard/eval_dashboard.h"
#include "explain/model_session.h"
#include "main_window.h"
#include "ui_test_support.h"

namespace camx::ui {
namespace {
namespace fs = std::filesystem;

class Dashboard : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        s_dir = new test::TempDir();
        test::makeSmallDemo(s_dir->path() / "demo", 4, 7, 3, 31);  // 21 test images
        test::trainTinyModel(s_dir->path() / "demo", s_dir->path() / "model");
    }
    static void TearDownTestSuite() { delete s_dir; }

    void SetUp() override {
        // Each test starts without saved results.
        fs::remove_all(evaluationDirFor(modelFile(), SplitKind::Test));
        window = std::make_unique<MainWindow>();
        openDatasetAndModelForTest(*window, s_dir->path() / "demo", modelFile());
    }
    static fs::path modelFile() { return s_dir->path() / "model" / "best.ckpt"; }

    // Runs the dashboard's evaluation of the first `limit` images to the end.
    void evaluate(std::size_t limit) {
        EvalDashboard* d = window->dashboard();
        QSignalSpy done(d, &EvalDashboard::finished);
        d->startEvaluation(limit);
        EXPECT_TRUE(d->isRunning());
        ASSERT_TRUE(done.wait(60000));
        ASSERT_FALSE(done.at(0).at(0).toBool()) << d->message().toStdString();
    }

    static test::TempDir* s_dir;
    std::unique_ptr<MainWindow> window;
};
test::TempDir* Dashboard::s_dir = nullptr;

// A model switch while an evaluation runs: the GUI thread does not wait for it, nothing of it is
// stored under the new model, and it says what became of it.
TEST_F(Dashboard, ASwitchDuringARunNeitherWaitsNorStoresTheOldRun) {
    EvalDashboard* d = window->dashboard();
    QSignalSpy done(d, &EvalDashboard::finished);
    d->startEvaluation(0);
    ASSERT_TRUE(d->isRunning());
    // Another model (the same file opened again is another session) for the same split.
    auto other = std::shared_ptr<ModelSession>(ModelSession::open(modelFile()));
    d->setContext(other, window->dataset(), SplitKind::Test);
    ASSERT_TRUE(done.wait(60000));
    EXPECT_TRUE(done.at(0).at(0).toBool());  // the old run counts as stopped
    EXPECT_EQ(d->results(), nullptr);        // and nothing of it is shown for the new context
    EXPECT_NE(d->message().indexOf(QStringLiteral("stopped by the switch")), -1)
        << d->message().toStdString();
    // The new context evaluates normally, and resumes what the old run had finished.
    QSignalSpy again(d, &EvalDashboard::finished);
    d->startEvaluation(0);
    ASSERT_TRUE(again.wait(60000));
    ASSERT_FALSE(again.at(0).at(0).toBool()) << d->message().toStdString();
    ASSERT_NE(d->results(), nullptr);
    EXPECT_EQ(d->results()->records.size(), 21u);
}

TEST_F(Dashboard, NumbersMatchCoreAndSurviveARestart) {
    evaluate(20);
    EvalDashboard* d = window->dashboard();
    const SavedEvaluation* shown = d->results();
    ASSERT_NE(shown, nullptr);
    ASSERT_EQ(shown->records.size(), 20u);
    EXPECT_TRUE(fs::exists(d->resultsDir() / "records.jsonl"));
    EXPECT_EQ(d->resultsDir().parent_path(), modelFile().parent_path());  // next to the model

    // Core's own evaluation of the same images, elsewhere.
    auto model = ModelSession::open(modelFile());
    test::TempDir other;
    EvalOptions o;
    o.limit = 20;
    o.sweep = EvalOptions::defaultSweep(0.05f);
    const EvalResult core = evaluateSplit(*model, window->dataset()->test, o, other.path());
    EXPECT_DOUBLE_EQ(shown->summary.top1, core.summary.top1);
    ASSERT_EQ(shown->summary.methods.size(), core.summary.methods.size());
    for (std::size_t m = 0; m < core.summary.methods.size(); ++m) {
        const auto &a = shown->summary.methods[m], &b = core.summary.methods[m];
        EXPECT_EQ(a.method, b.method);
        EXPECT_NEAR(a.meanIou, b.meanIou, 1e-6);
        EXPECT_NEAR(a.maxBoxAcc, b.maxBoxAcc, 1e-12);
        EXPECT_NEAR(a.maxBoxAccV2, b.maxBoxAccV2, 1e-12);
        EXPECT_EQ(a.sweepCurve, b.sweepCurve);
    }

    // The histogram's bars are the per-image IoUs binned; each method has a bar set.
    auto* hist = d->chartView(EvalDashboard::Histogram)->chart();
    ASSERT_EQ(hist->series().size(), 1);
    auto* bars = qobject_cast<QBarSeries*>(hist->series().at(0));
    ASSERT_NE(bars, nullptr);
    ASSERT_EQ(bars->count(), 2);  // CAM and Grad-CAM
    for (int s = 0; s < 2; ++s) {
        const Method method = s == 0 ? Method::Cam : Method::GradCam;
        const auto counts = iouHistogram(core.records, method, model->info().lastBlockTap);
        double total = 0;
        for (int b = 0; b < kIouBins; ++b) {
            EXPECT_EQ(bars->barSets().at(s)->at(b), counts[static_cast<std::size_t>(b)]);
            total += bars->barSets().at(s)->at(b);
        }
        EXPECT_EQ(total, 20);
    }
    // The sweep chart marks MaxBoxAcc at its threshold.
    bool named = false, marked = false;
    const MethodSummary& gradCam = core.summary.methods[1];
    for (auto* series : d->chartView(EvalDashboard::Sweep)->chart()->series()) {
        if (series->name().contains(QString::number(gradCam.maxBoxAcc, 'f', 3))) named = true;
        if (auto* dots = qobject_cast<QScatterSeries*>(series))
            if (dots->count() == 1 && std::abs(dots->at(0).x() - gradCam.maxBoxAccTau) < 1e-6 &&
                std::abs(dots->at(0).y() - gradCam.maxBoxAcc) < 1e-9)
                marked = true;
    }
    EXPECT_TRUE(named);
    EXPECT_TRUE(marked);

    // The per-breed table: one row per breed, sortable, numbers from core.
    QTableView* table = d->breedTable();
    ASSERT_EQ(table->model()->rowCount(), 3);
    table->sortByColumn(2, Qt::AscendingOrder);  // CAM mean IoU
    double previous = -1;
    for (int r = 0; r < 3; ++r) {
        const double v = table->model()->index(r, 2).data().toString().toDouble();
        EXPECT_GE(v, previous);
        previous = v;
    }

    // A restart reloads the saved results.
    auto again = std::make_unique<MainWindow>();
    openDatasetAndModelForTest(*again, s_dir->path() / "demo", modelFile());
    if (HasFatalFailure()) return;
    // Read in the background.
    ASSERT_TRUE(QTest::qWaitFor([&] { return again->dashboard()->results() != nullptr; }, 20000));
    EXPECT_EQ(again->dashboard()->results()->records.size(), 20u);
    EXPECT_NEAR(again->dashboard()->results()->summary.methods[1].meanIou,
                core.summary.methods[1].meanIou, 1e-6);
}

TEST_F(Dashboard, ClicksOpenTheMatchingImagesInTheExplorer) {
    evaluate(20);
    EvalDashboard* d = window->dashboard();
    // A histogram bar: the browser shows exactly that bin's images.
    auto* bars =
        qobject_cast<QBarSeries*>(d->chartView(EvalDashboard::Histogram)->chart()->series().at(0));
    int bin = 0;
    while (bin < kIouBins && bars->barSets().at(1)->at(bin) == 0) ++bin;
    ASSERT_LT(bin, kIouBins);
    QSignalSpy spy(d, &EvalDashboard::showImages);
    Q_EMIT bars->clicked(bin, bars->barSets().at(1));
    ASSERT_EQ(spy.count(), 1);
    const auto rows = d->rowsInBin(1, bin);
    EXPECT_EQ(static_cast<double>(rows.size()), bars->barSets().at(1)->at(bin));
    std::vector<int> visible = window->browser()->visibleSourceRows();
    std::sort(visible.begin(), visible.end());
    EXPECT_EQ(visible, rows);
    for (int r : rows) {
        const auto& rec = d->results()->records[static_cast<std::size_t>(r)];
        EXPECT_EQ(iouBin(rec.find(Method::GradCam, window->model()->info().lastBlockTap)->iou),
                  bin);
    }
    window->browser()->clearShowOnly();
    EXPECT_EQ(window->browser()->visibleSourceRows().size(), 21u);

    // A breed row: the browser filters to that breed.
    QTableView* table = d->breedTable();
    const QModelIndex cell = table->model()->index(1, 0);
    QSignalSpy breed(d, &EvalDashboard::showBreed);
    Q_EMIT table->clicked(cell);
    ASSERT_EQ(breed.count(), 1);
    const int label = breed.at(0).at(0).toInt();
    const auto shownRows = window->browser()->visibleSourceRows();
    EXPECT_EQ(shownRows.size(), 7u);
    for (int r : shownRows)
        EXPECT_EQ(window->dataset()->test.samples[static_cast<std::size_t>(r)].label, label);
}

TEST_F(Dashboard, CancelKeepsWorkAndTheNextRunResumes) {
    EvalDashboard* d = window->dashboard();
    QSignalSpy done(d, &EvalDashboard::finished);
    d->startEvaluation(0);
    d->cancel();
    ASSERT_TRUE(done.wait(60000));
    EXPECT_TRUE(done.at(0).at(0).toBool());
    EXPECT_EQ(d->results(), nullptr);
    EXPECT_FALSE(fs::exists(d->resultsDir() / "records.jsonl"));
    evaluate(0);
    ASSERT_NE(d->results(), nullptr);
    EXPECT_EQ(d->results()->records.size(), 21u);
}

TEST_F(Dashboard, ChartsAndGridFiguresExport) {
    evaluate(20);
    EvalDashboard* d = window->dashboard();
    d->resize(1200, 800);
    d->show();
    test::TempDir out;
    auto path = [&](const char* n) { return QString::fromStdString((out / n).string()); };
    QString error;
    ASSERT_TRUE(saveChart(d->chartView(EvalDashboard::Sweep), path("sweep.png"), 1000, &error))
        << error.toStdString();
    EXPECT_EQ(QImage(path("sweep.png")).width(), 1000);
    ASSERT_TRUE(saveChart(d->chartView(EvalDashboard::Histogram), path("hist.svg"), 0, &error));
    EXPECT_GT(test::svgElementCount(out / "hist.svg"), 20);

    // The 4 worst images by Grad-CAM IoU, as a PDF grid, in the background.
    GridExportRequest req;
    req.count = 4;
    req.file = path("worst.pdf");
    QSignalSpy exported(window.get(), &MainWindow::gridExported);
    ASSERT_TRUE(window->startGridExport(req, &error)) << error.toStdString();
    ASSERT_TRUE(exported.wait(60000));
    EXPECT_EQ(exported.at(0).at(1).toString(), QString());
    EXPECT_EQ(test::pdfPageCount(test::slurp(out / "worst.pdf")), 1);
    // A hand selection as a PNG at a chosen width.
    QListView* view = window->browser()->view();
    view->selectionModel()->clearSelection();
    for (int r : {0, 2, 5})
        view->selectionModel()->select(view->model()->index(r, 0), QItemSelectionModel::Select);
    req.source = GridExportRequest::Source::Selected;
    req.file = path("picked.png");
    req.options.widthPx = 1500;
    req.columns = 3;
    ASSERT_TRUE(window->startGridExport(req, &error)) << error.toStdString();
    ASSERT_TRUE(exported.wait(60000));
    EXPECT_EQ(exported.at(1).at(1).toString(), QString());
    EXPECT_EQ(QImage(path("picked.png")).width(), 1500);
    // Refused clearly: a bad suffix.
    req.file = path("grid.gif");
    EXPECT_FALSE(window->startGridExport(req, &error));
    EXPECT_TRUE(error.contains("grid.gif"));
}

}  // namespace
}  // namespace camx::ui
