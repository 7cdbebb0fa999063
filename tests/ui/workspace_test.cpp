// The workspace (one owner of the shared state) and the main window around it: context changes
// void old results, newer loads win, nothing waits on a worker, the start page, the window's
// title and size, and switching everything while every kind of job runs.
#include <gtest/gtest.h>

#include <QAction>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QListView>
#include <QProgressBar>
#include <QRegularExpression>
#include <QSettings>
#include <QSignalSpy>
#include <QSlider>
#include <QStackedWidget>
#include <QStandardItemModel>
#include <QTest>
#include <QThreadPool>
#include <atomic>
#include <thread>

#include "../core/test_support.h"
#include "background_job.h"
#include "browser/browser_panel.h"
#include "browser/dataset_filter.h"
#include "browser/dataset_model.h"
#include "dashboard/eval_dashboard.h"
#include "eval/evaluator.h"
#include "explain/model_session.h"
#include "explorer/explorer_view.h"
#include "explorer/heatmap_panel.h"
#include "main_window.h"
#include "start/start_page.h"
#include "training/train_wizard.h"
#include "ui_test_support.h"
#include "workspace.h"

namespace camx::ui {
namespace {
namespace fs = std::filesystem;

std::shared_ptr<const Dataset> fakeDataset(const std::string& root) {
    auto d = std::make_shared<Dataset>();
    d->root = root;
    d->breedFolders = {"n1-A", "n2-B"};
    d->breedNames = {"A", "B"};
    return d;
}

TEST(Workspace, EveryContextChangeVoidsTheEvaluationAndStaleOnesAreRefused) {
    Workspace w;
    QSignalSpy context(&w, &Workspace::contextChanged);
    QSignalSpy evaluation(&w, &Workspace::evaluationChanged);
    w.setDataset(fakeDataset("/a"));
    EXPECT_EQ(context.count(), 1);
    const auto started = w.context();
    auto ev = std::make_shared<SavedEvaluation>();
    EXPECT_TRUE(w.setEvaluation(ev, started));
    EXPECT_EQ(w.evaluation(), ev);
    // The split changes: the evaluation (of the other split) goes, and says so.
    w.setSplit(w.split() == SplitKind::Test ? SplitKind::Train : SplitKind::Test);
    EXPECT_EQ(w.evaluation(), nullptr);
    EXPECT_EQ(evaluation.count(), 2);
    EXPECT_NE(w.context(), started);
    // An evaluation that was started before the switch comes back: refused, not stored.
    EXPECT_FALSE(w.setEvaluation(ev, started));
    EXPECT_EQ(w.evaluation(), nullptr);
    // Same for a model switch.
    EXPECT_TRUE(w.setEvaluation(ev, w.context()));
    w.setModel(nullptr);
    EXPECT_EQ(w.evaluation(), nullptr);
    // Setting the same split is not a change.
    const int before = context.count();
    w.setSplit(w.split());
    EXPECT_EQ(context.count(), before);
}

// A reader that blocks until released (or cancelled), to hold a load in flight.
struct BlockingReader {
    std::shared_ptr<std::atomic<bool>> release = std::make_shared<std::atomic<bool>>(false);
    std::shared_ptr<std::atomic<int>> sawCancel = std::make_shared<std::atomic<int>>(0);
    Workspace::DatasetReader reader() const {
        return [release = release, sawCancel = sawCancel](const fs::path& dir,
                                                          const OpenOptions& o) -> Dataset {
            if (dir.filename() == "slow")
                while (!release->load()) {
                    if (o.job.cancelled()) {
                        ++*sawCancel;
                        throw Cancelled();
                    }
                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
                }
            Dataset d;
            d.root = dir;
            return d;
        };
    }
};

TEST(Workspace, ANewerOpenWinsAndTheOlderOneNeverLands) {
    Workspace w;
    BlockingReader blocking;
    w.setDatasetReader(blocking.reader());
    QSignalSpy finished(&w, &Workspace::datasetLoadFinished);
    w.openDataset("/x/slow");
    EXPECT_TRUE(w.isLoadingDataset());
    w.openDataset("/x/fast");
    ASSERT_TRUE(finished.wait(10000));
    ASSERT_TRUE(w.dataset());
    EXPECT_EQ(w.dataset()->root, fs::path("/x/fast"));
    // The older load was cancelled by the newer one and, whatever it does now, never lands.
    ASSERT_TRUE(QTest::qWaitFor([&] { return blocking.sawCancel->load() == 1; }, 10000));
    QTest::qWait(50);
    EXPECT_EQ(w.dataset()->root, fs::path("/x/fast"));
    EXPECT_EQ(finished.count(), 1);
    EXPECT_FALSE(w.isLoading());
}

// Quitting during a long first-time load must not hang: the destructor cancels and returns while
// the load is still inside its reader (were it to wait, this test would never end).
TEST(Workspace, DestroyingItDuringALoadNeitherWaitsNorCrashes) {
    BlockingReader blocking;
    {
        auto w = std::make_unique<Workspace>();
        w->setDatasetReader(blocking.reader());
        w->openDataset("/x/slow");
        QTest::qWait(20);  // the job is in the reader now
        w.reset();
    }
    // The job saw the cancel and ended on its own, touching nothing of the dead workspace.
    ASSERT_TRUE(QTest::qWaitFor([&] { return blocking.sawCancel->load() == 1; }, 10000));
    camx::ui::backgroundPool()->waitForDone(10000);
    QCoreApplication::processEvents();
}

// The GUI code has no waits on workers outside destructors (which cancel first) and test-only
// helpers: a grep, so that a new one fails here and gets looked at.
TEST(Workspace, GuiCodeHasNoWaitsOnWorkers) {
    const fs::path ui = fs::path(CAMX_SOURCE_DIR) / "ui";
    ASSERT_TRUE(fs::is_directory(ui)) << ui;
    const QRegularExpression wait(
        QStringLiteral(R"(\b(waitForFinished|waitForDone)\s*\(|\bjoin\s*\(\s*\))"));
    const QRegularExpression function(QStringLiteral(R"(^\S.*::(~?\w+)\s*\()"));
    int files = 0;
    for (const auto& e : fs::recursive_directory_iterator(ui)) {
        if (e.path().extension() != ".cpp") continue;
        ++files;
        QFile f(QString::fromStdString(e.path().string()));
        ASSERT_TRUE(f.open(QIODevice::ReadOnly));
        QString current;
        int line = 0;
        for (const QString& text : QString::fromUtf8(f.readAll()).split(QLatin1Char('\n'))) {
            ++line;
            if (auto m = function.match(text); m.hasMatch()) current = m.captured(1);
            if (!wait.match(text).hasMatch() || text.trimmed().startsWith(QLatin1String("//")))
                continue;
            const bool allowed = current.startsWith(QLatin1Char('~')) || current == "waitForIdle";
            EXPECT_TRUE(allowed) << e.path().string() << ":" << line << " waits in "
                                 << current.toStdString() << ": " << text.toStdString();
        }
    }
    EXPECT_GT(files, 20);
}

TEST(MainWindowSize, TheFirstWindowFitsTheScreen) {
    for (const QSize screen : {QSize(1280, 720), QSize(1366, 768), QSize(1280, 1024)}) {
        const QSize s = MainWindow::initialSize(screen);
        EXPECT_LE(s.width(), screen.width()) << screen.width();
        EXPECT_LE(s.height(), screen.height()) << screen.height();
    }
    EXPECT_EQ(MainWindow::initialSize(QSize(2560, 1440)), QSize(1400, 880));
}

class Window : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        s_dir = new test::TempDir();
        test::makeSmallDemo(s_dir->path() / "demo", 4, 4, 3, 41);
        test::makeSmallDemo(s_dir->path() / "other", 4, 3, 3, 43);
        test::trainTinyModel(s_dir->path() / "demo", s_dir->path() / "model");
        // A second model: the same file elsewhere (another folder, another digest is not needed:
        // the switch is what matters).
        fs::create_directories(s_dir->path() / "model2");
        fs::copy_file(s_dir->path() / "model" / "best.ckpt",
                      s_dir->path() / "model2" / "best.ckpt");
    }
    static void TearDownTestSuite() { delete s_dir; }
    static QString path(const std::string& rel) {
        return QString::fromStdString((s_dir->path() / rel).string());
    }
    static test::TempDir* s_dir;
};
test::TempDir* Window::s_dir = nullptr;

