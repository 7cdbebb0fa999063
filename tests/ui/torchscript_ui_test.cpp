// Users' own TorchScript models in the window, offscreen, on a generated 10-breed demo: a model
// without CAM (CAM disabled with the reason, Grad-CAM shows maps, the dashboard evaluates without
// CAM), a DenseNet's layer list (every layer by module path, the default layer, a layer beyond
// the blocks explained on demand), a file without metadata (the Model Input dialog, its answers
// remembered and changed later), and the trust question for a file in a temporary folder (and no
// TorchScript model opened at start-up).
#include <gtest/gtest.h>

#include <QAbstractItemView>
#include <QCheckBox>
#include <QComboBox>
#include <QCompleter>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSlider>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QStatusBar>
#include <QTest>
#include <algorithm>

#include "../core/test_support.h"
#include "browser/browser_panel.h"
#include "dashboard/eval_dashboard.h"
#include "explain/model_session.h"
#include "explorer/explorer_view.h"
#include "explorer/heatmap_panel.h"
#include "main_window.h"
#include "model/model_files.h"
#include "model/model_input_dialog.h"
#include "ui_test_support.h"

namespace camx::ui {
namespace {
namespace fs = std::filesystem;

fs::path scriptFixture(const std::string& name) {
    return fs::path(CAMX_SOURCE_DIR) / "tests" / "fixtures" / "torchscript" / name;
}

QString qpath(const fs::path& p) {
    return QString::fromStdString(p.string());
}

class TorchScriptWindow : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        s_dir = new test::TempDir();
        // Ten breeds: the fixture models' ten classes take the breeds' names where their file
        // names none (densenet121).
        test::makeSmallDemo(s_dir->path() / "demo", 1, 2, 10, 41);
    }
    static void TearDownTestSuite() { delete s_dir; }

    void SetUp() override {
        QSettings s;
        for (const char* key : {"trust", "modelInput", "recent", "paths", "start"}) s.remove(key);
        // The fixtures live in the source tree, outside the user's own folders on most machines:
        // trusted here, as a user would after the first question; the trust test uses a copy in
        // a temporary folder.
        trustModelFolder(qpath(scriptFixture("")));
    }
    void TearDown() override {
        QSettings s;
        for (const char* key : {"trust", "modelInput", "recent", "paths", "start"}) s.remove(key);
    }

    // Opens the demo and `model` in `w` and waits for the first explanation.
    void openAndExplain(MainWindow& w, const fs::path& model) {
        QSignalSpy shown(&w, &MainWindow::explanationShown);
        openDatasetAndModelForTest(w, s_dir->path() / "demo", model);
        if (HasFatalFailure()) return;
        ASSERT_TRUE(QTest::qWaitFor([&] { return shown.count() > 0; }, 30000))
            << w.lastError().toStdString();
    }

    static test::TempDir* s_dir;
};
test::TempDir* TorchScriptWindow::s_dir = nullptr;

bool itemEnabled(QComboBox* c, int index) {
    return qobject_cast<QStandardItemModel*>(c->model())->item(index)->isEnabled();
}

