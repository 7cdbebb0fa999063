#pragma once
// The main window: dataset panel on the left, comparison view in the middle (or the start page
// while nothing is open), menus, shortcuts, remembered settings, drag and drop, and a status bar
// with the prediction and the device.
//
// Ownership: the window owns the Workspace (the open dataset, model, split, threshold and
// evaluation, shared with the views and jobs by shared_ptr) and the views. It wires the
// workspace's change signals to the views and turns user actions into workspace calls; it keeps
// no copy of the shared state itself.

#include <QFutureWatcher>
#include <QMainWindow>
#include <QMessageBox>
#include <QPointer>
#include <chrono>
#include <memory>

#include "browser/open_dataset_dialog.h"
#include "common/job.h"
#include "data/dataset.h"
#include "explorer/explain_controller.h"
#include "export/grid_export_dialog.h"
#include "figures/figure_writer.h"
#include "model/model_input_dialog.h"
#include "workspace.h"

class QLabel;
class QProgressBar;
class QMenu;
class QStackedWidget;
class QDockWidget;

namespace camx {
class ModelSession;
struct ModelInfo;
}  // namespace camx

namespace camx::ui {

class BrowserPanel;
class DatasetModel;
class EvalDashboard;
class ExplorerView;
class TrainWizard;
class StartPage;
class DemoSetup;
class LoadReportDialog;
class MaskOutlineLoader;
class SanityDialog;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    // Both load in the background (a newer request replaces a running one); errors show a dialog
    // naming the problem (unless `quietErrors`, for tests) and leave the window as it was.
    // A TorchScript model is code: one from outside the user's own folders opens only once the
    // user says so (trustPrompt(), remembered per file or folder), and one whose file does not say
    // what input it takes asks for it first (modelInputDialog(), remembered per file). A Keras
    // model (.h5, .hdf5, .keras) asks how its input was preprocessed (kerasPrompt(), remembered
    // per file). The questions are window-modal and never block the caller.
    // A folder alone opens the way it was last opened (its format and metadata folder, when
    // one was chosen), else with the format detected; a choice says how.
    void openDataset(const QString& dir);
    void openDataset(const DatasetChoice& choice);
    void openModel(const QString& file);
    // File ▸ Open Dataset…: the folder, format and metadata folder (window-modal, never blocks
    // the caller); Open opens what it says.
    void showOpenDatasetDialog();
    OpenDatasetDialog* openDatasetDialog() const { return m_openDialog; }
    // File ▸ Dataset Load Report: what the open dataset's reader listed, loaded, skipped and
    // repaired, issue by issue (created on first use).
    void showLoadReport();
    LoadReportDialog* loadReport() const { return m_loadReport; }
    // Model ▸ Model Input: the open TorchScript model's input size and normalisation; reopens
    // it when the answers change them.
    void editModelInput();
    // An image from outside the dataset: no ground truth, so no IoU.
    void openExternalImage(const QString& path);
    // At start without files on the command line: reopens the last dataset and model, unless the
    // user turned that off or the previous start ended while opening them (no crash loop). A
    // TorchScript model is never opened at start (its code would run unasked): the status bar
    // says so, and File ▸ Recent Models offers it. Returns whether it started opening anything.
    bool reopenLast();
    // The start page's "Try the demo": opens the cached demo, or makes it in the background.
    void tryDemo();
    bool isStartPageShown() const;

    // The first size of a window with no remembered geometry, for a screen's available area.
    static QSize initialSize(const QSize& available);

    // For tests and the status bar. The pointers are valid until the next change signal.
    Workspace* workspace() const { return m_workspace; }
    const Dataset* dataset() const { return m_workspace->dataset().get(); }
    ModelSession* model() const { return m_workspace->model().get(); }
    StartPage* startPage() const { return m_start; }
    ExplorerView* explorer() const { return m_explorer; }
    BrowserPanel* browser() const { return m_browser; }
    ExplainController* controller() const { return m_controller; }
    QString lastError() const { return m_lastError; }
    // The questions a model's open is waiting on, while they are shown (tests): a TorchScript
    // model's trust and input, a Keras model's preprocessing.
    QMessageBox* trustPrompt() const { return m_trustPrompt; }
    ModelInputDialog* modelInputDialog() const { return m_inputDialog; }
    QMessageBox* kerasPrompt() const { return m_kerasPrompt; }
    void setQuietErrors(bool quiet) { m_quietErrors = quiet; }
    bool isLoading() const;
    // Saves the comparison figure; the format follows the suffix: .png, .jpg, .svg or .pdf.
    bool saveFigureTo(const QString& file, const ExportOptions& options = {},
                      QString* error = nullptr);
    // Builds a grid figure in the background (progress, cancel); gridExported reports the end.
    // Returns false (with `error`) when the request cannot start.
    bool startGridExport(const GridExportRequest& request, QString* error = nullptr);
    bool isExportingGrid() const { return m_gridJob.isRunning(); }