TEST_F(Window, StartsOnTheStartPageAndLeavesItWhenSomethingOpens) {
    MainWindow w;
    w.setQuietErrors(true);
    w.show();
    EXPECT_TRUE(w.isStartPageShown());
    auto* start = w.startPage();
    ASSERT_TRUE(start->isVisible());
    for (const char* name : {"tryDemo", "openDatasetButton", "openModelButton", "reopenLast"})
        EXPECT_TRUE(start->findChild<QWidget*>(name)) << name;
    // No document: the title is empty, so the platform shows the application's name alone.
    EXPECT_TRUE(w.windowTitle().isEmpty()) << w.windowTitle().toStdString();
    QSignalSpy loaded(&w, &MainWindow::datasetLoaded);
    w.openDataset(path("demo"));
    ASSERT_TRUE(loaded.wait(20000)) << w.lastError().toStdString();
    EXPECT_FALSE(w.isStartPageShown());
    EXPECT_TRUE(w.explorer()->isVisible());
    // The panel headers name each panel's own method even before a model is open.
    EXPECT_NE(w.explorer()->panel(0)->method(), w.explorer()->panel(1)->method());
}

TEST_F(Window, TheTitleNamesTheModelAndItsFolderOnce) {
    MainWindow w;
    openDatasetAndModelForTest(w, s_dir->path() / "demo", s_dir->path() / "model2" / "best.ckpt");
    if (HasFatalFailure()) return;
    const QString title = w.windowTitle();
    EXPECT_TRUE(title.contains("best.ckpt")) << title.toStdString();
    EXPECT_TRUE(title.contains("model2")) << title.toStdString();
    // The platform appends the application's name: it must not be in the title as well.
    EXPECT_FALSE(title.contains("CAM Explorer")) << title.toStdString();
    auto* label = w.findChild<QLabel*>("modelLabel");
    ASSERT_TRUE(label);
    EXPECT_EQ(label->toolTip(), path("model2/best.ckpt"));
}

