#include "training/train_wizard.h"

#include <QCheckBox>
#include <QCloseEvent>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QElapsedTimer>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QStandardPaths>
#include <QVBoxLayout>
#include <QtConcurrent>
#include <cmath>

#include "charts/training_charts.h"
#include "nn/checkpoint.h"
#include "nn/runtime.h"
#include "nn/weights_catalog.h"
#include "train/trainer.h"
#include "training/weights_download.h"

namespace camx::ui {

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
}  // namespace

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
    connect(&m_datasetJob, &QFutureWatcher<void>::finished, this, [this] {
        if (m_loadingDataset) {
            m_dataset = std::move(m_loadingDataset);
            const auto& d = *m_dataset;
            QString text = tr("<b>%1 breeds</b>: %2 training and %3 test images.")
                               .arg(d.numClasses())
                               .arg(d.train.samples.size())
                               .arg(d.test.samples.size());
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
            QSettings().setValue("train/dataset", m_dataPath->text());
        } else {
            m_dataset.reset();
            m_dataReport->setText(
                tr("<span style='color:#b00020'>%1</span>").arg(m_loadError.toHtmlEscaped()));
        }
        static_cast<Page*>(page(DatasetPageId))->changed();
        Q_EMIT datasetLoaded();
    });
    connect(&m_trainJob, &QFutureWatcher<void>::finished, this, &TrainWizard::onTrainingDone);
    resize(1000, 720);
}

TrainWizard::~TrainWizard() {
    m_cancelToken.cancel();
    m_trainJob.waitForFinished();
    m_datasetJob.waitForFinished();
}

QWizardPage* TrainWizard::makeDatasetPage() {
    auto* p = new Page;
    p->setTitle(tr("Dataset"));
    p->setSubTitle(
        tr("A Stanford Dogs folder (Images/, Annotation/ and the split lists, or the "
           "three archives)."));
    m_dataPath = new QLineEdit;
    m_dataPath->setObjectName(QStringLiteral("datasetPath"));
    auto* browse = new QPushButton(tr("&Browse…"));
    m_dataReport = new QLabel(tr("No dataset yet."));
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
        if (m_dataPath->text() != m_requestedPath) setDatasetPath(m_dataPath->text());
    });
    p->complete = [this] { return m_dataset && !m_datasetJob.isRunning(); };
    return p;
}

void TrainWizard::setDatasetPath(const QString& dir) {
    if (m_datasetJob.isRunning() || isTraining()) return;
    m_requestedPath = dir;
    m_dataPath->setText(dir);
    m_dataset.reset();
    m_dataReport->setText(tr("Reading %1…").arg(dir.toHtmlEscaped()));
    static_cast<Page*>(page(DatasetPageId))->changed();
    m_datasetJob.setFuture(QtConcurrent::run([this, path = dir.toStdString()] {
        try {
            m_loadingDataset = std::make_unique<Dataset>(openStanfordDogs(path));
        } catch (const std::exception& e) {
            m_loadingDataset.reset();
            m_loadError = QString::fromStdString(e.what());
        }
    }));
}

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
    auto* browse = new QPushButton(tr("B&rowse…"));
    m_download = new QPushButton(tr("Do&wnload"));
    m_download->setObjectName(QStringLiteral("downloadButton"));
    m_downloadProgress = new QProgressBar;
    m_downloadProgress->setVisible(false);
    m_downloadStatus = new QLabel;
    m_downloadStatus->setWordWrap(true);
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
    f->addRow(QString(), m_downloadProgress);
    f->addRow(QString(), m_downloadStatus);
    f->addRow(tr("&Input size"), m_inputSize);
    f->addRow(tr("&Training"), m_mode);
    f->addRow(tr("Base &width"), m_width);
    auto sync = [this, p] {
        const bool imagenet = m_init->currentData().toInt() == 1;
        m_weights->setEnabled(imagenet);
        m_download->setEnabled(imagenet && !m_downloader->isRunning());
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
    connect(m_init, &QComboBox::currentIndexChanged, this, sync);
    connect(m_init, &QComboBox::currentIndexChanged, this, fillCached);
    connect(m_arch, &QComboBox::currentIndexChanged, this, fillCached);
    connect(m_download, &QPushButton::clicked, this, [this] {
        if (m_downloader->isRunning()) {
            m_downloader->cancel();
            return;
        }
        const Arch arch = static_cast<Arch>(m_arch->currentData().toInt());
        const auto known = knownImageNetWeights(arch);
        if (!known) return;
        const QString name = QString::fromStdString(known->fileName);
        const QUrl url = m_weightsBase.isValid() ? m_weightsBase.resolved(QUrl(name))
                                                 : QUrl(QString::fromStdString(known->url));
        m_downloadProgress->setRange(0, 0);
        m_downloadProgress->setVisible(true);
        m_downloadStatus->setText(tr("Downloading %1…").arg(url.toString()));
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
            [this, sync](const QString& file, const QString& error) {
                m_downloadProgress->setVisible(false);
                m_download->setText(tr("Do&wnload"));
                if (error.isEmpty()) {
                    m_weights->setText(file);
                    m_downloadStatus->setText(tr("Saved %1").arg(file));
                } else {
                    m_downloadStatus->setText(error);
                }
                sync();
                Q_EMIT weightsDownloaded(error);
            });
    connect(m_weights, &QLineEdit::textChanged, this, sync);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString f = QFileDialog::getOpenFileName(
            this, tr("ImageNet weights"), m_weights->text(), tr("PyTorch weights (*.pth *.pt)"));
        if (!f.isEmpty()) {
            m_weights->setText(f);
            m_init->setCurrentIndex(1);
        }
    });
    p->complete = [this] {
        return m_init->currentData().toInt() == 0 || QFileInfo(m_weights->text()).isFile();
    };
    return p;
}

