// An offscreen walk through the explorer: load the demo and a model, pick an image, move every
// control, switch class and method, drop a file, and check what the window shows against core.
#include <gtest/gtest.h>

#include <QCheckBox>
#include <QComboBox>
#include <QDropEvent>
#include <QLabel>
#include <QListView>
#include <QMimeData>
#include <QSignalSpy>
#include <QSlider>
#include <QSpinBox>
#include <QTest>
#include <QUrl>
#include <QXmlStreamReader>
#include <opencv2/core/version.hpp>

#include "../core/test_support.h"
#include "about_dialog.h"
#include "browser/browser_panel.h"
#include "browser/dataset_model.h"
#include "explain/model_session.h"
#include "explain/postprocess.h"
#include "explorer/explorer_view.h"
#include "explorer/heatmap_panel.h"
#include "export/export_size_dialog.h"
#include "main_window.h"
#include "ui_test_support.h"

namespace camx::ui {
namespace {
namespace fs = std::filesystem;

class Walkthrough : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        s_dir = new test::TempDir();
        test::makeSmallDemo(s_dir->path() / "demo", 4, 3, 3, 21);
        test::trainTinyModel(s_dir->path() / "demo", s_dir->path() / "model");
    }
    static void TearDownTestSuite() { delete s_dir; }

    void SetUp() override {
        window = std::make_unique<MainWindow>();
        QSignalSpy shown(window.get(), &MainWindow::explanationShown);
        openDatasetAndModelForTest(*window, s_dir->path() / "demo",
                                   s_dir->path() / "model" / "best.ckpt");
        if (HasFatalFailure()) return;
        ASSERT_TRUE(QTest::qWaitFor([&] { return shown.count() > 0; }, 30000))
            << window->lastError().toStdString();
    }

    // The IoU core computes for what the panel shows.
    double coreIou(int panel) const {
        ExplorerView* v = window->explorer();
        const auto r = v->result();
        const HeatmapPanel* p = v->panel(panel);
        const int tap =
            p->method() == Method::Cam ? window->model()->info().lastBlockTap : v->currentTap();
        const Heatmap* raw = r->explanation.find(p->method(), tap);
        if (!raw) return -1;
        const Sample& s = currentSample();
        const Heatmap map = displayMap(*raw, p->method(), s.width, s.height);
        return bestIou(boxFromMap(map, v->threshold(), v->boxMode(), s.boxes), s.boxes);
    }
    const Sample& currentSample() const {
        return window->dataset()
            ->test.samples[static_cast<std::size_t>(window->browser()->currentSourceRow())];
    }
    void waitShown() {
        QSignalSpy shown(window.get(), &MainWindow::explanationShown);
        ASSERT_TRUE(QTest::qWaitFor([&] { return shown.count() > 0; }, 30000));
    }

    static test::TempDir* s_dir;
    std::unique_ptr<MainWindow> window;
};
test::TempDir* Walkthrough::s_dir = nullptr;

TEST_F(Walkthrough, SlidersReRenderAndTheIouShownIsCoresIou) {
    ExplorerView* v = window->explorer();
    ASSERT_TRUE(v->result());
    EXPECT_TRUE(v->panel(0)->hasTruth());
    EXPECT_EQ(v->panel(0)->method(), Method::Cam);
    EXPECT_EQ(v->panel(1)->method(), Method::GradCam);
    auto* threshold = v->findChild<QSlider*>("thresholdSlider");
    auto* layer = v->findChild<QSlider*>("layerSlider");
    auto* blend = v->findChild<QSlider*>("blendSlider");
    ASSERT_TRUE(threshold && layer && blend);
    EXPECT_EQ(layer->maximum(), 7);  // ResNet-18: 8 blocks
    const int cacheBefore = window->controller()->cacheSize();
    for (int t : {5, 20, 45, 70, 95}) {
        threshold->setValue(t);
        for (int i = 0; i < 2; ++i)
            EXPECT_NEAR(v->panel(i)->iou(), coreIou(i), 1e-12) << "tau " << t << " panel " << i;
    }
    for (int l : {0, 3, 6, 7}) {
        layer->setValue(l);
        for (int i = 0; i < 2; ++i)
            EXPECT_NEAR(v->panel(i)->iou(), coreIou(i), 1e-12) << "layer " << l;
    }
    blend->setValue(90);
    auto* mode = v->findChild<QComboBox*>("boxModeCombo");
    mode->setCurrentIndex(1);
    for (int i = 0; i < 2; ++i) EXPECT_NEAR(v->panel(i)->iou(), coreIou(i), 1e-12);
    // None of that needed a network pass.
    EXPECT_EQ(window->controller()->cacheSize(), cacheBefore);
    // The status bar names the prediction and both IoUs.
    const QString status = window->findChild<QLabel*>("predictionLabel")->text();
    EXPECT_TRUE(status.contains("Prediction:")) << status.toStdString();
    EXPECT_TRUE(status.contains(QString("Grad-CAM IoU %1").arg(v->panel(1)->iou(), 0, 'f', 3)))
        << status.toStdString();
}

