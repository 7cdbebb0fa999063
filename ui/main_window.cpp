#include "main_window.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QCloseEvent>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QListView>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPainter>
#include <QProgressBar>
#include <QProgressDialog>
#include <QPushButton>
#include <QRegularExpression>
#include <QScreen>
#include <QSettings>
#include <QSlider>
#include <QStackedWidget>
#include <QStatusBar>
#include <QtConcurrent/QtConcurrent>

#include "about_dialog.h"
#include "background_job.h"
#include "browser/browser_panel.h"
#include "browser/dataset_model.h"
#include "browser/dataset_text.h"
#include "browser/load_report_dialog.h"
#include "browser/open_dataset_dialog.h"
#include "browser/thumbnail_loader.h"
#include "common/image_convert.h"
#include "common/thread_priority.h"
#include "dashboard/eval_dashboard.h"
#include "eval/ranking.h"
#include "explain/model_session.h"
#include "explorer/explorer_view.h"
#include "explorer/heatmap_panel.h"
#include "explorer/mask_outline_loader.h"
#include "explorer/sanity_dialog.h"
#include "export/export_size_dialog.h"
#include "export/grid_export_dialog.h"
#include "figures/figure_batch.h"
#include "model/model_files.h"
#include "model/model_input_dialog.h"
#include "nn/runtime.h"
#include "start/demo_setup.h"
#include "start/start_page.h"
#include "training/train_wizard.h"

namespace camx::ui {

namespace {
constexpr int kMaxRecent = 8;
const QStringList kImageSuffixes = {"jpg", "jpeg", "png", "bmp", "webp", "tif", "tiff"};
}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    setAcceptDrops(true);
    m_workspace = new Workspace(this);
    m_datasetModel = new DatasetModel(this);
    m_browser = new BrowserPanel(m_datasetModel);
    m_explorer = new ExplorerView;
    m_controller = new ExplainController(this);
    m_masks = new MaskOutlineLoader(this);
    m_start = new StartPage;
    m_demo = new DemoSetup(this);
    m_stack = new QStackedWidget;
    m_stack->addWidget(m_start);
    m_stack->addWidget(m_explorer);
    setCentralWidget(m_stack);
    m_dock = new QDockWidget(tr("Dataset"), this);
    m_dock->setObjectName(QStringLiteral("datasetDock"));
    m_dock->setWidget(m_browser);
    m_dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
    addDockWidget(Qt::LeftDockWidgetArea, m_dock);

    m_prediction = new QLabel;
    m_prediction->setObjectName(QStringLiteral("predictionLabel"));
    m_prediction->setMinimumWidth(0);
    m_prediction->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_modelLabel = new QLabel;
    m_modelLabel->setObjectName(QStringLiteral("modelLabel"));
    m_device = new QLabel;
    m_timing = new QLabel;
    m_busy = new QProgressBar;
    m_busy->setObjectName(QStringLiteral("busyBar"));
    m_busy->setFixedWidth(90);
    m_busy->setTextVisible(false);
    m_busy->setRange(0, 0);
    m_busy->setVisible(false);
    m_busyText = new QLabel;
    m_busyText->setObjectName(QStringLiteral("busyText"));
    statusBar()->addWidget(m_prediction, 1);
    statusBar()->addPermanentWidget(m_busyText);
    statusBar()->addPermanentWidget(m_busy);
    statusBar()->addPermanentWidget(m_timing);
    statusBar()->addPermanentWidget(m_modelLabel);
    statusBar()->addPermanentWidget(m_device);
    m_device->setText(QString::fromStdString(deviceDescription()));

    // The workspace owns the shared state; the views follow it.
    connect(m_workspace, &Workspace::datasetChanged, this, &MainWindow::onDatasetChanged);
    connect(m_workspace, &Workspace::splitChanged, this, [this] {
        m_browser->setDataset(m_workspace->dataset().get(), m_workspace->split());
        clearImage();
    });
    connect(m_workspace, &Workspace::modelChanged, this, &MainWindow::onModelChanged);
    connect(m_workspace, &Workspace::evaluationChanged, this, &MainWindow::onEvaluationChanged);
    connect(m_workspace, &Workspace::datasetLoadFinished, this, &MainWindow::onDatasetLoadFinished);
    connect(m_workspace, &Workspace::modelLoadFinished, this, &MainWindow::onModelLoadFinished);
    connect(m_workspace, &Workspace::modelOpenHeld, this, &MainWindow::onModelOpenHeld);
    connect(m_workspace, &Workspace::datasetProgress, this,
            [this](int done, int total, const QString& stage) {
                m_datasetProgress = {done, total, stage};
                updateBusy();
            });

    connect(m_browser, &BrowserPanel::currentChanged, this, &MainWindow::onCurrentRow);
    connect(m_browser, &BrowserPanel::splitChanged, this, [this](SplitKind s) {
        rememberSplit(s);
        m_workspace->setSplit(s);
        m_browser->selectFirst();
    });
    connect(m_browser, &BrowserPanel::loadReportRequested, this, &MainWindow::showLoadReport);
    // A sample's mask outlines, read in the background: the explorer shows them with the image
    // they belong to, whenever that is shown.
    connect(m_masks, &MaskOutlineLoader::ready, this,
            [this](const QString& path, std::shared_ptr<const MaskOutlines> outlines) {
                m_explorer->setTruthOutlines(path, std::move(outlines));
            });
    connect(m_controller, &ExplainController::ready, this, &MainWindow::onReady);
    connect(m_controller, &ExplainController::scoreCamReady, this, &MainWindow::onReady);
    connect(m_controller, &ExplainController::failed, this, [this](const QString& msg) {
        // Nothing of the previous image stays: no panels, top-5 line or selection.
        QString shown = m_external;
        if (shown.isEmpty() && m_row >= 0 && m_row < m_datasetModel->rowCount())
            shown = QString::fromStdString(m_datasetModel->sample(m_row).imagePath.string());
        m_external.clear();
        clearImage();
        m_browser->view()->selectionModel()->clear();
        m_explorer->clear(tr("Could not explain %1").arg(QFileInfo(shown).fileName()));
        showError(tr("Explanation failed"), msg);
    });
    connect(m_controller, &ExplainController::busyChanged, this, [this](bool busy) {
        m_explaining = busy;
        if (!busy) m_explainProgress = {};  // no stale "Score-CAM 100%"
        updateBusy();
    });
    connect(m_controller, &ExplainController::progress, this,
            [this](int done, int total, const QString& what) {
                m_explainProgress = {done, total, what};
                updateBusy();
            });
    connect(m_explorer, &ExplorerView::targetChanged, this, &MainWindow::requestCurrent);
    connect(m_explorer, &ExplorerView::scoreCamWanted, this, [this](int tap) {
        if (auto r = m_explorer->result()) m_controller->requestScoreCam(r->key, tap);
    });
    // A TorchScript model's layers beyond its blocks: explained when shown, and from then on in
    // every pass (the next images come with the layer the user is looking at).
    connect(m_explorer, &ExplorerView::layerWanted, this, [this](int tap) {
        m_controller->setExtraTap(tap);
        if (auto r = m_explorer->result()) m_controller->requestTap(r->key, tap);
    });
    // The faithfulness curves under the panels and the sanity check: background passes of the
    // controller, for the explanation shown.
    connect(m_explorer, &ExplorerView::curveWanted, m_controller, &ExplainController::requestCurve);
    connect(m_explorer, &ExplorerView::curvesCancelled, m_controller,
            &ExplainController::cancelCurves);
    connect(m_controller, &ExplainController::curveReady, m_explorer, &ExplorerView::showCurve);
    connect(m_explorer->curvesAction(), &QAction::toggled, this,
            [](bool on) { QSettings().setValue("view/faithfulnessCurves", on); });
    connect(m_explorer, &ExplorerView::sanityWanted, this, [this](const SanityRequest& r) {
        if (!m_sanityDialog) {
            m_sanityDialog = new SanityDialog(this);
            connect(m_sanityDialog, &SanityDialog::cancelRequested, m_controller,
                    &ExplainController::cancelSanity);
            connect(m_sanityDialog, &QDialog::rejected, m_controller,
                    &ExplainController::cancelSanity);
            connect(m_controller, &ExplainController::sanityProgress, m_sanityDialog,
                    &SanityDialog::setProgress);
            connect(m_controller, &ExplainController::sanityStopped, m_sanityDialog,
                    &SanityDialog::showStopped);
            connect(m_controller, &ExplainController::sanityReady, m_sanityDialog,
                    [this](std::shared_ptr<const SanityOutcome> o) {
                        m_sanityDialog->showOutcome(std::move(o), m_explorer->colormap(),
                                                    m_explorer->blend());
                    });
        }
        const auto base = m_controller->cached(r.image);
        m_sanityDialog->start(
            m_explorer->describe(r.method, r.tap, base ? base->explanation.target : -1));
        m_sanityDialog->show();
        m_sanityDialog->raise();
        m_controller->requestSanity(r);
    });
    connect(m_explorer, &ExplorerView::iouChanged, this, [this] {
        m_workspace->setThreshold(m_explorer->threshold());
        updateStatus();
    });