QString TrainWizard::weightsDir() const {
    return m_weightsDir.isEmpty() ? QString::fromStdString(weightsCacheDir().string())
                                  : m_weightsDir;
}

void TrainWizard::setWeightsSource(const QUrl& baseUrl, const QString& cacheDir) {
    m_weightsBase = baseUrl;
    m_weightsDir = cacheDir;
}

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
    auto* course = new QPushButton(tr("&Course preset"));
    course->setObjectName(QStringLiteral("coursePresetButton"));
    course->setToolTip(
        tr("The seed course: SGD 0.01 without momentum, batch 16, 30 epochs, "
           "plain resize, no augmentation"));
    auto* scratch = new QPushButton(tr("&Demo recipe (from scratch)"));
    auto* presets = new QHBoxLayout;
    presets->addWidget(course);
    presets->addWidget(scratch);
    presets->addStretch(1);
    auto* aug = new QHBoxLayout;
    aug->addWidget(m_flip);
    aug->addWidget(m_crop);
    aug->addWidget(m_jitter);
    auto* f = new QFormLayout(p);
    f->addRow(tr("Presets"), presets);
    f->addRow(tr("&Epochs"), m_epochs);
    f->addRow(tr("&Batch size"), m_batch);
    f->addRow(tr("&Optimizer"), m_optimizer);
    f->addRow(tr("&Learning rate"), m_lr);
    f->addRow(tr("&Momentum"), m_momentum);
    f->addRow(tr("Weight &decay"), m_decay);
    f->addRow(tr("&Schedule"), m_schedule);
    f->addRow(tr("&Warm-up epochs"), m_warmup);
    f->addRow(tr("Label s&moothing"), m_smoothing);
    f->addRow(tr("Augmentation"), aug);
    f->addRow(tr("Batch-norm &recalibration"), m_bnRecal);
    f->addRow(tr("See&d"), m_seed);
    connect(course, &QPushButton::clicked, this, [this] {
        TrainConfig c = config();
        applyTrainPreset("course", c);
        applyConfig(c);
    });
    connect(scratch, &QPushButton::clicked, this, [this] {
        // The same preset as `train --preset demo` (and `packaging/setup.sh demo`): it sets the
        // fields it names and keeps the others.
        TrainConfig c = config();
        applyTrainPreset("demo", c);
        applyConfig(c);
    });
    return p;
}

QWizardPage* TrainWizard::makeOutputPage() {
    auto* p = new Page;
    p->setTitle(tr("Device and output"));
    const RuntimeInfo rt = runtimeInfo();
    m_device = new QComboBox;
    m_device->setObjectName(QStringLiteral("deviceCombo"));
    if (rt.cudaAvailable) m_device->addItem(QString::fromStdString(deviceDescription()), 0);
    m_device->addItem(tr("CPU (%1 threads)").arg(rt.cpuThreads), 1);
    m_amp = new QCheckBox(tr("bf16 mixed precision and channels-last (GPU)"));
    m_amp->setEnabled(rt.cudaAvailable);
    m_outDir = new QLineEdit;
    m_outDir->setObjectName(QStringLiteral("outputDir"));
    auto* browse = new QPushButton(tr("Bro&wse…"));
    m_outInfo = new QLabel;
    m_outInfo->setWordWrap(true);
    auto* row = new QHBoxLayout;
    row->addWidget(m_outDir, 1);
    row->addWidget(browse);
    auto* f = new QFormLayout(p);
    f->addRow(tr("&Device"), m_device);
    f->addRow(QString(), m_amp);
    auto* outLabel = new QLabel(tr("&Output folder"));
    outLabel->setBuddy(m_outDir);
    f->addRow(outLabel, row);
    f->addRow(QString(), m_outInfo);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString d =
            QFileDialog::getExistingDirectory(this, tr("Output folder"), m_outDir->text());
        if (!d.isEmpty()) setOutputDir(d);
    });
    connect(m_outDir, &QLineEdit::textChanged, this, [this, p] {
        updateResumeState();
        p->changed();
    });
    p->complete = [this] { return !m_outDir->text().trimmed().isEmpty(); };
    return p;
}

