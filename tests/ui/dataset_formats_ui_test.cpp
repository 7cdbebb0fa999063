// The views over datasets of every format, offscreen: the class filter and the label rule, the
// validation split in the split pickers, images without ground-truth boxes, segmentation masks
// drawn as outlines, the dashboard's WSOL figures beside the published ones and its protocol
// choice, and File ▸ Open Dataset's format and metadata folder reaching the dataset reader.
#include <gtest/gtest.h>

#include <QAction>
#include <QApplication>
#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QComboBox>
#include <QDropEvent>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMimeData>
#include <QPainter>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTableView>
#include <QTest>
#include <QUrl>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <opencv2/core.hpp>
#include <optional>

#include "../core/test_support.h"
#include "browser/browser_panel.h"
#include "browser/dataset_filter.h"
#include "browser/dataset_model.h"
#include "browser/dataset_text.h"
#include "browser/load_report_dialog.h"
#include "browser/open_dataset_dialog.h"
#include "dashboard/eval_dashboard.h"
#include "data/image_io.h"
#include "explain/model_session.h"
#include "explorer/explorer_view.h"
#include "explorer/heatmap_panel.h"
#include "explorer/mask_outline_loader.h"
#include "figures/comparison_figure.h"
#include "figures/panel_scene.h"
#include "main_window.h"
#include "ui_test_support.h"
#include "workspace.h"

// Readable failures: a QString prints as its text.
inline void PrintTo(const QString& s, std::ostream* os) {
    *os << '"' << s.toStdString() << '"';
}

