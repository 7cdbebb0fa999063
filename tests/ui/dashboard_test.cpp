// The evaluation dashboard and grid export, offscreen, on 21 demo images: the dashboard's numbers
// are core's, its results survive a restart, clicks lead to the right images, charts export; it
// follows the workspace (model, split, τ) and says what becomes of a run a switch stops.
#include <gtest/gtest.h>

#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QHeaderView>
#include <QImage>
#include <QLabel>
#include <QLineSeries>
#include <QListView>
#include <QProgressBar>
#include <QPushButton>
#include <QScatterSeries>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTableView>
#include <QTest>
#include <chrono>
#include <thread>

#include "../core/test_support.h"
#include "background_job.h"
#include "browser/browser_panel.h"
#include "charts/eval_charts.h"
#include "dashboard/eval_dashboard.h"
#include "explain/model_session.h"
#include "main_window.h"
#include "ui_test_support.h"
#include "workspace.h"

namespace camx::ui {
namespace {
namespace fs = std::filesystem;

// A workspace and a dashboard following it, without the main window (the dashboard goes first).
struct Standalone {
    Workspace workspace;
    EvalDashboard dashboard;
};

class Dashboard : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        s_dir = new test::TempDir();
        test::makeSmallDemo(s_dir->path() / "demo", 4, 7, 3, 31);  // 21 test images
        test::trainTinyModel(s_dir->path() / "demo", s_dir->path() / "model");
        s_dataset = new std::shared_ptr<const Dataset>(
            std::make_shared<const Dataset>(openStanfordDogs(s_dir->path() / "demo")));
        // A second model (a copy: another file, so another results folder) with a saved
        // evaluation of its first 5 test images.
        fs::create_directories(otherModelFile().parent_path());
        fs::copy_file(modelFile(), otherModelFile());
        auto other = ModelSession::open(otherModelFile());
        EvalOptions o;
        o.limit = 5;
        o.sweep = EvalOptions::defaultSweep(0.05f);
        evaluateSplit(*other, (*s_dataset)->test, o,
                      evaluationDirFor(otherModelFile(), SplitKind::Test));
    }
    static void TearDownTestSuite() {
        delete s_dataset;
        delete s_dir;
    }

    void SetUp() override {
        // Each test starts without saved results of the first model.
        fs::remove_all(evaluationDirFor(modelFile(), SplitKind::Test));
        fs::remove_all(evaluationDirFor(modelFile(), SplitKind::Train));
    }
    static fs::path modelFile() { return s_dir->path() / "model" / "best.ckpt"; }
    static fs::path otherModelFile() { return s_dir->path() / "other" / "best.ckpt"; }
    static std::shared_ptr<ModelSession> openModel(const fs::path& file) {
        return std::shared_ptr<ModelSession>(ModelSession::open(file));
    }

    static std::unique_ptr<Standalone> standalone() {
        auto s = std::make_unique<Standalone>();
        s->workspace.setDataset(*s_dataset);
        s->workspace.setModel(openModel(modelFile()));
        s->dashboard.setWorkspace(&s->workspace);
        return s;
    }
    void openWindow() {
        window = std::make_unique<MainWindow>();
        openDatasetAndModelForTest(*window, s_dir->path() / "demo", modelFile());
    }

    // Runs the dashboard's evaluation of the first `limit` images to the end.
    static void evaluate(EvalDashboard* d, std::size_t limit) {
        QSignalSpy done(d, &EvalDashboard::finished);
        d->startEvaluation(limit);
        ASSERT_TRUE(d->isRunning()) << d->message().toStdString();
        ASSERT_TRUE(done.wait(60000));
        ASSERT_FALSE(done.at(0).at(0).toBool()) << d->message().toStdString();
    }
    static bool waitFor(const std::function<bool()>& condition) {
        return QTest::qWaitFor(condition, 60000);
    }
    static QString dirText(const fs::path& p) {
        return QDir::toNativeSeparators(QString::fromStdString(p.string()));
    }

    static test::TempDir* s_dir;
    static std::shared_ptr<const Dataset>* s_dataset;
    std::unique_ptr<MainWindow> window;
};
test::TempDir* Dashboard::s_dir = nullptr;
std::shared_ptr<const Dataset>* Dashboard::s_dataset = nullptr;