QWizardPage* TrainWizard::makeRunPage() {
    auto* p = new Page;
    p->setTitle(tr("Training"));
    m_charts = new TrainingCharts;
    m_progress = new QProgressBar;
    m_progress->setObjectName(QStringLiteral("trainProgress"));
    m_speed = new QLabel(tr("Not started."));
    m_start = new QPushButton(tr("&Start"));
    m_start->setObjectName(QStringLiteral("startButton"));
    m_resume = new QPushButton(tr("&Resume"));
    m_resume->setObjectName(QStringLiteral("resumeButton"));
    m_cancel = new QPushButton(tr("S&top"));
    m_cancel->setEnabled(false);
    m_open = new QPushButton(tr("&Open in Explorer"));
    m_open->setObjectName(QStringLiteral("openModelButton"));
    m_open->setEnabled(false);
    m_log = new QPlainTextEdit;
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
    c.mixedPrecision = c.channelsLast = m_amp->isEnabled() && m_amp->isChecked();
    return c;
}

void TrainWizard::applyConfig(const TrainConfig& c) {
    m_arch->setCurrentIndex(m_arch->findData(static_cast<int>(c.arch)));
    m_width->setValue(static_cast<int>(c.baseWidth));
    m_inputSize->setValue(c.inputSize);
    m_init->setCurrentIndex(c.weightsFile.empty() ? 0 : 1);
    if (!c.weightsFile.empty()) m_weights->setText(QString::fromStdString(c.weightsFile));
    m_mode->setCurrentIndex(c.freezeBackbone ? 1 : 0);
    m_epochs->setValue(c.epochs);
    m_batch->setValue(c.batchSize);
    m_optimizer->setCurrentIndex(m_optimizer->findData(static_cast<int>(c.optimizer)));
    m_lr->setValue(c.learningRate);
    m_momentum->setValue(c.momentum);
    m_decay->setValue(c.weightDecay);
    m_schedule->setCurrentIndex(m_schedule->findData(static_cast<int>(c.schedule)));
    m_warmup->setValue(c.warmupEpochs);
    m_smoothing->setValue(c.labelSmoothing);
    m_flip->setChecked(c.augment.flip);
    m_crop->setChecked(c.augment.randomResizedCrop);
    m_jitter->setChecked(c.augment.colorJitter);
    m_bnRecal->setValue(c.bnRecalibrationImages);
    m_seed->setValue(static_cast<int>(c.seed));
}

QString TrainWizard::outputDir() const {
    return m_outDir->text().trimmed();
}

void TrainWizard::setOutputDir(const QString& dir) {
    m_outDir->setText(dir);
    updateResumeState();
}

