#pragma once
// The evaluation dashboard: evaluates a split in the background (progress, cancel, resume),
// keeps the results next to the model and reloads them, and shows them as charts (IoU
// histograms, mean IoU per layer, threshold sweep with MaxBoxAcc, localisation accuracy against
// the IoU threshold) and a sortable per-class table. Clicking a class or a histogram bar asks the
// explorer to show those images. Evaluations run with CAM Explorer's own protocol or with
// wsolevaluation's (chosen here, remembered); a WSOL evaluation's figures (MaxBoxAccV2 at IoU 30,
// 50 and 70 and their mean, MaxBoxAcc, PxAP) are shown in percent beside the figures published
// for the same benchmark (Dataset::benchmark). Images without ground-truth boxes count in no IoU
// figure; a split without any says so instead of showing zeros.
//
// A second page, Faithfulness, shows the faithfulness metrics of an evaluation that has them
// (eval/metric_eval.h; chosen for a new run under Metrics… next to Evaluate, remembered): a
// sortable table of every method at the shown layer and of the baseline maps, the deletion and
// insertion curves with their areas, ROAD's MoRF and LeRF curves and the sanity check's
// similarity per cascade step. Clicking a method's curve or row shows its best and worst images
// by that metric in the explorer.
//
// Ownership and threads: the dashboard observes a Workspace (dataset, model, split, τ) and hands
// it every evaluation it loads or finishes, tagged with the workspace context it was started or
// read under. Background work (a run, a read of saved results) holds its own shared_ptr to what
// it reads and to the state it fills in, and reports through a QFutureWatcher owned by the
// dashboard; the GUI thread never waits for it, and it never touches the dashboard. A context
// change cancels a run and lets it finish alone; what it finishes is never shown or stored under
// the new context.

#include <QFutureWatcher>
#include <QWidget>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>

#include "charts/faith_charts.h"
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
class QSplitter;
class QStandardItemModel;
class QTabWidget;
class QTableView;
class QToolButton;

namespace camx {
class ModelSession;
}

namespace camx::ui {

class Workspace;

class EvalDashboard : public QWidget {
    Q_OBJECT
public:
    explicit EvalDashboard(QWidget* parent = nullptr);
    ~EvalDashboard() override;

    // What to evaluate: the workspace's model, dataset and split, followed as they change.
    // Reloads a saved evaluation of this model and split when there is one, and hands loaded or
    // finished evaluations to the workspace. The workspace must outlive the dashboard.
    void setWorkspace(Workspace* workspace);
    // Evaluates in the background at the workspace's τ with the protocol chosen here; `limit`
    // 0: the whole split.
    void startEvaluation(std::size_t limit = 0);
    // The protocol (and WSOL threshold step) a new evaluation uses; remembered in the settings.
    void setProtocol(EvalProtocol protocol, double wsolStep = 0.01);
    EvalProtocol protocol() const;
    double wsolStep() const;
    // What Evaluate starts a run with (before its layers and limit): the explorer's τ, the
    // sweep, and the protocol and WSOL step chosen here.
    // ... and the faithfulness metrics chosen under Metrics….
    EvalOptions newRunOptions() const;
    // The faithfulness metrics a new evaluation computes, as parseMetricList reads them
    // ("deletion,insertion,road,drop,pointing,sanity", any subset, "" for none); remembered in
    // the settings. An unknown entry is ignored.
    void setMetricList(const QString& list);
    QString metricList() const;
    // Shows `evaluation` as if it had just been read for the current model and split (tests,
    // screenshots); it is handed to the workspace like any other.
    void showEvaluation(std::shared_ptr<const SavedEvaluation> evaluation);
    void cancel();
    // An evaluation of the current model and split is running (a run stopped by a context
    // switch, still winding down in the background, does not count).
    bool isRunning() const;
    // Where results are kept: next to the model (evaluationDirFor).
    std::filesystem::path resultsDir() const;
    // The results shown: after an evaluation, or once a saved one has been read (resultsChanged).
    const SavedEvaluation* results() const { return m_results.get(); }
    std::shared_ptr<const SavedEvaluation> evaluation() const { return m_results; }
    QString message() const;
    // What the shown evaluation was made with ("τ 0.20 · box: … · score: …"), empty without one.
    QString evaluationSettings() const;
    // The shown evaluation was made at another τ than the explorer's: the warning, else empty.
    QString staleWarning() const;
    bool isStale() const;

