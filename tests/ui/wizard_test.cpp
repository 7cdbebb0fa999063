// The training wizard offscreen: a tiny model trains for an epoch with live curves, resumes,
// offers itself to the explorer, and stops cleanly when closed mid-run.
#include <gtest/gtest.h>

#include <QComboBox>
#include <QCryptographicHash>
#include <QDoubleSpinBox>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTest>

#include "../core/test_support.h"
#include "charts/training_charts.h"
#include "main_window.h"
#include "nn/checkpoint.h"
#include "training/train_wizard.h"
#include "training/weights_download.h"

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
    }

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

    wizard->findChild<QPushButton*>("startButton")->click();
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
    QSignalSpy open(wizard.get(), &TrainWizard::openModelRequested);
    auto* openButton = wizard->findChild<QPushButton*>("openModelButton");
    ASSERT_TRUE(openButton->isEnabled());
    openButton->click();
    ASSERT_EQ(open.count(), 1);
    EXPECT_EQ(open.at(0).at(0).toString().toStdString(), best.string());

    // Resume to two epochs: the curves continue from the saved history.
    wizard->findChild<QSpinBox*>("epochsSpin")->setValue(2);
    auto* resume = wizard->findChild<QPushButton*>("resumeButton");
    ASSERT_TRUE(resume->isEnabled());
    resume->click();
    ASSERT_TRUE(runToEnd()) << wizard->logText().toStdString();
    EXPECT_EQ(wizard->charts()->epochPoints(), 2);
    EXPECT_TRUE(wizard->logText().contains("Resuming"));
    EXPECT_EQ(readCheckpointMeta(out.path() / "run" / "last.ckpt").epoch, 2);
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
    QSignalSpy downloaded(wizard.get(), &TrainWizard::weightsDownloaded);
    wizard->findChild<QPushButton*>("downloadButton")->click();
    ASSERT_TRUE(downloaded.wait(10000));
    EXPECT_TRUE(downloaded.at(0).at(0).toString().contains("f37072fd"));
    EXPECT_TRUE(init->text().isEmpty());
    EXPECT_FALSE(fs::exists(cache / "resnet18-f37072fd.pth"));
    EXPECT_FALSE(wizard->page(TrainWizard::ModelPageId)->isComplete());
}

}  // namespace
}  // namespace camx::ui