void TrainWizard::updateResumeState() {
    const QString last = QDir(outputDir()).filePath(QStringLiteral("last.ckpt"));
    QString info;
    bool canResume = false;
    if (QFileInfo::exists(last)) {
        try {
            const CheckpointMeta m = readCheckpointMeta(last.toStdString());
            info = tr("This folder holds a run stopped after epoch %1 (best validation top-1 "
                      "%2). Start overwrites it; Resume continues it.")
                       .arg(m.epoch)
                       .arg(m.bestValTop1, 0, 'f', 3);
            canResume = true;
        } catch (const std::exception& e) {
            info = tr("last.ckpt here cannot be resumed: %1").arg(QString::fromStdString(e.what()));
        }
    } else {
        info =
            tr("Checkpoints (last.ckpt, best.ckpt) and history.csv are written here after "
               "every epoch.");
    }
    m_outInfo->setText(info);
    m_resume->setEnabled(canResume && !isTraining());
}

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
    } catch (const std::exception& e) {
        appendLog(tr("Cannot start: %1").arg(QString::fromStdString(e.what())));
        return;
    }
    const std::filesystem::path out = outputDir().toStdString();
    std::optional<std::filesystem::path> from;
    if (resume) from = out / "last.ckpt";
    QSettings().setValue("train/output", outputDir());
    m_cancelToken.reset();
    m_trainError.clear();
    m_trainCancelled = false;
    m_finishedModel.clear();
    m_open->setEnabled(false);
    m_start->setEnabled(false);
    m_resume->setEnabled(false);
    m_cancel->setEnabled(true);
    button(QWizard::BackButton)->setEnabled(false);
    m_charts->clear(cfg.epochs);
    m_progress->setRange(0, 0);
    m_speed->setText(tr("Starting…"));
    static_cast<Page*>(page(RunPageId))->changed();
    if (resume) {
        // The curves of the epochs already done.
        try {
            for (const auto& r : readCheckpointMeta(*from).history) m_charts->addEpoch(r);
        } catch (const std::exception&) {
        }
    }
    auto timer = std::make_shared<QElapsedTimer>();
    timer->start();
    auto firstStep = std::make_shared<int>(-1);
    TrainCallbacks cb;
    cb.onStep = [this, timer, firstStep](const StepMetrics& m) {
        QMetaObject::invokeMethod(
            this,
            [this, m, timer, firstStep] {
                const int global = m.epoch * m.stepsPerEpoch + m.step + 1;
                if (*firstStep < 0) *firstStep = global - 1;
                m_charts->addStep(m.epoch + double(m.step + 1) / m.stepsPerEpoch, m.loss,
                                  m.accuracy);
                const int total = m_epochsForRun * m.stepsPerEpoch;
                m_progress->setRange(0, total);
                m_progress->setValue(global);
                m_lastIps =
                    m.imagesPerSecond > 0 ? 0.8 * m_lastIps + 0.2 * m.imagesPerSecond : m_lastIps;
                const double perStep = timer->elapsed() / 1000.0 / (global - *firstStep);
                m_speed->setText(tr("Epoch %1/%2 · %3 img/s · ETA %4")
                                     .arg(m.epoch + 1)
                                     .arg(m_epochsForRun)
                                     .arg(m_lastIps, 0, 'f', 1)
                                     .arg(formatSeconds(perStep * (total - global))));
            },
            Qt::QueuedConnection);
    };
    cb.onEpoch = [this](const EpochRecord& r) {
        QMetaObject::invokeMethod(
            this, [this, r] { m_charts->addEpoch(r); }, Qt::QueuedConnection);
    };
    cb.onLog = [this](const std::string& s) {
        QMetaObject::invokeMethod(
            this, [this, t = QString::fromStdString(s)] { appendLog(t); }, Qt::QueuedConnection);
    };
    m_epochsForRun = cfg.epochs;
    const Dataset* ds = m_dataset.get();
    JobContext job;
    job.cancel = &m_cancelToken;
    m_trainJob.setFuture(QtConcurrent::run([this, ds, cfg, out, cb, job, from] {
        try {
            trainModel(*ds, cfg, out, cb, job, from);
            m_trainCancelled = false;
        } catch (const Cancelled&) {
            m_trainCancelled = true;
        } catch (const std::exception& e) {
            m_trainError = QString::fromStdString(e.what());
        }
    }));
}

void TrainWizard::cancelTraining() {
    if (!isTraining()) return;
    m_cancelToken.cancel();
    m_cancel->setEnabled(false);
    m_speed->setText(tr("Stopping after the current step…"));
}

void TrainWizard::onTrainingDone() {
    m_charts->flush();
    m_cancel->setEnabled(false);
    m_start->setEnabled(true);
    button(QWizard::BackButton)->setEnabled(true);
    updateResumeState();
    const QString best = QDir(outputDir()).filePath(QStringLiteral("best.ckpt"));
    if (!m_trainError.isEmpty()) {
        appendLog(tr("Training failed: %1").arg(m_trainError));
        m_speed->setText(tr("Failed: %1").arg(m_trainError));
        if (m_progress->maximum() == 0) m_progress->setRange(0, 1);
    } else if (m_trainCancelled) {
        // Only promise what is on disk: stopping in the first epoch keeps nothing.
        const bool kept =
            QFileInfo::exists(QDir(outputDir()).filePath(QStringLiteral("last.ckpt")));
        m_speed->setText(kept ? tr("Stopped. The last finished epoch is kept; Resume continues.")
                              : tr("Stopped before the first epoch finished; nothing was kept."));
        if (m_progress->maximum() == 0) m_progress->setRange(0, 1);
    } else {
        m_progress->setValue(m_progress->maximum());
        m_finishedModel = best;
        m_open->setEnabled(QFileInfo::exists(best));
        m_open->setDefault(true);
        m_speed->setText(tr("Finished. Open the best model in the explorer?"));
        appendLog(tr("Finished: the best model is %1").arg(best));
    }
    static_cast<Page*>(page(RunPageId))->changed();
    Q_EMIT trainingFinished(m_trainCancelled || !m_trainError.isEmpty());
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
