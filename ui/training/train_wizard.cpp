#include "training/train_wizard.h"

#include <QCheckBox>
#include <QCloseEvent>
#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QScreen>
#include <QSettings>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTextDocument>
#include <QVBoxLayout>
#include <QtConcurrent>
#include <cmath>
#include <mutex>
#include <optional>
#include <thread>
#include <variant>

#include "background_job.h"
#include "charts/training_charts.h"
#include "common/cpu_features.h"
#include "common/thread_priority.h"
#include "nn/checkpoint.h"
#include "nn/runtime.h"
#include "nn/weights_catalog.h"
#include "train/local_parallel.h"
#include "train/trainer.h"
#include "training/weights_download.h"
#include "workspace.h"

namespace camx::ui {

// One dataset read: the worker and the wizard share it, so a read the wizard has given up on (a
// newer one, or the wizard is gone) can finish alone.
struct TrainWizard::DatasetLoad {
    QString path;
    std::shared_ptr<CancelToken> cancel = std::make_shared<CancelToken>();
};

// One training run, shared by the worker and the wizard. The worker queues what it reports and
// rings `notify` (once per batch of events); the wizard drains the queue on the GUI thread.
struct TrainWizard::TrainRun {
    struct History {
        int epoch = 0;  // epochs in the checkpoint resumed from
        std::vector<EpochRecord> records;
        Precision precision = Precision::Fp32;  // what the checkpoint's run trains in
    };
    using Event = std::variant<StepMetrics, EpochRecord, QString, History>;

    CancelToken cancel;
    QPointer<TrainWizard> wizard;  // read on the GUI thread only
    QString outDir;
    bool resume = false;

    std::mutex mutex;
    std::vector<Event> events;  // under mutex
    bool rung = false;          // under mutex: a drain is queued

    // Written by the worker before it returns; read once the future has finished.
    QString error;
    bool cancelled = false;

    // GUI thread only.
    int lastEpoch = 0;  // the newest epoch on disk for this run (resumed or finished here)

    void push(const std::shared_ptr<TrainRun>& self, Event e) {
        bool ring = false;
        {
            std::lock_guard<std::mutex> lock(mutex);
            events.push_back(std::move(e));
            ring = !std::exchange(rung, true);
        }
        if (!ring) return;
        // Queued to the application object, which outlives every widget; the call checks on the
        // GUI thread that the wizard still exists.
        if (auto* app = QCoreApplication::instance())
            QMetaObject::invokeMethod(
                app,
                [weak = std::weak_ptr<TrainRun>(self)] {
                    if (auto run = weak.lock())
                        if (run->wizard) run->wizard->drainTrainEvents();
                },
                Qt::QueuedConnection);
    }
    std::vector<Event> take() {
        std::lock_guard<std::mutex> lock(mutex);
        rung = false;
        return std::exchange(events, {});
    }
};

namespace {
// A page whose "Next" follows a condition.
class Page : public QWizardPage {
public:
    std::function<bool()> complete;
    bool isComplete() const override { return complete ? complete() : true; }
    void changed() { Q_EMIT completeChanged(); }
};

QDoubleSpinBox* dspin(double lo, double hi, int decimals, double step) {
    auto* s = new QDoubleSpinBox;
    s->setRange(lo, hi);
    s->setDecimals(decimals);
    s->setSingleStep(step);
    return s;
}

QSpinBox* ispin(int lo, int hi) {
    auto* s = new QSpinBox;
    s->setRange(lo, hi);
    return s;
}

QString formatSeconds(double s) {
    const int t = static_cast<int>(std::lround(s));
    return t >= 3600 ? QStringLiteral("%1:%2:%3")
                           .arg(t / 3600)
                           .arg(t / 60 % 60, 2, 10, QLatin1Char('0'))
                           .arg(t % 60, 2, 10, QLatin1Char('0'))
                     : QStringLiteral("%1:%2").arg(t / 60).arg(t % 60, 2, 10, QLatin1Char('0'));
}

QString normalPath(const QString& dir) {
    return dir.isEmpty() ? QString() : QDir::cleanPath(QFileInfo(dir).absoluteFilePath());
}

bool samePath(const QString& a, const QString& b) {
    if (a.isEmpty() || b.isEmpty()) return false;
    const QString ca = QFileInfo(a).canonicalFilePath(), cb = QFileInfo(b).canonicalFilePath();
    return !ca.isEmpty() ? ca == cb : normalPath(a) == normalPath(b);
}

// What the output folder holds, read off the GUI thread.
struct Inspection {
    bool hasCheckpoint = false;
    bool readable = false;
    int epoch = 0;
    double bestValTop1 = 0;
    Precision precision = Precision::Fp32;  // what the run trains in
    QString error;
};

// The lines that open a run's log: what will run, where and how precisely. For a resumed run
// `cfg` is the checkpoint's configuration (which the trainer uses).
QStringList describeRun(const TrainConfig& cfg, bool resume) {
    const RuntimeInfo rt = runtimeInfo();
    const bool gpu = rt.cudaAvailable && !cfg.forceCpu;
    const QString device = gpu ? QString::fromStdString(deviceDescription())
                               : QCoreApplication::translate("TrainWizard", "cpu (%1, %2 threads)")
                                     .arg(QString::fromStdString(cpuBrand()))
                                     .arg(rt.cpuThreads);
    // The trainer's own rule and words (a resumed run's configuration holds what it resolved to).
    const PrecisionChoice choice = trainingPrecision(cfg);
    const QString precision =
        QString::fromStdString(choice.describe(choice.channelsLast(cfg.channelsLast)));
    const auto tr = [](const char* s) { return QCoreApplication::translate("TrainWizard", s); };
    QStringList lines;
    lines << tr("Model: %1, base width %2, input size %3 px, %4, %5")
                 .arg(QString::fromStdString(archName(cfg.arch)))
                 .arg(cfg.baseWidth)
                 .arg(cfg.inputSize)
                 .arg(cfg.weightsFile.empty()
                          ? tr("from scratch")
                          : tr("from %1").arg(QString::fromStdString(cfg.weightsFile)))
                 .arg(cfg.freezeBackbone ? tr("frozen backbone") : tr("every layer trained"));
    lines << tr("Device: %1; precision: %2").arg(device, precision);
    lines << tr("Schedule: %1 epochs of batch %2, %3 at learning rate %4, %5%6")
                 .arg(cfg.epochs)
                 .arg(cfg.batchSize)
                 .arg(cfg.optimizer == TrainConfig::Optimizer::Sgd ? tr("SGD") : tr("AdamW"))
                 .arg(cfg.learningRate)
                 .arg(cfg.schedule == TrainConfig::Schedule::Constant ? tr("constant rate")
                      : cfg.schedule == TrainConfig::Schedule::Step   ? tr("step schedule")
                                                                      : tr("cosine schedule"))
                 .arg(cfg.warmupEpochs > 0 ? tr(", %1 warm-up epochs").arg(cfg.warmupEpochs)
                                           : QString());
    if (resume)
        lines << tr(
            "Resuming: the checkpoint's settings above apply; the epoch count is this "
            "page's.");
    return lines;
}
}  // namespace

void TrainWizard::setDatasetReader(DatasetReader reader) {
    m_reader = std::move(reader);
}

TrainWizard::TrainWizard(QWidget* parent) : QWizard(parent) {
    setWindowTitle(tr("Train a Model"));
    setWizardStyle(QWizard::ClassicStyle);
    setOption(QWizard::NoCancelButtonOnLastPage, false);
    setOption(QWizard::HaveHelpButton, false);
    setPage(DatasetPageId, makeDatasetPage());
    setPage(ModelPageId, makeModelPage());
    setPage(HyperPageId, makeHyperPage());
    setPage(OutputPageId, makeOutputPage());
    setPage(RunPageId, makeRunPage());
    applyConfig(TrainConfig{});
    QSettings s;
    const QString data = s.value("train/dataset").toString();
    if (!data.isEmpty()) m_dataPath->setText(data);
    setOutputDir(
        s.value("train/output", QDir::home().filePath("cam-explorer-runs/run1")).toString());
    m_processes->setValue(s.value("train/processes", 1).toInt());
    connect(&m_trainJob, &QFutureWatcher<void>::finished, this, &TrainWizard::onTrainingDone);
    connect(this, &QWizard::currentIdChanged, this, &TrainWizard::updateDefaultButton);
    fitToScreen();
}

TrainWizard::~TrainWizard() {
    // Never waits: each job owns its inputs, its token and its results (see the header), so it
    // finishes alone; a dataset read stops at the next file, training at the next step.
    if (m_datasetLoad) m_datasetLoad->cancel->cancel();
    if (m_run) m_run->cancel.cancel();
}

QSize TrainWizard::initialSize(const QSize& available) {
    // Room for the title bar and the frame, which are not known before the window is shown.
    const QSize frame(24, 56);
    return QSize(1000, 720).boundedTo(available - frame);
}

void TrainWizard::fitToScreen() {
    QScreen* screen = parentWidget() ? parentWidget()->screen() : this->screen();
    if (!screen) screen = QGuiApplication::primaryScreen();
    const QSize size = screen ? initialSize(screen->availableGeometry().size()) : QSize(1000, 720);
    resize(size.expandedTo(minimumSizeHint()));
}

void TrainWizard::showEvent(QShowEvent* e) {
    QWizard::showEvent(e);
    if (e->spontaneous()) return;
    // Reopened: a message about an earlier download is no longer news.
    if (!m_downloader->isRunning()) setDownloadStatus({});
}

// ---------------------------------------------------------------------------------------------
// Dataset page

QWizardPage* TrainWizard::makeDatasetPage() {
    auto* p = new Page;
    p->setTitle(tr("Dataset"));
    p->setSubTitle(
        tr("A dataset folder in a format found by itself: Stanford Dogs, CUB-200-2011, PASCAL "
           "VOC, ImageNet validation or an image folder. A dataset open in the explorer (any "
           "format, wsolevaluation metadata included) is used as it is."));
    m_dataPath = new QLineEdit;
    m_dataPath->setObjectName(QStringLiteral("datasetPath"));
    auto* browse = new QPushButton(tr("&Browse…"));
    m_dataReport = new QLabel(tr("No dataset yet."));
    m_dataReport->setObjectName(QStringLiteral("datasetReport"));
    m_dataReport->setWordWrap(true);
    m_dataReport->setTextFormat(Qt::RichText);
    auto* row = new QHBoxLayout;
    row->addWidget(m_dataPath, 1);
    row->addWidget(browse);
    auto* l = new QVBoxLayout(p);
    l->addLayout(row);
    l->addWidget(m_dataReport);
    l->addStretch(1);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString d =
            QFileDialog::getExistingDirectory(this, tr("Dataset folder"), m_dataPath->text());
        if (!d.isEmpty()) setDatasetPath(d);
    });
    connect(m_dataPath, &QLineEdit::editingFinished, this, [this] {
        const QString text = m_dataPath->text().trimmed();
        if (!text.isEmpty() && text != m_requestedPath) setDatasetPath(text);
    });
    p->complete = [this] { return m_dataset && !m_datasetLoad; };
    return p;
}

