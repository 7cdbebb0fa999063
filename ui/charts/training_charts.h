#pragma once
// Live training curves: loss and accuracy, per step (training batches) and per epoch (training
// and validation). Points arrive from the trainer's thread through the wizard; the series are
// updated at most a few times per second so fast GPUs do not flood the GUI thread.

#include <QList>
#include <QPointF>
#include <QTimer>
#include <QWidget>

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
