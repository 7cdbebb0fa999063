#pragma once
// The training wizard: dataset, model, hyperparameters (course preset one click away), device
// and output folder, then a run page with live loss and accuracy curves, progress, img/s, ETA,
// cancel, resume and a log. Training runs on a worker thread through core's trainModel; the GUI
// thread only receives numbers. Closing during training asks first and stops cleanly: checkpoints
// are written atomically after each finished epoch, so none is ever left half-written.
//
// Threads and ownership:
//  * The dataset is a shared_ptr<const Dataset>: with a Workspace, the explorer's open dataset
//    (never read a second time); otherwise, or once the user picks another folder, one the wizard
//    reads in the background.
//  * Every background job (dataset read, checkpoint inspection, training) owns what it touches:
//    its inputs by value or shared_ptr, its cancel token and its results in a shared state. No
//    worker captures `this`; what a job reports reaches the wizard through a queued call that
//    checks, on the GUI thread, that the wizard still exists.
//  * The destructor cancels the jobs and never waits for them: a dataset read stops at the next
//    file, training at the next step (checkpoints of finished epochs stay whole).

#include <QElapsedTimer>
#include <QFutureWatcher>
#include <QPointer>
#include <QTimer>
#include <QUrl>
#include <QWizard>
#include <cstdint>
#include <functional>
#include <memory>

#include "background_job.h"
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
class Workspace;

class TrainWizard : public QWizard {
    Q_OBJECT
public:
    enum PageId { DatasetPageId, ModelPageId, HyperPageId, OutputPageId, RunPageId };

    explicit TrainWizard(QWidget* parent = nullptr);
    ~TrainWizard() override;

    // Trains on the workspace's open dataset (without reading it again) and follows
    // datasetChanged until the user picks another folder on the dataset page. The workspace may
    // be destroyed before the wizard.
    void setWorkspace(Workspace* workspace);
    // Reads `dir` in the background (a newer call supersedes a read under way) and stops
    // following the workspace; the workspace's own folder is taken from the workspace instead.
    void setDatasetPath(const QString& dir);
    const Dataset* dataset() const { return m_dataset.get(); }
    std::shared_ptr<const Dataset> sharedDataset() const { return m_dataset; }
    bool datasetLoading() const { return m_datasetLoad != nullptr; }
    bool followsWorkspace() const { return m_workspace && m_followWorkspace; }

    // What reads the folders the user picks here (background_job.h). Empty (the default): the
    // workspace's reader, or openDataset without a workspace.
    void setDatasetReader(DatasetReader reader);

    // The configuration the pages describe.
    TrainConfig config() const;
    void applyConfig(const TrainConfig& c);  // fills the model and hyperparameter pages
    // Applies a named preset (core's applyTrainPreset) to the pages: only the fields it names
    // change, and the page says which ones did. Returns the changes.
    QStringList applyPreset(const QString& id);
    QString outputDir() const;
    void setOutputDir(const QString& dir);  // inspects the folder at once (in the background)
    // The output folder's last.ckpt is read off the GUI thread, 300 ms after the last edit.
    bool inspectingOutput() const { return m_inspectPending || m_inspecting > 0; }
    int outputInspections() const { return m_inspections; }  // reads started so far

    // Run page.
    void startTraining(bool resume);
    void cancelTraining();
    bool isTraining() const { return m_trainJob.isRunning(); }
    bool isStopping() const { return m_closeAfterStop; }  // asked to stop and close
    TrainingCharts* charts() const { return m_charts; }
    QString logText() const;
    QString finishedModel() const { return m_finishedModel; }

    // The first size on a screen whose free area is `available`: at most 1000×720, leaving room
    // for the window frame.
    static QSize initialSize(const QSize& available);

    // Where Download fetches from (default: download.pytorch.org) and saves to (default: the
    // weights cache). For tests and mirrors.
    void setWeightsSource(const QUrl& baseUrl, const QString& cacheDir);