// A model switch while an evaluation runs: the GUI thread does not wait for it, the dashboard is
// idle at once, nothing of the old run is shown or stored under the new model, whose saved
// evaluation does load, and the status says what became of the old run.
TEST_F(Dashboard, ASwitchDuringARunNeitherWaitsNorStoresTheOldRun) {
    auto s = standalone();
    EvalDashboard* d = &s->dashboard;
    std::vector<std::size_t> handedOver;  // every evaluation the workspace was given
    QObject::connect(&s->workspace, &Workspace::evaluationChanged, [&] {
        if (auto ev = s->workspace.evaluation()) handedOver.push_back(ev->records.size());
    });
    QSignalSpy done(d, &EvalDashboard::finished);
    d->startEvaluation(0);
    ASSERT_TRUE(d->isRunning());
    s->workspace.setModel(openModel(otherModelFile()));
    EXPECT_FALSE(d->isRunning());  // idle at once: the old run winds down alone
    EXPECT_LT(d->progressBar()->value(), d->progressBar()->minimum());  // reset, not 34 %
    EXPECT_EQ(d->results(), nullptr);
    const QString said = d->message();
    EXPECT_TRUE(said.contains(QStringLiteral("stopped by the switch"))) << said.toStdString();
    EXPECT_TRUE(said.contains(QStringLiteral("best.ckpt"))) << said.toStdString();
    EXPECT_TRUE(said.contains(dirText(evaluationDirFor(modelFile(), SplitKind::Test))))
        << said.toStdString();

    // The new model's saved evaluation loads, and the old run's end changes nothing of it.
    ASSERT_TRUE(waitFor([&] { return d->results() != nullptr; })) << d->message().toStdString();
    EXPECT_EQ(d->results()->records.size(), 5u);
    ASSERT_TRUE(waitFor([&] { return done.count() > 0; }));
    EXPECT_TRUE(done.at(0).at(0).toBool());  // the old run counts as stopped
    QTest::qWait(0);
    ASSERT_NE(d->results(), nullptr);
    EXPECT_EQ(d->results()->records.size(), 5u);
    EXPECT_EQ(s->workspace.evaluation().get(), d->results());
    for (std::size_t n : handedOver) EXPECT_EQ(n, 5u);

    // Back on the first model: it resumes what the old run had finished.
    s->workspace.setModel(openModel(modelFile()));
    ASSERT_TRUE(waitFor([&] { return d->message().contains("interrupted evaluation"); }))
        << d->message().toStdString();
    evaluate(d, 0);
    ASSERT_NE(d->results(), nullptr);
    EXPECT_EQ(d->results()->records.size(), 21u);
    EXPECT_EQ(s->workspace.evaluation().get(), d->results());
}