void TrainWizard::setWorkspace(Workspace* workspace) {
    if (m_workspace == workspace) return;
    if (m_workspace) m_workspace->disconnect(this);
    m_workspace = workspace;
    m_followWorkspace = workspace != nullptr;
    if (!workspace) return;
    connect(workspace, &Workspace::datasetChanged, this, [this] {
        if (m_followWorkspace) adoptWorkspaceDataset();
    });
    connect(workspace, &Workspace::datasetLoadFinished, this,
            [this](const QString& dir, const QString& error) {
                if (m_followWorkspace && !error.isEmpty() && !m_dataset)
                    showDataset(nullptr, tr("The explorer could not open %1: %2").arg(dir, error));
            });
    if (workspace->dataset() || workspace->isLoadingDataset()) adoptWorkspaceDataset();
}

void TrainWizard::adoptWorkspaceDataset() {
    if (!m_workspace || isTraining()) {
        // A run holds the dataset it started with; the page catches up when it ends.
        return;
    }
    if (m_datasetLoad) {
        m_datasetLoad->cancel->cancel();
        m_datasetLoad.reset();
    }
    m_followWorkspace = true;
    std::shared_ptr<const Dataset> d = m_workspace->dataset();
    if (!d) {
        m_dataset.reset();
        const QString loading = m_workspace->loadingDatasetPath();
        m_dataReport->setText(
            loading.isEmpty()
                ? tr("No dataset yet.")
                : tr("Waiting for the explorer to open %1…").arg(loading.toHtmlEscaped()));
        static_cast<Page*>(page(DatasetPageId))->changed();
        return;
    }
    const QString root = QString::fromStdString(d->root.string());
    m_requestedPath = root;
    m_dataPath->setText(root);
    showDataset(std::move(d), {});
}

void TrainWizard::setDatasetPath(const QString& dir) {
    if (isTraining()) return;
    // The explorer's own dataset is not read a second time.
    if (m_workspace && m_workspace->dataset() &&
        samePath(dir, QString::fromStdString(m_workspace->dataset()->root.string()))) {
        adoptWorkspaceDataset();
        return;
    }
    m_followWorkspace = false;
    if (m_datasetLoad) m_datasetLoad->cancel->cancel();  // the newer request wins
    auto load = std::make_shared<DatasetLoad>();
    load->path = dir;
    m_datasetLoad = load;
    m_requestedPath = dir;
    m_dataPath->setText(dir);
    m_dataset.reset();
    m_dataReport->setText(tr("Reading %1…").arg(dir.toHtmlEscaped()));
    static_cast<Page*>(page(DatasetPageId))->changed();
    // The watcher belongs to the wizard; deleting it never waits for the job.
    auto* watcher = new QFutureWatcher<DatasetReadOutcome>(this);
    connect(watcher, &QFutureWatcherBase::progressValueChanged, this, [this, load, watcher](int v) {
        if (m_datasetLoad != load || watcher->progressMaximum() <= 0) return;
        m_dataReport->setText(tr("Reading %1… %2 of %3 (%4)")
                                  .arg(load->path.toHtmlEscaped())
                                  .arg(v)
                                  .arg(watcher->progressMaximum())
                                  .arg(watcher->progressText().toHtmlEscaped()));
    });
    connect(watcher, &QFutureWatcherBase::finished, this, [this, load, watcher] {
        watcher->deleteLater();
        if (m_datasetLoad != load) return;  // superseded, or the workspace's was adopted
        m_datasetLoad.reset();
        const DatasetReadOutcome out =
            watcher->future().resultCount() ? watcher->result() : DatasetReadOutcome{};
        if (out.dataset) QSettings().setValue("train/dataset", load->path);
        showDataset(out.dataset, out.dataset ? QString() : out.error);
    });
    // The workspace's reader, so that a dataset format the explorer opens trains too.
    DatasetReader reader = m_reader      ? m_reader
                           : m_workspace ? m_workspace->datasetReader()
                                         : standardDatasetReader();
    watcher->setFuture(
        readDatasetInBackground(load->path.toStdString(), {}, std::move(reader), load->cancel));
}

