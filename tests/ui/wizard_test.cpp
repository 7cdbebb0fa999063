// The training wizard offscreen: a tiny model trains for an epoch with live curves, resumes,
// offers itself to the explorer, and stops cleanly when closed mid-run.
#include <gtest/gtest.h>

#include <QCheckBox>
#include <QComboBox>
#include <QCryptographicHash>
#include <QDoubleSpinBox>
#include <QGuiApplication>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScreen>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTest>
#include <QThreadPool>
#include <atomic>
#include <chrono>
#include <thread>

#include "../core/test_support.h"
#include "background_job.h"
#include "charts/training_charts.h"
#include "common/cpu_features.h"
#include "main_window.h"
#include "nn/checkpoint.h"
#include "train/train_config.h"
#include "training/train_wizard.h"
#include "training/weights_download.h"
#include "workspace.h"

namespace camx::ui {
namespace {
namespace fs = std::filesystem;

class Wizard : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        s_dir = new test::TempDir();
        test::makeSmallDemo(s_dir->path() / "demo", 5, 2, 3, 41);
    }
    static void TearDownTestSuite() { delete s_dir; }

    void SetUp() override {
        wizard = std::make_unique<TrainWizard>();
        wizard->show();
        QSignalSpy loaded(wizard.get(), &TrainWizard::datasetLoaded);
        wizard->setDatasetPath(QString::fromStdString((s_dir->path() / "demo").string()));
        ASSERT_TRUE(loaded.wait(20000));
        ASSERT_NE(wizard->dataset(), nullptr);
        TrainConfig c = test::tinyTrainConfig(32, 2);
        c.learningRate = 0.05;
        wizard->applyConfig(c);
        wizard->setOutputDir(QString::fromStdString((out.path() / "run").string()));
        ASSERT_TRUE(inspected());
    }

    void TearDown() override {
        wizard.reset();
        QSettings().remove("train/processes");  // remembered: the next test starts with one
        // The wizard never waits for its jobs; the next test must not meet them.
        camx::ui::backgroundPool()->waitForDone();
        QCoreApplication::processEvents();
    }

    // The output folder's checkpoint has been looked at (off the GUI thread).
    bool inspected() {
        return QTest::qWaitFor([&] { return !wizard->inspectingOutput(); }, 20000);
    }
    QString runStatus() const { return wizard->findChild<QLabel*>("runStatus")->text(); }

    bool runToEnd() {
        QSignalSpy done(wizard.get(), &TrainWizard::trainingFinished);
        return done.wait(120000) && !done.at(0).at(0).toBool();
    }

    static test::TempDir* s_dir;
    test::TempDir out;
    std::unique_ptr<TrainWizard> wizard;
};
test::TempDir* Wizard::s_dir = nullptr;

