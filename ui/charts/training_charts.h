#pragma once
// Live training curves: loss and accuracy, per step (training batches) and per epoch (training
// and validation). Points arrive from the trainer's thread through the wizard; the series are
// updated at most a few times per second so fast GPUs do not flood the GUI thread.
// A resumed run continues the same curves: the wizard keeps the per-batch points of the finished
// epochs drawn in this session and takes the per-epoch points from the checkpoint's history.

#include <QList>
#include <QPointF>
#include <QTimer>
#include <QWidget>
#include <vector>

#include "nn/checkpoint.h"

QT_BEGIN_NAMESPACE
class QChartView;
class QLineSeries;
class QValueAxis;
QT_END_NAMESPACE

namespace camx::ui {

class TrainingCharts : public QWidget {
    Q_OBJECT
public:
    explicit TrainingCharts(QWidget* parent = nullptr);

    void clear(int epochs);
    // The x axis spans at least `epochs` (a resumed run may aim further than the first).
    void setEpochs(int epochs);
    // Replaces the per-epoch points (a checkpoint's history, when a run resumes).
    void setHistory(const std::vector<EpochRecord>& history);
    // Removes the per-batch points past `epoch` (those of an epoch that did not finish).
    void dropStepsAfter(double epoch);
    // x is the (fractional) epoch: epoch + (step + 1) / stepsPerEpoch.
    void addStep(double x, double loss, double accuracy);
    void addEpoch(const EpochRecord& record);
    void flush();  // draws what is pending now

    int stepPoints() const;
    int epochPoints() const;
    QChartView* lossView() const { return m_lossView; }
    QChartView* accuracyView() const { return m_accView; }

private:
    QChartView* m_lossView;
    QChartView* m_accView;
    QLineSeries* m_stepLoss;
    QLineSeries* m_stepAcc;
    QLineSeries* m_trainLoss;
    QLineSeries* m_valLoss;
    QLineSeries* m_trainAcc;
    QLineSeries* m_valAcc;
    QValueAxis* m_lossX;
    QValueAxis* m_lossY;
    QValueAxis* m_accX;

    QList<QPointF> m_pendingLoss, m_pendingAcc;
    double m_maxLoss = 1;
    QTimer m_flush;
};

}  // namespace camx::ui