    connect(m_start, &StartPage::demoRequested, this, &MainWindow::tryDemo);
    connect(m_start, &StartPage::demoCancelRequested, m_demo, [this] {
        m_demo->cancel();
        m_start->showDemoFinished(
            tr("Stopped. Try the demo again to go on from where it "
               "stopped."));
    });
    connect(m_start, &StartPage::openDatasetRequested, this, [this] {
        if (auto* a = findChild<QAction*>(QStringLiteral("openDatasetAction"))) a->trigger();
    });
    connect(m_start, &StartPage::openModelRequested, this, [this] {
        if (auto* a = findChild<QAction*>(QStringLiteral("openModelAction"))) a->trigger();
    });
    connect(m_start, &StartPage::recentDatasetChosen, this,
            qOverload<const QString&>(&MainWindow::openDataset));
    connect(m_start, &StartPage::recentModelChosen, this, &MainWindow::openModel);
    connect(m_demo, &DemoSetup::progress, m_start, &StartPage::showDemoProgress);
    connect(m_demo, &DemoSetup::progress, this, [this](int done, int total, const QString& s) {
        m_demoProgress = {done, total, tr("Demo: %1").arg(s)};
        updateBusy();
    });
    connect(m_demo, &DemoSetup::datasetReady, this, [this](const QString& dir) {
        if (!m_workspace->dataset()) openDataset(dir);
    });
    connect(m_demo, &DemoSetup::finished, this, [this](const QString& model, const QString& err) {
        m_start->setDemoReady(DemoSetup::ready());
        updateBusy();
        if (!err.isEmpty()) {
            m_start->showDemoFinished(tr("The demo could not be made: %1").arg(err));
            showError(tr("Cannot make the demo"), err);
            return;
        }
        m_start->showDemoFinished({});
        openModel(model);
    });

    m_dashboard = new EvalDashboard(this);
    m_dashboard->setWindowFlag(Qt::Window);
    m_dashboard->setWorkspace(m_workspace);
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
    // The split the user browsed last (a view preference, kept across datasets that have it).
    m_workspace->setSplit(rememberedSplit());
    m_start->setDemoReady(DemoSetup::ready());
    updateTitle();
    updateStartPage();
}

QSize MainWindow::initialSize(const QSize& available) {
    // Room for the dataset dock and two panels, but never wider or taller than the screen leaves
    // (window decorations and a panel take some of the available area, hence the margins).
    const QSize wanted(1400, 880);
    return {std::min(wanted.width(), available.width() - 40),
            std::min(wanted.height(), available.height() - 60)};
}

void MainWindow::showDashboard() {
    if (!m_dashboard->isVisible()) {
        // A separate window, sized to its screen like the main one.
        const QScreen* screen = this->screen();
        const QSize avail = screen ? screen->availableSize() : QSize(1280, 720);
        m_dashboard->resize(std::min(1300, avail.width() - 60), std::min(820, avail.height() - 80));
    }
    m_dashboard->show();
    m_dashboard->raise();
    m_dashboard->activateWindow();
}