TEST_F(Wizard, OneEpochDrawsCurvesWritesACheckpointAndOffersTheModel) {
    // Pages: the dataset report is shown and each page lets the user on.
    EXPECT_TRUE(wizard->page(TrainWizard::DatasetPageId)->isComplete());
    wizard->next();
    wizard->next();
    wizard->next();
    wizard->next();
    ASSERT_EQ(wizard->currentId(), TrainWizard::RunPageId);
    EXPECT_EQ(wizard->config().epochs, 1);
    // Before anything has run, Enter starts training; it does not finish the wizard.
    auto* start = wizard->findChild<QPushButton*>("startButton");
    auto* finish = qobject_cast<QPushButton*>(wizard->button(QWizard::FinishButton));
    ASSERT_NE(finish, nullptr);
    EXPECT_TRUE(start->isDefault());
    EXPECT_FALSE(finish->isDefault());

    start->click();
    EXPECT_TRUE(wizard->isTraining());
    EXPECT_FALSE(wizard->page(TrainWizard::RunPageId)->isComplete());  // no Finish mid-run
    ASSERT_TRUE(runToEnd()) << wizard->logText().toStdString();
    // 15 images in batches of 5: 3 steps, then the epoch's train and validation points.
    EXPECT_EQ(wizard->charts()->stepPoints(), 3);
    EXPECT_EQ(wizard->charts()->epochPoints(), 1);
    const fs::path best = out.path() / "run" / "best.ckpt";
    EXPECT_TRUE(fs::exists(best));
    EXPECT_EQ(readCheckpointMeta(best).epoch, 1);
    EXPECT_TRUE(wizard->logText().contains("Epoch 1/1"));
    // The log opens with what ran: input size, width, precision and device.
    const QStringList lines = wizard->logText().split('\n');
    ASSERT_GE(lines.size(), 3);
    EXPECT_TRUE(lines[0].contains("base width 4")) << lines[0].toStdString();
    EXPECT_TRUE(lines[0].contains("input size 32 px")) << lines[0].toStdString();
    EXPECT_TRUE(lines[1].contains("precision: fp32")) << lines[1].toStdString();
    EXPECT_TRUE(lines[1].contains("Device: cpu")) << lines[1].toStdString();
    // Once a run has ended, Finish is the default button.
    EXPECT_TRUE(finish->isDefault());
    EXPECT_FALSE(start->isDefault());
    QSignalSpy open(wizard.get(), &TrainWizard::openModelRequested);
    auto* openButton = wizard->findChild<QPushButton*>("openModelButton");
    ASSERT_TRUE(openButton->isEnabled());
    openButton->click();
    ASSERT_EQ(open.count(), 1);
    EXPECT_EQ(open.at(0).at(0).toString().toStdString(), best.string());

    // Resume to two epochs: the curves continue, the first epoch's batches included.
    wizard->findChild<QSpinBox*>("epochsSpin")->setValue(2);
    auto* resume = wizard->findChild<QPushButton*>("resumeButton");
    ASSERT_TRUE(inspected());
    ASSERT_TRUE(resume->isEnabled());
    resume->click();
    ASSERT_TRUE(runToEnd()) << wizard->logText().toStdString();
    EXPECT_EQ(wizard->charts()->epochPoints(), 2);
    EXPECT_EQ(wizard->charts()->stepPoints(), 6);
    EXPECT_TRUE(wizard->logText().contains("Resuming"));
    EXPECT_EQ(readCheckpointMeta(out.path() / "run" / "last.ckpt").epoch, 2);
}

// Two processes from the wizard: this process trains as rank 0 (curves, log, progress), a
// cam-explorer-cli worker as rank 1; the log names the world size and the checkpoint records it.
// A worker that cannot run is reported at once, naming its rank and how it ended.
TEST_F(Wizard, TwoProcessesTrainAsOneRunWithCurvesFromRankZero) {
    wizard->setWorkerExecutable(QStringLiteral(CAMX_CLI));
    wizard->setProcesses(2);
    EXPECT_EQ(wizard->processes(), 2);
    auto* sync = wizard->findChild<QCheckBox*>("syncBatchNorm");
    ASSERT_TRUE(sync->isEnabled());
    sync->setChecked(true);
    const QString note = wizard->findChild<QLabel*>("processNote")->text();
    EXPECT_TRUE(note.contains("2 processes")) << note.toStdString();
    EXPECT_TRUE(note.contains("a global batch of 10")) << note.toStdString();
    EXPECT_TRUE(wizard->config().syncBatchNorm);
    for (int k = 0; k < 4; ++k) wizard->next();
    ASSERT_EQ(wizard->currentId(), TrainWizard::RunPageId);
    wizard->findChild<QPushButton*>("startButton")->click();
    ASSERT_TRUE(runToEnd()) << wizard->logText().toStdString();
    const QString log = wizard->logText();
    EXPECT_TRUE(log.contains("Started 1 worker process")) << log.toStdString();
    EXPECT_TRUE(
        log.contains("Processes: 2 (gloo, rank 0), batch 5 per process, global batch 10, "
                     "synchronised batch norm"))
        << log.toStdString();
    // 15 images over 2 processes: 8 each (padded), 2 steps of rank 0 drawn per epoch.
    EXPECT_EQ(wizard->charts()->stepPoints(), 2);
    EXPECT_EQ(wizard->charts()->epochPoints(), 1);
    const CheckpointMeta meta = readCheckpointMeta(out.path() / "run" / "last.ckpt");
    EXPECT_EQ(meta.epoch, 1);
    const TrainConfig recorded = TrainConfig::fromJson(meta.trainConfigJson);
    EXPECT_EQ(recorded.processes, 2);
    EXPECT_TRUE(recorded.syncBatchNorm);
    EXPECT_TRUE(fs::exists(out.path() / "run" / "workers" / "rank1.log"));
    EXPECT_TRUE(fs::exists(out.path() / "run" / "workers" / "config.json"));

    // A worker program that fails at once.
    wizard->setWorkerExecutable(QStringLiteral("/bin/false"));
    wizard->setOutputDir(QString::fromStdString((out.path() / "run2").string()));
    ASSERT_TRUE(inspected());
    QSignalSpy done(wizard.get(), &TrainWizard::trainingFinished);
    wizard->findChild<QPushButton*>("startButton")->click();
    ASSERT_TRUE(done.wait(60000));
    EXPECT_TRUE(done.at(0).at(0).toBool());
    EXPECT_TRUE(wizard->logText().contains(
        "Training failed: a worker stopped before the processes had joined: worker rank 1 exited "
        "with status 1"))
        << wizard->logText().toStdString();
}