TEST_F(Window, ReopensTheLastFilesUnlessThePreviousStartEndedWhileOpeningThem) {
    QSettings s;
    const QVariant keepData = s.value("paths/lastDataset"), keepModel = s.value("paths/lastModel");
    s.setValue("paths/lastDataset", path("demo"));
    s.setValue("paths/lastModel", path("model/best.ckpt"));
    s.remove("start/openingLast");
    {
        MainWindow w;
        w.setQuietErrors(true);
        QSignalSpy model(&w, &MainWindow::modelLoaded);
        ASSERT_TRUE(w.reopenLast());
        // While opening, a crash would leave the mark behind.
        EXPECT_TRUE(QSettings().value("start/openingLast").toBool());
        ASSERT_TRUE(QTest::qWaitFor([&] { return !w.isLoading() && model.count() == 1; }, 30000));
        EXPECT_TRUE(w.dataset());
        EXPECT_FALSE(QSettings().contains("start/openingLast"));
    }
    // The previous start ended while opening: not again (no crash loop), and it says so.
    s.setValue("start/openingLast", true);
    {
        MainWindow w;
        w.setQuietErrors(true);
        EXPECT_FALSE(w.reopenLast());
        EXPECT_FALSE(w.isLoading());
        EXPECT_FALSE(QSettings().contains("start/openingLast"));
    }
    s.setValue("paths/lastDataset", keepData);
    s.setValue("paths/lastModel", keepModel);
}