TrainWizard* MainWindow::showTrainWizard() {
    if (!m_wizard) {
        m_wizard = new TrainWizard(this);
        m_wizard->setAttribute(Qt::WA_DeleteOnClose, false);
        m_wizard->setWorkspace(m_workspace);
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
    // Nothing here waits for a worker: loads and the demo are cancelled by their owners'
    // destructors and finish alone; the grid export is cancelled and its job owns its inputs.
    if (m_gridCancel) m_gridCancel->cancel();
}

bool MainWindow::isLoading() const {
    return m_workspace->isLoading();
}

void MainWindow::buildActions() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* openData =
        file->addAction(tr("Open &Dataset…"), this, &MainWindow::showOpenDatasetDialog);
    openData->setShortcut(QKeySequence::Open);
    openData->setObjectName(QStringLiteral("openDatasetAction"));
    openData->setStatusTip(tr("Open a dataset folder in any format CAM Explorer reads"));
    QAction* openModelAct = file->addAction(tr("Open &Model…"), this, [this] {
        const QString f = QFileDialog::getOpenFileName(
            this, tr("Open a model"), QSettings().value("paths/lastModel").toString(),
            tr("Models (*.ckpt *.pth *.pt *.pts *.torchscript *.h5 *.hdf5 *.keras);;CAM Explorer "
               "checkpoints (*.ckpt);;PyTorch weights (*.pth *.pt);;TorchScript models (*.pt *.pts "
               "*.torchscript);;Keras models (*.h5 *.hdf5 *.keras);;All files (*)"));
        if (!f.isEmpty()) openModel(f);
    });
    openModelAct->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_M));
    openModelAct->setObjectName(QStringLiteral("openModelAction"));
    file->addAction(tr("Open &Image…"), this, [this] {
        const QString f = QFileDialog::getOpenFileName(
            this, tr("Explain an image"), QString(),
            tr("Images (*.jpg *.jpeg *.png *.bmp *.webp *.tif *.tiff)"));
        if (!f.isEmpty()) openExternalImage(f);
    });
    file->addAction(tr("S&tart Page"), this, [this] {
        m_stack->setCurrentWidget(m_start);
        m_dock->hide();
    });
    m_loadReportAction =
        file->addAction(tr("Dataset &Load Report…"), this, &MainWindow::showLoadReport);
    m_loadReportAction->setObjectName(QStringLiteral("loadReportAction"));
    m_loadReportAction->setStatusTip(
        tr("What was read from the open dataset, and every image skipped or repaired"));
    m_loadReportAction->setEnabled(false);
    m_recentData = file->addMenu(tr("Recent Datasets"));
    m_recentModels = file->addMenu(tr("Recent Models"));
    file->addSeparator();
    QAction* copy = file->addAction(tr("&Copy Figure"), this, &MainWindow::copyFigure);
    copy->setShortcut(QKeySequence::Copy);
    QAction* save = file->addAction(tr("&Save Figure As…"), this, &MainWindow::saveFigure);
    save->setShortcut(QKeySequence::Save);
    save->setObjectName(QStringLiteral("saveFigureAction"));
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

    view->addSeparator();
    view->addAction(m_explorer->curvesAction());

    QMenu* modelMenu = menuBar()->addMenu(tr("&Model"));
    m_modelInputAction =
        modelMenu->addAction(tr("Model &Input…"), this, &MainWindow::editModelInput);
    m_modelInputAction->setObjectName(QStringLiteral("modelInputAction"));
    m_modelInputAction->setStatusTip(
        tr("The input size and normalisation of the open TorchScript model"));
    m_modelInputAction->setEnabled(false);

    QMenu* go = menuBar()->addMenu(tr("&Go"));
    // Page Up/Down move through the images from anywhere. The arrow keys belong to the focused
    // widget: in the thumbnail grid they move the selection, on a slider they move the slider.
    QAction* prev = go->addAction(tr("&Previous Image"), this, [this] { m_browser->step(-1); });
    prev->setObjectName(QStringLiteral("previousImageAction"));
    prev->setShortcut(Qt::Key_PageUp);
    QAction* next = go->addAction(tr("&Next Image"), this, [this] { m_browser->step(1); });
    next->setObjectName(QStringLiteral("nextImageAction"));
    next->setShortcut(Qt::Key_PageDown);
    QAction* first = go->addAction(tr("&First Image"), this, [this] { m_browser->selectFirst(); });
    first->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Home));
    QAction* last = go->addAction(tr("&Last Image"), this, [this] { m_browser->selectLast(); });
    last->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_End));

    QMenu* tools = menuBar()->addMenu(tr("&Tools"));
    QAction* dash = tools->addAction(tr("Evaluation &Dashboard"), this, &MainWindow::showDashboard);
    dash->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    QAction* sanity = tools->addAction(tr("&Sanity Check: Randomise the Model…"), this, [this] {
        if (!startSanityCheck(0))
            showStatus(tr("The sanity check needs a map: open a model and choose an image"), 5000);
    });
    sanity->setObjectName(QStringLiteral("sanityCheckAction"));
    sanity->setStatusTip(
        tr("The left panel's method and layer, explained again while the model is re-initialised "
           "layer by layer from the output back (Adebayo et al., 2018); right-click a panel for "
           "another"));
    QAction* train = tools->addAction(tr("&Train a Model…"), this, [this] { showTrainWizard(); });
    train->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_T));

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About CAM Explorer"), this, [this] {
        const auto model = m_workspace->model();
        AboutDialog(QString::fromStdString(model ? model->info().device : deviceDescription()),
                    this)
            .exec();
    });
    rebuildRecentMenus();
}

SanityDialog* MainWindow::sanityDialog() const {
    return m_sanityDialog.data();
}

bool MainWindow::startSanityCheck(int panel) {
    return m_explorer->requestSanity(panel);
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
    m_start->setRecent(s.value("recent/datasets").toStringList(),
                       s.value("recent/models").toStringList());
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
    if (!s.contains("window/geometry")) {
        const QScreen* screen = QGuiApplication::primaryScreen();
        resize(initialSize(screen ? screen->availableSize() : QSize(1280, 720)));
    }
    // Below this the sliders and panels would collapse.
    setMinimumSize(900, 560);
    if (auto* t = m_explorer->findChild<QSlider*>("thresholdSlider"))
        t->setValue(s.value("view/threshold", 20).toInt());
    if (auto* b = m_explorer->findChild<QSlider*>("blendSlider"))
        b->setValue(s.value("view/blend", 50).toInt());
    m_explorer->setTruthShown(s.value("view/showTruth", true).toBool());
    m_explorer->setCurvesShown(s.value("view/faithfulnessCurves", false).toBool());
}

void MainWindow::closeEvent(QCloseEvent* e) {
    QSettings s;
    s.setValue("window/geometry", saveGeometry());
    s.setValue("window/state", saveState());
    if (auto* t = m_explorer->findChild<QSlider*>("thresholdSlider"))
        s.setValue("view/threshold", t->value());
    if (auto* b = m_explorer->findChild<QSlider*>("blendSlider"))
        s.setValue("view/blend", b->value());
    s.setValue("view/showTruth", m_explorer->truthShown());
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
    showStatus(message, 8000);
    Q_EMIT errorShown(message);
    if (!m_quietErrors) QMessageBox::critical(this, title, message);
}

void MainWindow::showStatus(const QString& message, int timeoutMs) {
    m_keepStatusUntil = {};
    // Cut at a word, with an ellipsis, to what the status bar can show; the whole text is in the
    // tooltip.
    const QFontMetrics fm(statusBar()->font());
    // The permanent widgets on the right (a TorchScript model's label is long) keep their room.
    int used = 0;
    for (const QWidget* w : {static_cast<QWidget*>(m_busyText), static_cast<QWidget*>(m_busy),
                             static_cast<QWidget*>(m_timing), static_cast<QWidget*>(m_modelLabel),
                             static_cast<QWidget*>(m_device)})
        if (!w->isHidden()) used += w->sizeHint().width() + 8;
    const int room = std::max(200, statusBar()->width() - std::max(360, used + 120));
    QString shown = message;
    if (fm.horizontalAdvance(message) > room) {
        const QString ellipsis = QStringLiteral("…");
        shown.clear();
        for (const QString& word : message.split(QLatin1Char(' '))) {
            const QString next = shown.isEmpty() ? word : shown + QLatin1Char(' ') + word;
            if (fm.horizontalAdvance(next + ellipsis) > room) break;
            shown = next;
        }
        shown += ellipsis;
    }
    statusBar()->setToolTip(message);
    statusBar()->showMessage(shown, timeoutMs);
}