// The precision combo says what Automatic means on this machine, reaches the configuration, and
// Resume goes on (and shows) in the precision the checkpoint's run started with.
TEST_F(Wizard, PrecisionChoiceReachesTheRunAndResumeKeepsTheCheckpoints) {
    auto* precision = wizard->findChild<QComboBox*>("precision");
    ASSERT_NE(precision, nullptr);
    ASSERT_EQ(precision->count(), 3);
    auto choose = [&](Precision p) {
        precision->setCurrentIndex(precision->findData(static_cast<int>(p)));
    };
    EXPECT_EQ(wizard->config().precision, Precision::Fp32);  // the fixture's configuration
    choose(Precision::Auto);
    EXPECT_EQ(wizard->config().precision, Precision::Auto);
    TrainConfig c = wizard->config();
    c.precision = Precision::Bf16;
    wizard->applyConfig(c);
    EXPECT_EQ(precision->currentData().toInt(), static_cast<int>(Precision::Bf16));
    for (int i = 0; i < precision->count(); ++i)
        EXPECT_FALSE(precision->itemData(i, Qt::ToolTipRole).toString().isEmpty()) << i;

    // Automatic names what it becomes on this CPU; bf16 says when it is only emulated.
    struct Restore {
        ~Restore() { overrideCpuBf16ForTesting(std::nullopt); }
    } restore;
    for (bool fast : {true, false}) {
        overrideCpuBf16ForTesting(fast);
        TrainWizard w;
        auto* box = w.findChild<QComboBox*>("precision");
        w.findChild<QComboBox*>("deviceCombo")
            ->setCurrentIndex(w.findChild<QComboBox*>("deviceCombo")->findData(1));  // the CPU
        EXPECT_EQ(box->itemText(0),
                  fast ? "Automatic (bf16 on this CPU)" : "Automatic (fp32 on this CPU)");
        EXPECT_EQ(box->itemText(2).contains("emulated"), !fast) << box->itemText(2).toStdString();
    }
    overrideCpuBf16ForTesting(std::nullopt);  // the run below takes what it asks for explicitly

    // A bf16 run; then fp32 chosen on the page, and Resume: the run stays bf16, and says so.
    choose(Precision::Bf16);
    wizard->startTraining(false);
    ASSERT_TRUE(runToEnd()) << wizard->logText().toStdString();
    EXPECT_TRUE(wizard->logText().contains("precision: bf16 autocast"))
        << wizard->logText().toStdString();
    const fs::path last = out.path() / "run" / "last.ckpt";
    EXPECT_EQ(TrainConfig::fromJson(readCheckpointMeta(last).trainConfigJson).precision,
              Precision::Bf16);
    ASSERT_TRUE(inspected());
    EXPECT_TRUE(wizard->findChild<QLabel*>("outputInfo")->text().contains("in bf16"))
        << wizard->findChild<QLabel*>("outputInfo")->text().toStdString();
    choose(Precision::Fp32);
    wizard->findChild<QSpinBox*>("epochsSpin")->setValue(2);
    const int logStart = wizard->logText().size();
    wizard->findChild<QPushButton*>("resumeButton")->click();
    ASSERT_TRUE(runToEnd()) << wizard->logText().toStdString();
    const QString resumedLog = wizard->logText().mid(logStart);
    EXPECT_TRUE(resumedLog.contains("precision: bf16 autocast")) << resumedLog.toStdString();
    EXPECT_FALSE(resumedLog.contains("precision: fp32")) << resumedLog.toStdString();
    EXPECT_EQ(TrainConfig::fromJson(readCheckpointMeta(last).trainConfigJson).precision,
              Precision::Bf16);
    EXPECT_EQ(readCheckpointMeta(last).epoch, 2);
    EXPECT_EQ(precision->currentData().toInt(), static_cast<int>(Precision::Bf16));
    EXPECT_EQ(wizard->config().precision, Precision::Bf16);
}