TEST_F(Window, ModelSwitchLeavesNoOldResultsAndFiltersWaitForAnEvaluation) {
    MainWindow w;
    openDatasetAndModelForTest(w, s_dir->path() / "demo", s_dir->path() / "model" / "best.ckpt");
    if (HasFatalFailure()) return;
    auto* correct = w.browser()->findChild<QComboBox*>("correctFilter");
    auto* sort = w.browser()->findChild<QComboBox*>("sortCombo");
    ASSERT_TRUE(correct && sort);
    auto enabled = [](QComboBox* c, int index) {
        return qobject_cast<QStandardItemModel*>(c->model())->item(index)->isEnabled();
    };
    // No evaluation: Correct/Wrong and the IoU sort are off, and say why.
    EXPECT_FALSE(enabled(correct, 1));
    EXPECT_FALSE(enabled(correct, 2));
    EXPECT_FALSE(enabled(sort, 3));
    EXPECT_TRUE(correct->toolTip().contains("evaluation"));
    // An evaluation arrives for this context: they work.
    auto ev = std::make_shared<SavedEvaluation>();
    ImageRecord r;
    r.index = 0;
    r.relPath = w.dataset()->test.samples[0].relPath;
    r.label = w.dataset()->test.samples[0].label;
    r.predicted = (r.label + 1) % 3;
    ev->records.push_back(r);
    ASSERT_TRUE(w.workspace()->setEvaluation(ev, w.workspace()->context()));
    EXPECT_TRUE(enabled(correct, 2));
    correct->setCurrentIndex(2);  // Wrong
    EXPECT_EQ(w.browser()->visibleSourceRows().size(), 1u);
    // One whose breeds are not among the model's classes: nothing is right or wrong, the
    // filter goes back to every image and says why, and the IoU sort still works.
    auto unmatched = std::make_shared<SavedEvaluation>(*ev);
    unmatched->records[0].modelLabel = -1;
    ASSERT_TRUE(w.workspace()->setEvaluation(unmatched, w.workspace()->context()));
    EXPECT_FALSE(enabled(correct, 2));
    EXPECT_EQ(correct->currentIndex(), 0);
    EXPECT_TRUE(correct->toolTip().contains("classes")) << correct->toolTip().toStdString();
    EXPECT_TRUE(enabled(sort, 3));
    ASSERT_TRUE(w.workspace()->setEvaluation(ev, w.workspace()->context()));
    EXPECT_TRUE(enabled(correct, 2));
    correct->setCurrentIndex(2);
    // Another model: the old one's mistakes are not listed any more.
    QSignalSpy model(&w, &MainWindow::modelLoaded);
    w.openModel(path("model2/best.ckpt"));
    ASSERT_TRUE(model.wait(30000)) << w.lastError().toStdString();
    EXPECT_EQ(w.workspace()->evaluation(), nullptr);
    EXPECT_FALSE(enabled(correct, 2));
    EXPECT_EQ(correct->currentIndex(), 0);
    EXPECT_EQ(w.browser()->visibleSourceRows().size(), w.dataset()->test.samples.size());
}

// A failed Open Image used to blank the panels but keep the old selection and top-5 line.
TEST_F(Window, AFailedImageLeavesNothingOfThePreviousOne) {
    MainWindow w;
    openDatasetAndModelForTest(w, s_dir->path() / "demo", s_dir->path() / "model" / "best.ckpt");
    if (HasFatalFailure()) return;
    ASSERT_TRUE(QTest::qWaitFor([&] { return w.explorer()->result() != nullptr; }, 30000));
    ASSERT_GE(w.browser()->currentSourceRow(), 0);
    test::TempDir junk;
    test::spit(junk / "broken.jpg", "not a jpeg at all");
    QSignalSpy errors(&w, &MainWindow::errorShown);
    w.openExternalImage(QString::fromStdString((junk / "broken.jpg").string()));
    ASSERT_TRUE(errors.wait(30000));
    EXPECT_TRUE(w.lastError().contains("broken.jpg")) << w.lastError().toStdString();
    EXPECT_EQ(w.explorer()->result(), nullptr);
    EXPECT_EQ(w.browser()->currentSourceRow(), -1);
    EXPECT_TRUE(w.browser()->selectedSourceRows().empty());
    EXPECT_TRUE(w.findChild<QLabel*>("predictionLabel")->text().isEmpty());
    // The window keeps working: the next image explains.
    w.browser()->selectFirst();
    ASSERT_TRUE(QTest::qWaitFor([&] { return w.explorer()->result() != nullptr; }, 30000));
}