// A run whose worker finished just before a switch, with its report still queued: it is not
// shown or stored under the new context, and the new context's saved evaluation still loads.
TEST_F(Dashboard, ARunThatFinishedJustBeforeASwitchIsNotStoredUnderTheNewContext) {
    auto s = standalone();
    EvalDashboard* d = &s->dashboard;
    std::vector<std::size_t> handedOver;
    QObject::connect(&s->workspace, &Workspace::evaluationChanged, [&] {
        if (auto ev = s->workspace.evaluation()) handedOver.push_back(ev->records.size());
    });
    QSignalSpy done(d, &EvalDashboard::finished);
    d->startEvaluation(3);
    // Without letting the event loop run: wait for the worker to write its results.
    const fs::path written = evaluationDirFor(modelFile(), SplitKind::Test) / kRecordsFile;
    for (int i = 0; i < 6000 && !fs::exists(written); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_TRUE(fs::exists(written));
    s->workspace.setModel(openModel(otherModelFile()));
    ASSERT_TRUE(waitFor([&] { return done.count() > 0 && d->results() != nullptr; }));
    EXPECT_TRUE(done.at(0).at(0).toBool());
    EXPECT_EQ(d->results()->records.size(), 5u);  // the other model's, never the 3 of the old run
    for (std::size_t n : handedOver) EXPECT_EQ(n, 5u);
    EXPECT_TRUE(d->message().contains("finished just before the switch"))
        << d->message().toStdString();
}

// After a switch every view resets: progress, charts, table; and the status names the folder the
// stopped run wrote to (the test split's), not the new split's.
TEST_F(Dashboard, ASplitSwitchResetsEveryViewAndNamesTheRightFolder) {
    auto s = standalone();
    EvalDashboard* d = &s->dashboard;
    evaluate(d, 5);
    ASSERT_NE(d->results(), nullptr);
    EXPECT_EQ(d->progressBar()->value(), d->progressBar()->maximum());
    EXPECT_GT(d->breedTable()->model()->rowCount(), 0);
    QSignalSpy done(d, &EvalDashboard::finished);
    d->startEvaluation(0);
    ASSERT_TRUE(d->isRunning());
    s->workspace.setSplit(SplitKind::Train);
    EXPECT_FALSE(d->isRunning());
    EXPECT_EQ(d->results(), nullptr);
    EXPECT_LT(d->progressBar()->value(), d->progressBar()->minimum());
    EXPECT_TRUE(d->progressBar()->text().isEmpty()) << d->progressBar()->text().toStdString();
    EXPECT_EQ(d->breedTable()->model()->rowCount(), 0);
    for (int i = 0; i < EvalDashboard::ChartCount; ++i)
        EXPECT_TRUE(d->chartView(EvalDashboard::ChartId(i))->chart()->series().isEmpty()) << i;
    const QString said = d->message();
    EXPECT_TRUE(said.contains(dirText(evaluationDirFor(modelFile(), SplitKind::Test))))
        << said.toStdString();
    EXPECT_FALSE(said.contains(QStringLiteral("best.eval-train"))) << said.toStdString();
    EXPECT_TRUE(said.contains(QStringLiteral("test split"))) << said.toStdString();
    ASSERT_TRUE(waitFor([&] { return done.count() > 0; }));
}

// Back on a split with an interrupted run: the dashboard says so instead of "No saved
// evaluation", and Evaluate resumes it.
TEST_F(Dashboard, BackOnASplitItSaysAnInterruptedRunIsKept) {
    auto s = standalone();
    EvalDashboard* d = &s->dashboard;
    QSignalSpy done(d, &EvalDashboard::finished);
    d->startEvaluation(0);
    s->workspace.setSplit(SplitKind::Train);
    ASSERT_TRUE(waitFor([&] { return done.count() > 0; }));
    ASSERT_TRUE(fs::exists(evaluationDirFor(modelFile(), SplitKind::Test) / "eval_partial.jsonl"));
    s->workspace.setSplit(SplitKind::Test);
    ASSERT_TRUE(waitFor([&] { return d->message().contains("interrupted evaluation"); }))
        << d->message().toStdString();
    EXPECT_FALSE(d->message().contains("No saved evaluation")) << d->message().toStdString();
    EXPECT_TRUE(d->message().contains("eval_partial.jsonl")) << d->message().toStdString();
    EXPECT_TRUE(d->message().contains("of 21 images")) << d->message().toStdString();
    EXPECT_TRUE(d->findChild<QPushButton*>("evalRunButton")->isEnabled());
    evaluate(d, 0);
    EXPECT_EQ(d->results()->records.size(), 21u);
    EXPECT_FALSE(fs::exists(evaluationDirFor(modelFile(), SplitKind::Test) / "eval_partial.jsonl"));
}

// A new evaluation runs at the explorer's τ and says so; moving τ marks it stale.
TEST_F(Dashboard, EvaluatesAtTheExplorersThresholdAndMarksItStaleWhenItMoves) {
    auto s = standalone();
    EvalDashboard* d = &s->dashboard;
    d->show();
    s->workspace.setThreshold(0.3);
    auto* settings = d->findChild<QLabel*>("evalSettings");
    auto* stale = d->findChild<QLabel*>("evalStale");
    ASSERT_NE(settings, nullptr);
    ASSERT_NE(stale, nullptr);
    EXPECT_TRUE(settings->text().contains(QStringLiteral("τ 0.30")))
        << settings->text().toStdString();
    evaluate(d, 4);
    ASSERT_NE(d->results(), nullptr);
    EXPECT_NEAR(d->results()->options.tau, 0.3, 1e-6);
    EXPECT_NEAR(s->workspace.evaluation()->options.tau, 0.3, 1e-6);
    // Saved with it: a reload reads the same τ.
    std::vector<std::string> taps;
    for (const auto& t : s->workspace.model()->info().taps) taps.push_back(t.name);
    EXPECT_NEAR(loadEvaluation(d->resultsDir(), taps).options.tau, 0.3, 1e-6);
    for (const char* part : {"τ 0.30", "largest component", "logit"}) {
        EXPECT_TRUE(d->evaluationSettings().contains(QString::fromUtf8(part))) << part;
        EXPECT_TRUE(settings->text().contains(QString::fromUtf8(part))) << part;
    }
    EXPECT_FALSE(d->isStale());
    EXPECT_FALSE(stale->isVisible());

    s->workspace.setThreshold(0.24);
    EXPECT_TRUE(d->isStale());
    EXPECT_TRUE(stale->isVisible());
    EXPECT_TRUE(stale->text().contains(QStringLiteral("0.30"))) << stale->text().toStdString();
    EXPECT_TRUE(stale->text().contains(QStringLiteral("0.24"))) << stale->text().toStdString();
    EXPECT_TRUE(d->findChild<QPushButton*>("evalRunButton")->isEnabled());
    EXPECT_NEAR(d->results()->options.tau, 0.3, 1e-6);  // nothing re-evaluated on its own

    s->workspace.setThreshold(0.3);
    EXPECT_FALSE(d->isStale());
    EXPECT_FALSE(stale->isVisible());
    s->workspace.setThreshold(0.24);
    evaluate(d, 4);  // the user's choice: evaluate again
    EXPECT_NEAR(d->results()->options.tau, 0.24, 1e-6);
    EXPECT_FALSE(d->isStale());
}

// A breed's row and the images its click lists come from the same records, whatever the sort:
// the list always has as many images as the row counts (and as the CSV has).
TEST_F(Dashboard, ABreedClickListsExactlyTheImagesItsRowCounts) {
    auto s = standalone();
    EvalDashboard* d = &s->dashboard;
    evaluate(d, 20);
    QTableView* table = d->breedTable();
    const int n = table->model()->rowCount();
    ASSERT_EQ(n, 3);
    // Starts A→Z by breed.
    for (int r = 1; r < n; ++r)
        EXPECT_LT(table->model()->index(r - 1, 0).data().toString().compare(
                      table->model()->index(r, 0).data().toString(), Qt::CaseInsensitive),
                  0);
    table->sortByColumn(1, Qt::AscendingOrder);  // by image count
    const auto& names = s->workspace.model()->info().classNames;
    std::size_t listed = 0;
    for (int r = 0; r < n; ++r) {
        QSignalSpy spy(d, &EvalDashboard::showImages);
        Q_EMIT table->clicked(table->model()->index(r, 2));  // any cell of the row
        ASSERT_EQ(spy.count(), 1) << r;
        const auto rows = spy.at(0).at(0).value<std::vector<int>>();
        const QString breed = table->model()->index(r, 0).data().toString();
        EXPECT_EQ(static_cast<int>(rows.size()), table->model()->index(r, 1).data().toInt()) << r;
        for (int row : rows) {
            const auto& rec = *std::find_if(
                d->results()->records.begin(), d->results()->records.end(),
                [&](const ImageRecord& x) { return static_cast<int>(x.index) == row; });
            EXPECT_EQ(QString::fromStdString(names[static_cast<std::size_t>(rec.label)]), breed);
        }
        EXPECT_TRUE(spy.at(0).at(1).toString().contains(breed));
        listed += rows.size();
    }
    EXPECT_EQ(listed, 20u);
}

// Saved charts carry no interaction hints (the screen does), and are named after what they show.
TEST_F(Dashboard, ChartsAreSavedWithoutHintsUnderTheirOwnNames) {
    auto s = standalone();
    EvalDashboard* d = &s->dashboard;
    evaluate(d, 5);
    d->resize(1200, 760);
    d->show();
    EXPECT_EQ(d->defaultChartFileName(EvalDashboard::Histogram), "histogram-best-test.png");
    EXPECT_EQ(d->defaultChartFileName(EvalDashboard::IouThreshold), "iou-threshold-best-test.png");
    test::TempDir out;
    QString error;
    const QString svg = QString::fromStdString((out / "hist.svg").string());
    ASSERT_TRUE(saveChart(d->chartView(EvalDashboard::Histogram), svg, 0, &error));
    const std::string text = test::slurp(out / "hist.svg");
    EXPECT_EQ(text.find("click"), std::string::npos);
    EXPECT_NE(text.find("IoU"), std::string::npos);
    // On screen, the hint is there.
    EXPECT_TRUE(d->chartView(EvalDashboard::Histogram)->toolTip().contains("Click a bar"));
    EXPECT_TRUE(d->findChild<QLabel*>("evalHint")->isVisible());
    s->workspace.setSplit(SplitKind::Train);
    EXPECT_EQ(d->defaultChartFileName(EvalDashboard::Sweep), "sweep-best-train.png");
}

// The dashboard fits a 1280×720 screen, and its table shows every column there.
TEST_F(Dashboard, FitsASmallScreenWithEveryTableColumnInView) {
    auto s = standalone();
    EvalDashboard* d = &s->dashboard;
    evaluate(d, 20);
    const QSize min = d->minimumSizeHint().expandedTo(d->minimumSize());
    EXPECT_LE(min.width(), 1280);
    EXPECT_LE(min.height(), 720);
    d->resize(1280, 720);
    d->show();
    QTableView* table = d->breedTable();
    QCoreApplication::processEvents();
    d->resize(1300, 820);
    QCoreApplication::processEvents();
    d->resize(1280, 720);
    QCoreApplication::processEvents();
    EXPECT_EQ(table->horizontalScrollBar()->maximum(), 0)
        << "columns " << table->horizontalHeader()->length() << " in " << table->viewport()->width()
        << " sections " << [&] {
               std::string t;
               for (int c = 0; c < table->horizontalHeader()->count(); ++c)
                   t += std::to_string(table->horizontalHeader()->sectionSize(c)) + " ";
               return t;
           }();
}

TEST_F(Dashboard, NumbersMatchCoreAndSurviveARestart) {
    openWindow();
    if (HasFatalFailure()) return;
    evaluate(window->dashboard(), 20);
    EvalDashboard* d = window->dashboard();
    const SavedEvaluation* shown = d->results();
    ASSERT_NE(shown, nullptr);
    ASSERT_EQ(shown->records.size(), 20u);
    EXPECT_TRUE(fs::exists(d->resultsDir() / "records.jsonl"));
    EXPECT_EQ(d->resultsDir().parent_path(), modelFile().parent_path());  // next to the model

    // Core's own evaluation of the same images, elsewhere, at the τ the dashboard used.
    auto model = ModelSession::open(modelFile());
    test::TempDir other;
    EvalOptions o;
    o.limit = 20;
    o.sweep = EvalOptions::defaultSweep(0.05f);
    o.tau = shown->options.tau;
    const EvalResult core = evaluateSplit(*model, (*s_dataset)->test, o, other.path());
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
    openWindow();
    if (HasFatalFailure()) return;
    evaluate(window->dashboard(), 20);
    EvalDashboard* d = window->dashboard();
    const int lastTap = openModel(modelFile())->info().lastBlockTap;
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
        EXPECT_EQ(iouBin(rec.find(Method::GradCam, lastTap)->iou), bin);
    }
    window->browser()->clearShowOnly();
    EXPECT_EQ(window->browser()->visibleSourceRows().size(), 21u);

    // A breed row: the browser shows that breed's evaluated images, as many as the row counts.
    QTableView* table = d->breedTable();
    for (int r = 0; r < table->model()->rowCount(); ++r) {
        Q_EMIT table->clicked(table->model()->index(r, 0));
        std::vector<int> shownRows = window->browser()->visibleSourceRows();
        std::sort(shownRows.begin(), shownRows.end());
        ASSERT_FALSE(shownRows.empty());
        const int label =
            (*s_dataset)->test.samples[static_cast<std::size_t>(shownRows.front())].label;
        EXPECT_EQ(shownRows, d->rowsOfBreed(label));
        EXPECT_EQ(static_cast<int>(shownRows.size()), table->model()->index(r, 1).data().toInt());
        for (int row : shownRows)
            EXPECT_EQ((*s_dataset)->test.samples[static_cast<std::size_t>(row)].label, label);
    }
}