    // Processes of a run (Device and output page): 1, or a local multi-process run (data
    // parallel) where this process is rank 0 and the others are worker programs.
    int processes() const;
    void setProcesses(int n);
    // The worker program of multi-process runs: cam-explorer-cli next to the application unless
    // set (tests).
    void setWorkerExecutable(const QString& path) { m_workerExe = path; }

    // Asked before closing while training runs; tests answer it.
    void setConfirmClose(std::function<bool()> ask) { m_confirmClose = std::move(ask); }

Q_SIGNALS:
    void datasetLoaded();
    void weightsDownloaded(const QString& error);  // empty on success
    void outputInspected();                        // the output folder's state is shown
    void trainingFinished(bool cancelled);
    void openModelRequested(const QString& checkpoint);

protected:
    void done(int result) override;
    void closeEvent(QCloseEvent* e) override;
    void showEvent(QShowEvent* e) override;

private:
    struct DatasetLoad;
    struct TrainRun;

    QWizardPage* makeDatasetPage();
    QWizardPage* makeModelPage();
    QWizardPage* makeHyperPage();
    QWizardPage* makeOutputPage();
    QWizardPage* makeRunPage();
    void applyFields(const TrainConfig& c, bool modelStart);
    void fitToScreen();
    void adoptWorkspaceDataset();
    void showDataset(std::shared_ptr<const Dataset> dataset, const QString& error);
    void inspectOutput();
    void updateModelHints();
    void setDownloadStatus(const QString& text);
    void updateWarmupWarning();
    void updatePrecisionChoices();
    void updateProcessChoices();
    void setPrecisionChoice(Precision p);
    void updateDefaultButton();
    void appendLog(const QString& line);
    void drainTrainEvents();
    void onStep(int epoch, int step, int steps, double loss, double acc, double ips);
    void onTrainingDone();
    bool confirmStop();

    // Dataset page.
    QLineEdit* m_dataPath;
    QString m_requestedPath;  // what was last read (or is being read)
    QLabel* m_dataReport;
    std::shared_ptr<const Dataset> m_dataset;
    std::shared_ptr<DatasetLoad> m_datasetLoad;  // the read under way, if any
    DatasetReader m_reader;                      // empty: see setDatasetReader
    QPointer<Workspace> m_workspace;
    bool m_followWorkspace = false;
    // Model page.
    QComboBox* m_arch;
    QComboBox* m_init;  // random / ImageNet file
    QLineEdit* m_weights;
    QLabel* m_weightsHint;  // why Next is disabled
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
    QLabel* m_presetNote;
    QLabel* m_warmupWarning;
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
    QComboBox* m_precision;  // Precision values
    QSpinBox* m_processes;
    QCheckBox* m_syncBn;
    QLabel* m_processNote;
    QString m_workerExe;
    QLineEdit* m_outDir;
    QLabel* m_outInfo;
    QTimer m_inspectTimer;  // debounces edits of the output folder
    bool m_inspectPending = false;
    int m_inspecting = 0;                   // reads under way
    int m_inspections = 0;                  // reads started
    std::uint64_t m_inspectGeneration = 0;  // only the newest read is shown
    bool m_canResume = false;
    // Run page.
    TrainingCharts* m_charts;
    QString m_chartsRun;  // the output folder whose run the charts show ("": none)
    QProgressBar* m_progress;
    QLabel* m_speed;
    QPushButton* m_start;
    QPushButton* m_resume;
    QPushButton* m_cancel;
    QPushButton* m_open;
    QPlainTextEdit* m_log;

    std::shared_ptr<TrainRun> m_run;  // the current or last run
    QFutureWatcher<void> m_trainJob;
    QString m_finishedModel;
    std::function<bool()> m_confirmClose;
    double m_lastIps = 0;
    int m_epochsForRun = 0;
    int m_firstStep = -1;
    QElapsedTimer m_runClock;  // since the run started (ETA)
    bool m_hasRun = false;     // a run has ended (Finish becomes the default button)
    bool m_closeAfterStop = false;
};

}  // namespace camx::ui