void TrainWizard::showDataset(std::shared_ptr<const Dataset> dataset, const QString& error) {
    m_dataset = std::move(dataset);
    if (m_dataset) {
        const auto& d = *m_dataset;
        QString text = tr("<b>%1 classes</b>: %2 training and %3 test images.")
                           .arg(d.numClasses())
                           .arg(d.train.samples.size())
                           .arg(d.test.samples.size());
        if (followsWorkspace()) text += tr(" (the dataset open in the explorer)");
        std::size_t shown = 0;
        for (const auto* r : {&d.train.report, &d.test.report}) {
            if (r->issues.empty()) continue;
            text += tr("<br>%1 listed, %2 loaded, %3 skipped, %4 repaired.")
                        .arg(r->listed)
                        .arg(r->loaded)
                        .arg(r->skipped())
                        .arg(r->repaired());
            for (const auto& i : r->issues) {
                if (++shown > 6) break;
                text += QStringLiteral("<br>&nbsp;&nbsp;%1: %2")
                            .arg(QString::fromStdString(i.file).toHtmlEscaped(),
                                 QString::fromStdString(i.message).toHtmlEscaped());
            }
        }
        m_dataReport->setText(text);
    } else {
        m_dataReport->setText(
            tr("<span style='color:#b00020'>%1</span>").arg(error.toHtmlEscaped()));
    }
    static_cast<Page*>(page(DatasetPageId))->changed();
    Q_EMIT datasetLoaded();
}

// ---------------------------------------------------------------------------------------------
// Model page

QWizardPage* TrainWizard::makeModelPage() {
    auto* p = new Page;
    p->setTitle(tr("Model"));
    p->setSubTitle(
        tr("A ResNet with global average pooling and one dense softmax layer, as in "
           "the CAM paper."));
    m_arch = new QComboBox;
    m_arch->setObjectName(QStringLiteral("archCombo"));
    for (Arch a : {Arch::ResNet18, Arch::ResNet34, Arch::ResNet50, Arch::ResNet101})
        m_arch->addItem(QString::fromStdString(archName(a)), static_cast<int>(a));
    m_init = new QComboBox;
    m_init->setObjectName(QStringLiteral("initCombo"));
    m_init->addItem(tr("Random initialisation (from scratch)"), 0);
    m_init->addItem(tr("ImageNet weights (torchvision .pth file)"), 1);
    m_weights = new QLineEdit;
    m_weights->setObjectName(QStringLiteral("weightsPath"));
    m_weights->setPlaceholderText(
        tr("a torchvision .pth file: Browse, or Download the published one"));
    m_weightsHint = new QLabel;
    m_weightsHint->setObjectName(QStringLiteral("weightsHint"));
    m_weightsHint->setWordWrap(true);
    m_weightsHint->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    m_weightsHint->setStyleSheet(QStringLiteral("color: #b00020"));
    auto* browse = new QPushButton(tr("B&rowse…"));
    m_download = new QPushButton(tr("Do&wnload"));
    m_download->setObjectName(QStringLiteral("downloadButton"));
    m_downloadProgress = new QProgressBar;
    m_downloadStatus = new QLabel;
    m_downloadStatus->setObjectName(QStringLiteral("downloadStatus"));
    m_downloadStatus->setWordWrap(true);
    m_downloadStatus->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    m_downloader = new WeightsDownloader(this);
    m_inputSize = ispin(32, 1024);
    m_inputSize->setSingleStep(16);
    m_inputSize->setSuffix(tr(" px"));
    m_mode = new QComboBox;
    m_mode->addItem(tr("Fine-tune every layer"), 0);
    m_mode->addItem(tr("Frozen backbone: train the classifier only (fast on a CPU)"), 1);
    m_width = ispin(4, 64);
    m_width->setToolTip(tr("64 is the real network; smaller widths train faster for experiments"));
    auto* wrow = new QHBoxLayout;
    wrow->addWidget(m_weights, 1);
    wrow->addWidget(browse);
    wrow->addWidget(m_download);
    auto* f = new QFormLayout(p);
    f->addRow(tr("&Architecture"), m_arch);
    f->addRow(tr("&Start from"), m_init);
    auto* weightsLabel = new QLabel(tr("&Weights file"));
    weightsLabel->setBuddy(m_weights);
    f->addRow(weightsLabel, wrow);
    f->addRow(QString(), m_weightsHint);
    f->addRow(QString(), m_downloadProgress);
    f->addRow(QString(), m_downloadStatus);
    f->addRow(tr("&Input size"), m_inputSize);
    f->addRow(tr("&Training"), m_mode);
    f->addRow(tr("Base &width"), m_width);
    f->setRowVisible(m_downloadProgress, false);
    f->setRowVisible(m_downloadStatus, false);
    auto sync = [this, p] {
        const bool imagenet = m_init->currentData().toInt() == 1;
        m_weights->setEnabled(imagenet);
        m_download->setEnabled(imagenet && !m_downloader->isRunning());
        updateModelHints();
        p->changed();
    };
    // The cached file of the chosen depth, when there is one.
    auto fillCached = [this] {
        if (m_init->currentData().toInt() != 1) return;
        const auto known = knownImageNetWeights(static_cast<Arch>(m_arch->currentData().toInt()));
        if (!known) return;
        const QString cached = QDir(weightsDir()).filePath(QString::fromStdString(known->fileName));
        const QString now = m_weights->text();
        if (QFileInfo(cached).isFile() && (now.isEmpty() || now.startsWith(weightsDir())))
            m_weights->setText(cached);
        else if (now.startsWith(weightsDir()) && !QFileInfo(now).isFile())
            m_weights->clear();
    };
    // Another choice of weights: what was said about the previous download is stale.
    auto clearStatus = [this] {
        if (!m_downloader->isRunning()) setDownloadStatus({});
    };
    connect(m_init, &QComboBox::currentIndexChanged, this, clearStatus);
    connect(m_arch, &QComboBox::currentIndexChanged, this, clearStatus);
    connect(m_init, &QComboBox::currentIndexChanged, this, sync);
    connect(m_init, &QComboBox::currentIndexChanged, this, fillCached);
    connect(m_arch, &QComboBox::currentIndexChanged, this, fillCached);
    connect(m_download, &QPushButton::clicked, this, [this, f] {
        if (m_downloader->isRunning()) {
            m_downloader->cancel();
            return;
        }
        const Arch arch = static_cast<Arch>(m_arch->currentData().toInt());
        const auto known = knownImageNetWeights(arch);
        if (!known) {
            setDownloadStatus(tr("No published ImageNet weights are known for %1.")
                                  .arg(QString::fromStdString(archName(arch))));
            return;
        }
        const QString name = QString::fromStdString(known->fileName);
        const QUrl url = m_weightsBase.isValid() ? m_weightsBase.resolved(QUrl(name))
                                                 : QUrl(QString::fromStdString(known->url));
        m_downloadProgress->setRange(0, 0);
        f->setRowVisible(m_downloadProgress, true);
        setDownloadStatus(tr("Downloading %1…").arg(url.toString()));
        m_download->setText(tr("Cancel &download"));
        m_downloader->start(url, QDir(weightsDir()).filePath(name),
                            QString::fromStdString(known->hashPrefix()));
    });
    connect(m_downloader, &WeightsDownloader::progress, this, [this](qint64 got, qint64 total) {
        if (total > 0) {
            m_downloadProgress->setRange(0, 1000);
            m_downloadProgress->setValue(static_cast<int>(1000 * got / total));
        }
    });
    connect(m_downloader, &WeightsDownloader::finished, this,
            [this, sync, f](const QString& file, const QString& error) {
                f->setRowVisible(m_downloadProgress, false);
                f->setRowVisible(m_downloadStatus, false);
                m_download->setText(tr("Do&wnload"));
                if (error.isEmpty()) {
                    m_weights->setText(file);
                    setDownloadStatus(tr("Saved %1").arg(file));
                } else {
                    setDownloadStatus(error);
                }
                sync();
                Q_EMIT weightsDownloaded(error);
            });
    connect(m_weights, &QLineEdit::textChanged, this, sync);
    connect(m_weights, &QLineEdit::textEdited, this, clearStatus);
    connect(browse, &QPushButton::clicked, this, [this, clearStatus] {
        const QString f = QFileDialog::getOpenFileName(
            this, tr("ImageNet weights"), m_weights->text(), tr("PyTorch weights (*.pth *.pt)"));
        if (!f.isEmpty()) {
            clearStatus();
            m_weights->setText(f);
            m_init->setCurrentIndex(1);
        }
    });
    p->complete = [this] {
        return m_init->currentData().toInt() == 0 || QFileInfo(m_weights->text()).isFile();
    };
    return p;
}