TEST_F(Wizard, CoursePresetIsOneClickAway) {
    wizard->findChild<QPushButton*>("coursePresetButton")->click();
    const TrainConfig c = wizard->config();
    const TrainConfig course = TrainConfig::coursePreset();
    EXPECT_EQ(c.batchSize, course.batchSize);
    EXPECT_DOUBLE_EQ(c.learningRate, course.learningRate);
    EXPECT_EQ(c.optimizer, course.optimizer);
    EXPECT_EQ(c.epochs, course.epochs);
    EXPECT_FALSE(c.augment.any());
    EXPECT_EQ(c.arch, Arch::ResNet18);  // the model page is kept
    EXPECT_EQ(c.baseWidth, 4);
}

TEST_F(Wizard, ABadDatasetIsNamedAndBlocksTheNextPage) {
    test::TempDir empty;
    QSignalSpy loaded(wizard.get(), &TrainWizard::datasetLoaded);
    wizard->setDatasetPath(QString::fromStdString(empty.path().string()));
    ASSERT_TRUE(loaded.wait(20000));
    EXPECT_EQ(wizard->dataset(), nullptr);
    EXPECT_FALSE(wizard->page(TrainWizard::DatasetPageId)->isComplete());
}

TEST_F(Wizard, ClosingMidRunAsksThenStopsWithIntactCheckpoints) {
    wizard->findChild<QSpinBox*>("epochsSpin")->setValue(400);
    int asked = 0;
    bool answer = false;
    wizard->setConfirmClose([&] {
        ++asked;
        return answer;
    });
    QSignalSpy done(wizard.get(), &TrainWizard::trainingFinished);
    wizard->startTraining(false);
    // Let at least one epoch finish so there is a checkpoint to protect.
    ASSERT_TRUE(
        QTest::qWaitFor([&] { return fs::exists(out.path() / "run" / "last.ckpt"); }, 120000));
    wizard->close();  // "No": training goes on
    EXPECT_EQ(asked, 1);
    EXPECT_TRUE(wizard->isVisible());
    EXPECT_TRUE(wizard->isTraining());
    answer = true;
    wizard->close();  // "Yes": stops at the next step, then closes
    EXPECT_EQ(asked, 2);
    ASSERT_TRUE(done.wait(60000));
    EXPECT_TRUE(done.at(0).at(0).toBool());  // cancelled
    EXPECT_TRUE(QTest::qWaitFor([&] { return !wizard->isVisible(); }, 5000));
    const CheckpointMeta m = readCheckpointMeta(out.path() / "run" / "last.ckpt");
    EXPECT_GE(m.epoch, 1);
    EXPECT_LT(m.epoch, 400);
}

// Quitting the application mid-run goes through the wizard's question, then waits for the stop.
TEST_F(Wizard, QuittingTheMainWindowMidRunStopsTrainingFirst) {
    MainWindow window;
    window.show();
    TrainWizard* w = window.showTrainWizard();
    QSignalSpy loaded(w, &TrainWizard::datasetLoaded);
    w->setDatasetPath(QString::fromStdString((s_dir->path() / "demo").string()));
    ASSERT_TRUE(loaded.wait(20000));
    TrainConfig c = test::tinyTrainConfig(32, 2);
    c.epochs = 400;
    w->applyConfig(c);
    w->setOutputDir(QString::fromStdString((out.path() / "quit").string()));
    int asked = 0;
    w->setConfirmClose([&] { return ++asked > 0; });
    w->startTraining(false);
    ASSERT_TRUE(
        QTest::qWaitFor([&] { return fs::exists(out.path() / "quit" / "last.ckpt"); }, 120000));
    window.close();
    EXPECT_EQ(asked, 1);
    EXPECT_TRUE(window.isVisible());  // not yet: the trainer finishes its step first
    EXPECT_TRUE(QTest::qWaitFor([&] { return !window.isVisible(); }, 60000));
    EXPECT_FALSE(w->isTraining());
    EXPECT_LT(readCheckpointMeta(out.path() / "quit" / "last.ckpt").epoch, 400);
}