TEST_F(Walkthrough, SwitchingClassAndMethodAndImage) {
    ExplorerView* v = window->explorer();
    auto* cls = v->findChild<QComboBox*>("classCombo");
    // Pick a breed that is not the prediction: a new pass explains that class.
    const int predicted = v->result()->explanation.top[0].classIndex;
    const int other = (predicted + 1) % 3;
    const int idx = cls->findText(
        QString::fromStdString(window->dataset()->breedNames[static_cast<std::size_t>(other)]),
        Qt::MatchExactly);
    ASSERT_GE(idx, 0);
    cls->setCurrentIndex(idx);
    Q_EMIT cls->activated(idx);
    ASSERT_TRUE(QTest::qWaitFor(
        [&] { return v->result() && v->result()->explanation.target == other; }, 30000));
    for (int i = 0; i < 2; ++i) EXPECT_NEAR(v->panel(i)->iou(), coreIou(i), 1e-12);

    auto* method1 = v->findChild<QComboBox*>("method1");
    method1->setCurrentIndex(method1->findData(static_cast<int>(Method::LayerCam)));
    EXPECT_EQ(v->panel(1)->method(), Method::LayerCam);
    EXPECT_NEAR(v->panel(1)->iou(), coreIou(1), 1e-12);
    v->findChild<QCheckBox*>("thirdPanel")->setChecked(true);
    EXPECT_EQ(v->panelCount(), 3);
    EXPECT_EQ(v->panel(2)->method(), Method::GradCamPlusPlus);
    EXPECT_NEAR(v->panel(2)->iou(), coreIou(2), 1e-12);
    // Finer-CAM comes with every pass, against the other two breeds of this model.
    method1->setCurrentIndex(method1->findData(static_cast<int>(Method::FinerCam)));
    EXPECT_EQ(v->panel(1)->method(), Method::FinerCam);
    EXPECT_TRUE(v->panel(1)->title().startsWith(QStringLiteral("Finer-CAM @ ")));
    ASSERT_TRUE(v->result()->explanation.find(Method::FinerCam, v->currentTap()));
    EXPECT_EQ(v->result()->explanation.finerClasses.size(), 2u);
    EXPECT_NEAR(v->panel(1)->iou(), coreIou(1), 1e-12);

    // Next image with Page Down.
    const int before = window->browser()->currentSourceRow();
    QTest::keyClick(window.get(), Qt::Key_PageDown);
    EXPECT_NE(window->browser()->currentSourceRow(), before);
    ASSERT_TRUE(QTest::qWaitFor(
        [&] {
            return v->result() && v->result()->key.path ==
                                      QString::fromStdString(currentSample().imagePath.string());
        },
        30000));
}

// Score-CAM in a panel follows the image: it used to stay on "computing…" after Next, because only
// the method and layer controls asked for it.
TEST_F(Walkthrough, ThumbnailCellsAreWholeInTheWindow) {
    // (Split switches are covered on the panel in BrowserModel: switching here would change the
    // remembered split that other test processes read.)
    QListView* view = window->browser()->view();
    QCoreApplication::processEvents();
    const QRect cell = view->visualRect(view->model()->index(0, 0));
    EXPECT_GE(cell.height(), DatasetModel::thumbnailSize().height()) << "a thin strip";
}

