// The explorer view on its own, offscreen, fed a made-up model description and explanation (no
// network): the threshold's spin box and slider, the keyboard on a focused slider, the file line
// and top five while an image computes or after a failed open, the panels' headers before any
// model, the control row's layout at the explorer's share of a 1280 × 720 window, and the figure
// painting shared with export (box labels, colour scale, file names in grid cells).
#include <gtest/gtest.h>

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFontMetricsF>
#include <QLabel>
#include <QLineEdit>
#include <QPainter>
#include <QSignalSpy>
#include <QSlider>
#include <QTest>
#include <QVBoxLayout>
#include <cmath>

#include "../core/test_support.h"
#include "explain/model_session.h"
#include "explain/postprocess.h"
#include "explorer/explorer_view.h"
#include "explorer/heatmap_panel.h"
#include "figures/comparison_figure.h"
#include "figures/figure_batch.h"
#include "figures/figure_writer.h"
#include "figures/panel_scene.h"

namespace camx::ui {
namespace {

// A ResNet-18's taps (the stem and eight blocks) and three breeds.
ModelInfo fakeInfo() {
    ModelInfo info;
    info.arch = Arch::ResNet18;
    info.classNames = {"Spotted_Pointer", "Tiger_Hound", "Curly_Terrier"};
    info.classFolders = {"n1-Spotted_Pointer", "n2-Tiger_Hound", "n3-Curly_Terrier"};
    info.taps.push_back({"stem", "pool1_pool", 64, 4, false});
    const int strides[4] = {4, 8, 16, 32};
    for (int layer = 1; layer <= 4; ++layer)
        for (int block = 0; block < 2; ++block)
            info.taps.push_back(
                {"layer" + std::to_string(layer) + "." + std::to_string(block),
                 "conv" + std::to_string(layer + 1) + "_block" + std::to_string(block + 1) + "_out",
                 64, strides[layer - 1], false});
    info.lastBlockTap = static_cast<int>(info.taps.size()) - 1;
    return info;
}

// A blob centred at (cx, cy) (fractions of the map) on a 10 × 8 map.
Heatmap blob(double cx, double cy) {
    Heatmap h;
    h.width = 10;
    h.height = 8;
    for (int y = 0; y < h.height; ++y)
        for (int x = 0; x < h.width; ++x) {
            const double dx = (x + 0.5) / h.width - cx, dy = (y + 0.5) / h.height - cy;
            h.data.push_back(static_cast<float>(std::exp(-(dx * dx + dy * dy) / 0.03)));
        }
    return h;
}

// A 160 × 120 photo explained at every block; the prediction is breed `top`.
std::shared_ptr<const ExplainResult> fakeResult(const ModelInfo& info, const QString& path,
                                                int top) {
    auto r = std::make_shared<ExplainResult>();
    r->key = {path, -1, ScoreKind::Logit};
    r->photo = cv::Mat(120, 160, CV_8UC3);
    for (int y = 0; y < 120; ++y)
        for (int x = 0; x < 160; ++x)
            r->photo.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uchar>(x), static_cast<uchar>(y),
                                                     static_cast<uchar>((x + y) / 2));
    r->explanation.target = top;
    r->explanation.top = {{top, 0.7f, 3.f}, {(top + 1) % 3, 0.2f, 1.f}, {(top + 2) % 3, 0.1f, 0.f}};
    double shift = 0;
    for (Method m : ExplainController::passMethods()) {
        shift += 0.02;
        if (m == Method::Cam) {
            r->explanation.maps.push_back({m, info.lastBlockTap, blob(0.55, 0.5)});
            continue;
        }
        for (int tap : info.blockTaps())
            r->explanation.maps.push_back({m, tap, blob(0.4 + shift, 0.45)});
    }
    return r;
}

const std::vector<Box> kTruth{{50, 25, 120, 95}};

class ExplorerViewTest : public ::testing::Test {
protected:
    void SetUp() override {
        info = fakeInfo();
        view.setModelInfo(&info);
    }
    void showFirst() {
        view.showResult(fakeResult(info, "/data/Images/n1-Spotted_Pointer/n1_1001.jpg", 0), kTruth,
                        true, 0);
    }
    // The IoU core computes for panel i at the view's current settings.
    double coreIou(int i) const {
        const HeatmapPanel* p = view.panel(i);
        const int tap = p->method() == Method::Cam ? info.lastBlockTap : view.currentTap();
        const Heatmap* raw = view.result()->explanation.find(p->method(), tap);
        if (!raw) return -1;
        const Heatmap map = displayMap(*raw, p->method(), 160, 120);
        return bestIou(boxFromMap(map, view.threshold(), view.boxMode(), kTruth), kTruth);
    }
    template <typename T>
    T* child(const char* name) {
        auto* w = view.findChild<T*>(QString::fromLatin1(name));
        EXPECT_TRUE(w) << name;
        return w;
    }