// A stop keeps exactly what the checkpoint holds, and Resume continues the same curves: the batches
// of the finished epochs stay, those of the epoch that did not finish go.
TEST_F(Wizard, ResumeKeepsTheFinishedBatchesAndDropsTheUnfinishedEpoch) {
    wizard->findChild<QSpinBox*>("epochsSpin")->setValue(400);
    QSignalSpy done(wizard.get(), &TrainWizard::trainingFinished);
    wizard->startTraining(false);
    ASSERT_TRUE(
        QTest::qWaitFor([&] { return fs::exists(out.path() / "run" / "last.ckpt"); }, 120000));
    wizard->cancelTraining();
    ASSERT_TRUE(done.wait(60000));
    ASSERT_TRUE(done.at(0).at(0).toBool());
    const int kept = readCheckpointMeta(out.path() / "run" / "last.ckpt").epoch;
    ASSERT_GE(kept, 1);
    EXPECT_TRUE(runStatus().contains(QStringLiteral("Epoch %1 is kept").arg(kept)))
        << runStatus().toStdString();
    EXPECT_GE(wizard->charts()->stepPoints(), 3 * kept);
    ASSERT_TRUE(inspected());
    auto* resume = wizard->findChild<QPushButton*>("resumeButton");
    ASSERT_TRUE(resume->isEnabled());

    wizard->findChild<QSpinBox*>("epochsSpin")->setValue(kept + 1);
    resume->click();
    ASSERT_TRUE(runToEnd()) << wizard->logText().toStdString();
    // 3 batches per epoch: every finished epoch's, then the resumed epoch's.
    EXPECT_EQ(wizard->charts()->stepPoints(), 3 * (kept + 1));
    EXPECT_EQ(wizard->charts()->epochPoints(), kept + 1);
}

// Stopped before its first epoch ended, a run keeps nothing, and says so (an earlier run in the
// folder is left as it was, and Resume continues that one).
TEST_F(Wizard, StoppingBeforeTheFirstEpochEndsSaysNothingWasKept) {
    auto* resume = wizard->findChild<QPushButton*>("resumeButton");
    wizard->findChild<QSpinBox*>("epochsSpin")->setValue(400);
    QSignalSpy done(wizard.get(), &TrainWizard::trainingFinished);
    wizard->startTraining(false);
    wizard->cancelTraining();  // before the first step
    ASSERT_TRUE(done.wait(60000));
    EXPECT_TRUE(runStatus().contains("nothing was kept")) << runStatus().toStdString();
    EXPECT_FALSE(runStatus().contains("Resume")) << runStatus().toStdString();
    ASSERT_TRUE(inspected());
    EXPECT_FALSE(resume->isEnabled());
    EXPECT_FALSE(fs::exists(out.path() / "run" / "last.ckpt"));

    // An earlier, finished run in the same folder; then Start (not Resume) and stop at once.
    wizard->findChild<QSpinBox*>("epochsSpin")->setValue(1);
    wizard->startTraining(false);
    ASSERT_TRUE(runToEnd()) << wizard->logText().toStdString();
    wizard->findChild<QSpinBox*>("epochsSpin")->setValue(400);
    wizard->startTraining(false);
    wizard->cancelTraining();
    ASSERT_TRUE(done.wait(60000));
    EXPECT_TRUE(runStatus().contains("nothing of this run was kept")) << runStatus().toStdString();
    EXPECT_TRUE(runStatus().contains("earlier run")) << runStatus().toStdString();
    ASSERT_TRUE(inspected());
    EXPECT_TRUE(resume->isEnabled());  // the earlier run
    EXPECT_EQ(readCheckpointMeta(out.path() / "run" / "last.ckpt").epoch, 1);
}

// A preset sets the fields it names, keeps every other one (the initial weights included), and
// says what it changed.
TEST_F(Wizard, DemoRecipeChangesOnlyWhatItNamesAndSaysSo) {
    TrainConfig c = test::tinyTrainConfig(64, 2);
    c.baseWidth = 16;
    wizard->applyConfig(c);
    wizard->findChild<QComboBox*>("initCombo")->setCurrentIndex(1);  // ImageNet, no file yet
    auto* note = wizard->findChild<QLabel*>("presetNote");
    ASSERT_NE(note, nullptr);
    EXPECT_TRUE(note->isHidden());
    wizard->findChild<QPushButton*>("demoPresetButton")->click();
    const TrainConfig after = wizard->config();
    EXPECT_EQ(after.inputSize, 224);  // named by the recipe
    EXPECT_EQ(after.epochs, 8);
    EXPECT_EQ(after.baseWidth, 16);  // not named: the user's value
    EXPECT_EQ(after.batchSize, 32);
    EXPECT_EQ(wizard->findChild<QComboBox*>("initCombo")->currentIndex(), 1);
    EXPECT_FALSE(note->isHidden());
    EXPECT_TRUE(note->text().contains(QStringLiteral("input size 64 → 224")))
        << note->text().toStdString();
    EXPECT_TRUE(note->text().contains(QStringLiteral("epochs 1 → 8")))
        << note->text().toStdString();
    EXPECT_FALSE(note->text().contains("width")) << note->text().toStdString();
    wizard->findChild<QPushButton*>("demoPresetButton")->click();
    EXPECT_TRUE(note->text().contains("already")) << note->text().toStdString();
}