// The status bar's busy line says what runs now, not what reported last.
TEST_F(Window, TheBusyLineNamesTheWorkThatRunsNow) {
    MainWindow w;
    openDatasetAndModelForTest(w, s_dir->path() / "demo", s_dir->path() / "model" / "best.ckpt");
    if (HasFatalFailure()) return;
    auto* busy = w.findChild<QLabel*>("busyText");
    ASSERT_TRUE(busy);
    auto* method = w.explorer()->findChild<QComboBox*>("method1");
    ASSERT_TRUE(method);
    // While Score-CAM reports progress (the window has shown it), a dataset starts loading.
    QString whileScoreCam, whileLoading;
    QMetaObject::Connection c = QObject::connect(w.controller(), &ExplainController::progress, &w,
                                                 [&](int, int, const QString&) {
                                                     if (!whileScoreCam.isEmpty()) return;
                                                     whileScoreCam = busy->text();
                                                     w.openDataset(path("other"));
                                                     whileLoading = busy->text();
                                                 });
    method->setCurrentIndex(method->findData(static_cast<int>(Method::ScoreCam)));
    ASSERT_TRUE(QTest::qWaitFor([&] { return !whileScoreCam.isEmpty(); }, 30000));
    QObject::disconnect(c);
    EXPECT_TRUE(whileScoreCam.contains("Score-CAM")) << whileScoreCam.toStdString();
    EXPECT_FALSE(whileLoading.contains("Score-CAM")) << whileLoading.toStdString();
    ASSERT_TRUE(QTest::qWaitFor([&] { return !w.isLoading() && !busy->isVisible(); }, 60000))
        << busy->text().toStdString();
}

TEST_F(Window, NothingToSaveSaysSo) {
    MainWindow w;
    w.setQuietErrors(true);
    w.show();
    QSignalSpy errors(&w, &MainWindow::errorShown);
    auto* save = w.findChild<QAction*>("saveFigureAction");
    ASSERT_TRUE(save);
    EXPECT_EQ(save->shortcut(), QKeySequence(QKeySequence::Save));
    save->trigger();
    ASSERT_EQ(errors.count(), 1);
    EXPECT_TRUE(w.lastError().contains("pick an image")) << w.lastError().toStdString();
}

TEST_F(Window, AtLaptopSizeEveryControlIsOnScreen) {
    MainWindow w;
    openDatasetAndModelForTest(w, s_dir->path() / "demo", s_dir->path() / "model" / "best.ckpt");
    if (HasFatalFailure()) return;
    // 1280×720 less the title bar and a desktop panel.
    w.resize(1280, 660);
    QTest::qWait(50);
    EXPECT_LE(w.width(), 1280);
    EXPECT_LE(w.height(), 680);
    const QRect inside = w.rect();
    int checked = 0;
    for (QWidget* c : w.explorer()->findChildren<QWidget*>()) {
        if (!c->isVisible()) continue;
        if (!qobject_cast<QSlider*>(c) && !qobject_cast<QComboBox*>(c)) continue;
        const QRect r(c->mapTo(&w, QPoint(0, 0)), c->size());
        EXPECT_TRUE(inside.contains(r)) << c->objectName().toStdString();
        EXPECT_GE(c->width(), 60) << c->objectName().toStdString();
        ++checked;
    }
    EXPECT_GE(checked, 4);
}

