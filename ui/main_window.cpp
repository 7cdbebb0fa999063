#include "main_window.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPainter>
#include <QProgressBar>
#include <QProgressDialog>
#include <QSettings>
#include <QSlider>
#include <QStatusBar>
#include <QtConcurrent/QtConcurrent>

#include "about_dialog.h"
#include "browser/browser_panel.h"
#include "browser/dataset_model.h"
#include "browser/thumbnail_loader.h"
#include "common/image_convert.h"
#include "dashboard/eval_dashboard.h"
#include "eval/ranking.h"
#include "explain/model_session.h"
#include "explorer/explorer_view.h"
#include "explorer/heatmap_panel.h"
#include "export/export_size_dialog.h"
#include "export/grid_export_dialog.h"
#include "figures/figure_batch.h"
#include "nn/runtime.h"
#include "training/train_wizard.h"

namespace camx::ui {

namespace {
constexpr int kMaxRecent = 8;
const QStringList kImageSuffixes = {"jpg", "jpeg", "png", "bmp", "webp", "tif", "tiff"};
}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    setWindowTitle(tr("CAM Explorer"));
    setAcceptDrops(true);
    m_datasetModel = new DatasetModel(this);
    m_browser = new BrowserPanel(m_datasetModel);
    m_explorer = new ExplorerView;
    m_controller = new ExplainController(this);
    setCentralWidget(m_explorer);
    auto* dock = new QDockWidget(tr("Dataset"), this);
    dock->setObjectName(QStringLiteral("datasetDock"));
    dock->setWidget(m_browser);
    dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
    addDockWidget(Qt::LeftDockWidgetArea, dock);

    m_prediction = new QLabel;
    m_prediction->setObjectName(QStringLiteral("predictionLabel"));
    m_device = new QLabel;
    m_timing = new QLabel;
    m_busy = new QProgressBar;
    m_busy->setMaximumWidth(140);
    m_busy->setRange(0, 0);
    m_busy->setVisible(false);
    statusBar()->addWidget(m_prediction, 1);
    statusBar()->addPermanentWidget(m_busy);
    statusBar()->addPermanentWidget(m_timing);
    statusBar()->addPermanentWidget(m_device);
    m_device->setText(QString::fromStdString(deviceDescription()));

    connect(m_browser, &BrowserPanel::currentChanged, this, &MainWindow::onCurrentRow);
    connect(m_browser, &BrowserPanel::splitChanged, this, [this](SplitKind s) {
        m_browser->setDataset(m_dataset.get(), s);
        QSettings().setValue("browser/split", static_cast<int>(s));
        refreshDashboard();
    });
    connect(m_controller, &ExplainController::ready, this, &MainWindow::onReady);
    connect(m_controller, &ExplainController::scoreCamReady, this, &MainWindow::onReady);
    connect(m_controller, &ExplainController::failed, this,
            [this](const QString& msg) { showError(tr("Explanation failed"), msg); });
    connect(m_controller, &ExplainController::busyChanged, m_busy, &QWidget::setVisible);
    connect(m_controller, &ExplainController::progress, this,
            [this](int done, int total, const QString& what) {
                m_busy->setRange(0, total);
                m_busy->setValue(done);
                m_busy->setFormat(what + " %p%");
            });
    connect(m_explorer, &ExplorerView::targetChanged, this, &MainWindow::requestCurrent);
    connect(m_explorer, &ExplorerView::scoreCamWanted, this, [this](int tap) {
        if (auto r = m_explorer->result()) m_controller->requestScoreCam(r->key, tap);
    });
    connect(m_explorer, &ExplorerView::iouChanged, this, &MainWindow::updateStatus);