TEST_F(Wizard, AWarmUpAsLongAsTheRunIsFlaggedAndBlocksNext) {
    auto* hyper = wizard->page(TrainWizard::HyperPageId);
    auto* warning = wizard->findChild<QLabel*>("warmupWarning");
    ASSERT_NE(warning, nullptr);
    wizard->findChild<QSpinBox*>("epochsSpin")->setValue(2);
    auto* warmup = wizard->findChild<QDoubleSpinBox*>("warmupSpin");
    warmup->setValue(1);
    EXPECT_TRUE(hyper->isComplete());
    EXPECT_TRUE(warning->isHidden());
    warmup->setValue(3);
    EXPECT_FALSE(hyper->isComplete());
    EXPECT_FALSE(warning->isHidden());
    EXPECT_TRUE(warning->text().contains("warm-up")) << warning->text().toStdString();
    wizard->startTraining(false);  // nor does it start from code
    EXPECT_FALSE(wizard->isTraining());
    EXPECT_TRUE(wizard->logText().contains("Cannot start")) << wizard->logText().toStdString();
    wizard->findChild<QSpinBox*>("epochsSpin")->setValue(4);
    EXPECT_TRUE(hyper->isComplete());
    EXPECT_TRUE(warning->isHidden());
}

// The output folder's checkpoint is read off the GUI thread, once typing stops, and only the
// newest folder's state is shown.
TEST_F(Wizard, ChecksTheOutputFolderOnceTypingStopsAndShowsOnlyTheNewest) {
    const fs::path done = out.path() / "done";
    test::trainTinyModel(s_dir->path() / "demo", done);
    auto* field = wizard->findChild<QLineEdit*>("outputDir");
    auto* resume = wizard->findChild<QPushButton*>("resumeButton");
    auto* info = wizard->findChild<QLabel*>("outputInfo");
    const int before = wizard->outputInspections();
    field->clear();
    QTest::keyClicks(field, QString::fromStdString(done.string()));
    EXPECT_TRUE(wizard->inspectingOutput());
    EXPECT_FALSE(resume->isEnabled());  // nothing stale is offered while typing
    ASSERT_TRUE(inspected());
    EXPECT_EQ(wizard->outputInspections() - before, 1);  // one read, not one per keystroke
    EXPECT_TRUE(info->text().contains("stopped after epoch 1")) << info->text().toStdString();
    EXPECT_TRUE(resume->isEnabled());

    // Two folders in a row: whichever read ends last, the second folder's state is shown.
    wizard->setOutputDir(QString::fromStdString(done.string()));
    wizard->setOutputDir(QString::fromStdString((out.path() / "empty").string()));
    ASSERT_TRUE(inspected());
    EXPECT_FALSE(info->text().contains("stopped after")) << info->text().toStdString();
    EXPECT_FALSE(resume->isEnabled());
}

// The wizard trains on the explorer's open dataset without reading it again, follows it until
// the user picks another folder, and takes the explorer's folder from the workspace.
TEST_F(Wizard, FollowsTheWorkspaceDatasetWithoutReadingItAgain) {
    const fs::path demo = s_dir->path() / "demo";
    Workspace ws;
    auto first = std::make_shared<const Dataset>(openStanfordDogs(demo));
    ws.setDataset(first);
    TrainWizard w;
    w.setWorkspace(&ws);
    EXPECT_EQ(w.dataset(), first.get());
    EXPECT_FALSE(w.datasetLoading());
    EXPECT_TRUE(w.followsWorkspace());
    EXPECT_TRUE(w.page(TrainWizard::DatasetPageId)->isComplete());
    auto second = std::make_shared<const Dataset>(openStanfordDogs(demo));
    ws.setDataset(second);
    EXPECT_EQ(w.dataset(), second.get());

    // The user picks another folder: that one is read, and the explorer's no longer followed.
    test::makeSmallDemo(out.path() / "other", 2, 2, 2, 7);  // 2 breeds, not 3
    QSignalSpy loaded(&w, &TrainWizard::datasetLoaded);
    w.setDatasetPath(QString::fromStdString((out.path() / "other").string()));
    EXPECT_FALSE(w.followsWorkspace());
    ASSERT_TRUE(loaded.wait(20000));
    ASSERT_NE(w.dataset(), nullptr);
    EXPECT_EQ(w.dataset()->numClasses(), 2u);
    ws.setDataset(first);
    EXPECT_EQ(w.dataset()->numClasses(), 2u);

    // Back to the explorer's folder: taken from the workspace at once, not read.
    w.setDatasetPath(QString::fromStdString(demo.string()));
    EXPECT_EQ(w.dataset(), first.get());
    EXPECT_FALSE(w.datasetLoading());
    EXPECT_TRUE(w.followsWorkspace());
}