TEST_F(Walkthrough, ScoreCamFollowsTheImage) {
    ExplorerView* v = window->explorer();
    auto* method1 = v->findChild<QComboBox*>("method1");
    method1->setCurrentIndex(method1->findData(static_cast<int>(Method::ScoreCam)));
    auto hasScoreCam = [&] {
        const auto r = v->result();
        return r && r->key.path == QString::fromStdString(currentSample().imagePath.string()) &&
               r->explanation.find(Method::ScoreCam, v->currentTap()) != nullptr;
    };
    ASSERT_TRUE(QTest::qWaitFor(hasScoreCam, 60000));
    for (int step = 0; step < 2; ++step) {
        QTest::keyClick(window.get(), Qt::Key_PageDown);
        ASSERT_TRUE(QTest::qWaitFor(hasScoreCam, 60000)) << "stuck on computing… at step " << step;
        EXPECT_NEAR(v->panel(1)->iou(), coreIou(1), 1e-12);
    }
}

TEST_F(Walkthrough, DroppedImageHasNoGroundTruthAndSaysSo) {
    const fs::path image = window->dataset()->train.samples[0].imagePath;
    auto* mime = new QMimeData;
    mime->setUrls({QUrl::fromLocalFile(QString::fromStdString(image.string()))});
    // The drop lands on the explorer, as a user's would, and travels up to the window.
    QWidget* target = window->explorer()->panel(0);
    const QPointF at(target->width() / 2.0, target->height() / 2.0);
    QDragEnterEvent enter(at.toPoint(), Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(target, &enter);
    EXPECT_TRUE(enter.isAccepted());
    QDropEvent drop(at, Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(target, &drop);
    ExplorerView* v = window->explorer();
    ASSERT_TRUE(QTest::qWaitFor(
        [&] {
            return v->result() && v->result()->key.path == QString::fromStdString(image.string());
        },
        30000))
        << window->lastError().toStdString() << " | "
        << (v->result() ? v->result()->key.path.toStdString() : "none");
    EXPECT_FALSE(v->panel(0)->hasTruth());
    EXPECT_EQ(v->panel(0)->iou(), 0.0);
    EXPECT_TRUE(window->findChild<QLabel*>("predictionLabel")->text().contains("no ground truth"));
    delete mime;
}

TEST_F(Walkthrough, BadFolderAndBadModelGiveErrorsAndTheWindowKeepsWorking) {
    test::TempDir junk;
    test::spit(junk / "model.ckpt", "garbage");
    QSignalSpy errors(window.get(), &MainWindow::errorShown);
    window->openDataset(QString::fromStdString(junk.path().string()));
    ASSERT_TRUE(errors.wait(20000));
    EXPECT_TRUE(
        window->lastError().contains("is not a dataset CAM Explorer reads: expected Stanford Dogs"))
        << window->lastError().toStdString();
    ASSERT_TRUE(QTest::qWaitFor([&] { return !window->isLoading(); }, 5000));
    window->openModel(QString::fromStdString((junk / "model.ckpt").string()));
    ASSERT_TRUE(errors.wait(20000));
    EXPECT_TRUE(window->lastError().contains("model.ckpt")) << window->lastError().toStdString();
    // Still the old dataset and model: stepping through images still explains them.
    ASSERT_TRUE(window->dataset());
    ASSERT_TRUE(window->model());
    QTest::keyClick(window.get(), Qt::Key_End, Qt::ControlModifier);
    ASSERT_TRUE(QTest::qWaitFor(
        [&] {
            auto r = window->explorer()->result();
            return r && r->key.path == QString::fromStdString(currentSample().imagePath.string());
        },
        30000));
}

TEST_F(Walkthrough, WindowGrabShowsBothPanelsAndAboutListsVersions) {
    const QImage shot = window->grab().toImage();
    ASSERT_FALSE(shot.isNull());
    for (int i = 0; i < 2; ++i) {
        HeatmapPanel* p = window->explorer()->panel(i);
        const QImage img = p->grab().toImage();
        // A drawn panel holds many colours (photo + heatmap), not a flat background.
        QSet<QRgb> colours;
        for (int y = 0; y < img.height(); y += 4)
            for (int x = 0; x < img.width(); x += 4) colours.insert(img.pixel(x, y));
        EXPECT_GT(colours.size(), 200) << "panel " << i;
        // What it paints (and exports) is at the photo's resolution.
        EXPECT_EQ(p->scene().picture.width(), currentSample().width);
    }
    // The copied figure: the photo and both panels side by side.
    const QImage fig = window->explorer()->composedFigure();
    EXPECT_EQ(fig.width(), 3 * currentSample().width + 2 * 8);
    const QString about = AboutDialog::versionText("cpu");
    EXPECT_TRUE(about.contains(qVersion()));
    EXPECT_TRUE(about.contains(CV_VERSION));
    EXPECT_TRUE(about.contains("1.13") || about.contains("2."));
}

TEST_F(Walkthrough, FigureExportsAsPngSvgAndPdf) {
    test::TempDir dir;
    const ComparisonFigure fig = window->explorer()->figure();
    ASSERT_EQ(fig.panels.size(), 3u);  // photo, CAM, Grad-CAM
    EXPECT_FALSE(fig.panels[0].scene.hasMap);
    EXPECT_TRUE(fig.panels[1].caption.startsWith("CAM · layer4"));
    // The captions carry the IoUs the panels show, and the header the prediction.
    EXPECT_TRUE(fig.panels[2].caption.contains(
        QString::number(window->explorer()->panel(1)->iou(), 'f', 3)));
    EXPECT_TRUE(fig.header.startsWith("Predicted: "));
    const QSize natural = naturalSize(fig).toSize();
    EXPECT_EQ(natural.width(), 3 * currentSample().width + 2 * 8);
    auto path = [&](const char* name) { return QString::fromStdString((dir / name).string()); };
    for (const char* name : {"fig.png", "fig.svg", "fig.pdf", "fig.jpg"}) {
        QString error;
        ASSERT_TRUE(window->saveFigureTo(path(name), {}, &error)) << error.toStdString();
    }
    EXPECT_EQ(QImage(path("fig.png")).size(), natural);
    EXPECT_EQ(QImage(path("fig.jpg")).size(), natural);
    // A chosen width, or a DPI (which also lands in the PNG's header).
    ExportOptions wide;
    wide.widthPx = 1200;
    ASSERT_TRUE(window->saveFigureTo(path("wide.png"), wide));
    const QImage w(path("wide.png"));
    EXPECT_EQ(w.width(), 1200);
    EXPECT_NEAR(w.height(), 1200.0 * natural.height() / natural.width(), 1.0);
    ExportOptions print;
    print.dpi = 300;
    ASSERT_TRUE(window->saveFigureTo(path("print.png"), print));
    const QImage pr(path("print.png"));
    EXPECT_NEAR(pr.width(), natural.width() * 300.0 / 96.0, 1.0);
    EXPECT_NEAR(pr.dotsPerMeterX() * 0.0254, 300.0, 0.5);
    EXPECT_GT(test::svgElementCount(dir / "fig.svg"), 10);
    // The size dialog keeps width and DPI as two views of one scale.
    ExportSizeDialog sizeDialog(naturalSize(fig));
    sizeDialog.findChild<QSpinBox*>("dpiSpin")->setValue(192);
    EXPECT_EQ(sizeDialog.options().widthPx, 2 * natural.width());
    sizeDialog.findChild<QSpinBox*>("widthSpin")->setValue(natural.width() / 2);
    EXPECT_EQ(sizeDialog.options().dpi, 48);
    EXPECT_EQ(test::pdfPageCount(test::slurp(dir / "fig.pdf")), 1);
    // Bad names and sizes are refused with a message; an old file survives a failed save.
    QString error;
    EXPECT_FALSE(window->saveFigureTo(path("fig.bmp"), {}, &error));
    EXPECT_TRUE(error.contains("fig.bmp")) << error.toStdString();
    ExportOptions huge;
    huge.widthPx = 40000;
    EXPECT_FALSE(window->saveFigureTo(path("fig.png"), huge, &error));
    EXPECT_EQ(QImage(path("fig.png")).size(), natural);
    EXPECT_FALSE(window->saveFigureTo(path("no/such/folder/fig.png"), {}, &error));
    EXPECT_TRUE(error.contains("no/such/folder")) << error.toStdString();
    // Nothing half-written is left behind.
    EXPECT_FALSE(fs::exists(dir / "fig.png.part"));
}

}  // namespace
}  // namespace camx::ui