    m_dashboard = new EvalDashboard(this);
    m_dashboard->setWindowFlag(Qt::Window);
    m_dashboard->resize(1300, 820);
    connect(m_dashboard, &EvalDashboard::resultsChanged, this, [this] {
        if (const SavedEvaluation* r = m_dashboard->results(); r && m_model)
            m_datasetModel->setEvaluation(r->records, Method::GradCam,
                                          m_model->info().lastBlockTap);
    });
    connect(m_dashboard, &EvalDashboard::showBreed, this, [this](int label) {
        m_browser->setBreedFilter(label);
        raise();
        activateWindow();
    });
    connect(m_dashboard, &EvalDashboard::showImages, this,
            [this](const std::vector<int>& rows, const QString& what) {
                m_browser->showOnly(rows, what);
                raise();
                activateWindow();
            });
    connect(m_dashboard, &EvalDashboard::errorOccurred, this,
            [this](const QString& m) { showError(tr("Evaluation failed"), m); });

    buildActions();
    restoreSettings();
}

void MainWindow::refreshDashboard() {
    m_dashboard->setContext(m_model, m_dataset.get(), m_browser->split());
}

void MainWindow::showDashboard() {
    m_dashboard->show();
    m_dashboard->raise();
    m_dashboard->activateWindow();
}

TrainWizard* MainWindow::showTrainWizard() {
    if (!m_wizard) {
        m_wizard = new TrainWizard(this);
        m_wizard->setAttribute(Qt::WA_DeleteOnClose, false);
        if (m_dataset) m_wizard->setDatasetPath(QString::fromStdString(m_dataset->root.string()));
        connect(m_wizard, &TrainWizard::openModelRequested, this, [this](const QString& f) {
            openModel(f);
            raise();
            activateWindow();
        });
    }
    m_wizard->show();
    m_wizard->raise();
    return m_wizard;
}

MainWindow::~MainWindow() {
    m_gridCancel.cancel();
    m_gridJob.waitForFinished();
    m_datasetJob.waitForFinished();
    m_modelJob.waitForFinished();
}

bool MainWindow::isLoading() const {
    return m_datasetJob.isRunning() || m_modelJob.isRunning();
}

void MainWindow::buildActions() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* openData = file->addAction(tr("Open &Dataset…"), this, [this] {
        const QString dir =
            QFileDialog::getExistingDirectory(this, tr("Open a Stanford Dogs folder"),
                                              QSettings().value("paths/lastDataset").toString());
        if (!dir.isEmpty()) openDataset(dir);
    });
    openData->setShortcut(QKeySequence::Open);
    QAction* openModelAct = file->addAction(tr("Open &Model…"), this, [this] {
        const QString f = QFileDialog::getOpenFileName(
            this, tr("Open a model"), QSettings().value("paths/lastModel").toString(),
            tr("Models (*.ckpt *.pth *.pt);;All files (*)"));
        if (!f.isEmpty()) openModel(f);
    });
    openModelAct->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_M));
    file->addAction(tr("Open &Image…"), this, [this] {
        const QString f = QFileDialog::getOpenFileName(
            this, tr("Explain an image"), QString(),
            tr("Images (*.jpg *.jpeg *.png *.bmp *.webp *.tif *.tiff)"));
        if (!f.isEmpty()) openExternalImage(f);
    });
    m_recentData = file->addMenu(tr("Recent Datasets"));
    m_recentModels = file->addMenu(tr("Recent Models"));
    file->addSeparator();
    QAction* copy = file->addAction(tr("&Copy Figure"), this, &MainWindow::copyFigure);
    copy->setShortcut(QKeySequence::Copy);
    QAction* save = file->addAction(tr("&Save Figure As…"), this, &MainWindow::saveFigure);
    save->setShortcut(QKeySequence::Save);
    file->addSeparator();
    QAction* grid = file->addAction(tr("Export &Grid Figure…"), this, &MainWindow::exportGrid);
    grid->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S));
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    QMenu* view = menuBar()->addMenu(tr("&View"));
    QAction* zin = view->addAction(tr("Zoom &In"), this, [this] {
        m_explorer->setZoom(
            std::min(8.0, (m_explorer->zoom() > 0 ? m_explorer->zoom() : 1.0) * 1.25));
    });
    zin->setShortcut(QKeySequence::ZoomIn);
    QAction* zout = view->addAction(tr("Zoom &Out"), this, [this] {
        m_explorer->setZoom(
            std::max(0.1, (m_explorer->zoom() > 0 ? m_explorer->zoom() : 1.0) / 1.25));
    });
    zout->setShortcut(QKeySequence::ZoomOut);
    QAction* fit = view->addAction(tr("&Fit"), this, [this] { m_explorer->setZoom(0); });
    fit->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_0));

    QMenu* go = menuBar()->addMenu(tr("&Go"));
    QAction* prev = go->addAction(tr("&Previous Image"), this, [this] { m_browser->step(-1); });
    prev->setShortcut(Qt::Key_Left);
    QAction* next = go->addAction(tr("&Next Image"), this, [this] { m_browser->step(1); });
    next->setShortcut(Qt::Key_Right);
    QAction* first = go->addAction(tr("&First Image"), this, [this] { m_browser->selectFirst(); });
    first->setShortcut(Qt::Key_Home);
    QAction* last = go->addAction(tr("&Last Image"), this, [this] { m_browser->selectLast(); });
    last->setShortcut(Qt::Key_End);

    QMenu* tools = menuBar()->addMenu(tr("&Tools"));
    QAction* dash = tools->addAction(tr("Evaluation &Dashboard"), this, &MainWindow::showDashboard);
    dash->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    QAction* train = tools->addAction(tr("&Train a Model…"), this, [this] { showTrainWizard(); });
    train->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_T));

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About CAM Explorer"), this, [this] {
        AboutDialog(QString::fromStdString(m_model ? m_model->info().device : deviceDescription()),
                    this)
            .exec();
    });
    rebuildRecentMenus();
}