TEST_F(TorchScriptWindow, ModelWithoutCamShowsWhyAndGradCamMaps) {
    // A copy: the dashboard keeps its results next to the model.
    test::TempDir tmp;
    fs::copy_file(scriptFixture("resnet_mlp_head.traced.pt"), tmp.path() / "mlp.pt");
    trustModelFolder(qpath(tmp.path()));
    MainWindow w;
    openAndExplain(w, tmp.path() / "mlp.pt");
    if (HasFatalFailure()) return;
    const ModelInfo& info = w.model()->info();
    ASSERT_TRUE(info.torchScript);
    ASSERT_FALSE(info.camAvailable);
    const QString reason = QString::fromStdString(info.camUnavailableReason);
    ASSERT_FALSE(reason.isEmpty());
    // The default set (CAM, Grad-CAM) opens without an error.
    EXPECT_TRUE(w.lastError().isEmpty()) << w.lastError().toStdString();

    // Every method picker offers CAM no more, and says why.
    ExplorerView* v = w.explorer();
    for (int i = 0; i < 3; ++i) {
        auto* combo = v->findChild<QComboBox*>(QStringLiteral("method%1").arg(i));
        ASSERT_TRUE(combo);
        const int cam = combo->findData(static_cast<int>(Method::Cam));
        ASSERT_GE(cam, 0);
        EXPECT_FALSE(itemEnabled(combo, cam)) << i;
        EXPECT_TRUE(combo->itemData(cam, Qt::ToolTipRole).toString().contains(reason)) << i;
    }
    // The CAM panel says why instead of a map; Grad-CAM's shows one.
    const HeatmapPanel* camPanel = v->panel(0);
    ASSERT_EQ(camPanel->method(), Method::Cam);
    EXPECT_FALSE(camPanel->hasMap());
    EXPECT_TRUE(camPanel->message().contains(QStringLiteral("CAM is not available")));
    EXPECT_TRUE(camPanel->message().contains(reason));
    const HeatmapPanel* gradCam = v->panel(1);
    ASSERT_EQ(gradCam->method(), Method::GradCam);
    EXPECT_TRUE(gradCam->hasMap());
    EXPECT_TRUE(gradCam->message().isEmpty()) << gradCam->message().toStdString();
    // The figure leaves the empty CAM panel out: the photo and Grad-CAM.
    const ComparisonFigure fig = v->figure();
    ASSERT_EQ(fig.panels.size(), 2u);
    EXPECT_TRUE(fig.panels[1].caption.startsWith(QStringLiteral("Grad-CAM")));
    // The window says what the model is.
    auto* label = w.findChild<QLabel*>("modelLabel");
    ASSERT_TRUE(label);
    EXPECT_TRUE(label->text().contains(QString::fromStdString(info.archLabel)));
    EXPECT_TRUE(label->toolTip().contains(reason));
    auto* input = w.findChild<QAction*>("modelInputAction");
    ASSERT_TRUE(input);
    EXPECT_TRUE(input->isEnabled());

    // The dashboard evaluates it without asking for CAM.
    EvalDashboard* d = w.dashboard();
    EXPECT_TRUE(d->findChild<QLabel*>("evalSettings")->text().contains(reason));
    QSignalSpy done(d, &EvalDashboard::finished);
    d->startEvaluation(3);
    ASSERT_TRUE(done.wait(60000));
    EXPECT_FALSE(done.at(0).at(0).toBool()) << d->message().toStdString();
    ASSERT_TRUE(d->results());
    ASSERT_FALSE(d->results()->records.empty());
    for (const auto& m : d->results()->summary.methods) EXPECT_NE(m.method, Method::Cam);
    EXPECT_TRUE(d->results()->records.front().find(Method::GradCam, info.lastBlockTap));
}