namespace camx::ui {
namespace {
namespace fs = std::filesystem;

const std::string kVocRule = "the class of the image's largest object";

Sample sample(const std::string& rel, int label, bool boxes = true) {
    Sample s;
    s.imagePath = fs::path("/nonexistent/images") / rel;
    s.relPath = rel;
    s.label = label;
    s.width = 80;
    s.height = 60;
    if (boxes) s.boxes = {{10, 10, 50, 40}};
    return s;
}

// A dataset in memory (its images need not exist: thumbnails fall back to a grey cell).
std::shared_ptr<Dataset> fakeDataset(bool withVal, DatasetFormat format = DatasetFormat::Voc) {
    auto d = std::make_shared<Dataset>();
    d->root = "/nonexistent";
    d->format = format;
    d->breedFolders = {"aeroplane", "bird", "cat"};
    d->breedNames = {"aeroplane", "bird", "cat"};
    for (int i = 0; i < 6; ++i) {
        d->train.samples.push_back(sample("train_" + std::to_string(i) + ".jpg", i % 3));
        d->test.samples.push_back(sample("test_" + std::to_string(i) + ".jpg", i % 3));
        if (withVal) d->val.samples.push_back(sample("val_" + std::to_string(i) + ".jpg", i % 3));
    }
    for (SplitData* s : {&d->train, &d->val, &d->test})
        s->report.listed = s->report.loaded = s->samples.size();
    return d;
}

std::vector<int> comboData(const QComboBox* c) {
    std::vector<int> out;
    for (int i = 0; i < c->count(); ++i) out.push_back(c->itemData(i).toInt());
    return out;
}

// Every piece of text a user reads in `w`: labels, combo items, placeholders, tool tips.
QStringList visibleTexts(const QWidget* w) {
    QStringList out;
    for (const QLabel* l : w->findChildren<QLabel*>()) out << l->text() << l->toolTip();
    for (const QComboBox* c : w->findChildren<QComboBox*>()) {
        out << c->toolTip();
        for (int i = 0; i < c->count(); ++i) out << c->itemText(i);
    }
    for (const QLineEdit* e : w->findChildren<QLineEdit*>()) out << e->placeholderText();
    return out;
}

// A ResNet-18-like model description with three classes, and an explanation of a 160 x 120
// photo (no network).
ModelInfo fakeInfo() {
    ModelInfo info;
    info.arch = Arch::ResNet18;
    info.classNames = {"aeroplane", "bird", "cat"};
    info.taps.push_back({"stem", "pool1_pool", 64, 4, false});
    for (int layer = 1; layer <= 4; ++layer)
        for (int block = 0; block < 2; ++block)
            info.taps.push_back({"layer" + std::to_string(layer) + "." + std::to_string(block), "",
                                 64, 4 << (layer - 1), false});
    info.lastBlockTap = static_cast<int>(info.taps.size()) - 1;
    return info;
}

std::shared_ptr<const ExplainResult> fakeResult(const ModelInfo& info, const QString& path) {
    auto r = std::make_shared<ExplainResult>();
    r->key = {path, -1, ScoreKind::Logit};
    r->photo = cv::Mat(120, 160, CV_8UC3, cv::Scalar(90, 120, 150));
    r->explanation.target = 1;
    r->explanation.top = {{1, 0.7f, 3.f}, {0, 0.2f, 1.f}, {2, 0.1f, 0.f}};
    Heatmap h;
    h.width = 10;
    h.height = 8;
    for (int y = 0; y < h.height; ++y)
        for (int x = 0; x < h.width; ++x) {
            const double dx = (x + 0.5) / h.width - 0.5, dy = (y + 0.5) / h.height - 0.5;
            h.data.push_back(static_cast<float>(std::exp(-(dx * dx + dy * dy) / 0.03)));
        }
    for (Method m : ExplainController::passMethods())
        for (int tap : m == Method::Cam ? std::vector<int>{info.lastBlockTap} : info.blockTaps())
            r->explanation.maps.push_back({m, tap, h});
    return r;
}

// A 40 x 30 mask with two separate blobs, as wsolevaluation's OpenImages masks are (0 / 255).
fs::path writeTwoBlobMask(const fs::path& file) {
    cv::Mat rgb(30, 40, CV_8UC3, cv::Scalar(0, 0, 0));
    rgb(cv::Rect(3, 4, 10, 8)).setTo(cv::Scalar(255, 255, 255));
    rgb(cv::Rect(24, 14, 12, 12)).setTo(cv::Scalar(255, 255, 255));
    writeRgb(file, rgb);
    return file;
}

// How many pixels of `img` have the ground truth's green.
int truthPixels(const QImage& img) {
    int n = 0;
    for (int y = 0; y < img.height(); ++y)
        for (int x = 0; x < img.width(); ++x) {
            const QColor c = img.pixelColor(x, y);
            if (c.green() > 180 && c.red() < 90 && c.blue() < 160) ++n;
        }
    return n;
}

// Puts a setting back as it was when the test started (the settings file is shared by the
// tests of this process).
struct SettingGuard {
    explicit SettingGuard(QStringList keys) : keys(std::move(keys)) {
        QSettings s;
        for (const QString& k : this->keys) values << s.value(k);
    }
    ~SettingGuard() {
        QSettings s;
        for (int i = 0; i < keys.size(); ++i)
            if (values[i].isValid())
                s.setValue(keys[i], values[i]);
            else
                s.remove(keys[i]);
    }
    QStringList keys;
    QVariantList values;
};

TEST(DatasetUi, TheClassFilterSaysClassAndStatesTheLabelRule) {
    auto ds = fakeDataset(false);
    ds->labelRule = kVocRule;
    DatasetModel model;
    BrowserPanel panel(&model);
    panel.setDataset(ds.get(), SplitKind::Test);
    auto* classes = panel.findChild<QComboBox*>("classFilter");
    ASSERT_NE(classes, nullptr);
    auto* form = panel.findChild<QFormLayout*>();
    ASSERT_NE(form, nullptr);
    auto* label = qobject_cast<QLabel*>(form->labelForField(classes));
    ASSERT_NE(label, nullptr);
    EXPECT_EQ(label->text(), "C&lass");
    EXPECT_EQ(classes->itemText(0), "All classes");
    EXPECT_EQ(classes->itemText(2), "bird");
    EXPECT_TRUE(classes->toolTip().contains(QString::fromStdString("label: " + kVocRule)))
        << classes->toolTip().toStdString();
    // The dataset line: the format read and how labels were chosen.
    auto* info = panel.findChild<QLabel*>("datasetInfo");
    ASSERT_NE(info, nullptr);
    EXPECT_TRUE(info->text().contains("PASCAL VOC")) << info->text().toStdString();
    EXPECT_TRUE(info->text().contains(QString::fromStdString(kVocRule).toHtmlEscaped()))
        << info->text().toStdString();
    EXPECT_TRUE(info->text().contains("load report")) << info->text().toStdString();
    // Nothing on the panel speaks of breeds for a generic dataset.
    for (const QString& t : visibleTexts(&panel))
        EXPECT_FALSE(t.contains("breed", Qt::CaseInsensitive)) << t.toStdString();
    // Filtering by class still filters.
    classes->setCurrentIndex(2);
    EXPECT_EQ(panel.filter()->rowCount(), 2);

    // The explorer's file line names the class and the rule.
    ExplorerView view;
    view.setDatasetClasses(ds->breedNames, QString::fromStdString(kVocRule));
    view.showPending(QImage(), {}, false, 1, "/nonexistent/2008_000001.jpg", QSize(500, 375));
    const QString line = view.findChild<QLabel*>("imageInfo")->text();
    EXPECT_TRUE(line.contains("bird")) << line.toStdString();
    EXPECT_TRUE(line.contains(QString::fromStdString("label: " + kVocRule))) << line.toStdString();
    // Without a rule (Stanford Dogs, CUB), no such part.
    view.setDatasetClasses(ds->breedNames, {});
    view.showPending(QImage(), {}, false, 1, "/nonexistent/2008_000001.jpg", QSize(500, 375));
    EXPECT_FALSE(view.findChild<QLabel*>("imageInfo")->text().contains("label:"));
}

TEST(DatasetUi, ValidationIsOfferedOnlyWhereTheDatasetHasIt) {
    SettingGuard guard({QStringLiteral("browser/split")});
    const auto noVal = fakeDataset(false), withVal = fakeDataset(true);
    DatasetModel model;
    BrowserPanel panel(&model);
    auto* split = panel.findChild<QComboBox*>("splitCombo");
    ASSERT_NE(split, nullptr);
    panel.setDataset(noVal.get(), SplitKind::Test);
    EXPECT_EQ(comboData(split), (std::vector<int>{int(SplitKind::Test), int(SplitKind::Train)}));
    panel.setDataset(withVal.get(), SplitKind::Test);
    EXPECT_EQ(comboData(split),
              (std::vector<int>{int(SplitKind::Test), int(SplitKind::Val), int(SplitKind::Train)}));
    EXPECT_EQ(split->itemText(1), "Validation split");
    EXPECT_EQ(split->currentData().toInt(), int(SplitKind::Test));  // the default stays test
    QSignalSpy picked(&panel, &BrowserPanel::splitChanged);
    split->setCurrentIndex(1);
    ASSERT_EQ(picked.count(), 1);
    EXPECT_EQ(picked.at(0).at(0).value<SplitKind>(), SplitKind::Val);
    panel.setDataset(withVal.get(), SplitKind::Val);
    EXPECT_EQ(model.rowCount(), 6);
    EXPECT_EQ(model.sample(0).relPath, "val_0.jpg");

    // The dashboard's picker follows the workspace, and picking val there moves the workspace.
    Workspace workspace;
    EvalDashboard dashboard;
    dashboard.setWorkspace(&workspace);
    auto* dashSplit = dashboard.findChild<QComboBox*>("evalSplitCombo");
    ASSERT_NE(dashSplit, nullptr);
    workspace.setDataset(withVal);
    EXPECT_EQ(comboData(dashSplit),
              (std::vector<int>{int(SplitKind::Test), int(SplitKind::Val), int(SplitKind::Train)}));
    EXPECT_EQ(dashSplit->currentData().toInt(), int(SplitKind::Test));
    dashSplit->setCurrentIndex(dashSplit->findData(int(SplitKind::Val)));
    EXPECT_EQ(workspace.split(), SplitKind::Val);
    EXPECT_EQ(rememberedSplit(), SplitKind::Val);
    // A dataset without val: back on test, and val is no longer offered.
    workspace.setDataset(noVal);
    EXPECT_EQ(workspace.split(), SplitKind::Test);
    EXPECT_EQ(comboData(dashSplit),
              (std::vector<int>{int(SplitKind::Test), int(SplitKind::Train)}));
    EXPECT_EQ(dashSplit->currentData().toInt(), int(SplitKind::Test));

    // The setting written before val existed held the enum's value (0 train, 1 test).
    QSettings().setValue("browser/split", 1);
    EXPECT_EQ(rememberedSplit(), SplitKind::Test);
    QSettings().setValue("browser/split", 0);
    EXPECT_EQ(rememberedSplit(), SplitKind::Train);
}

TEST(DatasetUi, AnImageWithoutBoxesSaysItHasNoGroundTruth) {
    const ModelInfo info = fakeInfo();
    ExplorerView view;
    view.setModelInfo(&info);
    view.setDatasetClasses(info.classNames);
    // An image folder's image: its class is known, it has no box.
    view.showResult(fakeResult(info, "/nonexistent/cat/1.jpg"), {}, false, 2);
    for (int i = 0; i < view.panelCount(); ++i) {
        ASSERT_TRUE(view.panel(i)->hasMap()) << i;
        EXPECT_FALSE(view.panel(i)->hasTruth()) << i;
        EXPECT_EQ(view.panel(i)->iouText(), "no ground truth: no IoU") << i;
        EXPECT_FALSE(view.panel(i)->iouText().contains("0.0")) << i;
    }
    EXPECT_TRUE(view.figure().panels.at(0).caption == "Photo");
    // With a box, the IoU.
    view.showResult(fakeResult(info, "/nonexistent/cat/2.jpg"), {{40, 30, 120, 90}}, true, 2);
    EXPECT_TRUE(view.panel(0)->iouText().startsWith("IoU 0."))
        << view.panel(0)->iouText().toStdString();

    // The browser: no IoU for such images, which sort last whichever way.
    std::vector<Sample> samples;
    for (int i = 0; i < 6; ++i)
        samples.push_back(sample(std::to_string(i) + ".jpg", i % 3, i % 2 == 0));
    DatasetModel model;
    model.setSplit(samples, info.classNames);
    std::vector<ImageRecord> records;
    for (int i = 0; i < 6; ++i) {
        ImageRecord r;
        r.index = static_cast<std::size_t>(i);
        r.relPath = samples[static_cast<std::size_t>(i)].relPath;
        r.label = samples[static_cast<std::size_t>(i)].label;
        r.predicted = r.label;
        r.probability = 0.5f;
        r.hasBoxes = samples[static_cast<std::size_t>(i)].hasBoxes();
        MapScore s;
        s.method = Method::GradCam;
        s.tap = 3;
        s.iou = r.hasBoxes ? 0.1 * (i + 1) : 0.0;
        r.scores.push_back(s);
        records.push_back(r);
    }
    model.setEvaluation(records, Method::GradCam, 3);
    EXPECT_EQ(model.index(1).data(DatasetModel::IouRole).toDouble(), -1.0);
    EXPECT_NEAR(model.index(2).data(DatasetModel::IouRole).toDouble(), 0.3, 1e-6);
    const QString tip = model.index(1).data(Qt::ToolTipRole).toString();
    EXPECT_TRUE(tip.contains("no ground-truth box")) << tip.toStdString();
    EXPECT_TRUE(tip.contains("IoU: no ground truth")) << tip.toStdString();
    DatasetFilter filter;
    filter.setSourceModel(&model);
    for (Qt::SortOrder order : {Qt::AscendingOrder, Qt::DescendingOrder}) {
        filter.setSortKey(DatasetFilter::SortKey::Iou, order);
        std::vector<int> rows;
        for (int r = 0; r < filter.rowCount(); ++r)
            rows.push_back(filter.mapToSource(filter.index(r, 0)).row());
        const std::vector<int> boxed =
            order == Qt::AscendingOrder ? std::vector<int>{0, 2, 4} : std::vector<int>{4, 2, 0};
        EXPECT_EQ(std::vector<int>(rows.begin(), rows.begin() + 3), boxed) << int(order);
        for (int r = 3; r < 6; ++r)
            EXPECT_EQ(rows[static_cast<std::size_t>(r)] % 2, 1) << int(order);
    }
}

TEST(DatasetUi, MasksAreTracedInTheBackgroundAndDrawnAsOutlines) {
    test::TempDir dir;
    Sample s = sample("openimages/img.jpg", 1, false);
    s.imagePath = dir / "img.jpg";
    s.maskPaths = {writeTwoBlobMask(dir / "mask.png")};  // 40 x 30 for an 80 x 60 image
    // Traced and scaled to the photo.
    const MaskOutlines direct = readMaskOutlines(s);
    ASSERT_EQ(direct.instances.size(), 2u);
    EXPECT_TRUE(direct.errors.isEmpty());
    QRectF all;
    for (const auto& p : direct.instances) all |= p.boundingRect();
    EXPECT_NEAR(all.left(), 6, 1e-9);
    EXPECT_NEAR(all.right(), 70, 1e-9);  // (24 + 12 - 1) * 2

    // In the background, then from the cache.
    MaskOutlineLoader loader;
    QSignalSpy ready(&loader, &MaskOutlineLoader::ready);
    EXPECT_EQ(loader.request(s), nullptr);
    ASSERT_TRUE(ready.wait(10000));
    const auto outlines = ready.at(0).at(1).value<std::shared_ptr<const MaskOutlines>>();
    ASSERT_NE(outlines, nullptr);
    EXPECT_EQ(outlines->instances.size(), 2u);
    EXPECT_EQ(loader.request(s), outlines);

    // The panels draw them with the ground truth, and hide them with it.
    const ModelInfo info = fakeInfo();
    ExplorerView view;
    view.resize(1000, 600);
    view.setModelInfo(&info);
    const QString path = QString::fromStdString(s.imagePath.string());
    view.setTruthOutlines(path, outlines);  // may come before the image is shown
    view.showResult(fakeResult(info, path), {}, false, 1);
    for (int i = 0; i < view.panelCount(); ++i) {
        EXPECT_EQ(view.panel(i)->truthOutlineCount(), 2u) << i;
        EXPECT_EQ(view.panel(i)->iouText(), "masks only: no box IoU") << i;
    }
    EXPECT_EQ(view.figure().panels.at(0).scene.truthOutlines.size(), 2u);
    EXPECT_EQ(view.figure().panels.at(0).caption, "Photo · ground truth in green");
    auto* show = view.findChild<QCheckBox*>("showTruthCheck");
    ASSERT_NE(show, nullptr);
    ASSERT_TRUE(show->isChecked());
    show->setChecked(false);
    EXPECT_FALSE(view.panel(0)->showsTruth());
    EXPECT_FALSE(view.figure().panels.at(0).scene.showTruth);
    show->setChecked(true);
    EXPECT_TRUE(view.panel(1)->showsTruth());
    // Another image: not these outlines.
    view.showResult(fakeResult(info, "/nonexistent/other.jpg"), {}, false, 1);
    EXPECT_EQ(view.panel(0)->truthOutlineCount(), 0u);

    // Painted in the truth's green, and not at all when the ground truth is hidden.
    PanelScene scene;
    scene.picture = QImage(80, 60, QImage::Format_RGB888);
    scene.picture.fill(Qt::black);
    scene.truthOutlines = outlines->instances;
    auto paint = [&](bool showTruth) {
        scene.showTruth = showTruth;
        QImage out(160, 120, QImage::Format_RGB888);
        out.fill(Qt::black);
        QPainter p(&out);
        paintPanelScene(p, scene, QRectF(0, 0, 160, 120), 2.0);
        return out;
    };
    EXPECT_GT(truthPixels(paint(true)), 100);
    EXPECT_EQ(truthPixels(paint(false)), 0);
}

TEST(DatasetUi, ExportedFiguresDrawTheMasksAndNameTheDatasetsClass) {
    test::TempDir dir;
    Sample s = sample("openimages/img.jpg", 1, false);
    s.imagePath = dir / "img.jpg";
    s.maskPaths = {writeTwoBlobMask(dir / "mask.png")};
    const MaskOutlines masks = readMaskOutlines(s);
    ASSERT_EQ(masks.instances.size(), 2u);
    const ModelInfo info = fakeInfo();
    const auto r = fakeResult(info, QString::fromStdString(s.imagePath.string()));
    FigureRequest req;
    req.methods = {Method::GradCam};
    // A mask-only image: every panel carries the outlines, the photo says the truth is drawn, and
    // no panel claims a box IoU.
    const ComparisonFigure f = makeComparison(info, r->photo, r->explanation, {},
                                              TruthClass{"Jellyfish", -1}, req, masks.instances);
    ASSERT_EQ(f.panels.size(), 2u);
    for (const auto& panel : f.panels) EXPECT_EQ(panel.scene.truthOutlines.size(), 2u);
    EXPECT_EQ(f.panels[0].caption, "Photo · ground truth in green");
    EXPECT_FALSE(f.panels[1].caption.contains("IoU")) << f.panels[1].caption.toStdString();
    // The truth is the dataset's class, which the model (aeroplane, bird, cat) does not have:
    // named, without a probability.
    EXPECT_TRUE(f.header.endsWith("Truth: Jellyfish")) << f.header.toStdString();
    // A class the model has, not predicted: its probability follows.
    EXPECT_TRUE(
        figureHeader(info, r->explanation, TruthClass{"Cat", 2}).endsWith("Truth: Cat (10.0 %)"));
}

TEST(DatasetUi, TheExplorersGroundTruthClassIsMatchedToTheModelsClasses) {
    const ModelInfo info = fakeInfo();  // aeroplane, bird, cat
    ExplorerView view;
    view.setModelInfo(&info);
    auto* combo = view.findChild<QComboBox*>("classCombo");
    ASSERT_NE(combo, nullptr);
    auto chooseTruth = [&] {
        const int i = combo->findData(-2);
        if (i >= 0) combo->setCurrentIndex(i);
        return i >= 0;
    };
    // The dataset's classes in another order: its label 0 (cat) is the model's class 2.
    view.setDatasetClasses({"Cat", "aeroplane", "Bird"});
    EXPECT_EQ(view.modelClass(0), 2);
    EXPECT_EQ(view.modelClass(2), 1);
    view.showResult(fakeResult(info, "/data/a.jpg"), {}, false, 0);
    ASSERT_TRUE(chooseTruth());
    EXPECT_EQ(view.requestedTarget(), 2);
    EXPECT_TRUE(view.figure().header.contains("Truth: Cat (10.0 %)"))
        << view.figure().header.toStdString();
    // Classes the model does not have: no "Ground truth" to explain, the prediction instead.
    view.setDatasetClasses({"Jellyfish", "Sponge"});
    EXPECT_EQ(view.modelClass(0), -1);
    view.showResult(fakeResult(info, "/data/b.jpg"), {}, false, 0);
    EXPECT_FALSE(chooseTruth());
    EXPECT_EQ(view.requestedTarget(), -1);
    EXPECT_TRUE(view.figure().header.endsWith("Truth: Jellyfish"))
        << view.figure().header.toStdString();
}

// An evaluation summary with the WSOL protocol's figures for Grad-CAM at tap 3.
std::shared_ptr<SavedEvaluation> wsolEvaluation(const Dataset& ds, bool boxes, bool masks) {
    auto ev = std::make_shared<SavedEvaluation>();
    ev->options.protocol = EvalProtocol::Wsol;
    ev->options.wsolStep = 0.01;
    ev->options.methods = {Method::GradCam};
    ev->summary.protocol = EvalProtocol::Wsol;
    ev->summary.images = ds.test.samples.size();
    for (std::size_t i = 0; i < ds.test.samples.size(); ++i) {
        ImageRecord r;
        r.index = i;
        r.relPath = ds.test.samples[i].relPath;
        r.label = ds.test.samples[i].label;
        r.predicted = r.label;
        r.hasBoxes = boxes;
        MapScore s;
        s.method = Method::GradCam;
        s.tap = 3;
        s.iou = boxes ? 0.6 : 0.0;
        r.scores.push_back(s);
        ev->records.push_back(r);
    }
    MethodSummary m;
    m.method = Method::GradCam;
    m.tap = 3;
    m.tapName = "layer4.1";
    m.images = ds.test.samples.size();
    m.boxedImages = boxes ? m.images : 0;
    m.meanIou = boxes ? 0.6 : 0;
    MethodSummary::Wsol w;
    w.iouThresholds = {30, 50, 70};
    w.maxBoxAccV2At = {81.2, 62.4, 27.9};
    w.maxBoxAccV2 = 57.2;
    w.maxBoxAcc = 55.1;
    if (masks) {
        w.pxap = 49.3;
        w.maskedImages = m.images;
    }
    m.wsol = w;
    ev->summary.methods.push_back(m);
    return ev;
}

TEST(DatasetUi, TheDashboardShowsWsolFiguresBesideThePublishedOnes) {
    SettingGuard guard({QStringLiteral("eval/protocol"), QStringLiteral("eval/wsolStep")});
    Workspace workspace;
    EvalDashboard d;
    d.setWorkspace(&workspace);
    d.resize(1300, 820);
    d.show();
    auto cub = fakeDataset(false, DatasetFormat::Wsol);
    cub->benchmark = "CUB";
    workspace.setDataset(cub);
    d.showEvaluation(wsolEvaluation(*cub, true, false));
    ASSERT_NE(d.results(), nullptr);
    EXPECT_EQ(workspace.evaluation().get(), d.results());
    auto* figures = d.findChild<QLabel*>("evalWsolFigures");
    auto* published = d.findChild<QLabel*>("evalPublished");
    ASSERT_TRUE(figures && published);
    EXPECT_TRUE(figures->isVisible());
    const QString f = figures->text();
    for (const char* part : {"V2@30", "V2@50", "V2@70", "81.2", "62.4", "27.9", "57.2", "55.1",
                             "MaxBoxAccV2", "MaxBoxAcc", "PxAP"})
        EXPECT_TRUE(f.contains(QLatin1String(part))) << part << " in " << f.toStdString();
    ASSERT_TRUE(published->isVisible());
    const QString p = published->text();
    for (const char* part : {"Published figures", "Choe et al., CVPR 2020", "CAM, ResNet-50",
                             "CUB-200-2011", "MaxBoxAccV2", "63.0"})
        EXPECT_TRUE(p.contains(QLatin1String(part))) << part << " in " << p.toStdString();
    EXPECT_FALSE(p.contains("63.7"));
    EXPECT_TRUE(d.evaluationSettings().contains("WSOL")) << d.evaluationSettings().toStdString();

    // OpenImages: masks and no boxes. PxAP is shown against its published PxAP, and the IoU
    // figures say there are no boxes instead of showing zeros.
    auto openImages = fakeDataset(false, DatasetFormat::Wsol);
    openImages->benchmark = "OpenImages";
    workspace.setDataset(openImages);
    d.showEvaluation(wsolEvaluation(*openImages, false, true));
    EXPECT_TRUE(figures->text().contains("49.3")) << figures->text().toStdString();
    EXPECT_TRUE(published->text().contains("PxAP"));
    EXPECT_TRUE(published->text().contains("58.5")) << published->text().toStdString();
    const QString summary = d.findChild<QLabel*>("evalSummary")->text();
    EXPECT_TRUE(summary.contains("no ground-truth boxes")) << summary.toStdString();
    EXPECT_TRUE(
        d.chartView(EvalDashboard::Histogram)->chart()->title().contains("no ground-truth boxes"));
    EXPECT_TRUE(d.rowsInBin(0, 0).empty());  // no image counts in any IoU bin

    // Not a benchmark: no published figures at all.
    auto plain = fakeDataset(false, DatasetFormat::Voc);
    workspace.setDataset(plain);
    d.showEvaluation(wsolEvaluation(*plain, true, false));
    EXPECT_TRUE(figures->isVisible());
    EXPECT_FALSE(published->isVisible());
    EXPECT_TRUE(published->text().isEmpty());

    // The protocol for the next run: chosen here, passed on, remembered.
    auto* protocol = d.findChild<QComboBox*>("evalProtocolCombo");
    auto* step = d.findChild<QComboBox*>("evalWsolStepCombo");
    ASSERT_TRUE(protocol && step);
    protocol->setCurrentIndex(protocol->findData(int(EvalProtocol::Ours)));
    EXPECT_EQ(d.newRunOptions().protocol, EvalProtocol::Ours);
    EXPECT_FALSE(step->isEnabled());
    protocol->setCurrentIndex(protocol->findData(int(EvalProtocol::Wsol)));
    EXPECT_TRUE(step->isEnabled());
    step->setCurrentIndex(step->findData(0.001));
    EXPECT_EQ(d.newRunOptions().protocol, EvalProtocol::Wsol);
    EXPECT_DOUBLE_EQ(d.newRunOptions().wsolStep, 0.001);
    EvalDashboard again;
    EXPECT_EQ(again.protocol(), EvalProtocol::Wsol);
    EXPECT_DOUBLE_EQ(again.newRunOptions().wsolStep, 0.001);
    workspace.setDataset(nullptr);  // no results: the settings line is about the next run
    EXPECT_TRUE(d.findChild<QLabel*>("evalSettings")->text().contains("WSOL"));
}

// What the reader was asked to do, from its worker thread.
struct ReaderLog {
    std::mutex mutex;
    std::vector<std::pair<DatasetFormat, fs::path>> calls;  // format, metadata folder
};

Dataset readerResult(const fs::path& dir) {
    Dataset d = *fakeDataset(false, DatasetFormat::Wsol);
    d.root = dir;
    d.benchmark = "CUB";
    d.test.report.listed = 7;
    d.test.report.add(LoadIssue::Kind::Skipped, "/data/CUB/images/bad.jpg", "truncated JPEG");
    return d;
}

TEST(DatasetUi, TheOpenDialogPassesFormatAndMetadataToTheReader) {
    SettingGuard guard({QStringLiteral("open/format"), QStringLiteral("paths/lastWsolMetadata"),
                        QStringLiteral("paths/lastDataset"), QStringLiteral("open/choices"),
                        QStringLiteral("recent/datasets")});
    test::TempDir dir;
    fs::create_directories(dir / "images");
    fs::create_directories(dir / "metadata" / "CUB" / "test");
    fs::create_directories(dir / "nothing");
    const QString images = QString::fromStdString((dir / "images").string());
    const QString metadata = QString::fromStdString((dir / "metadata" / "CUB").string());
    auto log = std::make_shared<ReaderLog>();
    MainWindow w;
    w.setQuietErrors(true);
    w.resize(1200, 760);
    w.show();
    w.workspace()->setDatasetReader([log](const fs::path& d, const OpenOptions& o) -> Dataset {
        {
            const std::lock_guard<std::mutex> lock(log->mutex);
            log->calls.emplace_back(o.format, o.metadataDir);
        }
        if (d.filename() == "nothing")
            throw DatasetError("'" + d.string() +
                               "' is not a dataset CAM Explorer reads: expected Stanford Dogs "
                               "(Images/, Annotation/ ...)");
        return readerResult(d);
    });
    auto lastCall = [&] {
        const std::lock_guard<std::mutex> lock(log->mutex);
        return log->calls.empty() ? std::pair<DatasetFormat, fs::path>{} : log->calls.back();
    };

    w.findChild<QAction*>("openDatasetAction")->trigger();
    OpenDatasetDialog* dialog = w.openDatasetDialog();
    ASSERT_NE(dialog, nullptr);
    ASSERT_TRUE(dialog->isVisible());
    auto* folder = dialog->findChild<QLineEdit*>("datasetFolderEdit");
    auto* format = dialog->findChild<QComboBox*>("datasetFormatCombo");
    auto* meta = dialog->findChild<QLineEdit*>("wsolMetadataEdit");
    auto* open = dialog->findChild<QPushButton*>("openButton");
    ASSERT_TRUE(folder && format && meta && open);
    folder->setText(images);
    format->setCurrentIndex(format->findData(int(DatasetFormat::Auto)));
    EXPECT_FALSE(meta->isVisible());  // only wsolevaluation needs it
    format->setCurrentIndex(format->findData(int(DatasetFormat::Wsol)));
    EXPECT_TRUE(meta->isVisible());
    meta->clear();
    EXPECT_FALSE(open->isEnabled());  // required
    EXPECT_TRUE(dialog->problem().contains("metadata folder")) << dialog->problem().toStdString();
    meta->setText(metadata);
    EXPECT_TRUE(open->isEnabled()) << dialog->problem().toStdString();
    QSignalSpy loaded(&w, &MainWindow::datasetLoaded);
    QTest::mouseClick(open, Qt::LeftButton);
    ASSERT_TRUE(loaded.wait(10000)) << w.lastError().toStdString();
    EXPECT_EQ(lastCall().first, DatasetFormat::Wsol);
    EXPECT_EQ(lastCall().second, fs::path(metadata.toStdString()));

    // After the load: what was read, and its report.
    const QString said = w.statusBar()->toolTip();
    EXPECT_TRUE(said.contains("wsolevaluation metadata (CUB)")) << said.toStdString();
    EXPECT_TRUE(said.contains("1 skipped")) << said.toStdString();
    EXPECT_TRUE(w.browser()
                    ->findChild<QLabel*>("datasetInfo")
                    ->text()
                    .contains("wsolevaluation metadata (CUB)"));
    auto* reportAction = w.findChild<QAction*>("loadReportAction");
    ASSERT_NE(reportAction, nullptr);
    EXPECT_TRUE(reportAction->isEnabled());
    reportAction->trigger();
    ASSERT_NE(w.loadReport(), nullptr);
    EXPECT_TRUE(w.loadReport()->isVisible());
    QAbstractItemModel* issues = w.loadReport()->issueTable()->model();
    ASSERT_EQ(issues->rowCount(), 1);
    EXPECT_EQ(issues->index(0, 1).data().toString(), "skipped");
    EXPECT_TRUE(issues->index(0, 2).data().toString().contains("bad.jpg"));
    EXPECT_EQ(issues->index(0, 3).data().toString(), "truncated JPEG");
    const QString report = w.loadReport()->reportText();
    EXPECT_TRUE(report.contains("wsolevaluation metadata (CUB)")) << report.toStdString();
    EXPECT_TRUE(report.contains("test\t7\t6\t1\t0")) << report.toStdString();

    // Reopened from Recent Datasets (the folder alone): the same format and metadata folder.
    w.openDataset(images);
    ASSERT_TRUE(loaded.wait(10000));
    EXPECT_EQ(lastCall().first, DatasetFormat::Wsol);
    EXPECT_EQ(lastCall().second, fs::path(metadata.toStdString()));
    // The next dialog starts from these answers.
    {
        OpenDatasetDialog next;
        EXPECT_EQ(next.choice().format, DatasetFormat::Wsol);
        EXPECT_EQ(next.choice().metadataDir, metadata);
        EXPECT_EQ(next.choice().dir, images);
    }

    // A dropped folder is detected: no format, no metadata folder.
    auto* mime = new QMimeData;
    mime->setUrls({QUrl::fromLocalFile(images)});
    QWidget* target = w.explorer();  // dropped on the explorer, travels up to the window
    QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(target, &enter);
    ASSERT_TRUE(enter.isAccepted());
    QDropEvent drop(QPointF(10, 10), Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(target, &drop);
    ASSERT_TRUE(loaded.wait(10000));
    EXPECT_EQ(lastCall().first, DatasetFormat::Auto);
    EXPECT_TRUE(lastCall().second.empty());
    delete mime;

    // Nothing recognised: the error names what each format needs, and where to choose one.
    QSignalSpy errors(&w, &MainWindow::errorShown);
    w.openDataset(QString::fromStdString((dir / "nothing").string()));
    ASSERT_TRUE(errors.wait(10000));
    EXPECT_TRUE(w.lastError().contains("expected Stanford Dogs")) << w.lastError().toStdString();
    EXPECT_TRUE(w.lastError().contains("File ▸ Open Dataset")) << w.lastError().toStdString();
}

TEST(DatasetUi, TheOpenDialogSaysWhatTheFolderLooksLike) {
    test::TempDir dir;
    test::makeSmallDemo(dir / "dogs", 1, 1, 2, 5);
    fs::create_directories(dir / "empty");
    OpenDatasetDialog dialog;
    QSignalSpy looked(&dialog, &OpenDatasetDialog::detectionFinished);
    dialog.setChoice({QString::fromStdString((dir / "dogs").string()), DatasetFormat::Auto, {}});
    ASSERT_TRUE(looked.wait(10000));
    EXPECT_EQ(dialog.detectedText(), "Detected: Stanford Dogs.");
    dialog.setChoice({QString::fromStdString((dir / "empty").string()), DatasetFormat::Auto, {}});
    ASSERT_TRUE(looked.wait(10000));
    EXPECT_TRUE(dialog.detectedText().startsWith("Not recognised: "))
        << dialog.detectedText().toStdString();
    EXPECT_TRUE(dialog.detectedText().contains("Stanford Dogs"))  // core names what it needs
        << dialog.detectedText().toStdString();
    EXPECT_TRUE(dialog.problem().isEmpty());  // it may still be opened as a chosen format
}

// Sets an environment variable for a test's duration (before any thread reads it).
struct EnvGuard {
    EnvGuard(const char* name, const std::string& value) : name(name) {
        if (const char* old = std::getenv(name)) previous = old;
        ::setenv(name, value.c_str(), 1);
    }
    ~EnvGuard() {
        if (previous)
            ::setenv(name, previous->c_str(), 1);
        else
            ::unsetenv(name);
    }
    const char* name;
    std::optional<std::string> previous;
};

// File ▸ Open Dataset with a TensorFlow Datasets copy (shards written by the independent writer,
// tests/fixtures/tfds/stanford_dogs_to_tfds.py, as tfds_test.cpp does): the format is in the
// dialog's list, Automatic recognises the folder, and Open reads it through the window's own
// reader; the load report says which of two versions was read.
TEST(DatasetUi, TheOpenDialogListsTfdsAndOpensATfdsCopy) {
    SettingGuard guard({QStringLiteral("open/format"), QStringLiteral("paths/lastWsolMetadata"),
                        QStringLiteral("paths/lastDataset"), QStringLiteral("open/choices"),
                        QStringLiteral("recent/datasets")});
    test::TempDir dir;
    // The index of the shards is cached under the user's cache folder: here, the test's own.
    EnvGuard cache("XDG_CACHE_HOME", (dir / "cache").string());
    test::makeSmallDemo(dir / "dogs", 2, 2, 3, 11);
    for (const char* version : {"0.1.0", "0.2.0"}) {
        const std::string cmd = "/usr/bin/python3 '" +
                                test::fixture("tfds/stanford_dogs_to_tfds.py").string() + "' '" +
                                (dir / "dogs").string() + "' '" + (dir / "tfds").string() +
                                "' --shards 2 --version " + version;
        ASSERT_EQ(std::system(cmd.c_str()), 0)
            << cmd << "\nneeds /usr/bin/python3 with python3-protobuf and python3-scipy";
    }
    const fs::path tfds = dir / "tfds" / "stanford_dogs";
    ASSERT_TRUE(fs::is_directory(tfds / "0.2.0"));

    MainWindow w;
    w.setQuietErrors(true);
    w.resize(1200, 760);
    w.show();
    w.findChild<QAction*>("openDatasetAction")->trigger();
    OpenDatasetDialog* dialog = w.openDatasetDialog();
    ASSERT_NE(dialog, nullptr);
    ASSERT_TRUE(dialog->isVisible());
    auto* folder = dialog->findChild<QLineEdit*>("datasetFolderEdit");
    auto* format = dialog->findChild<QComboBox*>("datasetFormatCombo");
    auto* meta = dialog->findChild<QLineEdit*>("wsolMetadataEdit");
    auto* description = dialog->findChild<QLabel*>("formatDescription");
    auto* open = dialog->findChild<QPushButton*>("openButton");
    ASSERT_TRUE(folder && format && meta && description && open);

    // The format is in the list, with what it reads.
    const int item = format->findData(int(DatasetFormat::Tfds));
    ASSERT_GE(item, 0);
    EXPECT_EQ(format->itemText(item), "TensorFlow Datasets copy (tfds.load, TFRecord shards)");
    format->setCurrentIndex(item);
    EXPECT_FALSE(meta->isVisible());
    EXPECT_TRUE(description->text().contains("tfds.load('stanford_dogs')"))
        << description->text().toStdString();
    EXPECT_TRUE(description->text().contains("label.labels.txt"))
        << description->text().toStdString();

    // Automatic: the folder is recognised as a TFDS copy (an answer for the folder the dialog
    // started from may come first, and is replaced).
    format->setCurrentIndex(format->findData(int(DatasetFormat::Auto)));
    folder->setText(QString::fromStdString(tfds.string()));
    const QString detected = QStringLiteral("Detected: TensorFlow Datasets (TFRecord).");
    EXPECT_TRUE(QTest::qWaitFor([&] { return dialog->detectedText() == detected; }, 10000))
        << dialog->detectedText().toStdString();
    ASSERT_TRUE(open->isEnabled()) << dialog->problem().toStdString();

    // Open: read by the window's own reader, as detected.
    QSignalSpy loaded(&w, &MainWindow::datasetLoaded);
    QTest::mouseClick(open, Qt::LeftButton);
    ASSERT_TRUE(loaded.wait(60000)) << w.lastError().toStdString();
    const auto ds = w.dataset();
    ASSERT_NE(ds, nullptr);
    EXPECT_EQ(ds->format, DatasetFormat::Tfds);
    EXPECT_EQ(ds->root.filename(), "0.2.0");  // the highest version
    EXPECT_EQ(ds->numClasses(), 3u);
    EXPECT_EQ(ds->train.samples.size(), 6u);
    ASSERT_EQ(ds->test.samples.size(), 6u);
    EXPECT_TRUE(ds->test.report.issues.empty());
    EXPECT_TRUE(fs::exists(dir / "cache" / "cam-explorer" / "datasets" / "tfds-index"));
    // The images stay in the shards, and read from there.
    EXPECT_FALSE(fs::exists(ds->test.samples[0].imagePath));
    EXPECT_FALSE(readRgb(ds->test.samples[0].imagePath).empty());
    EXPECT_TRUE(w.browser()
                    ->findChild<QLabel*>("datasetInfo")
                    ->text()
                    .contains("TensorFlow Datasets (TFRecord)"))
        << w.browser()->findChild<QLabel*>("datasetInfo")->text().toStdString();

    // The load report names the format and which of the versions was read.
    auto* reportAction = w.findChild<QAction*>("loadReportAction");
    ASSERT_NE(reportAction, nullptr);
    reportAction->trigger();
    ASSERT_NE(w.loadReport(), nullptr);
    const QString report = w.loadReport()->reportText();
    EXPECT_TRUE(report.contains("TensorFlow Datasets (TFRecord)")) << report.toStdString();
    EXPECT_TRUE(report.contains("stanford_dogs holds versions 0.1.0, 0.2.0: reading 0.2.0"))
        << report.toStdString();
    EXPECT_TRUE(report.contains("test\t6\t6\t0\t0")) << report.toStdString();
}

// The main window with a real model on a dataset whose first test image has no box and whose
// second has a mask instead: what requestCurrent and the mask loader make of them.
TEST(DatasetUiWindow, BoxlessAndMaskedImagesInTheExplorer) {
    test::TempDir dir;
    test::makeSmallDemo(dir / "demo", 2, 2, 3, 17);
    test::trainTinyModel(dir / "demo", dir / "model");
    const fs::path mask = writeTwoBlobMask(dir / "mask.png");
    MainWindow w;
    w.workspace()->setDatasetReader([mask](const fs::path& d, const OpenOptions& o) {
        Dataset ds = openStanfordDogs(d, o);
        ds.test.samples[0].boxes.clear();
        ds.test.samples[1].boxes.clear();
        ds.test.samples[1].maskPaths = {mask};
        return ds;
    });
    openDatasetAndModelForTest(w, dir / "demo", dir / "model" / "best.ckpt");
    if (HasFatalFailure()) return;
    ExplorerView* v = w.explorer();
    auto shown = [&](int row) {
        const QString path = QString::fromStdString(
            w.dataset()->test.samples[static_cast<std::size_t>(row)].imagePath.string());
        return v->result() && v->result()->key.path == path;
    };
    w.resize(1300, 800);
    w.browser()->selectSourceRow(0);
    ASSERT_TRUE(QTest::qWaitFor([&] { return shown(0); }, 30000)) << w.lastError().toStdString();
    if (const char* shots = std::getenv("CAMX_UI_SHOTS")) {
        QTest::qWait(200);
        w.grab().save(QString::fromLocal8Bit(shots) + QStringLiteral("/boxless_image.png"));
    }
    EXPECT_FALSE(v->panel(0)->hasTruth());
    EXPECT_EQ(v->panel(0)->iouText(), "no ground truth: no IoU");
    const QString status = w.findChild<QLabel*>("predictionLabel")->text();
    EXPECT_TRUE(status.contains("no ground truth")) << status.toStdString();
    EXPECT_FALSE(status.contains("IoU 0.")) << status.toStdString();

    w.browser()->selectSourceRow(1);
    ASSERT_TRUE(QTest::qWaitFor([&] { return shown(1); }, 30000)) << w.lastError().toStdString();
    ASSERT_TRUE(QTest::qWaitFor([&] { return v->panel(0)->truthOutlineCount() == 2; }, 10000));
    EXPECT_EQ(v->panel(1)->truthOutlineCount(), 2u);
    EXPECT_EQ(v->panel(0)->iouText(), "masks only: no box IoU");
    // To look at: CAMX_UI_SHOTS=<folder> saves the window as it is now.
    if (const char* shots = std::getenv("CAMX_UI_SHOTS")) {
        QTest::qWait(200);
        w.grab().save(QString::fromLocal8Bit(shots) + QStringLiteral("/masked_image.png"));
    }

    // An image with boxes: the IoU as before, no outlines.
    w.browser()->selectSourceRow(2);
    ASSERT_TRUE(QTest::qWaitFor([&] { return shown(2); }, 30000));
    EXPECT_TRUE(v->panel(0)->hasTruth());
    EXPECT_EQ(v->panel(0)->truthOutlineCount(), 0u);
    EXPECT_TRUE(v->panel(0)->iouText().startsWith("IoU ")) << v->panel(0)->iouText().toStdString();
}

}  // namespace
}  // namespace camx::ui