// Switch the model, the split and the dataset while an explanation, Score-CAM, an evaluation and a
// training all run: no result of an old context is shown or stored, and everything returns to
// idle.
TEST_F(Window, SwitchingEverythingWhileEveryJobRunsLeavesNoStaleState) {
    MainWindow w;
    openDatasetAndModelForTest(w, s_dir->path() / "demo", s_dir->path() / "model" / "best.ckpt");
    if (HasFatalFailure()) return;
    ExplorerView* v = w.explorer();
    ASSERT_TRUE(QTest::qWaitFor([&] { return v->result() != nullptr; }, 30000));
    // Training (its own dataset and output folder).
    test::TempDir runs;
    TrainWizard* wizard = w.showTrainWizard();
    wizard->setDatasetPath(path("demo"));
    ASSERT_TRUE(QTest::qWaitFor([&] { return wizard->dataset() != nullptr; }, 20000));
    TrainConfig c = wizard->config();
    c.epochs = 2;
    c.inputSize = 32;
    c.baseWidth = 4;
    c.batchSize = 8;
    wizard->applyConfig(c);
    wizard->setOutputDir(QString::fromStdString((runs / "run").string()));
    wizard->startTraining(false);
    // An evaluation of the whole split.
    EvalDashboard* dash = w.dashboard();
    dash->startEvaluation();
    // Score-CAM in the right panel.
    auto* method = v->findChild<QComboBox*>("method1");
    ASSERT_TRUE(method);
    method->setCurrentIndex(method->findData(static_cast<int>(Method::ScoreCam)));
    ASSERT_EQ(v->panel(1)->method(), Method::ScoreCam);
    // An explanation of another image.
    QTest::keyClick(&w, Qt::Key_PageDown);

    // Now switch everything, while they run.
    EXPECT_TRUE(dash->isRunning());
    EXPECT_TRUE(wizard->isTraining());
    // Long jobs stay off Qt's global pool, which painting uses for image scaling and waits on
    // (with them there, the window froze for as long as training ran).
    EXPECT_EQ(QThreadPool::globalInstance()->activeThreadCount(), 0);
    QSignalSpy models(&w, &MainWindow::modelLoaded);
    w.openModel(path("model2/best.ckpt"));
    auto* split = w.browser()->findChild<QComboBox*>("splitCombo");
    split->setCurrentIndex(split->currentIndex() == 0 ? 1 : 0);
    QSignalSpy datasets(&w, &MainWindow::datasetLoaded);
    w.openDataset(path("other"));
    ASSERT_TRUE(
        QTest::qWaitFor([&] { return models.count() == 1 && datasets.count() == 1; }, 60000))
        << w.lastError().toStdString();
    split->setCurrentIndex(split->currentIndex() == 0 ? 1 : 0);  // back
    const fs::path other = s_dir->path() / "other";

    // Everything settles.
    ASSERT_TRUE(QTest::qWaitFor([&] { return !dash->isRunning(); }, 60000));
    wizard->cancelTraining();
    ASSERT_TRUE(QTest::qWaitFor([&] { return !wizard->isTraining(); }, 120000));
    ASSERT_TRUE(QTest::qWaitFor(
        [&] {
            auto r = v->result();
            return r && !w.findChild<QProgressBar*>("busyBar")->isVisible();
        },
        60000));
    // What is shown is an image of the new dataset, from the new model's cache.
    const QString shown = v->result()->key.path;
    EXPECT_TRUE(shown.startsWith(QString::fromStdString(other.string()))) << shown.toStdString();
    EXPECT_TRUE(w.controller()->cached(v->result()->key));
    EXPECT_EQ(w.controller()->model().get(), w.model());
    // Nothing of the old context is stored: no evaluation, no results in the grid.
    EXPECT_EQ(w.workspace()->evaluation(), nullptr);
    for (int r = 0; r < w.browser()->filter()->rowCount(); ++r)
        EXPECT_EQ(w.browser()->filter()->index(r, 0).data(DatasetModel::IouRole).toDouble(), -1.0);
    EXPECT_EQ(dash->results(), nullptr);
}

}  // namespace
}  // namespace camx::ui