TEST_F(TorchScriptWindow, DenseNetLayerListNamesEveryLayerAndExplainsAnyOfThem) {
    MainWindow w;
    openAndExplain(w, scriptFixture("densenet121.traced.pt"));
    if (HasFatalFailure()) return;
    const ModelInfo& info = w.model()->info();
    ASSERT_TRUE(info.torchScript);
    // Named by the dataset's breeds: the file names no classes, and ten fit.
    EXPECT_EQ(info.classNames, w.dataset()->breedNames);
    ExplorerView* v = w.explorer();
    auto* list = v->findChild<QComboBox*>("layerCombo");
    auto* slider = v->findChild<QSlider*>("layerSlider");
    auto* resnetLabel = v->findChild<QLabel*>("layerLabel");
    ASSERT_TRUE(list && slider && resnetLabel);
    EXPECT_TRUE(list->isVisible());
    EXPECT_FALSE(resnetLabel->isVisible());
    // Every layer with a map, by module path, in forward order.
    ASSERT_EQ(list->count(), static_cast<int>(info.taps.size()));
    ASSERT_GT(list->count(), 20);
    for (int i = 0; i < list->count(); ++i)
        EXPECT_EQ(list->itemText(i).toStdString(), info.taps[static_cast<std::size_t>(i)].name);
    EXPECT_GE(list->findText(QStringLiteral("features.denseblock4")), 0);
    EXPECT_EQ(slider->maximum(), list->count() - 1);
    // The default layer is the model's: here its last one.
    EXPECT_EQ(info.lastBlockTap, static_cast<int>(info.taps.size()) - 1);
    EXPECT_EQ(v->currentTap(), info.lastBlockTap);
    EXPECT_EQ(list->currentIndex(), list->count() - 1);
    EXPECT_EQ(list->currentText().toStdString(), info.taps.back().name);
    EXPECT_TRUE(v->panel(1)->title().contains(list->currentText()));

    // Found by part of its name.
    QCompleter* completer = list->completer();
    ASSERT_TRUE(completer);
    completer->setCompletionPrefix(QStringLiteral("DENSEBLOCK3"));
    ASSERT_GE(completer->completionCount(), 1);
    bool named = false;
    for (int i = 0; completer->setCurrentRow(i); ++i)
        named = named || completer->currentCompletion() == QLatin1String("features.denseblock3");
    EXPECT_TRUE(named);

    // A layer that is no block: explained when chosen, then in every pass.
    const std::vector<int> blocks = info.blockTaps();
    int early = -1;
    for (int t = 1; t < static_cast<int>(info.taps.size()) && early < 0; ++t)
        if (std::find(blocks.begin(), blocks.end(), t) == blocks.end() && t != info.lastBlockTap)
            early = t;
    ASSERT_GE(early, 0);
    QSignalSpy shown(&w, &MainWindow::explanationShown);
    list->setCurrentIndex(early);  // as picked from the list
    EXPECT_EQ(slider->value(), early);
    EXPECT_EQ(v->currentTap(), early);
    ASSERT_TRUE(QTest::qWaitFor([&] { return v->panel(1)->hasMap(); }, 30000))
        << v->panel(1)->message().toStdString();
    EXPECT_TRUE(v->panel(1)->title().contains(
        QString::fromStdString(info.taps[static_cast<std::size_t>(early)].name)));
    EXPECT_EQ(w.controller()->extraTap(), early);
    // CAM stays at its own layer.
    if (info.camAvailable) {
        EXPECT_TRUE(v->panel(0)->hasMap());
        EXPECT_TRUE(v->panel(0)->title().contains(QStringLiteral("CAM")));
    }
    // The next image comes with that layer at once.
    shown.clear();
    w.browser()->step(1);
    ASSERT_TRUE(QTest::qWaitFor([&] { return shown.count() > 0; }, 30000));
    ASSERT_TRUE(v->result());
    EXPECT_TRUE(v->result()->explanation.find(Method::GradCam, early));
    EXPECT_TRUE(w.lastError().isEmpty()) << w.lastError().toStdString();
}

TEST_F(TorchScriptWindow, ModelWithoutMetadataAsksForItsInputOnceAndRemembers) {
    const fs::path model = scriptFixture("resnet_gap_head.nometa.traced.pt");
    const QString file = qpath(model);
    ASSERT_FALSE(rememberedModelInput(file));
    {
        MainWindow w;
        w.setQuietErrors(true);
        w.show();
        QSignalSpy data(&w, &MainWindow::datasetLoaded);
        w.openDataset(qpath(s_dir->path() / "demo"));
        ASSERT_TRUE(data.wait(20000));
        QSignalSpy asked(&w, &MainWindow::modelQuestionAsked);
        QSignalSpy loaded(&w, &MainWindow::modelLoaded);
        w.openModel(file);
        ASSERT_TRUE(asked.wait(20000)) << w.lastError().toStdString();
        EXPECT_EQ(w.model(), nullptr);  // nothing of it has run yet
        EXPECT_FALSE(w.trustPrompt());
        ModelInputDialog* dialog = w.modelInputDialog();
        ASSERT_TRUE(dialog);
        EXPECT_TRUE(dialog->isVisible());
        EXPECT_EQ(dialog->windowTitle(), QStringLiteral("Model input"));
        auto* size = dialog->findChild<QSpinBox*>("inputSizeSpin");
        ASSERT_TRUE(size);
        EXPECT_EQ(size->value(), 224);
        EXPECT_EQ(size->minimum(), 32);
        EXPECT_EQ(size->maximum(), 1024);
        EXPECT_EQ(dialog->preset(), ModelInputDialog::ImageNet);
        size->setValue(64);
        dialog->accept();
        ASSERT_TRUE(QTest::qWaitFor([&] { return loaded.count() > 0; }, 30000))
            << w.lastError().toStdString();
        EXPECT_EQ(w.model()->info().inputSize, 64);
        EXPECT_TRUE(w.model()->info().fileMeta.empty());
        const auto remembered = rememberedModelInput(file);
        ASSERT_TRUE(remembered);
        EXPECT_EQ(remembered->inputSize, 64);
        ASSERT_TRUE(remembered->mean);
        EXPECT_NEAR((*remembered->mean)[0], 0.485f, 1e-4f);
        EXPECT_FALSE(remembered->prefixTokens);
    }
    // Another window (the next start): the answers are remembered, nothing is asked.
    MainWindow w;
    QSignalSpy asked(&w, &MainWindow::modelQuestionAsked);
    openAndExplain(w, model);
    if (HasFatalFailure()) return;
    EXPECT_EQ(asked.count(), 0);
    EXPECT_EQ(w.model()->info().inputSize, 64);

    // Model ▸ Model Input changes them: the dialog starts from what the model uses, and a
    // change reopens the model with it.
    auto* action = w.findChild<QAction*>("modelInputAction");
    ASSERT_TRUE(action && action->isEnabled());
    QSignalSpy loaded(&w, &MainWindow::modelLoaded);
    action->trigger();
    ModelInputDialog* dialog = w.modelInputDialog();
    ASSERT_TRUE(dialog);
    auto* size = dialog->findChild<QSpinBox*>("inputSizeSpin");
    ASSERT_TRUE(size);
    EXPECT_EQ(size->value(), 64);
    size->setValue(96);
    dialog->setPreset(ModelInputDialog::MinusOneOne);
    dialog->accept();
    ASSERT_TRUE(QTest::qWaitFor([&] { return loaded.count() > 0; }, 30000))
        << w.lastError().toStdString();
    EXPECT_EQ(w.model()->info().inputSize, 96);
    EXPECT_NEAR(w.model()->info().norm.mean[1], 0.5f, 1e-6f);
    EXPECT_EQ(rememberedModelInput(file)->inputSize, 96);
    // The same answers again: nothing to reopen.
    loaded.clear();
    action->trigger();
    ASSERT_TRUE(w.modelInputDialog());
    w.modelInputDialog()->accept();
    QTest::qWait(200);
    EXPECT_EQ(loaded.count(), 0);
    EXPECT_FALSE(w.isLoading());
}