// Closing the wizard during a dataset read cancels the read and does not wait for it.
TEST(WizardJobs, ClosingDuringADatasetReadCancelsItWithoutWaiting) {
    struct State {
        std::atomic<bool> entered{false}, release{false}, finished{false};
        std::atomic<bool> releasedBeforeItEnded{false}, sawCancel{false};
    };
    auto state = std::make_shared<State>();
    struct Restore {
        std::shared_ptr<State> state;
        ~Restore() {
            state->release = true;
            camx::ui::backgroundPool()->waitForDone();
        }
    } restore{state};
    auto w = std::make_unique<TrainWizard>();
    w->setDatasetReader([state](const fs::path&, const OpenOptions& o) -> Dataset {
        state->entered = true;
        // Held until the test lets go; the bound only keeps a broken wizard from hanging CI.
        for (int i = 0; i < 20000 && !state->release; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        state->releasedBeforeItEnded = state->release.load();
        state->sawCancel = o.job.cancelled();
        state->finished = true;
        o.job.throwIfCancelled();
        throw DatasetError("not reached");
    });
    w->setDatasetPath(QStringLiteral("/nonexistent/dataset"));
    ASSERT_TRUE(QTest::qWaitFor([&] { return state->entered.load(); }, 20000));
    w.reset();  // returns while the read is still blocked
    state->release = true;
    ASSERT_TRUE(QTest::qWaitFor([&] { return state->finished.load(); }, 30000));
    EXPECT_TRUE(state->releasedBeforeItEnded);  // the destructor did not wait for the read
    EXPECT_TRUE(state->sawCancel);              // and cancelled it
}

// Destroying the wizard mid-run stops training without waiting; the job reports to nobody and
// leaves the checkpoints whole (run under the sanitizers, this guards the job's ownership).
TEST_F(Wizard, DestroyingMidRunLeavesTheJobToStopAlone) {
    wizard->findChild<QSpinBox*>("epochsSpin")->setValue(400);
    wizard->startTraining(false);
    ASSERT_TRUE(
        QTest::qWaitFor([&] { return fs::exists(out.path() / "run" / "last.ckpt"); }, 120000));
    wizard.reset();
    camx::ui::backgroundPool()->waitForDone();
    QCoreApplication::processEvents();
    const CheckpointMeta m = readCheckpointMeta(out.path() / "run" / "last.ckpt");
    EXPECT_GE(m.epoch, 1);
    EXPECT_LT(m.epoch, 400);
}

// The wizard fits a 1280×720 screen with its frame (and a desktop panel), and the screen it opens
// on.
TEST_F(Wizard, FitsA1280x720Screen) {
    const QSize least = wizard->minimumSizeHint();
    for (const QSize screen : {QSize(1280, 720 - 32), QSize(1366, 768 - 40), QSize(1920, 1080)}) {
        const QSize first = TrainWizard::initialSize(screen);
        EXPECT_LE(first.width() + 24, screen.width()) << screen.width();
        EXPECT_LE(first.height() + 56, screen.height()) << screen.height();
        EXPECT_GE(first.width(), least.width()) << screen.width();
        EXPECT_GE(first.height(), least.height()) << screen.height();
    }
    const QRect screen = wizard->screen()->availableGeometry();
    if (screen.width() >= least.width() && screen.height() >= least.height()) {
        TrainWizard fresh;
        EXPECT_LE(fresh.width(), screen.width());
        EXPECT_LE(fresh.height(), screen.height());
    }
}

// Downloads: the file appears whole and only when its SHA-256 matches what its name promises.
TEST(WeightsDownload, SavesAVerifiedFileAndRefusesADamagedOne) {
    test::TempDir server, cache;
    const QByteArray bytes = QByteArray("not really weights, but bytes to hash ").repeated(5000);
    test::spit(server / "good.pth", bytes.toStdString());
    const QString digest =
        QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
    WeightsDownloader d;
    QSignalSpy done(&d, &WeightsDownloader::finished);
    QSignalSpy progress(&d, &WeightsDownloader::progress);
    const QString target = QString::fromStdString((cache / "w" / "good.pth").string());
    d.start(QUrl::fromLocalFile(QString::fromStdString((server / "good.pth").string())), target,
            digest.left(8));
    ASSERT_TRUE(done.wait(10000));
    EXPECT_EQ(done.at(0).at(1).toString(), QString());
    EXPECT_EQ(test::slurp(cache / "w" / "good.pth"), bytes.toStdString());
    EXPECT_GT(progress.count(), 0);

    // Wrong digits: an error naming the address, and no file.
    const QString bad = QString::fromStdString((cache / "w" / "bad.pth").string());
    d.start(QUrl::fromLocalFile(QString::fromStdString((server / "good.pth").string())), bad,
            QStringLiteral("00000000"));
    ASSERT_TRUE(done.wait(10000));
    EXPECT_TRUE(done.at(1).at(1).toString().contains("not the published one"));
    EXPECT_FALSE(fs::exists(cache / "w" / "bad.pth"));
    // A missing file on the server.
    d.start(QUrl::fromLocalFile(QString::fromStdString((server / "nope.pth").string())), bad, {});
    ASSERT_TRUE(done.wait(10000));
    EXPECT_TRUE(done.at(2).at(1).toString().contains("nope.pth"))
        << done.at(2).at(1).toString().toStdString();
    EXPECT_FALSE(fs::exists(cache / "w" / "bad.pth"));
}

TEST_F(Wizard, DownloadFillsTheWeightsFieldOrSaysWhyNot) {
    test::TempDir server, cache;
    // A file under the published name whose bytes do not match it.
    test::spit(server / "resnet18-f37072fd.pth", "junk");
    wizard->setWeightsSource(
        QUrl::fromLocalFile(QString::fromStdString(server.path().string()) + "/"),
        QString::fromStdString(cache.path().string()));
    wizard->findChild<QComboBox*>("archCombo")->setCurrentIndex(0);  // resnet18
    auto* init = wizard->findChild<QLineEdit*>("weightsPath");
    wizard->next();                                                      // the model page
    wizard->findChild<QComboBox*>("initCombo")->setCurrentIndex(1);      // ImageNet weights
    EXPECT_FALSE(wizard->page(TrainWizard::ModelPageId)->isComplete());  // no file yet
    auto* hint = wizard->findChild<QLabel*>("weightsHint");              // and the page says why
    ASSERT_NE(hint, nullptr);
    EXPECT_FALSE(hint->isHidden());
    EXPECT_TRUE(hint->text().contains("Next needs a weights file")) << hint->text().toStdString();
    QSignalSpy downloaded(wizard.get(), &TrainWizard::weightsDownloaded);
    wizard->findChild<QPushButton*>("downloadButton")->click();
    ASSERT_TRUE(downloaded.wait(10000));
    EXPECT_TRUE(downloaded.at(0).at(0).toString().contains("f37072fd"));
    EXPECT_TRUE(init->text().isEmpty());
    EXPECT_FALSE(fs::exists(cache / "resnet18-f37072fd.pth"));
    EXPECT_FALSE(wizard->page(TrainWizard::ModelPageId)->isComplete());
    auto* status = wizard->findChild<QLabel*>("downloadStatus");
    EXPECT_TRUE(status->text().contains("f37072fd")) << status->text().toStdString();

    // Reopened, the wizard no longer shows the old error; nor after another choice of weights.
    wizard->hide();
    wizard->show();
    EXPECT_TRUE(status->text().isEmpty()) << status->text().toStdString();
    wizard->findChild<QPushButton*>("downloadButton")->click();
    ASSERT_TRUE(downloaded.wait(10000));
    EXPECT_FALSE(status->text().isEmpty());
    wizard->findChild<QComboBox*>("archCombo")->setCurrentIndex(1);
    EXPECT_TRUE(status->text().isEmpty()) << status->text().toStdString();
    // With a file, the hint goes and Next is enabled.
    test::spit(cache / "mine.pth", "bytes");
    init->setText(QString::fromStdString((cache / "mine.pth").string()));
    EXPECT_TRUE(hint->isHidden());
    EXPECT_TRUE(wizard->page(TrainWizard::ModelPageId)->isComplete());
}

}  // namespace
}  // namespace camx::ui