// The line under the weights field about the last download; its row is hidden when empty.
void TrainWizard::setDownloadStatus(const QString& text) {
    m_downloadStatus->setText(text);
    if (auto* f =
            qobject_cast<QFormLayout*>(page(ModelPageId) ? page(ModelPageId)->layout() : nullptr))
        f->setRowVisible(m_downloadStatus, !text.isEmpty());
}

// Says, next to the field, why Next is disabled on the model page.
void TrainWizard::updateModelHints() {
    QString hint;
    if (m_init->currentData().toInt() == 1) {
        const QString file = m_weights->text().trimmed();
        if (file.isEmpty())
            hint = tr("Next needs a weights file: Browse or Download one, or start from scratch.");
        else if (!QFileInfo(file).isFile())
            hint = tr("Next needs a weights file: there is no file at %1.").arg(file);
    }
    m_weightsHint->setText(hint);
    if (auto* f =
            qobject_cast<QFormLayout*>(page(ModelPageId) ? page(ModelPageId)->layout() : nullptr))
        f->setRowVisible(m_weightsHint, !hint.isEmpty());
}

QString TrainWizard::weightsDir() const {
    return m_weightsDir.isEmpty() ? QString::fromStdString(weightsCacheDir().string())
                                  : m_weightsDir;
}

void TrainWizard::setWeightsSource(const QUrl& baseUrl, const QString& cacheDir) {
    m_weightsBase = baseUrl;
    m_weightsDir = cacheDir;
}

// ---------------------------------------------------------------------------------------------
// Hyperparameter page

QWizardPage* TrainWizard::makeHyperPage() {
    auto* p = new Page;
    p->setTitle(tr("Hyperparameters"));
    m_epochs = ispin(1, 1000);
    m_epochs->setObjectName(QStringLiteral("epochsSpin"));
    m_batch = ispin(1, 1024);
    m_optimizer = new QComboBox;
    m_optimizer->addItem(tr("SGD"), static_cast<int>(TrainConfig::Optimizer::Sgd));
    m_optimizer->addItem(tr("AdamW"), static_cast<int>(TrainConfig::Optimizer::AdamW));
    m_lr = dspin(1e-6, 10, 6, 0.001);
    m_momentum = dspin(0, 0.999, 3, 0.05);
    m_decay = dspin(0, 1, 5, 1e-4);
    m_schedule = new QComboBox;
    m_schedule->addItem(tr("Constant"), static_cast<int>(TrainConfig::Schedule::Constant));
    m_schedule->addItem(tr("Step"), static_cast<int>(TrainConfig::Schedule::Step));
    m_schedule->addItem(tr("Cosine"), static_cast<int>(TrainConfig::Schedule::Cosine));
    m_warmup = dspin(0, 100, 1, 0.5);
    m_warmup->setObjectName(QStringLiteral("warmupSpin"));
    m_warmupWarning = new QLabel;
    m_warmupWarning->setObjectName(QStringLiteral("warmupWarning"));
    m_warmupWarning->setWordWrap(true);
    m_warmupWarning->setStyleSheet(QStringLiteral("color: #b00020"));
    m_smoothing = dspin(0, 0.5, 2, 0.05);
    m_flip = new QCheckBox(tr("Horizontal flips"));
    m_crop = new QCheckBox(tr("Random resized crops"));
    m_jitter = new QCheckBox(tr("Colour jitter"));
    m_bnRecal = ispin(0, 100000);
    m_bnRecal->setSpecialValueText(tr("off"));
    m_bnRecal->setSuffix(tr(" images"));
    m_bnRecal->setToolTip(
        tr("Re-estimate batch-norm statistics on this many training images "
           "before each validation (steadier validation curves from scratch)"));
    m_seed = ispin(0, 1 << 30);
    auto description = [](const char* id) {
        for (const auto& preset : trainPresets())
            if (preset.id == id) return QString::fromStdString(preset.description);
        return QString();
    };
    auto* course = new QPushButton(tr("&Course preset"));
    course->setObjectName(QStringLiteral("coursePresetButton"));
    course->setToolTip(tr("Sets %1. Other fields keep their values.").arg(description("course")));
    auto* scratch = new QPushButton(tr("&Demo recipe (from scratch)"));
    scratch->setObjectName(QStringLiteral("demoPresetButton"));
    scratch->setToolTip(tr("Sets %1. Other fields keep their values.").arg(description("demo")));
    m_presetNote = new QLabel;
    m_presetNote->setObjectName(QStringLiteral("presetNote"));
    m_presetNote->setWordWrap(true);
    auto* presets = new QHBoxLayout;
    presets->addWidget(course);
    presets->addWidget(scratch);
    presets->addStretch(1);
    auto* aug = new QHBoxLayout;
    aug->addWidget(m_flip);
    aug->addWidget(m_crop);
    aug->addWidget(m_jitter);
    aug->addStretch(1);
    // Two columns, so the page fits a 1280×720 screen with the preset note shown.
    auto* left = new QFormLayout;
    left->addRow(tr("&Epochs"), m_epochs);
    left->addRow(tr("&Batch size"), m_batch);
    left->addRow(tr("&Optimizer"), m_optimizer);
    left->addRow(tr("&Learning rate"), m_lr);
    left->addRow(tr("&Momentum"), m_momentum);
    left->addRow(tr("Weight &decay"), m_decay);
    auto* right = new QFormLayout;
    right->addRow(tr("&Schedule"), m_schedule);
    right->addRow(tr("&Warm-up epochs"), m_warmup);
    right->addRow(tr("Label s&moothing"), m_smoothing);
    right->addRow(tr("Batch-norm &recalibration"), m_bnRecal);
    right->addRow(tr("See&d"), m_seed);
    auto* columns = new QHBoxLayout;
    columns->addLayout(left, 1);
    columns->addSpacing(24);
    columns->addLayout(right, 1);
    auto* l = new QVBoxLayout(p);
    auto* presetsLabel = new QLabel(tr("Presets:"));
    auto* presetRow = new QHBoxLayout;
    presetRow->addWidget(presetsLabel);
    presetRow->addLayout(presets, 1);
    l->addLayout(presetRow);
    l->addWidget(m_presetNote);
    l->addSpacing(6);
    l->addLayout(columns);
    auto* augRow = new QHBoxLayout;
    augRow->addWidget(new QLabel(tr("Augmentation:")));
    augRow->addLayout(aug, 1);
    l->addLayout(augRow);
    l->addWidget(m_warmupWarning);
    l->addStretch(1);
    m_presetNote->setVisible(false);
    m_warmupWarning->setVisible(false);
    connect(course, &QPushButton::clicked, this, [this] { applyPreset(QStringLiteral("course")); });
    // The same preset as `train --preset demo` (and `packaging/setup.sh demo`): it sets the fields
    // it names and keeps the others.
    connect(scratch, &QPushButton::clicked, this, [this] { applyPreset(QStringLiteral("demo")); });
    auto warm = [this, p] {
        updateWarmupWarning();
        p->changed();
    };
    connect(m_epochs, &QSpinBox::valueChanged, this, warm);
    connect(m_warmup, &QDoubleSpinBox::valueChanged, this, warm);
    p->complete = [this] {
        return m_warmup->value() <= 0 || m_warmup->value() < m_epochs->value();
    };
    return p;
}

