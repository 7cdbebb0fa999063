#pragma once
// Under a panel: the deletion and insertion curves of the map it shows (RISE's metrics, as the
// evaluation scores them: explorer_metrics.h), each line over its shaded area, the two AUCs in
// the legend and the score kind on the axis. Plain vectors in; no tensors.

#include <QWidget>
#include <vector>

class QChart;
class QChartView;
class QLineSeries;
class QAreaSeries;
class QValueAxis;

namespace camx::ui {

struct CurveResult;

class FaithfulnessChart : public QWidget {
    Q_OBJECT
public:
    explicit FaithfulnessChart(QWidget* parent = nullptr);

    // The curves of `r` (r.error: says so instead); `className` names the class scored.
    void showCurve(const CurveResult& r, const QString& className);
    // No curve, a note in its place ("computing…").
    void showMessage(const QString& text);

    bool hasCurve() const { return m_hasCurve; }
    QString message() const { return m_message; }
    // What is drawn, for tests: the points of each line, and the AUCs the legend states.
    std::vector<QPointF> deletionPoints() const;
    std::vector<QPointF> insertionPoints() const;
    double deletionAuc() const { return m_deletionAuc; }
    double insertionAuc() const { return m_insertionAuc; }
    QString legendText() const;  // the two series' names, "; " between
    QString title() const;

    QSize sizeHint() const override { return {420, 170}; }
    QSize minimumSizeHint() const override { return {200, 130}; }

private:
    void clearSeries();

    QChart* m_chart;
    QChartView* m_view;
    QLineSeries* m_deletion;
    QLineSeries* m_insertion;
    QLineSeries* m_deletionBase;
    QLineSeries* m_insertionBase;
    QAreaSeries* m_deletionArea;
    QAreaSeries* m_insertionArea;
    QValueAxis* m_x;
    QValueAxis* m_y;
    bool m_hasCurve = false;
    QString m_message;
    double m_deletionAuc = 0, m_insertionAuc = 0;
};

}  // namespace camx::ui