// A ViT whose metadata is gone fails at the default 224 px (its position embeddings fit 64 px):
// the dialog comes back with the error, and the right size opens it.
TEST_F(TorchScriptWindow, AFailedOpenWithoutMetadataAsksAgainWithTheError) {
    test::TempDir tmp;
    const fs::path copy = tmp.path() / "vit_nometa.pt";
    {
        // The same archive with its camx.json renamed (same length: offsets and CRCs hold).
        std::string bytes = test::slurp(scriptFixture("vit.traced.pt"));
        const std::string from = "/extra/camx.json", to = "/extra/camx.jsoX";
        int renamed = 0;
        for (auto at = bytes.find(from); at != std::string::npos; at = bytes.find(from, at)) {
            bytes.replace(at, from.size(), to);
            ++renamed;
        }
        ASSERT_EQ(renamed, 2);  // the local header and the central directory
        test::spit(copy, bytes);
    }
    ASSERT_TRUE(probeModelFile(copy).torchScript);
    ASSERT_FALSE(probeModelFile(copy).hasMetadata);
    trustModelFolder(qpath(tmp.path()));
    const QString file = qpath(copy);
    MainWindow w;
    w.setQuietErrors(true);
    w.show();
    QSignalSpy asked(&w, &MainWindow::modelQuestionAsked);
    QSignalSpy loaded(&w, &MainWindow::modelLoaded);
    w.openModel(file);
    ASSERT_TRUE(asked.wait(20000)) << w.lastError().toStdString();
    ASSERT_TRUE(w.modelInputDialog());
    EXPECT_TRUE(w.modelInputDialog()->error().isEmpty());
    w.modelInputDialog()->accept();  // 224 px
    asked.clear();
    ASSERT_TRUE(asked.wait(30000)) << w.lastError().toStdString();
    ModelInputDialog* dialog = w.modelInputDialog();
    ASSERT_TRUE(dialog);
    EXPECT_TRUE(dialog->error().contains(QStringLiteral("fails on a batch of two 3x224x224")))
        << dialog->error().toStdString();
    EXPECT_TRUE(dialog->findChild<QLabel*>("modelInputError")->isVisible());
    EXPECT_EQ(dialog->findChild<QSpinBox*>("inputSizeSpin")->value(), 224);  // what failed
    EXPECT_EQ(w.model(), nullptr);
    dialog->findChild<QSpinBox*>("inputSizeSpin")->setValue(64);
    dialog->accept();
    ASSERT_TRUE(QTest::qWaitFor([&] { return loaded.count() > 0; }, 30000))
        << w.lastError().toStdString();
    EXPECT_EQ(w.model()->info().inputSize, 64);
    EXPECT_EQ(rememberedModelInput(file)->inputSize, 64);
}