void TrainWizard::updateWarmupWarning() {
    const double warmup = m_warmup->value();
    const int epochs = m_epochs->value();
    const bool tooLong = warmup > 0 && warmup >= epochs;
    m_warmupWarning->setText(
        tooLong ? tr("The warm-up (%1 epochs) is as long as the run (%2 epochs) or longer: the "
                     "learning rate would never reach its set value. Shorten the warm-up or "
                     "train for more epochs.")
                      .arg(warmup)
                      .arg(epochs)
                : QString());
    m_warmupWarning->setVisible(tooLong);
}

QStringList TrainWizard::applyPreset(const QString& id) {
    TrainConfig c = config();
    std::vector<std::string> changes;
    try {
        changes = applyTrainPreset(id.toStdString(), c);
    } catch (const std::exception& e) {
        m_presetNote->setText(QString::fromStdString(e.what()));
        m_presetNote->setVisible(true);
        return {};
    }
    // Only what the preset names: never the choice of initial weights, device or output.
    applyFields(c, false);
    QStringList list;
    for (const auto& change : changes)
        list << QString::fromStdString(change).replace(QStringLiteral(" -> "),
                                                       QStringLiteral(" → "));
    const QString name = id == QLatin1String("demo")     ? tr("Demo recipe")
                         : id == QLatin1String("course") ? tr("Course preset")
                                                         : id;
    m_presetNote->setText(list.isEmpty()
                              ? tr("%1: every field it sets already had its value.").arg(name)
                              : tr("%1 set: %2. Other fields kept their values.")
                                    .arg(name, list.join(QStringLiteral(", "))));
    m_presetNote->setVisible(true);
    return list;
}

// ---------------------------------------------------------------------------------------------
// Output page

QWizardPage* TrainWizard::makeOutputPage() {
    auto* p = new Page;
    p->setTitle(tr("Device and output"));
    const RuntimeInfo rt = runtimeInfo();
    m_device = new QComboBox;
    m_device->setObjectName(QStringLiteral("deviceCombo"));
    if (rt.cudaAvailable) m_device->addItem(QString::fromStdString(deviceDescription()), 0);
    m_device->addItem(tr("CPU (%1 threads)").arg(rt.cpuThreads), 1);
    m_precision = new QComboBox;
    m_precision->setObjectName(QStringLiteral("precision"));
    m_precision->addItem(QString(), static_cast<int>(Precision::Auto));
    m_precision->addItem(tr("fp32"), static_cast<int>(Precision::Fp32));
    m_precision->addItem(QString(), static_cast<int>(Precision::Bf16));
    m_precision->setItemData(
        1,
        tr("Full precision: the same numbers on every machine (for comparing runs), slower where "
           "bf16 is native."),
        Qt::ToolTipRole);
    m_precision->setToolTip(
        tr("Arithmetic of the training run. A resumed run keeps the precision it started with."));
    m_outDir = new QLineEdit;
    m_outDir->setObjectName(QStringLiteral("outputDir"));
    auto* browse = new QPushButton(tr("Bro&wse…"));
    m_outInfo = new QLabel;
    m_outInfo->setObjectName(QStringLiteral("outputInfo"));
    m_outInfo->setWordWrap(true);
    m_outInfo->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    auto* row = new QHBoxLayout;
    row->addWidget(m_outDir, 1);
    row->addWidget(browse);
    m_processes = new QSpinBox;
    m_processes->setObjectName(QStringLiteral("processes"));
    m_processes->setRange(1, 1);
    m_processes->setToolTip(
        tr("Train in several processes at once (data parallel): each reads its share of every "
           "epoch, and their gradients are summed after each step. The batch size is per "
           "process. On the CPU, the cores are shared out among them; on GPUs, one per process."));
    m_syncBn = new QCheckBox(tr("S&ynchronise batch norm across processes"));
    m_syncBn->setObjectName(QStringLiteral("syncBatchNorm"));
    m_syncBn->setToolTip(
        tr("Batch-norm statistics over the global batch, so N processes with batch B train as "
           "one process with batch N×B."));
    m_processNote = new QLabel;
    m_processNote->setObjectName(QStringLiteral("processNote"));
    m_processNote->setWordWrap(true);
    m_processNote->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    m_processNote->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Maximum);
    auto* processRow = new QHBoxLayout;
    processRow->addWidget(m_processes);
    processRow->addWidget(m_syncBn, 1);
    auto* f = new QFormLayout(p);
    f->addRow(tr("&Device"), m_device);
    f->addRow(tr("&Precision"), m_precision);
    auto* processLabel = new QLabel(tr("Pro&cesses"));
    processLabel->setBuddy(m_processes);
    f->addRow(processLabel, processRow);
    f->addRow(QString(), m_processNote);
    updatePrecisionChoices();
    updateProcessChoices();
    connect(m_device, &QComboBox::currentIndexChanged, this, &TrainWizard::updatePrecisionChoices);
    connect(m_device, &QComboBox::currentIndexChanged, this, &TrainWizard::updateProcessChoices);
    connect(m_processes, &QSpinBox::valueChanged, this, &TrainWizard::updateProcessChoices);
    connect(m_batch, &QSpinBox::valueChanged, this, &TrainWizard::updateProcessChoices);
    auto* outLabel = new QLabel(tr("&Output folder"));
    outLabel->setBuddy(m_outDir);
    f->addRow(outLabel, row);
    f->addRow(QString(), m_outInfo);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString d =
            QFileDialog::getExistingDirectory(this, tr("Output folder"), m_outDir->text());
        if (!d.isEmpty()) setOutputDir(d);
    });
    // Typing reads nothing: the folder is inspected off the GUI thread once the typing stops.
    m_inspectTimer.setSingleShot(true);
    m_inspectTimer.setInterval(300);
    connect(&m_inspectTimer, &QTimer::timeout, this, &TrainWizard::inspectOutput);
    connect(m_outDir, &QLineEdit::textChanged, this, [this, p] {
        m_canResume = false;
        m_resume->setEnabled(false);
        m_inspectPending = true;
        m_inspectTimer.start();
        p->changed();
    });
    p->complete = [this] { return !m_outDir->text().trimmed().isEmpty(); };
    return p;
}