TEST_F(Dashboard, CancelKeepsWorkAndTheNextRunResumes) {
    auto s = standalone();
    EvalDashboard* d = &s->dashboard;
    QSignalSpy done(d, &EvalDashboard::finished);
    d->startEvaluation(0);
    d->cancel();
    ASSERT_TRUE(done.wait(60000));
    EXPECT_TRUE(done.at(0).at(0).toBool());
    EXPECT_FALSE(d->isRunning());
    EXPECT_EQ(d->results(), nullptr);
    EXPECT_FALSE(fs::exists(d->resultsDir() / "records.jsonl"));
    EXPECT_TRUE(d->message().contains("eval_partial.jsonl")) << d->message().toStdString();
    evaluate(d, 0);
    ASSERT_NE(d->results(), nullptr);
    EXPECT_EQ(d->results()->records.size(), 21u);
}

// Closing the dashboard mid-run does not wait for the run, which finishes alone.
TEST_F(Dashboard, DestroyingTheDashboardMidRunDoesNotWait) {
    auto s = std::make_unique<Standalone>();
    s->workspace.setDataset(*s_dataset);
    s->workspace.setModel(openModel(modelFile()));
    auto d = std::make_unique<EvalDashboard>();
    d->setWorkspace(&s->workspace);
    d->startEvaluation(0);
    ASSERT_TRUE(d->isRunning());
    d.reset();  // must neither wait nor crash when the worker reports afterwards
    // The worker keeps its own state: let it run to its end (its progress file is left behind).
    camx::ui::backgroundPool()->waitForDone(60000);
    QTest::qWait(0);
    SUCCEED();
}