TEST_F(TorchScriptWindow, AModelInATemporaryFolderOpensOnlyWhenTheUserSaysSo) {
    test::TempDir tmp;  // a temporary folder: never the user's own
    const fs::path copy = tmp.path() / "downloaded.pt";
    fs::copy_file(scriptFixture("resnet_gap_head.traced.pt"), copy);
    const QString file = qpath(copy);
    EXPECT_FALSE(isInUserFolders(file));
    EXPECT_FALSE(isTrustedModelLocation(file));

    MainWindow w;
    w.setQuietErrors(true);
    w.show();
    QSignalSpy asked(&w, &MainWindow::modelQuestionAsked);
    QSignalSpy loaded(&w, &MainWindow::modelLoaded);
    w.openModel(file);
    ASSERT_TRUE(asked.wait(20000)) << w.lastError().toStdString();
    QMessageBox* box = w.trustPrompt();
    ASSERT_TRUE(box);
    EXPECT_TRUE(box->isVisible());
    EXPECT_TRUE(box->text().contains(
        QStringLiteral("downloaded.pt is a TorchScript model: it contains code that CAM Explorer "
                       "will run. Open it only if you trust where it came from.")))
        << box->text().toStdString();
    EXPECT_EQ(w.model(), nullptr);
    EXPECT_FALSE(w.isLoading());
    // Cancel: not opened, and not remembered.
    auto* cancel = box->findChild<QPushButton*>("trustCancelButton");
    ASSERT_TRUE(cancel);
    EXPECT_EQ(box->defaultButton(), cancel);
    cancel->click();
    QTest::qWait(100);
    EXPECT_EQ(w.model(), nullptr);
    EXPECT_FALSE(w.isLoading());
    EXPECT_FALSE(isTrustedModelLocation(file));

    // Asked again; Open, for every file of the folder.
    asked.clear();
    w.openModel(file);
    ASSERT_TRUE(asked.wait(20000));
    box = w.trustPrompt();
    ASSERT_TRUE(box);
    auto* folder = box->findChild<QCheckBox*>("trustFolderCheck");
    auto* open = box->findChild<QPushButton*>("trustOpenButton");
    ASSERT_TRUE(folder && open);
    EXPECT_EQ(folder->text(), QStringLiteral("Don't ask again for files in this folder"));
    folder->setChecked(true);
    open->click();
    ASSERT_TRUE(QTest::qWaitFor([&] { return loaded.count() > 0; }, 30000))
        << w.lastError().toStdString();
    EXPECT_TRUE(w.model()->info().torchScript);
    EXPECT_TRUE(isTrustedModelLocation(file));
    const fs::path sibling = tmp.path() / "another.pt";
    fs::copy_file(scriptFixture("vit.traced.pt"), sibling);
    EXPECT_TRUE(isTrustedModelLocation(qpath(sibling)));
    // From now on it opens without a question.
    asked.clear();
    loaded.clear();
    w.openModel(qpath(sibling));
    ASSERT_TRUE(QTest::qWaitFor([&] { return loaded.count() > 0; }, 30000))
        << w.lastError().toStdString();
    EXPECT_EQ(asked.count(), 0);
    EXPECT_TRUE(QSettings().value("paths/lastModelTorchScript").toBool());
    EXPECT_TRUE(QSettings().value("recent/models").toStringList().contains(qpath(sibling)));
}