void TrainWizard::setPrecisionChoice(Precision p) {
    const int i = m_precision->findData(static_cast<int>(p));
    if (i >= 0) m_precision->setCurrentIndex(i);
}

// The Automatic and bf16 entries say what they mean on the chosen device.
void TrainWizard::updatePrecisionChoices() {
    TrainConfig probe;
    probe.forceCpu = m_device->currentData().toInt() == 1;
    probe.precision = Precision::Auto;
    const PrecisionChoice automatic = trainingPrecision(probe);
    const QString device = automatic.cuda ? tr("this GPU") : tr("this CPU");
    const QString cpu = QString::fromStdString(cpuBrand());
    m_precision->setItemText(
        0, tr("Automatic (%1 on %2)")
               .arg(QString::fromLatin1(precisionId(automatic.resolved)), device));
    QString why;
    if (automatic.cuda)
        why = automatic.nativeBf16 ? tr("This GPU computes bf16 natively.")
                                   : tr("This GPU does not compute bf16 natively.");
    else if (automatic.nativeBf16)
        why = tr("This CPU (%1) has %2.")
                  .arg(cpu, QString::fromStdString(cpuBf16FeatureName().empty()
                                                       ? std::string("native bf16")
                                                       : cpuBf16FeatureName()));
    else
        why = tr("This CPU (%1) has neither AVX-512 BF16 nor AMX.").arg(cpu);
    m_precision->setItemData(
        0,
        tr("bf16 autocast with fp32 master weights and channels-last where the device computes "
           "bf16 natively (CPUs with AVX-512 BF16 or AMX, GPUs from Ampere on), fp32 elsewhere. "
           "%1")
            .arg(why),
        Qt::ToolTipRole);
    m_precision->setItemText(
        2, automatic.nativeBf16 ? tr("bf16") : tr("bf16 (emulated on %1: slow)").arg(device));
    m_precision->setItemData(
        2,
        tr("bf16 autocast: convolutions and matrix products in bf16, weights, optimizer and loss "
           "in fp32, channels-last activations. %1")
            .arg(automatic.nativeBf16
                     ? why
                     : tr("Without native bf16, LibTorch emulates it: slower than fp32.")),
        Qt::ToolTipRole);
}

QString TrainWizard::outputDir() const {
    return m_outDir->text().trimmed();
}

void TrainWizard::setOutputDir(const QString& dir) {
    m_outDir->setText(dir);
    inspectOutput();  // a chosen folder, not typing: no need to wait
}

void TrainWizard::inspectOutput() {
    m_inspectTimer.stop();
    m_inspectPending = false;
    const std::uint64_t generation = ++m_inspectGeneration;
    m_canResume = false;
    m_resume->setEnabled(false);
    const QString dir = outputDir();
    if (dir.isEmpty()) {
        m_outInfo->setText(tr("Choose a folder for the checkpoints."));
        Q_EMIT outputInspected();
        return;
    }
    ++m_inspecting;
    ++m_inspections;
    auto* watcher = new QFutureWatcher<Inspection>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, generation] {
        watcher->deleteLater();
        --m_inspecting;
        if (generation != m_inspectGeneration) return;  // a newer folder is being looked at
        const Inspection r = watcher->future().resultCount() ? watcher->result() : Inspection{};
        if (!r.hasCheckpoint)
            m_outInfo->setText(
                tr("Checkpoints (last.ckpt, best.ckpt) and history.csv are written here after "
                   "every epoch."));
        else if (r.readable)
            m_outInfo->setText(tr("This folder holds a run stopped after epoch %1 (best "
                                  "validation top-1 %2). Start overwrites it; Resume continues "
                                  "it, in %3 as it was trained.")
                                   .arg(r.epoch)
                                   .arg(r.bestValTop1, 0, 'f', 3)
                                   .arg(QString::fromLatin1(precisionId(r.precision))));
        else
            m_outInfo->setText(tr("last.ckpt here cannot be resumed: %1").arg(r.error));
        m_canResume = r.readable;
        m_resume->setEnabled(m_canResume && !isTraining());
        Q_EMIT outputInspected();
    });
    watcher->setFuture(QtConcurrent::run(backgroundPool(), [dir] {
        Inspection r;
        const std::filesystem::path last = std::filesystem::path(dir.toStdString()) / "last.ckpt";
        std::error_code ec;
        r.hasCheckpoint = std::filesystem::exists(last, ec);
        if (!r.hasCheckpoint) return r;
        try {
            const CheckpointMeta m = readCheckpointMeta(last);
            r.precision = TrainConfig::fromJson(m.trainConfigJson).precision;
            r.readable = true;
            r.epoch = m.epoch;
            r.bestValTop1 = m.bestValTop1;
        } catch (const std::exception& e) {
            r.error = QString::fromStdString(e.what());
        }
        return r;
    }));
}

// ---------------------------------------------------------------------------------------------
// Run page

QWizardPage* TrainWizard::makeRunPage() {
    auto* p = new Page;
    p->setTitle(tr("Training"));
    m_charts = new TrainingCharts;
    m_progress = new QProgressBar;
    m_progress->setObjectName(QStringLiteral("trainProgress"));
    m_speed = new QLabel(tr("Not started."));
    m_speed->setObjectName(QStringLiteral("runStatus"));
    m_speed->setWordWrap(true);
    m_start = new QPushButton(tr("&Start"));
    m_start->setObjectName(QStringLiteral("startButton"));
    m_resume = new QPushButton(tr("&Resume"));
    m_resume->setObjectName(QStringLiteral("resumeButton"));
    m_resume->setEnabled(false);
    m_cancel = new QPushButton(tr("S&top"));
    m_cancel->setObjectName(QStringLiteral("stopButton"));
    m_cancel->setEnabled(false);
    m_open = new QPushButton(tr("&Open in Explorer"));
    m_open->setObjectName(QStringLiteral("openModelButton"));
    m_open->setEnabled(false);
    m_log = new QPlainTextEdit;
    m_log->setObjectName(QStringLiteral("runLog"));
    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(5000);
    m_log->setMinimumHeight(90);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_start);
    buttons->addWidget(m_resume);
    buttons->addWidget(m_cancel);
    buttons->addWidget(m_speed, 1);
    buttons->addWidget(m_open);
    auto* l = new QVBoxLayout(p);
    l->addWidget(m_charts, 3);
    l->addWidget(m_progress);
    l->addLayout(buttons);
    l->addWidget(m_log, 1);
    connect(m_start, &QPushButton::clicked, this, [this] { startTraining(false); });
    connect(m_resume, &QPushButton::clicked, this, [this] { startTraining(true); });
    connect(m_cancel, &QPushButton::clicked, this, &TrainWizard::cancelTraining);
    connect(m_open, &QPushButton::clicked, this, [this] {
        if (!m_finishedModel.isEmpty()) Q_EMIT openModelRequested(m_finishedModel);
    });
    p->complete = [this] { return !isTraining(); };
    return p;
}