void MainWindow::rebuildRecentMenus() {
    QSettings s;
    for (auto [menu, key] : {std::pair{m_recentData, QStringLiteral("recent/datasets")},
                             std::pair{m_recentModels, QStringLiteral("recent/models")}}) {
        menu->clear();
        const QStringList items = s.value(key).toStringList();
        for (const QString& item : items)
            menu->addAction(item, this, [this, item, key] {
                if (key.endsWith("datasets"))
                    openDataset(item);
                else
                    openModel(item);
            });
        menu->setEnabled(!items.isEmpty());
    }
}

void MainWindow::addRecent(const QString& key, const QString& value) {
    QSettings s;
    QStringList items = s.value(key).toStringList();
    items.removeAll(value);
    items.prepend(value);
    while (items.size() > kMaxRecent) items.removeLast();
    s.setValue(key, items);
    rebuildRecentMenus();
}

void MainWindow::restoreSettings() {
    QSettings s;
    restoreGeometry(s.value("window/geometry").toByteArray());
    restoreState(s.value("window/state").toByteArray());
    if (!s.contains("window/geometry")) resize(1400, 820);
    if (auto* t = m_explorer->findChild<QSlider*>("thresholdSlider"))
        t->setValue(s.value("view/threshold", 20).toInt());
    if (auto* b = m_explorer->findChild<QSlider*>("blendSlider"))
        b->setValue(s.value("view/blend", 50).toInt());
}

void MainWindow::closeEvent(QCloseEvent* e) {
    QSettings s;
    s.setValue("window/geometry", saveGeometry());
    s.setValue("window/state", saveState());
    if (auto* t = m_explorer->findChild<QSlider*>("thresholdSlider"))
        s.setValue("view/threshold", t->value());
    if (auto* b = m_explorer->findChild<QSlider*>("blendSlider"))
        s.setValue("view/blend", b->value());
    if (m_wizard && m_wizard->isTraining()) {
        // The wizard asks whether to stop; the main window stays until training has stopped.
        m_wizard->show();
        m_wizard->close();
        if (m_wizard->isTraining()) {
            if (m_wizard->isStopping()) {
                // The user chose to stop: close once the trainer has returned.
                statusBar()->showMessage(tr("Stopping training…"));
                connect(
                    m_wizard, &TrainWizard::trainingFinished, this, [this] { close(); },
                    Qt::SingleShotConnection);
            }
            e->ignore();
            return;
        }
    }
    m_controller->cancelScoreCam();
    m_dashboard->close();
    e->accept();
}