    ModelInfo info;
    ExplorerView view;
};

TEST(ExplorerViewHeaders, EachPanelNamesItsOwnMethodBeforeAnyModel) {
    ExplorerView view;  // first start: no settings, no model, no image
    EXPECT_EQ(view.panel(0)->method(), Method::Cam);
    EXPECT_EQ(view.panel(0)->title(), "CAM");
    EXPECT_EQ(view.panel(1)->method(), Method::GradCam);
    EXPECT_EQ(view.panel(1)->title(), "Grad-CAM");
    EXPECT_EQ(view.panel(2)->title(), "Grad-CAM++");
    // Picked by hand, still without a model.
    auto* m1 = view.findChild<QComboBox*>("method1");
    ASSERT_TRUE(m1);
    m1->setCurrentIndex(m1->findData(static_cast<int>(Method::LayerCam)));
    EXPECT_EQ(view.panel(1)->method(), Method::LayerCam);
    EXPECT_EQ(view.panel(1)->title(), "LayerCAM");
}

TEST(ExplorerViewHeaders, EachPanelOffersEveryMethod) {
    ExplorerView view;
    for (int i = 0; i < 3; ++i) {
        auto* combo = view.findChild<QComboBox*>(QStringLiteral("method%1").arg(i));
        ASSERT_TRUE(combo);
        std::vector<int> listed, all;
        for (int k = 0; k < combo->count(); ++k) listed.push_back(combo->itemData(k).toInt());
        for (Method m : allMethods()) all.push_back(static_cast<int>(m));
        EXPECT_EQ(listed, all);
        EXPECT_EQ(combo->itemData(combo->findText("Finer-CAM")).toInt(),
                  static_cast<int>(Method::FinerCam));
    }
}

TEST_F(ExplorerViewTest, TypingAThresholdMovesTheSliderAndTheBoxes) {
    showFirst();
    auto* spin = child<QDoubleSpinBox>("thresholdSpin");
    auto* slider = child<QSlider>("thresholdSlider");
    ASSERT_TRUE(spin && slider);
    EXPECT_EQ(slider->minimum(), 0);
    EXPECT_EQ(slider->maximum(), 100);
    EXPECT_DOUBLE_EQ(spin->minimum(), 0.0);
    EXPECT_DOUBLE_EQ(spin->maximum(), 1.0);
    EXPECT_DOUBLE_EQ(spin->singleStep(), 0.01);
    EXPECT_NEAR(spin->value(), slider->value() / 100.0, 1e-9);
    const auto boxBefore = view.panel(1)->predictedBox();
    ASSERT_TRUE(boxBefore);
    QSignalSpy iou(&view, &ExplorerView::iouChanged);

    view.show();
    spin->setFocus();
    spin->selectAll();
    QTest::keyClicks(spin, "0.55");
    QTest::keyClick(spin, Qt::Key_Return);
    EXPECT_EQ(slider->value(), 55);
    EXPECT_FLOAT_EQ(view.threshold(), 0.55f);
    EXPECT_GT(iou.count(), 0);
    const auto boxAfter = view.panel(1)->predictedBox();
    ASSERT_TRUE(boxAfter);
    EXPECT_FALSE(*boxAfter == *boxBefore) << "a higher threshold makes a smaller box";
    for (int i = 0; i < 2; ++i) EXPECT_NEAR(view.panel(i)->iou(), coreIou(i), 1e-12) << i;

    // And back: the slider sets the spin box.
    slider->setValue(31);
    EXPECT_NEAR(spin->value(), 0.31, 1e-9);
    EXPECT_FLOAT_EQ(view.threshold(), 0.31f);
    for (int i = 0; i < 2; ++i) EXPECT_NEAR(view.panel(i)->iou(), coreIou(i), 1e-12) << i;
    // The figure's captions follow.
    EXPECT_TRUE(view.figure().panels.at(1).caption.contains("τ 0.31"));
    EXPECT_FLOAT_EQ(view.sceneStyle().tau, 0.31f);
}

TEST_F(ExplorerViewTest, AFocusedSliderTakesTheArrowsBeforeWindowShortcuts) {
    // A window with ←/→ shortcuts (as the main window's Previous/Next had) around the view.
    QWidget window;
    auto* layout = new QVBoxLayout(&window);
    view.setParent(&window);
    layout->addWidget(&view);
    struct Unparent {
        ExplorerView& v;
        ~Unparent() { v.setParent(nullptr); }  // the fixture owns the view
    } unparent{view};
    QAction previous(&window), next(&window);
    previous.setShortcut(Qt::Key_Left);
    next.setShortcut(Qt::Key_Right);
    window.addAction(&previous);
    window.addAction(&next);
    QSignalSpy nexts(&next, &QAction::triggered), previouses(&previous, &QAction::triggered);
    window.resize(1000, 700);
    window.show();
    window.activateWindow();
    ASSERT_TRUE(QTest::qWaitForWindowActive(&window));
    showFirst();

    for (const char* name : {"layerSlider", "thresholdSlider", "blendSlider"}) {
        auto* s = child<QSlider>(name);
        ASSERT_TRUE(s);
        EXPECT_EQ(s->focusPolicy(), Qt::StrongFocus) << name;
        s->setFocus();
        ASSERT_TRUE(QTest::qWaitFor([&] { return s->hasFocus(); }, 2000)) << name;
        if (s->value() == s->maximum()) QTest::keyClick(s, Qt::Key_Left);
        const int start = s->value();
        QTest::keyClick(s, Qt::Key_Right);
        EXPECT_EQ(s->value(), start + s->singleStep()) << name;
        QTest::keyClick(s, Qt::Key_Left);
        EXPECT_EQ(s->value(), start) << name;
        QTest::keyClick(s, Qt::Key_Up);
        EXPECT_EQ(s->value(), start + s->singleStep()) << name;
        QTest::keyClick(s, Qt::Key_Down);
        EXPECT_EQ(s->value(), start) << name;
    }
    EXPECT_EQ(nexts.count(), 0);
    EXPECT_EQ(previouses.count(), 0);
    // The threshold's arrows re-render like a drag: the spin box follows.
    auto* threshold = child<QSlider>("thresholdSlider");
    threshold->setFocus();
    const int before = threshold->value();
    QTest::keyClick(threshold, Qt::Key_Right);
    EXPECT_EQ(threshold->value(), before + 1);
    EXPECT_NEAR(child<QDoubleSpinBox>("thresholdSpin")->value(), (before + 1) / 100.0, 1e-9);
    for (int i = 0; i < 2; ++i) EXPECT_NEAR(view.panel(i)->iou(), coreIou(i), 1e-12) << i;

    // Away from the sliders the window's shortcuts still work.
    auto* mode = child<QComboBox>("boxModeCombo");
    mode->setFocus();
    ASSERT_TRUE(QTest::qWaitFor([&] { return mode->hasFocus(); }, 2000));
    QTest::keyClick(mode, Qt::Key_Right);
    EXPECT_EQ(nexts.count(), 1);
}

TEST_F(ExplorerViewTest, WhileAnImageComputesTheTop5AndFileLineAreNotThePreviousImages) {
    auto* top5 = child<QLabel>("top5");
    auto* infoLine = child<QLabel>("imageInfo");
    auto* cls = child<QComboBox>("classCombo");
    ASSERT_TRUE(top5 && infoLine && cls);
    EXPECT_EQ(infoLine->text(), "No image");
    showFirst();
    EXPECT_TRUE(top5->text().contains("Spotted_Pointer")) << top5->text().toStdString();
    EXPECT_EQ(infoLine->text(), "n1_1001.jpg  ·  Spotted_Pointer  ·  160 × 120 px");
    EXPECT_GE(cls->findText("Top: Spotted_Pointer (70.0%)"), 0);

    // The next image (a Tiger_Hound, 640 × 480) computes: only its thumbnail is here.
    QImage thumb(96, 72, QImage::Format_RGB888);
    thumb.fill(Qt::darkGreen);
    view.showPending(thumb, kTruth, true, 1, "/data/Images/n2-Tiger_Hound/n2_2002.jpg",
                     QSize(640, 480));
    EXPECT_FALSE(top5->text().contains("Spotted_Pointer")) << top5->text().toStdString();
    EXPECT_TRUE(top5->text().contains("computing")) << top5->text().toStdString();
    EXPECT_EQ(infoLine->text(), "n2_2002.jpg  ·  Tiger_Hound  ·  640 × 480 px");
    EXPECT_LT(cls->findText("Top: Spotted_Pointer (70.0%)"), 0) << "the old image's top five";
    EXPECT_FALSE(view.result());
    EXPECT_EQ(view.panel(0)->message(), "computing…");
    // Without a size (a dropped file) the line says it is still reading it.
    view.showPending(thumb, {}, false, -1, "/elsewhere/dog.png");
    EXPECT_EQ(infoLine->text(), "dog.png  ·  no ground truth  ·  size: reading…");
    // Its result: the photo's own size, and its top five.
    view.showResult(fakeResult(info, "/elsewhere/dog.png", 2), {}, false, -1);
    EXPECT_EQ(infoLine->text(), "dog.png  ·  no ground truth  ·  160 × 120 px");
    EXPECT_TRUE(top5->text().startsWith("Top 5:")) << top5->text().toStdString();
    EXPECT_TRUE(top5->text().contains("Curly_Terrier 70.0%")) << top5->text().toStdString();
    EXPECT_FALSE(top5->text().contains("computing"));
}

TEST_F(ExplorerViewTest, ClearShowsNoImageAndKeepsNothingOfTheLastOne) {
    showFirst();
    ASSERT_TRUE(view.result());
    auto* cls = child<QComboBox>("classCombo");
    ASSERT_GE(cls->findData(-2), 0);  // "Ground truth" while the image has one
    view.clear("Could not open broken.jpg: not an image");
    EXPECT_FALSE(view.result());
    EXPECT_TRUE(child<QLabel>("top5")->text().isEmpty());
    EXPECT_EQ(child<QLabel>("imageInfo")->text(), "No image");
    EXPECT_LT(cls->findData(-2), 0);
    EXPECT_LT(cls->findText("Top: Spotted_Pointer (70.0%)"), 0);
    EXPECT_TRUE(view.figure().panels.empty());
    EXPECT_TRUE(view.composedFigure().isNull());
    for (int i = 0; i < 3; ++i) {
        const HeatmapPanel* p = view.panel(i);
        EXPECT_TRUE(p->photoSize().isEmpty()) << i;
        EXPECT_FALSE(p->hasMap()) << i;
        EXPECT_FALSE(p->hasTruth()) << i;
        EXPECT_FALSE(p->predictedBox()) << i;
        EXPECT_EQ(p->message(), "Could not open broken.jpg: not an image") << i;
        EXPECT_EQ(p->title(), QString::fromStdString(methodName(p->method()))) << i;
    }
    // The panel paints the message where the photo would be (not "Choose an image").
    view.resize(950, 600);
    const QImage shot = view.panel(0)->grab().toImage();
    EXPECT_FALSE(shot.isNull());
    // A plain clear() says nothing but "Choose an image"; showing a result again works.
    view.clear();
    EXPECT_TRUE(view.panel(0)->message().isEmpty());
    showFirst();
    EXPECT_TRUE(view.result());
    EXPECT_TRUE(view.panel(1)->hasMap());
    EXPECT_TRUE(view.panel(1)->message().isEmpty());
}

// Every control visible, of a usable width, inside the view and clear of the others.
void expectControlsUsable(ExplorerView& view, const char* where) {
    QList<QWidget*> controls;
    for (auto* w : view.findChildren<QSlider*>()) controls << w;
    for (auto* w : view.findChildren<QDoubleSpinBox*>()) controls << w;
    for (auto* w : view.findChildren<QComboBox*>()) controls << w;
    for (auto* w : view.findChildren<QCheckBox*>()) controls << w;
    for (const char* name : {"layerLabel", "imageInfo", "colorScale"})
        controls << view.findChild<QWidget*>(QString::fromLatin1(name));
    int checked = 0;
    for (QWidget* w : controls) {
        ASSERT_TRUE(w);
        if (!w->isVisibleTo(&view)) continue;  // the third panel's picker while it is off
        ++checked;
        const QRect r(w->mapTo(&view, QPoint(0, 0)), w->size());
        const std::string name = w->objectName().toStdString() + " at " + where;
        const int least = qobject_cast<QSlider*>(w) ? 100 : 60;
        EXPECT_GE(r.width(), least) << name;
        EXPECT_GE(r.height(), 12) << name;
        EXPECT_TRUE(view.rect().contains(r))
            << name << ": " << r.x() << "," << r.y() << " " << r.width() << "x" << r.height();
        for (QWidget* o : controls) {
            if (o == w || !o->isVisibleTo(&view) || o->isAncestorOf(w) || w->isAncestorOf(o))
                continue;
            EXPECT_FALSE(r.intersects(QRect(o->mapTo(&view, QPoint(0, 0)), o->size())))
                << name << " overlaps " << o->objectName().toStdString();
        }
    }
    EXPECT_GE(checked, 13) << where;
    for (int i = 0; i < view.panelCount(); ++i) {
        EXPECT_GE(view.panel(i)->width(), 200) << "panel " << i << " at " << where;
        EXPECT_GE(view.panel(i)->height(), 180) << "panel " << i << " at " << where;
    }
}

TEST_F(ExplorerViewTest, FitsTheExplorersShareOfA1280x720Window) {
    showFirst();
    const QSize least = view.minimumSizeHint();
    EXPECT_LE(least.width(), 950);
    EXPECT_LE(least.height(), 600);
    EXPECT_GE(least.width(), 400);
    view.resize(950, 600);
    view.show();
    QCoreApplication::processEvents();
    expectControlsUsable(view, "950x600");
    view.findChild<QCheckBox*>("thirdPanel")->setChecked(true);
    QCoreApplication::processEvents();
    expectControlsUsable(view, "950x600, three panels");
    view.resize(view.minimumSizeHint());
    QCoreApplication::processEvents();
    expectControlsUsable(view, "the minimum size, three panels");
}

TEST_F(ExplorerViewTest, TheControlRowStaysPutAsTheLayerLabelChanges) {
    showFirst();
    view.resize(950, 600);
    view.show();
    QCoreApplication::processEvents();
    auto* layer = child<QSlider>("layerSlider");
    auto* label = child<QLabel>("layerLabel");
    auto* threshold = child<QSlider>("thresholdSlider");
    const QRect layerGeometry = layer->geometry(), thresholdGeometry = threshold->geometry();
    const QRect labelGeometry = label->geometry();
    QSet<QString> texts;
    for (int v = layer->minimum(); v <= layer->maximum(); ++v) {
        layer->setValue(v);
        QCoreApplication::processEvents();
        texts.insert(label->text());
        EXPECT_EQ(layer->geometry(), layerGeometry) << v;
        EXPECT_EQ(threshold->geometry(), thresholdGeometry) << v;
        EXPECT_EQ(label->geometry(), labelGeometry) << v;
        EXPECT_GE(label->width(), label->fontMetrics().horizontalAdvance(label->text())) << v;
    }
    EXPECT_EQ(texts.size(), 8);  // every block named
    EXPECT_TRUE(texts.contains("layer4.1  (conv5_block2_out), stride 32"));
}

TEST_F(ExplorerViewTest, TheColourScaleFollowsTheColourMapAndThreshold) {
    showFirst();
    auto* scale = view.findChild<ColorScale*>("colorScale");
    ASSERT_TRUE(scale);
    auto* colours = child<QComboBox>("colormapCombo");
    colours->setCurrentIndex(colours->findData(static_cast<int>(Colormap::Viridis)));
    EXPECT_EQ(scale->colormap(), Colormap::Viridis);
    EXPECT_EQ(view.panel(0)->colormap(), Colormap::Viridis);
    EXPECT_EQ(view.figure().colormap, Colormap::Viridis);
    child<QSlider>("thresholdSlider")->setValue(40);
    EXPECT_FLOAT_EQ(scale->threshold(), 0.4f);
    // It paints the overlay's colours: 0 at the left end, 1 at the right.
    scale->resize(300, scale->sizeHint().height());
    const QImage shot = scale->grab().toImage();
    const QRectF bar = scale->barRect();
    const QImage ramp = colorScaleImage(Colormap::Viridis);
    auto near = [](QRgb a, QRgb b) {
        return std::abs(qRed(a) - qRed(b)) + std::abs(qGreen(a) - qGreen(b)) +
                   std::abs(qBlue(a) - qBlue(b)) <
               40;
    };
    const int y = static_cast<int>(bar.center().y());
    EXPECT_TRUE(near(shot.pixel(static_cast<int>(bar.left()) + 3, y), ramp.pixel(0, 0)));
    EXPECT_TRUE(near(shot.pixel(static_cast<int>(bar.right()) - 3, y), ramp.pixel(255, 0)));
    EXPECT_FALSE(near(ramp.pixel(0, 0), ramp.pixel(255, 0)));
}

// A truth box and a predicted box that overlap: the truth's label below its box would sit on the
// predicted box's left edge, and the predicted label above its box on the truth's top edge.
TEST(ExplorerViewFigures, BoxLabelsStayClearOfTheOtherBoxesLines) {
    PanelScene s;
    s.picture = QImage(200, 200, QImage::Format_RGB888);
    s.picture.fill(Qt::gray);
    s.hasMap = true;
    s.method = Method::GradCam;
    s.truth = {{20, 40, 100, 120}};
    s.truthKnown = true;
    s.box = Box{50, 50, 180, 150};
    s.iou = 0.4;
    const QRectF target(0, 0, 400, 400);
    const double scale = 2.0;
    QFont f;
    f.setPixelSize(14);
    f.setBold(true);
    QImage canvas(400, 400, QImage::Format_RGB888);
    const QFontMetricsF fm(f, &canvas);
    const auto labels = sceneLabels(s, target, scale, fm);
    ASSERT_EQ(labels.size(), 2u);
    auto rectOf = [&](const Box& b) {
        return QRectF(b.xmin * scale, b.ymin * scale, (b.xmax - b.xmin + 1) * scale,
                      (b.ymax - b.ymin + 1) * scale);
    };
    const QRectF truth = rectOf(s.truth[0]), predicted = rectOf(*s.box);
    for (const SceneLabel& l : labels) {
        EXPECT_TRUE(target.contains(l.rect));
        const QRectF other = l.box == 0 ? predicted : truth;
        EXPECT_FALSE(crossesBoxLine(l.rect, other, 2.5))
            << l.text.toStdString() << " at " << l.rect.x() << "," << l.rect.y();
        EXPECT_GE(l.rect.width(), fm.horizontalAdvance(l.text));
    }
    EXPECT_FALSE(labels[0].rect.intersects(labels[1].rect));
    // The helper itself: a rectangle across an edge crosses it; one inside or outside does not.
    EXPECT_TRUE(crossesBoxLine(QRectF(30, 70, 20, 10), truth, 2.5));
    EXPECT_FALSE(crossesBoxLine(QRectF(60, 100, 20, 10), truth, 2.5));
    EXPECT_FALSE(crossesBoxLine(QRectF(300, 300, 20, 10), truth, 2.5));

    // Painted: the labels lie over the lines, each filled with its own colour at its edge.
    QPainter p(&canvas);
    p.setFont(f);
    paintPanelScene(p, s, target, scale);
    p.end();
    for (const SceneLabel& l : labels) {
        const QPoint corner = l.rect.toAlignedRect().topLeft() + QPoint(2, 2);
        EXPECT_EQ(QColor(canvas.pixel(corner)), l.colour) << l.text.toStdString();
    }
}

TEST(ExplorerViewFigures, ComparisonFiguresShowTheColourScaleAndName) {
    const ModelInfo info = fakeInfo();
    const auto r = fakeResult(info, "/data/n1_1001.jpg", 0);
    FigureRequest req;
    req.style.colormap = Colormap::Inferno;
    ComparisonFigure f = makeComparison(info, r->photo, r->explanation, kTruth,
                                        TruthClass{"Spotted_Pointer", 0}, req);
    f.name = "n1_1001.jpg";
    EXPECT_EQ(f.colormap, Colormap::Inferno);
    ASSERT_TRUE(hasColorScale(f));
    const QSizeF withScale = naturalSize(f);
    ComparisonFigure plain = f;
    for (auto& panel : plain.panels) panel.scene.hasMap = false;
    EXPECT_FALSE(hasColorScale(plain));
    EXPECT_GT(withScale.height(), naturalSize(plain).height());
    EXPECT_EQ(withScale.width(), naturalSize(plain).width());
    // The band under the captions holds the colour map's two ends.
    QImage out(withScale.toSize(), QImage::Format_RGB888);
    out.fill(Qt::white);
    QPainter p(&out);
    paintFigure(p, f, QRectF(QPointF(0, 0), withScale));
    p.end();
    const QImage ramp = colorScaleImage(Colormap::Inferno);
    const int bandTop = static_cast<int>(naturalSize(plain).height());
    int low = 0, high = 0;
    auto near = [](QRgb a, QRgb b) {
        return std::abs(qRed(a) - qRed(b)) + std::abs(qGreen(a) - qGreen(b)) +
                   std::abs(qBlue(a) - qBlue(b)) <
               24;
    };
    for (int y = bandTop; y < out.height(); ++y)
        for (int x = 0; x < out.width(); ++x) {
            low += near(out.pixel(x, y), ramp.pixel(64, 0));
            high += near(out.pixel(x, y), ramp.pixel(192, 0));
        }
    EXPECT_GT(low, 10);
    EXPECT_GT(high, 10);
}

// Grid cells carry their image's file name (built by the same code as the CLI's export).
class ExplorerViewGrid : public test::DemoSuite<1, 2, 2, 17, true> {};

TEST_F(ExplorerViewGrid, GridCellsAreCaptionedWithTheirFileNames) {
    auto model = ModelSession::open(modelFile());
    std::vector<Sample> samples(s_ds->test.samples.begin(), s_ds->test.samples.begin() + 3);
    FigureRequest req;
    GridFigure grid;
    grid.rows = buildComparisons(*model, samples, s_ds->breedNames, req, ExplainTarget::Predicted);
    grid.columns = 2;
    ASSERT_EQ(grid.rows.size(), 3u);
    for (std::size_t i = 0; i < samples.size(); ++i)
        EXPECT_EQ(grid.rows[i].name,
                  QString::fromStdString(samples[i].imagePath.filename().string()));
    test::TempDir dir;
    const QString file = QString::fromStdString((dir / "grid.svg").string());
    ASSERT_TRUE(writeFigure(
        file,
        {FigurePage{naturalSize(grid),
                    [&grid](QPainter& p, const QRectF& r) { paintFigure(p, grid, r); }}},
        {}));
    const std::string svg = test::slurp(dir / "grid.svg");
    for (const Sample& s : samples)
        EXPECT_NE(svg.find(s.imagePath.filename().string()), std::string::npos)
            << s.imagePath.filename();
}

}  // namespace
}  // namespace camx::ui