// Processes: up to the cores on the CPU, the GPUs on a GPU; the note says what a run will be.
void TrainWizard::updateProcessChoices() {
    const RuntimeInfo rt = runtimeInfo();
    const bool gpu = m_device->currentData().toInt() == 0 && rt.cudaAvailable;
    const int most = gpu ? std::max<int>(1, static_cast<int>(rt.cudaDevices.size()))
                         : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    m_processes->setRange(1, most);
    const int n = m_processes->value();
    m_syncBn->setEnabled(n > 1);
    if (n == 1) {
        m_processNote->setText(
            most > 1 ? tr("One process. Up to %1 can share the work on this machine.").arg(most)
                     : tr("One process."));
        return;
    }
    const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / n);
    const QString each = gpu          ? tr("one GPU each, NCCL")
                         : cores == 1 ? tr("one core each, Gloo")
                                      : tr("%1 cores each, Gloo").arg(cores);
    m_processNote->setText(
        tr("%1 processes (%2), batch %3 each: a global batch of %4. This application runs the "
           "first; the others are cam-explorer-cli workers, whose logs go to the output folder's "
           "workers/.")
            .arg(n)
            .arg(each)
            .arg(m_batch->value())
            .arg(m_batch->value() * n));
}

int TrainWizard::processes() const {
    return m_processes->value();
}

void TrainWizard::setProcesses(int n) {
    m_processes->setValue(n);
}

// Start is the default button of the run page until a run has ended; Finish only after.
void TrainWizard::updateDefaultButton() {
    const bool startFirst = currentId() == RunPageId && !m_hasRun;
    setOption(QWizard::NoDefaultButton, startFirst);
    if (startFirst) m_start->setDefault(true);
}

// ---------------------------------------------------------------------------------------------
// Configuration

TrainConfig TrainWizard::config() const {
    TrainConfig c;
    c.arch = static_cast<Arch>(m_arch->currentData().toInt());
    c.baseWidth = m_width->value();
    c.inputSize = m_inputSize->value();
    c.weightsFile = m_init->currentData().toInt() == 1 ? m_weights->text().toStdString() : "";
    c.freezeBackbone = m_mode->currentData().toInt() == 1;
    c.epochs = m_epochs->value();
    c.batchSize = m_batch->value();
    c.optimizer = static_cast<TrainConfig::Optimizer>(m_optimizer->currentData().toInt());
    c.learningRate = m_lr->value();
    c.momentum = m_momentum->value();
    c.weightDecay = m_decay->value();
    c.schedule = static_cast<TrainConfig::Schedule>(m_schedule->currentData().toInt());
    c.warmupEpochs = m_warmup->value();
    c.labelSmoothing = m_smoothing->value();
    c.augment.flip = m_flip->isChecked();
    c.augment.randomResizedCrop = m_crop->isChecked();
    c.augment.colorJitter = m_jitter->isChecked();
    c.bnRecalibrationImages = m_bnRecal->value();
    c.seed = static_cast<std::uint64_t>(m_seed->value());
    c.forceCpu = m_device->currentData().toInt() == 1;
    c.precision = static_cast<Precision>(m_precision->currentData().toInt());
    c.syncBatchNorm = m_syncBn->isChecked() && m_processes->value() > 1;
    return c;
}

void TrainWizard::applyConfig(const TrainConfig& c) {
    applyFields(c, true);
}

// Sets each widget whose value differs from `c`; `modelStart` also sets the choice of initial
// weights (a preset never names it).
void TrainWizard::applyFields(const TrainConfig& c, bool modelStart) {
    auto setIndex = [](QComboBox* box, int data) {
        const int i = box->findData(data);
        if (i >= 0 && i != box->currentIndex()) box->setCurrentIndex(i);
    };
    setIndex(m_arch, static_cast<int>(c.arch));
    m_width->setValue(static_cast<int>(c.baseWidth));
    m_inputSize->setValue(c.inputSize);
    if (modelStart) {
        m_init->setCurrentIndex(c.weightsFile.empty() ? 0 : 1);
        if (!c.weightsFile.empty()) m_weights->setText(QString::fromStdString(c.weightsFile));
    }
    m_mode->setCurrentIndex(c.freezeBackbone ? 1 : 0);
    m_epochs->setValue(c.epochs);
    m_batch->setValue(c.batchSize);
    setIndex(m_optimizer, static_cast<int>(c.optimizer));
    m_lr->setValue(c.learningRate);
    m_momentum->setValue(c.momentum);
    m_decay->setValue(c.weightDecay);
    setIndex(m_schedule, static_cast<int>(c.schedule));
    m_warmup->setValue(c.warmupEpochs);
    m_smoothing->setValue(c.labelSmoothing);
    m_flip->setChecked(c.augment.flip);
    m_crop->setChecked(c.augment.randomResizedCrop);
    m_jitter->setChecked(c.augment.colorJitter);
    m_bnRecal->setValue(c.bnRecalibrationImages);
    m_seed->setValue(static_cast<int>(c.seed));
    setPrecisionChoice(c.precision);
    m_syncBn->setChecked(c.syncBatchNorm);
    updateWarmupWarning();
    updateModelHints();
}

// ---------------------------------------------------------------------------------------------
// Training

void TrainWizard::appendLog(const QString& line) {
    m_log->appendPlainText(line);
}

QString TrainWizard::logText() const {
    return m_log->toPlainText();
}

void TrainWizard::startTraining(bool resume) {
    if (isTraining() || !m_dataset) return;
    const TrainConfig cfg = config();
    try {
        cfg.validate();
        if (cfg.warmupEpochs > 0 && cfg.warmupEpochs >= cfg.epochs)
            throw std::invalid_argument(
                tr("the warm-up (%1 epochs) is not shorter than the run (%2 epochs)")
                    .arg(cfg.warmupEpochs)
                    .arg(cfg.epochs)
                    .toStdString());
    } catch (const std::exception& e) {
        appendLog(tr("Cannot start: %1").arg(QString::fromStdString(e.what())));
        return;
    }
    const QString outText = outputDir();
    const std::filesystem::path out = outText.toStdString();
    std::optional<std::filesystem::path> from;
    if (resume) from = out / "last.ckpt";
    QSettings().setValue("train/output", outText);
    QSettings().setValue("train/processes", processes());

    if (m_run) m_run->wizard.clear();  // the previous run has ended; it reports nothing more
    auto run = std::make_shared<TrainRun>();
    run->wizard = this;
    run->outDir = normalPath(outText);
    run->resume = resume;
    m_run = run;

    m_finishedModel.clear();
    m_open->setEnabled(false);
    m_start->setEnabled(false);
    m_resume->setEnabled(false);
    m_cancel->setEnabled(true);
    button(QWizard::BackButton)->setEnabled(false);
    // A resumed run continues the curves drawn for the same folder in this session (the batches
    // of the unfinished epoch go once the checkpoint says where the run stands); otherwise the
    // charts start over, with the earlier epochs from the checkpoint.
    if (resume && m_chartsRun == run->outDir)
        m_charts->setEpochs(cfg.epochs);
    else
        m_charts->clear(cfg.epochs);
    m_chartsRun = run->outDir;
    if (!m_log->document()->isEmpty()) appendLog(QString());  // a blank line between runs
    m_progress->setRange(0, 0);
    m_speed->setText(tr("Starting…"));
    static_cast<Page*>(page(RunPageId))->changed();
    m_epochsForRun = cfg.epochs;
    m_firstStep = -1;
    m_lastIps = 0;
    m_runClock.start();

    // A multi-process run: this process is rank 0, the workers read the same folder.
    std::optional<LocalParallelOptions> parallel;
    if (processes() > 1) {
        LocalParallelOptions po;
        po.processes = processes();
        po.workerExecutable = (m_workerExe.isEmpty() ? QCoreApplication::applicationDirPath() +
                                                           QStringLiteral("/cam-explorer-cli")
                                                     : m_workerExe)
                                  .toStdString();
        const QString dataDir = m_dataPath->text().trimmed();
        po.datasetDir =
            dataDir.isEmpty() ? m_dataset->root : std::filesystem::path(dataDir.toStdString());
        po.datasetFormat = m_dataset->format;
        po.backend = cfg.forceCpu || !runtimeInfo().cudaAvailable ? "gloo" : "nccl";
        parallel = po;
    }

    TrainCallbacks cb;
    // The callbacks hold the run, never the wizard.
    cb.onStep = [run](const StepMetrics& m) { run->push(run, m); };
    cb.onEpoch = [run](const EpochRecord& rec) { run->push(run, rec); };
    cb.onLog = [run](const std::string& s) { run->push(run, QString::fromStdString(s)); };
    m_trainJob.setFuture(QtConcurrent::run(backgroundPool(), [run, dataset = m_dataset, cfg, out,
                                                              cb, from, parallel] {
        lowerCurrentThreadPriority();
        JobContext job;
        job.cancel = &run->cancel;
        try {
            TrainConfig effective = cfg;
            if (from) {
                // Where the run stands, and the settings the trainer will continue with.
                const CheckpointMeta meta = readCheckpointMeta(*from);
                effective = TrainConfig::fromJson(meta.trainConfigJson);
                effective.epochs = cfg.epochs;
                run->push(run, TrainRun::History{meta.epoch, meta.history, effective.precision});
            }
            for (const QString& line : describeRun(effective, from.has_value()))
                run->push(run, line);
            if (parallel)
                trainWithLocalProcesses(*dataset, cfg, out, cb, job, from, *parallel);
            else
                trainModel(*dataset, cfg, out, cb, job, from);
        } catch (const Cancelled&) {
            run->cancelled = true;
        } catch (const std::exception& e) {
            run->error = QString::fromStdString(e.what());
        }
    }));
}