    // For tests and export.
    enum ChartId {
        Histogram,
        Layers,
        Sweep,
        IouThreshold,
        // The Faithfulness page's.
        Deletion,
        Insertion,
        Road,
        Sanity,
        ChartCount
    };
    QChartView* chartView(ChartId id) const { return m_charts[id]; }
    QTableView* breedTable() const { return m_table; }  // one row per class
    QTabWidget* pages() const { return m_pages; }       // Localisation, Faithfulness
    QWidget* faithPage() const { return m_faithPage; }
    // One row per method at the shown layer, then the baselines; column 0 the method.
    QTableView* faithTable() const { return m_faithTable; }
    // Said instead of the faithfulness view when the evaluation has no metrics (else empty).
    QString faithMessage() const;
    // The sanity chart shows SSIM instead of Spearman.
    void setSanityShowsSsim(bool ssim);
    // Emits showImages with the method's best and worst images by `metric` (best first).
    void showBestAndWorst(Method method, int tap, FaithMetric metric);
    QProgressBar* progressBar() const { return m_progress; }
    // Rows of the split whose IoU falls in a histogram bin for the i-th shown method.
    std::vector<int> rowsInBin(int methodIndex, int bin) const;
    // Rows of the split of a class's evaluated images (what its table row counts).
    std::vector<int> rowsOfBreed(int label) const;
    // The file name a chart is saved under by default: "histogram-best-test.png".
    QString defaultChartFileName(ChartId id) const;

Q_SIGNALS:
    void resultsChanged();  // loaded or finished
    // A run of this dashboard ended (cancelled: stopped, failed, or stopped by a context switch).
    void finished(bool cancelled);
    void showImages(const std::vector<int>& rows, const QString& description);
    // No longer emitted: a class click shows its evaluated images through showImages.
    void errorOccurred(const QString& message);

private:
    struct Run;
    struct LoadedEvaluation;

    void setContext(std::shared_ptr<ModelSession> model, std::shared_ptr<const Dataset> dataset,
                    SplitKind split, std::uint64_t context);
    void setResults(std::shared_ptr<const SavedEvaluation> results, std::uint64_t context);
    void rebuild();
    // The WSOL figures of the shown evaluation and the published ones for the benchmark.
    void rebuildWsol(const std::vector<const MethodSummary*>& shown);
    // The faithfulness page: table, curves, sanity chart (or why there are none).
    void rebuildFaith(const std::vector<const MethodSummary*>& shown);
    void updateMetricsButton();
    void updateSettingsLine();
    void updateSplitCombo();
    void updateButtons();
    void onRunFinished(const std::shared_ptr<Run>& run);
    void tryReload();  // in the background
    void onLoaded(const std::shared_ptr<LoadedEvaluation>& loaded);
    void saveChartAs(int id);
    QString splitName(SplitKind split) const;

    Workspace* m_workspace = nullptr;
    std::shared_ptr<ModelSession> m_model;
    std::shared_ptr<const Dataset> m_dataset;
    SplitKind m_split = SplitKind::Test;
    // Bumped by every setContext: what a background job compares its own number with.
    std::uint64_t m_generation = 0;
    // The workspace's context() the shown state belongs to (what setEvaluation is told).
    std::uint64_t m_context = 0;
    std::shared_ptr<const SavedEvaluation> m_results;
    std::vector<std::string> m_tapNames;
    int m_lastTap = -1;
    // The run of the current context, if any; runs stopped by a switch are only counted.
    std::shared_ptr<Run> m_run;
    std::vector<std::shared_ptr<Run>> m_windingDown;

    QComboBox* m_splitCombo;  // the workspace's split, among the ones the dataset has
    QComboBox* m_protocol;    // ours / WSOL
    QComboBox* m_wsolStep;    // 0.01 / 0.001
    QComboBox* m_layers;      // what to evaluate: last block / every block
    QComboBox* m_view;        // which layer the per-method charts show
    QSpinBox* m_limit;
    QPushButton* m_evaluate;
    QPushButton* m_stop;
    QProgressBar* m_progress;
    QLabel* m_status;
    QLabel* m_notice;  // what became of a run stopped by the last context switch
    std::weak_ptr<Run> m_noticeFor;
    QLabel* m_settings;  // τ, box rule and score of the shown evaluation
    QLabel* m_stale;     // shown when the explorer's τ differs from the evaluation's
    QLabel* m_summary;
    QWidget* m_wsolBox;     // the WSOL figures and the published ones, when there are some
    QLabel* m_wsolFigures;  // the shown evaluation's, in percent
    QLabel* m_published;    // Choe et al.'s for the dataset's benchmark
    QChartView* m_charts[ChartCount] = {};
    QStandardItemModel* m_breeds;
    QTableView* m_table;
    QToolButton* m_metricsButton;  // the faithfulness metrics of a new run
    QTabWidget* m_pages;
    QWidget* m_faithPage;
    QLabel* m_faithMessage;
    QWidget* m_faithBody;
    QSplitter* m_faithSplit;     // the table over the charts
    QComboBox* m_sanityMeasure;  // Spearman / SSIM
    QStandardItemModel* m_faith;
    QTableView* m_faithTable;
    std::vector<FaithMetric> m_faithColumns;  // the metric of each column from 2 on
};

}  // namespace camx::ui