TEST_F(Dashboard, ChartsAndGridFiguresExport) {
    openWindow();
    if (HasFatalFailure()) return;
    evaluate(window->dashboard(), 20);
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

// Metrics chosen under Metrics… reach the run: its summary has them for the methods and the
// baseline maps, and the Faithfulness page shows them (a run without shows why not).
TEST_F(Dashboard, AskedMetricsReachTheRunAndTheFaithfulnessPage) {
    auto s = standalone();
    EvalDashboard* d = &s->dashboard;
    d->setMetricList("");
    evaluate(d, 3);
    EXPECT_TRUE(d->faithMessage().contains("no faithfulness metrics"))
        << d->faithMessage().toStdString();
    fs::remove_all(d->resultsDir());
    d->setMetricList("deletion,drop");
    evaluate(d, 3);
    ASSERT_NE(d->results(), nullptr);
    EXPECT_TRUE(d->results()->options.metrics.deletion);
    EXPECT_TRUE(d->results()->options.metrics.drop);
    EXPECT_FALSE(d->results()->options.metrics.insertion);
    EXPECT_TRUE(d->faithMessage().isEmpty()) << d->faithMessage().toStdString();
    QAbstractItemModel* table = d->faithTable()->model();
    // Grad-CAM and CAM at the last block, and the three baselines.
    EXPECT_EQ(table->rowCount(), 5);
    QStringList headers;
    for (int c = 0; c < table->columnCount(); ++c)
        headers << table->headerData(c, Qt::Horizontal).toString().replace('\n', ' ');
    EXPECT_TRUE(headers.join('|').contains("Deletion AUC")) << headers.join('|').toStdString();
    EXPECT_TRUE(headers.join('|').contains("Avg drop %"));
    EXPECT_FALSE(headers.join('|').contains("Insertion AUC"));
    int baselines = 0;
    for (int r = 0; r < table->rowCount(); ++r)
        baselines += table->index(r, 0).data().toString().contains("(baseline)");
    EXPECT_EQ(baselines, 3);
    const int steps = d->results()->options.metrics.steps;
    int lines = 0;
    for (auto* series : d->chartView(EvalDashboard::Deletion)->chart()->series())
        if (auto* line = qobject_cast<QLineSeries*>(series)) {
            ++lines;
            EXPECT_EQ(line->count(), steps + 1);
        }
    EXPECT_EQ(lines, 5);
    d->setMetricList("");
}

}  // namespace
}  // namespace camx::ui
