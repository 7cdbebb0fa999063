#pragma once
// The evaluation dashboard: evaluates a split in the background (progress, cancel, resume),
// keeps the results next to the model and reloads them, and shows them as charts (IoU
// histograms, mean IoU per layer, threshold sweep with MaxBoxAcc, localisation accuracy against
// the IoU threshold) and a sortable per-breed table. Clicking a breed or a histogram bar asks the
// explorer to show those images.

#include <QFutureWatcher>
#include <QWidget>
#include <filesystem>
#include <memory>
#include <optional>

#include "common/job.h"
#include "data/dataset.h"
#include "eval/evaluator.h"

QT_BEGIN_NAMESPACE
class QChartView;
QT_END_NAMESPACE
class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QStandardItemModel;
class QTableView;

namespace camx {
class ModelSession;
}

namespace camx::ui {

class EvalDashboard : public QWidget {
    Q_OBJECT
public:
    explicit EvalDashboard(QWidget* parent = nullptr);
    ~EvalDashboard() override;

    // What to evaluate; reloads a saved evaluation of this model and split when there is one.
    void setContext(std::shared_ptr<ModelSession> model, const Dataset* dataset, SplitKind split);
    // Evaluates in the background; `limit` 0: the whole split.
    void startEvaluation(std::size_t limit = 0);
    void cancel();
    bool isRunning() const;
    // Where results are kept: next to the model (evaluationDirFor).
    std::filesystem::path resultsDir() const;
    // The results shown: after an evaluation, or once a saved one has been read (resultsChanged).
    const SavedEvaluation* results() const { return m_results ? &*m_results : nullptr; }
    QString message() const;

    // For tests and export.
    enum ChartId { Histogram, Layers, Sweep, IouThreshold, ChartCount };
    QChartView* chartView(ChartId id) const { return m_charts[id]; }
    QTableView* breedTable() const { return m_table; }
    // Rows of the split whose IoU falls in a histogram bin for the i-th shown method.
    std::vector<int> rowsInBin(int methodIndex, int bin) const;

Q_SIGNALS:
    void resultsChanged();  // loaded or finished
    void finished(bool cancelled);
    void showImages(const std::vector<int>& rows, const QString& description);
    void showBreed(int label);
    void errorOccurred(const QString& message);

private:
    void rebuild();
    void onProgress(int done, int total);
    void onFinished();
    void tryReload();  // in the background
    void onLoaded();
    void saveChartAs(int id);

    std::shared_ptr<ModelSession> m_model;
    const Dataset* m_dataset = nullptr;
    SplitKind m_split = SplitKind::Test;
    std::optional<SavedEvaluation> m_results;
    std::vector<std::string> m_tapNames;
    int m_lastTap = -1;

    struct LoadedEvaluation {
        int generation = 0;
        std::filesystem::path dir;
        std::optional<SavedEvaluation> evaluation;
        QString error;
    };
    QFutureWatcher<std::shared_ptr<LoadedEvaluation>> m_load;
    int m_loadGeneration = 0;
    EvalOptions m_runOptions;

    // One evaluation run: what its worker fills in, read on the GUI thread once it has finished.
    // The worker holds the run, the model and its own copy of the split, so a context switch can
    // cancel it and move on without waiting for it.
    struct Run {
        int context = 0;  // m_context when it started
        std::filesystem::path dir;
        QString modelName;
        std::optional<EvalResult> result;  // empty when cancelled or failed
        QString error;
    };
    int m_context = 0;  // bumped by setContext
    std::shared_ptr<Run> m_runState;
    CancelToken m_cancel;
    QFutureWatcher<void> m_job;

    QComboBox* m_layers;  // what to evaluate: last block / every block
    QComboBox* m_view;    // which layer the per-method charts show
    QSpinBox* m_limit;
    QPushButton* m_run;
    QPushButton* m_stop;
    QProgressBar* m_progress;
    QLabel* m_status;
    QLabel* m_summary;
    QChartView* m_charts[ChartCount] = {};
    QStandardItemModel* m_breeds;
    QTableView* m_table;
};

}  // namespace camx::ui