TEST_F(TorchScriptWindow, NoTorchScriptModelOpensAtStartUp) {
    test::TempDir tmp;
    const fs::path model = tmp.path() / "last.pt";
    fs::copy_file(scriptFixture("resnet_gap_head.traced.pt"), model);
    trustModelFolder(qpath(tmp.path()));  // trusted, still not opened unasked
    QSettings s;
    s.setValue("paths/lastModel", qpath(model));
    s.setValue("recent/models", QStringList{qpath(model)});
    // Known as TorchScript (the window noted it when it was opened): not even looked at.
    s.setValue("paths/lastModelTorchScript", true);
    {
        MainWindow w;
        w.setQuietErrors(true);
        EXPECT_FALSE(w.reopenLast());
        EXPECT_FALSE(w.isLoading());
        EXPECT_TRUE(w.statusBar()->toolTip().contains(QStringLiteral("TorchScript")))
            << w.statusBar()->toolTip().toStdString();
        EXPECT_TRUE(w.statusBar()->toolTip().contains(QStringLiteral("Recent Models")));
        // Offered in the recent list as usual.
        auto* recent = w.findChild<QMenu*>();
        bool listed = false;
        for (QMenu* m : w.findChildren<QMenu*>())
            for (QAction* a : m->actions()) listed = listed || a->text() == qpath(model);
        (void)recent;
        EXPECT_TRUE(listed);
    }
    // Not known as TorchScript (a file that has become one): held on the worker, never asked
    // about, never run.
    s.setValue("paths/lastModelTorchScript", false);
    s.setValue("paths/lastDataset", qpath(s_dir->path() / "demo"));
    {
        MainWindow w;
        w.setQuietErrors(true);
        QSignalSpy asked(&w, &MainWindow::modelQuestionAsked);
        QSignalSpy data(&w, &MainWindow::datasetLoaded);
        ASSERT_TRUE(w.reopenLast());
        ASSERT_TRUE(QTest::qWaitFor([&] { return !w.isLoading() && data.count() > 0; }, 30000));
        QTest::qWait(100);
        EXPECT_EQ(w.model(), nullptr);
        EXPECT_EQ(asked.count(), 0);
        EXPECT_FALSE(w.trustPrompt());
        EXPECT_TRUE(w.statusBar()->toolTip().contains(QStringLiteral("last.pt")))
            << w.statusBar()->toolTip().toStdString();
        EXPECT_FALSE(QSettings().contains("start/openingLast"));
    }
}

TEST_F(TorchScriptWindow, ProbeTellsTorchScriptFromCheckpointsAndWeights) {
    const ModelFileProbe traced = probeModelFile(scriptFixture("densenet121.traced.pt"));
    EXPECT_TRUE(traced.torchScript);
    EXPECT_TRUE(traced.hasMetadata);
    const ModelFileProbe scripted = probeModelFile(scriptFixture("vit.scripted.pt"));
    EXPECT_TRUE(scripted.torchScript);
    const ModelFileProbe bare = probeModelFile(scriptFixture("resnet_gap_head.nometa.traced.pt"));
    EXPECT_TRUE(bare.torchScript);
    EXPECT_FALSE(bare.hasMetadata);
    // Not TorchScript: a missing file, a text file, torch.save weights, and a CAM Explorer
    // checkpoint (a TorchScript archive too), even under a .pt name.
    EXPECT_FALSE(probeModelFile(scriptFixture("no such file.pt")).torchScript);
    EXPECT_FALSE(probeModelFile(scriptFixture("manifest.json")).torchScript);
    EXPECT_FALSE(probeModelFile(test::fixture("weights/resnet18_w4_c10.pth")).torchScript);
    test::TempDir tmp;
    test::trainTinyModel(s_dir->path() / "demo", tmp.path());
    EXPECT_FALSE(probeModelFile(tmp.path() / "best.ckpt").torchScript);
    fs::copy_file(tmp.path() / "best.ckpt", tmp.path() / "renamed.pt");
    EXPECT_FALSE(probeModelFile(tmp.path() / "renamed.pt").torchScript);
}

TEST(ModelFiles, UserFoldersAreTheHomeFolderLessDownloadsAndTemporaryOnes) {
    const QString home = QDir::homePath();
    if (home == QLatin1String("/") || home.startsWith(QDir::tempPath()))
        GTEST_SKIP() << "the home folder is no user folder here";
    EXPECT_TRUE(isInUserFolders(home + QStringLiteral("/models/net.pt")));
    EXPECT_FALSE(isInUserFolders(home + QStringLiteral("/Downloads/net.pt")));
    EXPECT_FALSE(isInUserFolders(QDir::tempPath() + QStringLiteral("/net.pt")));
    EXPECT_FALSE(isInUserFolders(QStringLiteral("/opt/models/net.pt")));
    EXPECT_TRUE(hasModelSuffix(QStringLiteral("a.torchscript")));
    EXPECT_TRUE(hasModelSuffix(QStringLiteral("a.PTS")));
    EXPECT_FALSE(hasModelSuffix(QStringLiteral("a.onnx")));
}

}  // namespace
}  // namespace camx::ui
