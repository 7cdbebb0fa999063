#pragma once
// The main window: dataset panel on the left, comparison view in the middle, menus, shortcuts,
// remembered settings, drag and drop, and a status bar with the prediction and the device.

#include <QFutureWatcher>
#include <QMainWindow>
#include <memory>

#include "common/job.h"
#include "data/dataset.h"
#include "explorer/explain_controller.h"
#include "export/grid_export_dialog.h"
#include "figures/figure_writer.h"

class QLabel;
class QProgressBar;
class QMenu;

namespace camx {
class ModelSession;
}

namespace camx::ui {

class BrowserPanel;
class DatasetModel;
class EvalDashboard;
class ExplorerView;
class TrainWizard;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    // Both load in the background; errors show a dialog naming the problem (unless
    // `quietErrors`, for tests) and leave the window as it was.
    void openDataset(const QString& dir);
    void openModel(const QString& file);
    // An image from outside the dataset: no ground truth, so no IoU.
    void openExternalImage(const QString& path);

    // For tests and the status bar.
    const Dataset* dataset() const { return m_dataset.get(); }
    ModelSession* model() const { return m_model.get(); }
    ExplorerView* explorer() const { return m_explorer; }
    BrowserPanel* browser() const { return m_browser; }
    ExplainController* controller() const { return m_controller; }
    QString lastError() const { return m_lastError; }
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
    TrainWizard* showTrainWizard();

Q_SIGNALS:
    void datasetLoaded();
    void modelLoaded();
    void explanationShown();
    void errorShown(const QString& message);
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
    void refreshDashboard();

    std::unique_ptr<Dataset> m_dataset;
    std::shared_ptr<ModelSession> m_model;
    DatasetModel* m_datasetModel;
    BrowserPanel* m_browser;
    ExplorerView* m_explorer;
    ExplainController* m_controller;
    QFutureWatcher<void> m_datasetJob;
    QFutureWatcher<void> m_modelJob;
    QFutureWatcher<void> m_gridJob;
    CancelToken m_gridCancel;
    EvalDashboard* m_dashboard;
    TrainWizard* m_wizard = nullptr;
    QString m_external;  // path of a dropped image, when one is shown
    int m_row = -1;
    QLabel* m_prediction;
    QLabel* m_device;
    QLabel* m_timing;
    QProgressBar* m_busy;
    QMenu* m_recentData = nullptr;
    QMenu* m_recentModels = nullptr;
    QString m_lastError;
    bool m_quietErrors = false;
};

}  // namespace camx::ui
