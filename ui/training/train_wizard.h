#pragma once
// The training wizard: dataset, model, hyperparameters (course preset one click away), device
// and output folder, then a run page with live loss and accuracy curves, progress, img/s, ETA,
// cancel, resume and a log. Training runs on a worker thread through core's trainModel; the GUI
// thread only receives numbers. Closing during training asks first and stops cleanly: checkpoints
// are written atomically after each finished epoch, so none is ever left half-written.

#include <QFutureWatcher>
#include <QUrl>
#include <QWizard>
#include <atomic>
#include <memory>

#include "common/job.h"
#include "data/dataset.h"
#include "train/train_config.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace camx::ui {

class TrainingCharts;
class WeightsDownloader;

class TrainWizard : public QWizard {
    Q_OBJECT
public:
    enum PageId { DatasetPageId, ModelPageId, HyperPageId, OutputPageId, RunPageId };

    explicit TrainWizard(QWidget* parent = nullptr);
    ~TrainWizard() override;

    // Pre-fills the dataset page (loads it in the background).
    void setDatasetPath(const QString& dir);
    const Dataset* dataset() const { return m_dataset.get(); }
    bool datasetLoading() const { return m_datasetJob.isRunning(); }

    // The configuration the pages describe.
    TrainConfig config() const;
    void applyConfig(const TrainConfig& c);  // fills the model and hyperparameter pages
    QString outputDir() const;
    void setOutputDir(const QString& dir);

    // Run page.
    void startTraining(bool resume);
    void cancelTraining();
    bool isTraining() const { return m_trainJob.isRunning(); }
    bool isStopping() const { return m_closeAfterStop; }  // asked to stop and close
    TrainingCharts* charts() const { return m_charts; }
    QString logText() const;
    QString finishedModel() const { return m_finishedModel; }

    // Where Download fetches from (default: download.pytorch.org) and saves to (default: the
    // weights cache). For tests and mirrors.
    void setWeightsSource(const QUrl& baseUrl, const QString& cacheDir);

    // Asked before closing while training runs; tests answer it.
    void setConfirmClose(std::function<bool()> ask) { m_confirmClose = std::move(ask); }

Q_SIGNALS:
    void datasetLoaded();
    void weightsDownloaded(const QString& error);  // empty on success
    void trainingFinished(bool cancelled);
    void openModelRequested(const QString& checkpoint);

protected:
    void done(int result) override;
    void closeEvent(QCloseEvent* e) override;

private:
    QWizardPage* makeDatasetPage();
    QWizardPage* makeModelPage();
    QWizardPage* makeHyperPage();
    QWizardPage* makeOutputPage();
    QWizardPage* makeRunPage();
    void appendLog(const QString& line);
    void onStep(int epoch, int step, int steps, double loss, double acc, double ips);
    void onTrainingDone();
    bool confirmStop();
    void updateResumeState();

    // Dataset page.
    QLineEdit* m_dataPath;
    QString m_requestedPath;  // what was last read (or is being read)
    QLabel* m_dataReport;
    std::unique_ptr<Dataset> m_dataset;
    QFutureWatcher<void> m_datasetJob;
    std::unique_ptr<Dataset> m_loadingDataset;
    QString m_loadError;
    // Model page.
    QComboBox* m_arch;
    QComboBox* m_init;  // random / ImageNet file
    QLineEdit* m_weights;
    QPushButton* m_download;
    QProgressBar* m_downloadProgress;
    QLabel* m_downloadStatus;
    WeightsDownloader* m_downloader;
    QUrl m_weightsBase;
    QString m_weightsDir;
    QString weightsDir() const;
    QSpinBox* m_inputSize;
    QComboBox* m_mode;  // fine-tune / frozen backbone
    QSpinBox* m_width;
    // Hyperparameters.
    QSpinBox* m_epochs;
    QSpinBox* m_batch;
    QComboBox* m_optimizer;
    QDoubleSpinBox* m_lr;
    QDoubleSpinBox* m_momentum;
    QDoubleSpinBox* m_decay;
    QComboBox* m_schedule;
    QDoubleSpinBox* m_warmup;
    QDoubleSpinBox* m_smoothing;
    QCheckBox* m_flip;
    QCheckBox* m_crop;
    QCheckBox* m_jitter;
    QSpinBox* m_bnRecal;
    QSpinBox* m_seed;
    // Device and output.
    QComboBox* m_device;
    QCheckBox* m_amp;
    QLineEdit* m_outDir;
    QLabel* m_outInfo;
    // Run page.
    TrainingCharts* m_charts;
    QProgressBar* m_progress;
    QLabel* m_speed;
    QPushButton* m_start;
    QPushButton* m_resume;
    QPushButton* m_cancel;
    QPushButton* m_open;
    QPlainTextEdit* m_log;

    CancelToken m_cancelToken;
    QFutureWatcher<void> m_trainJob;
    QString m_trainError;
    bool m_trainCancelled = false;
    QString m_finishedModel;
    std::function<bool()> m_confirmClose;
    double m_lastIps = 0;
    int m_epochsForRun = 0;
    bool m_closeAfterStop = false;
};

}  // namespace camx::ui