void MainWindow::showError(const QString& title, const QString& message) {
    m_lastError = message;
    statusBar()->showMessage(message, 8000);
    Q_EMIT errorShown(message);
    if (!m_quietErrors) QMessageBox::critical(this, title, message);
}

void MainWindow::openDataset(const QString& dir) {
    if (m_datasetJob.isRunning()) return;
    statusBar()->showMessage(tr("Reading %1…").arg(dir));
    m_busy->setVisible(true);
    auto result = std::make_shared<std::unique_ptr<Dataset>>();
    auto error = std::make_shared<QString>();
    disconnect(&m_datasetJob, nullptr, this, nullptr);
    connect(&m_datasetJob, &QFutureWatcher<void>::finished, this, [this, dir, result, error] {
        m_busy->setVisible(false);
        if (!error->isEmpty()) {
            showError(tr("Cannot open the dataset"), *error);
            return;
        }
        m_dashboard->setContext(nullptr, nullptr, SplitKind::Test);  // it held the old dataset
        m_dataset = std::move(*result);
        m_external.clear();
        const SplitKind split = static_cast<SplitKind>(
            QSettings().value("browser/split", int(SplitKind::Test)).toInt());
        m_browser->setDataset(m_dataset.get(), split);
        refreshDashboard();
        addRecent("recent/datasets", dir);
        QSettings().setValue("paths/lastDataset", dir);
        const auto& r = m_dataset->split(split).report;
        statusBar()->showMessage(tr("%1: %2 train, %3 test images, %4 breeds; %5 skipped")
                                     .arg(dir)
                                     .arg(m_dataset->train.samples.size())
                                     .arg(m_dataset->test.samples.size())
                                     .arg(m_dataset->numClasses())
                                     .arg(m_dataset->train.report.skipped() + r.skipped()),
                                 8000);
        Q_EMIT datasetLoaded();
        m_browser->selectFirst();
    });
    m_datasetJob.setFuture(QtConcurrent::run([dir, result, error] {
        try {
            *result = std::make_unique<Dataset>(openStanfordDogs(dir.toStdString()));
        } catch (const std::exception& e) {
            *error = QString::fromStdString(e.what());
        }
    }));
}

void MainWindow::openModel(const QString& file) {
    if (m_modelJob.isRunning()) return;
    statusBar()->showMessage(tr("Loading %1…").arg(file));
    m_busy->setVisible(true);
    auto result = std::make_shared<std::shared_ptr<ModelSession>>();
    auto error = std::make_shared<QString>();
    std::vector<std::string> names;
    if (m_dataset) names = m_dataset->breedNames;
    disconnect(&m_modelJob, nullptr, this, nullptr);
    connect(&m_modelJob, &QFutureWatcher<void>::finished, this, [this, file, result, error] {
        m_busy->setVisible(false);
        if (!error->isEmpty()) {
            showError(tr("Cannot open the model"), *error);
            return;
        }
        m_model = std::move(*result);
        m_controller->setModel(m_model);
        refreshDashboard();
        m_explorer->setModelInfo(&m_model->info());
        m_device->setText(QString::fromStdString(m_model->info().device));
        addRecent("recent/models", file);
        QSettings().setValue("paths/lastModel", file);
        setWindowTitle(tr("CAM Explorer — %1").arg(QFileInfo(file).fileName()));
        Q_EMIT modelLoaded();
        requestCurrent();
    });
    m_modelJob.setFuture(QtConcurrent::run([file, result, error, names] {
        try {
            // Class names from the dataset only when a bare .pth carries none of its own.
            try {
                *result = std::shared_ptr<ModelSession>(ModelSession::open(file.toStdString()));
            } catch (...) {
                if (names.empty()) throw;
                *result =
                    std::shared_ptr<ModelSession>(ModelSession::open(file.toStdString(), names));
            }
        } catch (const std::exception& e) {
            *error = QString::fromStdString(e.what());
        }
    }));
}