    EvalDashboard* dashboard() const { return m_dashboard; }
    void showDashboard();
    // The sanity check of panel `panel`'s map (Tools ▸ Sanity Check): a dialog with progress and
    // Cancel, then its strip. False when the panel has no map.
    bool startSanityCheck(int panel = 0);
    SanityDialog* sanityDialog() const;
    TrainWizard* showTrainWizard();

Q_SIGNALS:
    void datasetLoaded();
    void modelLoaded();
    void explanationShown();
    void errorShown(const QString& message);
    // A model's open waits on the user: trustPrompt(), modelInputDialog() or kerasPrompt() is
    // shown.
    void modelQuestionAsked();
    void gridExported(const QString& file, const QString& error);

protected:
    void closeEvent(QCloseEvent* e) override;
    void dragEnterEvent(QDragEnterEvent* e) override;
    void dropEvent(QDropEvent* e) override;

private:
    void buildActions();
    void showError(const QString& title, const QString& message);
    void addRecent(const QString& key, const QString& value);
    void rebuildRecentMenus();
    void onCurrentRow(int row);
    void requestCurrent();
    void onReady(std::shared_ptr<const ExplainResult> r);
    void updateStatus();
    void copyFigure();
    void saveFigure();
    void restoreSettings();
    void exportGrid();
    void onDatasetChanged();
    void onModelChanged();
    void onEvaluationChanged();
    void onDatasetLoadFinished(const QString& dir, const QString& error);
    void onModelLoadFinished(const QString& file, const QString& error);
    void onModelOpenHeld(const QString& file, Workspace::Hold why);
    // `atStartup`: reopenLast's open, which runs no TorchScript model.
    void startModelOpen(const QString& file, bool atStartup);
    void askTrust(const QString& file);
    // A Keras model's input preprocessing (kerasPrompt()); the answer is remembered per file.
    void askKerasPreprocess(const QString& file);
    // `current`: what the controls start from; `error`: why the last answers did not work.
    void askModelInput(const QString& file, const ScriptMeta& current, const QString& error,
                       bool hasMetadata, bool reopenOnlyIfChanged);
    void closeModelQuestions();
    // The model's name and kind for the status bar, and its whole description for the tooltip.
    QString modelSummary(const ModelInfo& info) const;
    void updateTitle();
    void updateStartPage();
    void updateBusy();
    void showStatus(const QString& message, int timeoutMs = 0);
    void clearImage();
    QString defaultFigureName() const;
    void finishStartupOpen();

    Workspace* m_workspace;
    QStackedWidget* m_stack;
    StartPage* m_start;
    DemoSetup* m_demo;
    QDockWidget* m_dock;
    DatasetModel* m_datasetModel;
    BrowserPanel* m_browser;
    ExplorerView* m_explorer;
    ExplainController* m_controller;
    QFutureWatcher<void> m_gridJob;
    std::shared_ptr<CancelToken> m_gridCancel;  // the running grid export's
    EvalDashboard* m_dashboard;
    TrainWizard* m_wizard = nullptr;
    QString m_external;  // path of a dropped image, when one is shown
    int m_row = -1;
    QLabel* m_prediction;
    QLabel* m_modelLabel;  // the model's file name, its path in the tooltip
    QLabel* m_device;
    QLabel* m_timing;
    QProgressBar* m_busy;  // no text: m_busyText says what runs
    QLabel* m_busyText;
    // What each kind of background work last reported; updateBusy shows one of them.
    struct BusyProgress {
        int done = 0;
        int total = 0;  // 0: unknown
        QString what;
    };
    BusyProgress m_datasetProgress, m_demoProgress, m_explainProgress;
    bool m_explaining = false;
    bool m_openingLast = false;  // reopenLast() is opening: cleared once both loads end
    QString m_startupModel;      // the model reopenLast() opens: not asked about when held
    QString m_startupNotice;     // why reopenLast() left the last model closed, shown once
    QPointer<OpenDatasetDialog> m_openDialog;
    QPointer<SanityDialog> m_sanityDialog;
    LoadReportDialog* m_loadReport = nullptr;
    QAction* m_loadReportAction = nullptr;
    // How the dataset being opened (or open) was asked for: remembered for its folder once read.
    DatasetChoice m_datasetChoice;
    MaskOutlineLoader* m_masks;
    QPointer<QMessageBox> m_trustPrompt;
    QPointer<ModelInputDialog> m_inputDialog;
    QPointer<QMessageBox> m_kerasPrompt;
    QAction* m_modelInputAction = nullptr;
    // A message that the next explanation must not clear (what a new model is and its notes).
    std::chrono::steady_clock::time_point m_keepStatusUntil{};
    QMenu* m_recentData = nullptr;
    QMenu* m_recentModels = nullptr;
    QString m_lastError;
    bool m_quietErrors = false;
};

}  // namespace camx::ui