void MainWindow::openDataset(const QString& dir) {
    openDataset(DatasetChoice::rememberedFor(dir));
}

void MainWindow::openDataset(const DatasetChoice& choice) {
    showStatus(choice.format == DatasetFormat::Auto
                   ? tr("Reading %1…").arg(choice.dir)
                   : tr("Reading %1 as %2…").arg(choice.dir, formatDisplayName(choice.format)));
    m_datasetProgress = {};
    m_datasetChoice = choice;
    m_workspace->openDataset(choice.dir, choice.options());
    updateBusy();
}

void MainWindow::showOpenDatasetDialog() {
    if (m_openDialog) {
        m_openDialog->raise();
        m_openDialog->activateWindow();
        return;
    }
    auto* dialog = new OpenDatasetDialog(this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowModality(Qt::WindowModal);
    connect(dialog, &QDialog::accepted, this, [this, dialog] { openDataset(dialog->choice()); });
    m_openDialog = dialog;
    dialog->open();
}

void MainWindow::showLoadReport() {
    if (!m_loadReport) {
        m_loadReport = new LoadReportDialog(this);
        m_loadReport->setDataset(m_workspace->dataset().get());
    }
    m_loadReport->show();
    m_loadReport->raise();
    m_loadReport->activateWindow();
}

void MainWindow::openModel(const QString& file) {
    startModelOpen(file, false);
}

void MainWindow::startModelOpen(const QString& file, bool atStartup) {
    closeModelQuestions();  // about another (or this) file: this request replaces them
    showStatus(tr("Loading %1…").arg(file));
    ModelOpenRequest request;
    // At start nothing runs unasked; else the user's own folders and what they trusted before.
    request.allowTorchScript = !atStartup && isTrustedModelLocation(file);
    if (auto input = rememberedModelInput(file))
        request.scriptOverrides = *input;
    else
        request.holdWithoutMetadata = true;  // asked first, not guessed
    if (hasKerasSuffix(file)) {
        // A Keras file does not say how its input was preprocessed: asked once per file.
        request.kerasPreprocess = rememberedKerasPreprocess(file);
        if (!request.kerasPreprocess) {
            if (atStartup) {
                // Asked when the user opens it, not at start-up.
                showStatus(tr("The last model, %1, is a Keras model whose input preprocessing "
                              "is not known: open it from File ▸ Recent Models.")
                               .arg(QFileInfo(file).fileName()),
                           20000);
                finishStartupOpen();
                return;
            }
            askKerasPreprocess(file);
            return;
        }
    }
    m_startupModel = atStartup ? file : QString();
    m_workspace->openModel(file, request);
    updateBusy();
}

void MainWindow::askKerasPreprocess(const QString& file) {
    auto* box = new QMessageBox(
        QMessageBox::Question, tr("Keras model input"),
        tr("How was the input of %1 preprocessed in training? Keras files do not record it.")
            .arg(QFileInfo(file).fileName()),
        QMessageBox::NoButton, this);
    box->setObjectName(QStringLiteral("kerasPreprocessPrompt"));
    box->setInformativeText(
        tr("Caffe: keras.applications' preprocess_input (BGR, minus the ImageNet means). "
           "Unit: pixel / 255, as the course notebook did. The choice is remembered for this "
           "file."));
    QPushButton* caffe = box->addButton(tr("&Caffe (preprocess_input)"), QMessageBox::AcceptRole);
    caffe->setObjectName(QStringLiteral("kerasCaffeButton"));
    QPushButton* unit = box->addButton(tr("&Unit (/255)"), QMessageBox::AcceptRole);
    unit->setObjectName(QStringLiteral("kerasUnitButton"));
    box->addButton(QMessageBox::Cancel);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setWindowModality(Qt::WindowModal);
    m_kerasPrompt = box;
    connect(box, &QMessageBox::finished, this, [this, box, caffe, unit, file] {
        if (box->clickedButton() != caffe && box->clickedButton() != unit) {
            showStatus(tr("%1 was not opened").arg(QFileInfo(file).fileName()), 5000);
            return;
        }
        rememberKerasPreprocess(
            file, box->clickedButton() == caffe ? KerasPreprocess::Caffe : KerasPreprocess::Unit);
        openModel(file);
    });
    box->open();
    Q_EMIT modelQuestionAsked();
}

void MainWindow::closeModelQuestions() {
    if (m_trustPrompt) {
        m_trustPrompt->disconnect(this);
        m_trustPrompt->close();
    }
    if (m_inputDialog) {
        m_inputDialog->disconnect(this);
        m_inputDialog->close();
    }
    if (m_kerasPrompt) {
        m_kerasPrompt->disconnect(this);
        m_kerasPrompt->close();
    }
}

void MainWindow::onModelOpenHeld(const QString& file, Workspace::Hold why) {
    updateBusy();
    finishStartupOpen();
    const QString name = QFileInfo(file).fileName();
    if (file == std::exchange(m_startupModel, QString())) {
        // reopenLast() runs no TorchScript model; it stays in File ▸ Recent Models. Said once:
        // now, or with the first image of the dataset still being read.
        m_startupNotice = tr("The last model, %1, is a TorchScript model: CAM Explorer does not "
                             "run a model's code at start-up. Open it from File ▸ Recent Models.")
                              .arg(name);
        if (!m_workspace->isLoadingDataset())
            showStatus(std::exchange(m_startupNotice, QString()), 20000);
        return;
    }
    if (why == Workspace::Hold::NotTrusted) {
        askTrust(file);
        return;
    }
    showStatus(tr("%1 does not say what input it takes").arg(name), 8000);
    askModelInput(file, {}, {}, false, false);
}

void MainWindow::askTrust(const QString& file) {
    const QFileInfo info(file);
    auto* box = new QMessageBox(
        QMessageBox::Warning, tr("Open a TorchScript model?"),
        tr("%1 is a TorchScript model: it contains code that CAM Explorer will run. Open it only "
           "if you trust where it came from.")
            .arg(info.fileName()),
        QMessageBox::NoButton, this);
    box->setObjectName(QStringLiteral("torchScriptTrustPrompt"));
    box->setInformativeText(tr("It is in %1, outside your own folders.")
                                .arg(QDir::toNativeSeparators(info.absolutePath())));
    QPushButton* open = box->addButton(tr("&Open"), QMessageBox::AcceptRole);
    open->setObjectName(QStringLiteral("trustOpenButton"));
    QPushButton* cancel = box->addButton(QMessageBox::Cancel);
    cancel->setObjectName(QStringLiteral("trustCancelButton"));
    box->setDefaultButton(cancel);  // the safe answer on Enter
    box->setEscapeButton(cancel);
    auto* folder = new QCheckBox(tr("Don't ask again for files in this folder"));
    folder->setObjectName(QStringLiteral("trustFolderCheck"));
    box->setCheckBox(folder);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setWindowModality(Qt::WindowModal);
    connect(box, &QMessageBox::finished, this, [this, box, open, folder, file] {
        if (box->clickedButton() != open) {
            showStatus(tr("%1 was not opened").arg(QFileInfo(file).fileName()), 5000);
            return;
        }
        trustModelFile(file);
        if (folder->isChecked()) trustModelFolder(QFileInfo(file).absolutePath());
        openModel(file);
    });
    m_trustPrompt = box;
    box->open();
    Q_EMIT modelQuestionAsked();
}

void MainWindow::askModelInput(const QString& file, const ScriptMeta& current, const QString& error,
                               bool hasMetadata, bool reopenOnlyIfChanged) {
    auto* dialog = new ModelInputDialog(QFileInfo(file).fileName(), hasMetadata, this);
    dialog->setValues(current);
    dialog->setError(error);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowModality(Qt::WindowModal);
    connect(dialog, &QDialog::finished, this,
            [this, dialog, file, current, reopenOnlyIfChanged](int result) {
                if (result != QDialog::Accepted) {
                    if (!reopenOnlyIfChanged)
                        showStatus(tr("%1 was not opened").arg(QFileInfo(file).fileName()), 5000);
                    return;
                }
                const ScriptMeta input = dialog->values();
                rememberModelInput(file, input);
                if (reopenOnlyIfChanged && scriptMetaToJson(input) == scriptMetaToJson(current)) {
                    showStatus(tr("The model input is unchanged"), 4000);
                    return;
                }
                openModel(file);
            });
    m_inputDialog = dialog;
    dialog->open();
    Q_EMIT modelQuestionAsked();
}

void MainWindow::editModelInput() {
    const auto model = m_workspace->model();
    if (!model || !model->info().torchScript) return;
    const ModelInfo& info = model->info();
    const QString file = QString::fromStdString(info.source.string());
    // What the open model uses: the input size and normalisation it was opened with, and the
    // tokens the user or the file gave.
    ScriptMeta current = info.fileMeta;
    if (auto remembered = rememberedModelInput(file)) current.overrideWith(*remembered);
    current.classNames.clear();
    current.layout = MapLayout::Auto;
    current.inputSize = info.inputSize;
    current.mean = info.norm.mean;
    current.std = info.norm.std;
    askModelInput(file, current, {}, !info.fileMeta.empty(), true);
}

bool MainWindow::reopenLast() {
    QSettings s;
    if (!s.value(StartPage::reopenKey(), true).toBool()) return false;
    if (s.value("start/openingLast", false).toBool()) {
        // The previous start ended while reopening: do not try again, say so.
        s.remove("start/openingLast");
        showStatus(tr("The last session ended while reopening its files; they were not opened "
                      "again. Open them from File ▸ Recent."),
                   15000);
        return false;
    }
    const QString data = s.value("paths/lastDataset").toString();
    const QString model = s.value("paths/lastModel").toString();
    const bool openData = !data.isEmpty() && QFileInfo(data).isDir();
    bool openModelFile = !model.isEmpty() && QFileInfo(model).isFile();
    if (openModelFile && (s.value("paths/lastModelTorchScript", false).toBool() ||
                          (hasTorchScriptSuffix(model) &&
                           QFileInfo(model).suffix().toLower() != QLatin1String("pt")))) {
        // Its code would run unasked. Said once: with the first image, or now.
        openModelFile = false;
        m_startupNotice = tr("The last model, %1, is a TorchScript model: CAM Explorer does not "
                             "run a model's code at start-up. Open it from File ▸ Recent Models.")
                              .arg(QFileInfo(model).fileName());
        if (!openData) showStatus(std::exchange(m_startupNotice, QString()), 20000);
    }
    if (!openData && !openModelFile) return false;
    s.setValue("start/openingLast", true);
    s.sync();
    m_openingLast = true;
    if (openData) openDataset(data);
    // A file that has become TorchScript since is held, not run (startModelOpen).
    if (openModelFile) startModelOpen(model, true);
    return true;
}

void MainWindow::finishStartupOpen() {
    if (!m_openingLast || m_workspace->isLoading()) return;
    m_openingLast = false;
    QSettings().remove("start/openingLast");
}

void MainWindow::tryDemo() {
    if (DemoSetup::ready()) {
        openDataset(DemoSetup::datasetDir());
        openModel(DemoSetup::modelFile());
        return;
    }
    m_start->showDemoProgress(0, 0, tr("Starting…"));
    m_demoProgress = {0, 0, tr("Demo: starting…")};
    m_demo->start();
    updateBusy();
}

bool MainWindow::isStartPageShown() const {
    return m_stack->currentWidget() == m_start;
}

void MainWindow::updateStartPage() {
    const bool nothingOpen =
        !m_workspace->dataset() && !m_workspace->model() && m_external.isEmpty();
    m_stack->setCurrentWidget(nothingOpen ? static_cast<QWidget*>(m_start) : m_explorer);
    m_dock->setVisible(!nothingOpen || m_workspace->dataset());
}

void MainWindow::updateBusy() {
    // One bar for what matters most of what runs; a source without a total shows a busy
    // indicator.
    const BusyProgress loadingModel{0, 0, tr("Loading the model")};
    const BusyProgress explaining{0, 0, tr("Explaining")};
    const BusyProgress* shown = nullptr;
    if (m_workspace->isLoadingDataset())
        shown = &m_datasetProgress;
    else if (m_workspace->isLoadingModel())
        shown = &loadingModel;
    else if (m_demo->isRunning())
        shown = &m_demoProgress;
    else if (m_explaining)
        shown = m_explainProgress.what.isEmpty() ? &explaining : &m_explainProgress;
    m_busy->setVisible(shown != nullptr);
    m_busyText->setVisible(shown != nullptr);
    if (!shown) {
        m_busyText->clear();
        return;
    }
    m_busy->setRange(0, std::max(0, shown->total));
    m_busy->setValue(shown->done);
    m_busyText->setText(shown->what.isEmpty() ? tr("Reading the dataset") : shown->what);
}

void MainWindow::updateTitle() {
    // The desktop convention: the document, then the application (the platform adds the
    // application's display name after the title). The model's folder tells two best.ckpt apart;
    // its whole path is in the status bar's tooltip.
    const auto model = m_workspace->model();
    const auto data = m_workspace->dataset();
    QString doc;
    if (model) {
        const QFileInfo f(QString::fromStdString(model->info().source.string()));
        doc = tr("%1 (%2)").arg(f.fileName(), f.dir().dirName());
        setWindowFilePath(f.absoluteFilePath());
    } else if (data) {
        doc = QDir(QString::fromStdString(data->root.string())).dirName();
        setWindowFilePath(QString::fromStdString(data->root.string()));
    } else {
        setWindowFilePath(QString());
    }
    setWindowTitle(doc);
}

void MainWindow::onDatasetChanged() {
    m_external.clear();
    const auto data = m_workspace->dataset();
    m_masks->clear();
    m_explorer->setDatasetClasses(data ? data->breedNames : std::vector<std::string>{},
                                  data ? QString::fromStdString(data->labelRule) : QString());
    if (m_loadReport) m_loadReport->setDataset(data.get());
    m_loadReportAction->setEnabled(data != nullptr);
    m_browser->setDataset(data.get(), m_workspace->split());
    clearImage();
    updateTitle();
    updateStartPage();
}

void MainWindow::onModelChanged() {
    const auto model = m_workspace->model();
    m_controller->setModel(model);
    // Nothing computed with the previous model stays on screen.
    m_datasetModel->clearResults();
    if (model) {
        const ModelInfo& info = model->info();
        m_explorer->setModelInfo(&info);
        m_device->setText(QString::fromStdString(info.device));
        const QString path = QString::fromStdString(info.source.string());
        // A user's own model says what it is; a ResNet's file name says enough.
        m_modelLabel->setText(info.torchScript
                                  ? tr("%1 · %2").arg(QFileInfo(path).fileName(),
                                                      QString::fromStdString(info.archLabel))
                                  : QFileInfo(path).fileName());
        m_modelLabel->setToolTip(info.torchScript ? QDir::toNativeSeparators(path) +
                                                        QLatin1Char('\n') + modelSummary(info)
                                                  : path);
    } else {
        m_explorer->setModelInfo(nullptr);
        m_modelLabel->clear();
        m_modelLabel->setToolTip({});
    }
    m_modelInputAction->setEnabled(model && model->info().torchScript);
    updateTitle();
    updateStartPage();
    updateStatus();
}

void MainWindow::onEvaluationChanged() {
    const auto ev = m_workspace->evaluation();
    const auto model = m_workspace->model();
    if (ev && model)
        m_datasetModel->setEvaluation(ev->records, Method::GradCam, model->info().lastBlockTap,
                                      model->info().classNames);
    else
        m_datasetModel->clearResults();
    m_browser->setEvaluationAvailable(ev != nullptr, m_datasetModel->hasCorrectness());
}

void MainWindow::onDatasetLoadFinished(const QString& dir, const QString& error) {
    updateBusy();
    finishStartupOpen();
    const DatasetChoice choice =
        m_datasetChoice.dir == dir ? m_datasetChoice : DatasetChoice{dir, DatasetFormat::Auto, {}};
    if (!error.isEmpty()) {
        // Core names what each format needs; the way to say which one it is lives in the dialog.
        QString message = error;
        if (choice.format == DatasetFormat::Auto && error != tr("cancelled"))
            message += QStringLiteral("\n\n") +
                       tr("To choose the format yourself (and, for wsolevaluation metadata, its "
                          "metadata folder), use File ▸ Open Dataset….");
        showError(tr("Cannot open the dataset"), message);
        return;
    }
    const auto data = m_workspace->dataset();
    addRecent("recent/datasets", dir);
    QSettings().setValue("paths/lastDataset", dir);
    choice.remember();
    // What was read, how much of it, and whether the report has anything to say.
    QStringList counts;
    for (SplitKind k : {SplitKind::Train, SplitKind::Val, SplitKind::Test})
        if (!data->split(k).samples.empty() || k != SplitKind::Val)
            counts << QStringLiteral("%1 %2")
                          .arg(data->split(k).samples.size())
                          .arg(splitDisplayName(k));
    QString text = tr("Read %1 from %2: %3 images, %4")
                       .arg(formatDisplayName(*data), dir, counts.join(QStringLiteral(", ")),
                            classCount(data->numClasses()));
    const std::size_t skipped = totalSkipped(*data), repaired = totalRepaired(*data);
    if (skipped || repaired)
        text +=
            tr("; %1 skipped, %2 repaired (File ▸ Dataset Load Report)").arg(skipped).arg(repaired);
    showStatus(text, 10000);
    // The first image's "open a model" hint or explanation must not wipe this at once.
    m_keepStatusUntil = std::chrono::steady_clock::now() + std::chrono::seconds(6);
    Q_EMIT datasetLoaded();
    m_browser->selectFirst();
}

QString MainWindow::modelSummary(const ModelInfo& info) const {
    QStringList lines;
    lines << tr("%1, %n class(es), %2 px input", nullptr, info.numClasses())
                 .arg(QString::fromStdString(info.archLabel.empty() ? archName(info.arch)
                                                                    : info.archLabel))
                 .arg(info.inputSize);
    if (info.torchScript) {
        lines << tr("%n layer(s) with a map", nullptr, static_cast<int>(info.taps.size()));
        if (info.fileMeta.empty())
            lines << tr("The file says nothing about its input (Model ▸ Model Input…)");
    }
    if (!info.camAvailable)
        lines << tr("CAM is not available: %1")
                     .arg(QString::fromStdString(info.camUnavailableReason));
    for (const auto& note : info.notes) lines << QString::fromStdString(note);
    return lines.join(QLatin1Char('\n'));
}

void MainWindow::onModelLoadFinished(const QString& file, const QString& error) {
    updateBusy();
    finishStartupOpen();
    m_startupModel.clear();
    if (!error.isEmpty()) {
        const ModelFileProbe probe = m_workspace->lastModelProbe();
        // A TorchScript model that says nothing about its input and fails at the size given:
        // ask again, with what went wrong.
        if (probe.torchScript && !probe.hasMetadata &&
            error.contains(QLatin1String("fails on a batch of two"))) {
            m_lastError = error;
            showStatus(error, 8000);
            Q_EMIT errorShown(error);
            askModelInput(file, rememberedModelInput(file).value_or(ScriptMeta{}), error, false,
                          false);
            return;
        }
        showError(tr("Cannot open the model"), error);
        return;
    }
    addRecent("recent/models", file);
    QSettings settings;
    settings.setValue("paths/lastModel", file);
    const auto model = m_workspace->model();
    const bool script = model && model->info().torchScript;
    settings.setValue("paths/lastModelTorchScript", script);
    if (script) {
        // What the model is, and what the user should know about it, once (the next
        // explanation leaves it in place for a while; the model label's tooltip keeps it).
        const ModelInfo& info = model->info();
        QStringList parts{
            tr("Opened %1: %2, %3 px input")
                .arg(QFileInfo(file).fileName(), QString::fromStdString(info.archLabel))
                .arg(info.inputSize)};
        if (!info.camAvailable)
            parts << tr("CAM is not available (%1)")
                         .arg(QString::fromStdString(info.camUnavailableReason));
        for (const auto& note : info.notes) parts << QString::fromStdString(note);
        showStatus(parts.join(QStringLiteral(". ")), 15000);
        m_keepStatusUntil = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    } else if (std::chrono::steady_clock::now() >= m_keepStatusUntil) {
        statusBar()->clearMessage();  // not a dataset's load summary that has just been shown
    }
    Q_EMIT modelLoaded();
    requestCurrent();
}

void MainWindow::clearImage() {
    m_row = -1;
    m_explorer->clear();
    m_prediction->clear();
    m_timing->clear();
}

void MainWindow::openExternalImage(const QString& path) {
    if (!QFileInfo(path).isFile()) {
        showError(tr("Cannot open the image"), tr("'%1' is not a file").arg(path));
        return;
    }
    // The grid's selection would claim another image is shown.
    m_browser->view()->selectionModel()->clear();
    m_external = path;
    m_row = -1;
    updateStartPage();
    showStatus(
        tr("%1 is not in the dataset: no ground truth, so no IoU").arg(QFileInfo(path).fileName()),
        8000);
    requestCurrent();
}

void MainWindow::onCurrentRow(int row) {
    m_row = row;
    m_external.clear();
    requestCurrent();
    // Prefetch the neighbours so that stepping through the split feels instant.
    if (m_workspace->model())
        for (int n : m_browser->neighbours(2))
            m_controller->prefetch(
                {QString::fromStdString(m_datasetModel->sample(n).imagePath.string()), -1,
                 m_explorer->scoreKind()});
}

void MainWindow::requestCurrent() {
    QString path;
    std::vector<Box> truth;
    int label = -1;
    QSize size;  // unknown for a dropped image until it is decoded
    if (!m_external.isEmpty()) {
        path = m_external;
    } else if (m_row >= 0 && m_row < m_datasetModel->rowCount()) {
        const Sample& s = m_datasetModel->sample(m_row);
        path = QString::fromStdString(s.imagePath.string());
        truth = s.boxes;
        label = s.label;
        size = QSize(s.width, s.height);
        // Masks are read off the GUI thread; the explorer shows them with this image.
        if (auto outlines = m_masks->request(s)) m_explorer->setTruthOutlines(path, outlines);
    }
    if (path.isEmpty()) return;
    if (!m_workspace->model()) {
        if (!m_startupNotice.isEmpty())
            showStatus(std::exchange(m_startupNotice, QString()), 20000);
        else if (std::chrono::steady_clock::now() >= m_keepStatusUntil)
            showStatus(tr("Open a model to see where it looks (File ▸ Open Model)"), 5000);
        return;
    }
    const int target = m_explorer->requestedTarget();  // -1: the prediction
    const ExplainKey key{path, target, m_explorer->scoreKind()};
    if (!m_controller->cached(key)) {
        QImage thumb = m_row >= 0 && m_external.isEmpty()
                           ? m_datasetModel->thumbnails()->thumbnail(m_row, path)
                           : QImage();
        // The IoU needs boxes: an image without them (an image folder's) says it has no
        // ground truth.
        m_explorer->showPending(thumb, truth, m_external.isEmpty() && label >= 0 && !truth.empty(),
                                label, path, size);
    }
    m_controller->request(key);
}

void MainWindow::onReady(std::shared_ptr<const ExplainResult> r) {
    std::vector<Box> truth;
    int label = -1;
    bool known = false;
    if (!m_external.isEmpty()) {
        if (r->key.path != m_external) return;  // an image the user has left
    } else if (m_row >= 0 && m_row < m_datasetModel->rowCount()) {
        const Sample& s = m_datasetModel->sample(m_row);
        if (QString::fromStdString(s.imagePath.string()) != r->key.path) return;
        truth = s.boxes;
        label = s.label;
        known = s.hasBoxes();
    } else {
        return;  // nothing is selected any more
    }
    m_explorer->showResult(r, truth, known, label);
    if (std::chrono::steady_clock::now() >= m_keepStatusUntil) statusBar()->clearMessage();
    m_timing->setText(tr("last pass %1 ms").arg(r->seconds * 1000.0, 0, 'f', 0));
    updateStatus();
    Q_EMIT explanationShown();
}

void MainWindow::updateStatus() {
    auto r = m_explorer->result();
    const auto model = m_workspace->model();
    if (!r || !model || r->explanation.top.empty()) {
        m_prediction->clear();
        return;
    }
    const auto& info = model->info();
    const ClassScore& top = r->explanation.top[0];
    QString text =
        tr("Prediction: %1 (%2%)")
            .arg(QString::fromStdString(info.classNames[static_cast<std::size_t>(top.classIndex)]))
            .arg(100.0 * top.probability, 0, 'f', 1);
    if (m_external.isEmpty() && m_row >= 0) {
        const Sample& sample = m_datasetModel->sample(m_row);
        const int label = sample.label;
        const auto& names = m_datasetModel->breedNames();
        const QString truth = label >= 0 && label < static_cast<int>(names.size())
                                  ? QString::fromStdString(names[static_cast<std::size_t>(label)])
                                  : QString();
        const int modelClass = m_explorer->modelClass(label);
        if (!truth.isEmpty() && modelClass < 0)
            text += tr("  (truth: %1, not among the model's classes)").arg(truth);
        else if (!truth.isEmpty())
            text += top.classIndex == modelClass ? tr("  ✔ correct")
                                                 : tr("  ✘ wrong (truth: %1)").arg(truth);
        if (!sample.hasBoxes())
            text += sample.hasMasks() ? tr("   (masks only: no box IoU)")
                                      : tr("   (no ground truth: no IoU)");
        else
            for (int i = 0; i < m_explorer->panelCount(); ++i) {
                const HeatmapPanel* p = m_explorer->panel(i);
                if (p->method() == Method::Cam && !info.camAvailable) continue;
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
    if (fig.isNull()) {
        showError(tr("Nothing to copy yet"),
                  tr("Open a dataset and a model, and pick an image: the figure shows its maps."));
        return;
    }
    QApplication::clipboard()->setImage(fig);
    statusBar()->showMessage(tr("Figure copied to the clipboard"), 3000);
}

void MainWindow::saveFigure() {
    const QSizeF natural = naturalSize(m_explorer->figure());
    if (natural.isEmpty()) {
        showError(tr("Nothing to save yet"),
                  tr("Open a dataset and a model, and pick an image: the figure shows its maps."));
        return;
    }
    QSettings settings;
    // In the folder used last, named after what it shows.
    const QString folder = QFileInfo(settings.value("paths/lastFigure").toString()).absolutePath();
    const QString suggested =
        QDir(settings.contains("paths/lastFigure") ? folder : QDir::homePath())
            .filePath(defaultFigureName() + QStringLiteral(".png"));
    const QString f = QFileDialog::getSaveFileName(
        this, tr("Save figure"), suggested,
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

QString MainWindow::defaultFigureName() const {
    // "n02085620_7-cam-gradcam-layer4": the image, the methods and the layer.
    const auto r = m_explorer->result();
    const auto model = m_workspace->model();
    QString name = r ? QFileInfo(r->key.path).completeBaseName() : QStringLiteral("figure");
    for (int i = 0; i < m_explorer->panelCount(); ++i) {
        if (m_explorer->panel(i)->method() == Method::Cam && model && !model->info().camAvailable)
            continue;
        QString method = QString::fromStdString(methodName(m_explorer->panel(i)->method()));
        method.remove(QLatin1Char('-')).remove(QLatin1Char(' '));
        name += QLatin1Char('-') + method.toLower();
    }
    const int tap = m_explorer->currentTap();
    if (model && tap >= 0 && tap < static_cast<int>(model->info().taps.size()))
        name += QLatin1Char('-') +
                QString::fromStdString(model->info().taps[static_cast<std::size_t>(tap)].name);
    name.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9_.+-]")), QStringLiteral("_"));
    return name;
}

void MainWindow::exportGrid() {
    if (!m_workspace->dataset() || !m_workspace->model()) {
        showError(tr("Cannot export a grid"), tr("Open a dataset and a model first"));
        return;
    }
    GridExportDialog dialog(m_workspace->evaluation() != nullptr,
                            static_cast<int>(m_browser->selectedSourceRows().size()), this);
    const ModelInfo& info = m_workspace->model()->info();
    if (!info.camAvailable)
        dialog.setCamUnavailable(tr("CAM is not available for this model: %1")
                                     .arg(QString::fromStdString(info.camUnavailableReason)));
    if (dialog.exec() != QDialog::Accepted) return;
    QString error;
    if (!startGridExport(dialog.request(), &error)) showError(tr("Cannot export a grid"), error);
}

bool MainWindow::startGridExport(const GridExportRequest& req, QString* error) {
    auto fail = [&](const QString& why) {
        if (error) *error = why;
        return false;
    };
    const auto dataset = m_workspace->dataset();
    const auto model = m_workspace->model();
    if (!dataset || !model) return fail(tr("Open a dataset and a model first"));
    if (m_gridJob.isRunning()) return fail(tr("A grid export is already running"));
    if (figureFormatFor(req.file) == FigureFormat::Unknown)
        return fail(tr("'%1' must end in .png, .jpg, .svg or .pdf").arg(req.file));
    const ModelInfo& info = model->info();
    const SplitData& split = dataset->split(m_workspace->split());
    std::vector<int> rows;
    QString title;
    using Source = GridExportRequest::Source;
    FigureRequest fr;
    fr.style = m_explorer->sceneStyle();  // the colour map, blend, τ and box rule on screen
    fr.score = m_explorer->scoreKind();
    if (req.source == Source::WorstIou || req.source == Source::BestIou) {
        const auto ev = m_workspace->evaluation();
        if (!ev) return fail(tr("Ranking by IoU needs an evaluation: run one in the dashboard"));
        const bool worst = req.source == Source::WorstIou;
        for (std::size_t index :
             rankByIou(ev->records, req.rankBy, m_explorer->currentTap(), info.lastBlockTap,
                       static_cast<std::size_t>(req.count), worst))
            rows.push_back(static_cast<int>(index));
        if (rows.empty())
            return fail(tr("The evaluation has no %1 scores at this layer")
                            .arg(QString::fromStdString(methodName(req.rankBy))));
        // The captions show the numbers the ranking used: the evaluation's τ, box rule and score,
        // whatever the sliders say now.
        fr.style.tau = ev->options.tau;
        fr.style.mode = ev->options.mode;
        fr.score = ev->options.score;
        title = tr("The %1 %2 images by %3 IoU at τ %4")
                    .arg(rows.size())
                    .arg(worst ? tr("worst") : tr("best"))
                    .arg(QString::fromStdString(methodName(req.rankBy)))
                    .arg(ev->options.tau, 0, 'f', 2);
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
    fr.methods.clear();
    for (int i = 0; i < m_explorer->panelCount(); ++i)
        fr.methods.push_back(m_explorer->panel(i)->method());
    fr.tap = m_explorer->currentTap();
    // Score-CAM is too slow for a batch: the other panels only. CAM only where the model has it.
    fr.methods.erase(std::remove(fr.methods.begin(), fr.methods.end(), Method::ScoreCam),
                     fr.methods.end());
    if (!info.camAvailable) {
        if (req.rankBy == Method::Cam &&
            (req.source == Source::WorstIou || req.source == Source::BestIou))
            return fail(tr("CAM is not available for this model: %1")
                            .arg(QString::fromStdString(info.camUnavailableReason)));
        fr.methods.erase(std::remove(fr.methods.begin(), fr.methods.end(), Method::Cam),
                         fr.methods.end());
    }
    if (fr.methods.empty()) return fail(tr("The panels show no method that a grid can use"));

    auto* progress = new QProgressDialog(tr("Explaining %1 images…").arg(samples.size()),
                                         tr("Cancel"), 0, static_cast<int>(samples.size()), this);
    progress->setWindowModality(Qt::WindowModal);
    progress->setMinimumDuration(300);
    progress->setAttribute(Qt::WA_DeleteOnClose);
    // The job owns its token, inputs and outcome; progress reaches the dialog through the
    // watcher, so nothing of the window is touched from the worker.
    auto cancel = std::make_shared<CancelToken>();
    m_gridCancel = cancel;
    connect(progress, &QProgressDialog::canceled, this, [cancel] { cancel->cancel(); });
    auto outcome = std::make_shared<QString>();
    disconnect(&m_gridJob, nullptr, this, nullptr);
    connect(&m_gridJob, &QFutureWatcher<void>::progressValueChanged, progress,
            &QProgressDialog::setValue);
    connect(&m_gridJob, &QFutureWatcher<void>::finished, this, [this, progress, req, outcome] {
        progress->close();
        updateBusy();
        if (outcome->isEmpty()) showStatus(tr("Saved %1").arg(req.file), 5000);
        Q_EMIT gridExported(req.file, *outcome);
    });
    m_gridJob.setFuture(
        QtConcurrent::run(backgroundPool(), [model, samples, classes = dataset->breedNames, fr, req,
                                             title, cancel, outcome](QPromise<void>& promise) {
            lowerCurrentThreadPriority();
            promise.setProgressRange(0, static_cast<int>(samples.size()));
            JobContext job;
            job.cancel = cancel.get();
            job.progress = [&promise](const Progress& p) {
                promise.setProgressValue(static_cast<int>(p.done));
            };
            try {
                GridFigure grid;
                grid.title = title;
                grid.columns = req.columns;
                grid.rows =
                    buildComparisons(*model, samples, classes, fr, ExplainTarget::Predicted, job);
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
        openDataset(DatasetChoice{
            path, DatasetFormat::Auto, {}});  // detected: File ▸ Open Dataset… names a format
    else if (hasModelSuffix(path))
        openModel(path);
    else if (kImageSuffixes.contains(info.suffix().toLower()))
        openExternalImage(path);
    else
        showError(
            tr("Cannot open the dropped file"),
            tr("'%1' is not a dataset folder, a model (.ckpt, .pth, .pt, .h5, .keras) or an image")
                .arg(info.fileName()));
    e->acceptProposedAction();
}

}  // namespace camx::ui