void MainWindow::openExternalImage(const QString& path) {
    if (!QFileInfo(path).isFile()) {
        showError(tr("Cannot open the image"), tr("'%1' is not a file").arg(path));
        return;
    }
    m_external = path;
    m_row = -1;
    statusBar()->showMessage(
        tr("%1 is not in the dataset: no ground truth, so no IoU").arg(QFileInfo(path).fileName()),
        8000);
    requestCurrent();
}

void MainWindow::onCurrentRow(int row) {
    m_row = row;
    m_external.clear();
    requestCurrent();
    // Prefetch the neighbours so that stepping through the split feels instant.
    if (m_model)
        for (int n : m_browser->neighbours(2))
            m_controller->prefetch(
                {QString::fromStdString(m_datasetModel->sample(n).imagePath.string()), -1,
                 m_explorer->scoreKind()});
}

void MainWindow::requestCurrent() {
    QString path;
    std::vector<Box> truth;
    int label = -1;
    if (!m_external.isEmpty()) {
        path = m_external;
    } else if (m_row >= 0 && m_row < m_datasetModel->rowCount()) {
        const Sample& s = m_datasetModel->sample(m_row);
        path = QString::fromStdString(s.imagePath.string());
        truth = s.boxes;
        label = s.label;
    }
    if (path.isEmpty()) return;
    if (!m_model) {
        statusBar()->showMessage(tr("Open a model to see where it looks (File ▸ Open Model)"),
                                 5000);
        return;
    }
    const int target = m_explorer->requestedTarget();  // -1: the prediction
    const ExplainKey key{path, target, m_explorer->scoreKind()};
    if (!m_controller->cached(key)) {
        QImage thumb = m_row >= 0 && m_external.isEmpty()
                           ? m_datasetModel->thumbnails()->thumbnail(m_row, path)
                           : QImage();
        m_explorer->showPending(thumb, truth, !m_external.isEmpty() ? false : label >= 0, label);
    }
    m_controller->request(key);
}

void MainWindow::onReady(std::shared_ptr<const ExplainResult> r) {
    std::vector<Box> truth;
    int label = -1;
    bool known = false;
    if (m_external.isEmpty() && m_row >= 0) {
        const Sample& s = m_datasetModel->sample(m_row);
        if (QString::fromStdString(s.imagePath.string()) != r->key.path) return;
        truth = s.boxes;
        label = s.label;
        known = true;
    }
    m_explorer->showResult(r, truth, known, label);
    statusBar()->clearMessage();
    m_timing->setText(tr("last pass %1 ms").arg(r->seconds * 1000.0, 0, 'f', 0));
    if (known && !r->explanation.top.empty())
        m_datasetModel->setPrediction(m_row, r->explanation.top[0].classIndex,
                                      r->explanation.top[0].probability,
                                      m_explorer->panel(0)->iou());
    updateStatus();
    Q_EMIT explanationShown();
}

void MainWindow::updateStatus() {
    auto r = m_explorer->result();
    if (!r || !m_model || r->explanation.top.empty()) {
        m_prediction->clear();
        return;
    }
    const auto& info = m_model->info();
    const ClassScore& top = r->explanation.top[0];
    QString text =
        tr("Prediction: %1 (%2%)")
            .arg(QString::fromStdString(info.classNames[static_cast<std::size_t>(top.classIndex)]))
            .arg(100.0 * top.probability, 0, 'f', 1);
    if (m_external.isEmpty() && m_row >= 0) {
        const int label = m_datasetModel->sample(m_row).label;
        text +=
            top.classIndex == label
                ? tr("  ✔ correct")
                : tr("  ✘ wrong (truth: %1)")
                      .arg(m_datasetModel->breedNames()[static_cast<std::size_t>(label)].c_str());
        for (int i = 0; i < m_explorer->panelCount(); ++i) {
            const HeatmapPanel* p = m_explorer->panel(i);
            text += QStringLiteral("   %1 IoU %2")
                        .arg(QString::fromStdString(methodName(p->method())))
                        .arg(p->iou(), 0, 'f', 3);
        }
    } else {
        text += tr("   (external image: no ground truth, no IoU)");
    }
    m_prediction->setText(text);
}