void TrainWizard::drainTrainEvents() {
    if (!m_run) return;
    TrainRun& run = *m_run;
    for (auto& event : run.take()) {
        if (const auto* m = std::get_if<StepMetrics>(&event)) {
            onStep(m->epoch, m->step, m->stepsPerEpoch, m->loss, m->accuracy, m->imagesPerSecond);
        } else if (const auto* rec = std::get_if<EpochRecord>(&event)) {
            m_charts->addEpoch(*rec);
            run.lastEpoch = rec->epoch;
        } else if (const auto* line = std::get_if<QString>(&event)) {
            appendLog(*line);
        } else if (const auto* h = std::get_if<TrainRun::History>(&event)) {
            // Batches drawn past the checkpoint belong to the epoch that did not finish.
            m_charts->dropStepsAfter(h->epoch);
            m_charts->setHistory(h->records);
            run.lastEpoch = h->epoch;
            // The run goes on in the precision it was started with; the page shows that, unless
            // its choice (Automatic) comes to the same here.
            if (trainingPrecision(config()).resolved != h->precision)
                setPrecisionChoice(h->precision);
        }
    }
}

void TrainWizard::onStep(int epoch, int step, int steps, double loss, double acc, double ips) {
    const int global = epoch * steps + step + 1;
    if (m_firstStep < 0) m_firstStep = global - 1;
    m_charts->addStep(epoch + double(step + 1) / steps, loss, acc);
    const int total = m_epochsForRun * steps;
    m_progress->setRange(0, total);
    m_progress->setValue(global);
    m_lastIps = ips > 0 ? (m_lastIps > 0 ? 0.8 * m_lastIps + 0.2 * ips : ips) : m_lastIps;
    const double perStep = m_runClock.elapsed() / 1000.0 / std::max(1, global - m_firstStep);
    m_speed->setText(tr("Epoch %1/%2 · %3 img/s · ETA %4")
                         .arg(epoch + 1)
                         .arg(m_epochsForRun)
                         .arg(m_lastIps, 0, 'f', 1)
                         .arg(formatSeconds(perStep * (total - global))));
}

void TrainWizard::cancelTraining() {
    if (!isTraining()) return;
    m_run->cancel.cancel();
    m_cancel->setEnabled(false);
    m_speed->setText(tr("Stopping after the current step…"));
}

void TrainWizard::onTrainingDone() {
    drainTrainEvents();  // the worker has returned: everything it reported is queued
    TrainRun& run = *m_run;
    m_charts->flush();
    m_cancel->setEnabled(false);
    m_start->setEnabled(true);
    button(QWizard::BackButton)->setEnabled(true);
    const QDir dir(outputDir());
    const QString best = dir.filePath(QStringLiteral("best.ckpt"));
    if (!run.error.isEmpty()) {
        appendLog(tr("Training failed: %1").arg(run.error));
        m_speed->setText(tr("Failed: %1").arg(run.error));
        if (m_progress->maximum() == 0) m_progress->setRange(0, 1);
    } else if (run.cancelled) {
        // Only promise what is on disk: a run stopped before its first epoch finished kept
        // nothing (an earlier run's last.ckpt in the folder is left as it was).
        if (run.lastEpoch > 0)
            m_speed->setText(tr("Stopped. Epoch %1 is kept in last.ckpt; Resume continues from it.")
                                 .arg(run.lastEpoch));
        else if (QFileInfo::exists(dir.filePath(QStringLiteral("last.ckpt"))))
            m_speed->setText(
                tr("Stopped before the first epoch finished; nothing of this run was kept. The "
                   "earlier run in this folder is untouched."));
        else
            m_speed->setText(tr("Stopped before the first epoch finished; nothing was kept."));
        appendLog(m_speed->text());
        if (m_progress->maximum() == 0) m_progress->setRange(0, 1);
    } else {
        m_progress->setValue(m_progress->maximum());
        m_finishedModel = best;
        m_open->setEnabled(QFileInfo::exists(best));
        m_speed->setText(tr("Finished. Open the best model in the explorer?"));
        appendLog(tr("Finished: the best model is %1").arg(best));
    }
    m_hasRun = true;
    updateDefaultButton();
    inspectOutput();  // Resume follows what is on disk now
    static_cast<Page*>(page(RunPageId))->changed();
    // The explorer's dataset may have changed during the run.
    if (followsWorkspace() && m_workspace->dataset() != m_dataset) adoptWorkspaceDataset();
    Q_EMIT trainingFinished(run.cancelled || !run.error.isEmpty());
    if (m_closeAfterStop) {
        m_closeAfterStop = false;
        QWizard::done(QDialog::Rejected);
    }
}

bool TrainWizard::confirmStop() {
    if (!isTraining()) return true;
    if (m_confirmClose) return m_confirmClose();
    return QMessageBox::question(this, tr("Training is running"),
                                 tr("Stop training and close? The epochs finished so far are "
                                    "kept in %1 and can be resumed.")
                                     .arg(outputDir()),
                                 QMessageBox::Yes | QMessageBox::No,
                                 QMessageBox::No) == QMessageBox::Yes;
}

void TrainWizard::done(int result) {
    if (isTraining()) {
        if (!confirmStop()) return;
        // Stop at the next step; the wizard closes when the worker has returned.
        m_closeAfterStop = true;
        cancelTraining();
        return;
    }
    QWizard::done(result);
}

void TrainWizard::closeEvent(QCloseEvent* e) {
    if (isTraining()) {
        e->ignore();
        done(QDialog::Rejected);
        return;
    }
    QWizard::closeEvent(e);
}

}  // namespace camx::ui