void MainWindow::copyFigure() {
    const QImage fig = m_explorer->composedFigure();
    if (fig.isNull()) return;
    QApplication::clipboard()->setImage(fig);
    statusBar()->showMessage(tr("Figure copied to the clipboard"), 3000);
}

void MainWindow::saveFigure() {
    const QSizeF natural = naturalSize(m_explorer->figure());
    if (natural.isEmpty()) return;
    QSettings settings;
    const QString f = QFileDialog::getSaveFileName(
        this, tr("Save figure"),
        settings.value("paths/lastFigure", QStringLiteral("comparison.png")).toString(),
        tr("PNG image (*.png);;SVG drawing (*.svg);;PDF document (*.pdf);;JPEG image (*.jpg)"));
    if (f.isEmpty()) return;
    ExportOptions options;
    const FigureFormat format = figureFormatFor(f);
    if (format == FigureFormat::Png || format == FigureFormat::Jpeg) {
        ExportSizeDialog size(natural, this);
        if (size.exec() != QDialog::Accepted) return;
        options = size.options();
    }
    QString error;
    if (!saveFigureTo(f, options, &error))
        showError(tr("Cannot save the figure"), error);
    else
        settings.setValue("paths/lastFigure", f);
}

bool MainWindow::saveFigureTo(const QString& file, const ExportOptions& options, QString* error) {
    const ComparisonFigure fig = m_explorer->figure();
    const QSizeF size = naturalSize(fig);
    if (size.isEmpty()) {
        if (error) *error = tr("There is no figure to save yet");
        return false;
    }
    ExportOptions o = options;
    o.title = tr("CAM Explorer comparison");
    return writeFigure(
        file, {FigurePage{size, [&fig](QPainter& p, const QRectF& r) { paintFigure(p, fig, r); }}},
        o, error);
}

void MainWindow::exportGrid() {
    if (!m_dataset || !m_model) {
        showError(tr("Cannot export a grid"), tr("Open a dataset and a model first"));
        return;
    }
    GridExportDialog dialog(m_dashboard->results() != nullptr,
                            static_cast<int>(m_browser->selectedSourceRows().size()), this);
    if (dialog.exec() != QDialog::Accepted) return;
    QString error;
    if (!startGridExport(dialog.request(), &error)) showError(tr("Cannot export a grid"), error);
}

bool MainWindow::startGridExport(const GridExportRequest& req, QString* error) {
    auto fail = [&](const QString& why) {
        if (error) *error = why;
        return false;
    };
    if (!m_dataset || !m_model) return fail(tr("Open a dataset and a model first"));
    if (m_gridJob.isRunning()) return fail(tr("A grid export is already running"));
    if (figureFormatFor(req.file) == FigureFormat::Unknown)
        return fail(tr("'%1' must end in .png, .jpg, .svg or .pdf").arg(req.file));
    const ModelInfo& info = m_model->info();
    const SplitData& split = m_dataset->split(m_browser->split());
    std::vector<int> rows;
    QString title;
    using Source = GridExportRequest::Source;
    if (req.source == Source::WorstIou || req.source == Source::BestIou) {
        const SavedEvaluation* ev = m_dashboard->results();
        if (!ev) return fail(tr("Ranking by IoU needs an evaluation: run one in the dashboard"));
        const bool worst = req.source == Source::WorstIou;
        for (std::size_t index :
             rankByIou(ev->records, req.rankBy, m_explorer->currentTap(), info.lastBlockTap,
                       static_cast<std::size_t>(req.count), worst))
            rows.push_back(static_cast<int>(index));
        if (rows.empty())
            return fail(tr("The evaluation has no %1 scores at this layer")
                            .arg(QString::fromStdString(methodName(req.rankBy))));
        title = tr("The %1 %2 images by %3 IoU")
                    .arg(rows.size())
                    .arg(worst ? tr("worst") : tr("best"))
                    .arg(QString::fromStdString(methodName(req.rankBy)));
    } else {
        rows = req.source == Source::Selected ? m_browser->selectedSourceRows()
                                              : m_browser->visibleSourceRows();
        if (rows.size() > static_cast<std::size_t>(req.count))
            rows.resize(static_cast<std::size_t>(req.count));
        if (rows.empty()) return fail(tr("No images are selected"));
        title = req.source == Source::Selected ? tr("Selected images") : tr("Filtered images");
    }
    std::vector<Sample> samples;
    for (int r : rows)
        if (r >= 0 && static_cast<std::size_t>(r) < split.samples.size())
            samples.push_back(split.samples[static_cast<std::size_t>(r)]);
    FigureRequest fr;
    fr.methods.clear();
    for (int i = 0; i < m_explorer->panelCount(); ++i)
        fr.methods.push_back(m_explorer->panel(i)->method());
    fr.tap = m_explorer->currentTap();
    fr.style.tau = m_explorer->threshold();
    fr.style.mode = m_explorer->boxMode();
    fr.score = m_explorer->scoreKind();
    // Score-CAM is too slow for a batch: the other panels only.
    fr.methods.erase(std::remove(fr.methods.begin(), fr.methods.end(), Method::ScoreCam),
                     fr.methods.end());

    auto* progress = new QProgressDialog(tr("Explaining %1 images…").arg(samples.size()),
                                         tr("Cancel"), 0, static_cast<int>(samples.size()), this);
    progress->setWindowModality(Qt::WindowModal);
    progress->setMinimumDuration(300);
    progress->setAttribute(Qt::WA_DeleteOnClose);
    connect(progress, &QProgressDialog::canceled, this, [this] { m_gridCancel.cancel(); });
    m_gridCancel.reset();
    m_busy->setVisible(true);
    auto model = m_model;
    auto outcome = std::make_shared<QString>();
    JobContext job;
    job.cancel = &m_gridCancel;
    job.progress = [this, progress](const Progress& p) {
        QMetaObject::invokeMethod(
            this, [progress, d = static_cast<int>(p.done)] { progress->setValue(d); },
            Qt::QueuedConnection);
    };
    disconnect(&m_gridJob, &QFutureWatcher<void>::finished, this, nullptr);
    connect(&m_gridJob, &QFutureWatcher<void>::finished, this, [this, progress, req, outcome] {
        m_busy->setVisible(false);
        progress->close();
        if (outcome->isEmpty()) statusBar()->showMessage(tr("Saved %1").arg(req.file), 5000);
        Q_EMIT gridExported(req.file, *outcome);
    });
    m_gridJob.setFuture(QtConcurrent::run([model, samples, fr, req, title, job, outcome] {
        try {
            GridFigure grid;
            grid.title = title;
            grid.columns = req.columns;
            grid.rows = buildComparisons(*model, samples, fr, ExplainTarget::Predicted, job);
            QString err;
            if (!writeFigure(req.file,
                             {FigurePage{naturalSize(grid),
                                         [&grid](QPainter& p, const QRectF& r) {
                                             paintFigure(p, grid, r);
                                         }}},
                             req.options, &err))
                *outcome = err;
        } catch (const Cancelled&) {
            *outcome = QObject::tr("cancelled");
        } catch (const std::exception& e) {
            *outcome = QString::fromStdString(e.what());
        }
    }));
    return true;
}

void MainWindow::dragEnterEvent(QDragEnterEvent* e) {
    if (e->mimeData()->hasUrls()) e->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* e) {
    const auto urls = e->mimeData()->urls();
    if (urls.isEmpty()) return;
    const QString path = urls.first().toLocalFile();
    const QFileInfo info(path);
    if (info.isDir())
        openDataset(path);
    else if (info.suffix() == "ckpt" || info.suffix() == "pth" || info.suffix() == "pt")
        openModel(path);
    else if (kImageSuffixes.contains(info.suffix().toLower()))
        openExternalImage(path);
    else
        showError(tr("Cannot open the dropped file"),
                  tr("'%1' is not a dataset folder, a model (.ckpt, .pth) or an image")
                      .arg(info.fileName()));
    e->acceptProposedAction();
}

}  // namespace camx::ui
