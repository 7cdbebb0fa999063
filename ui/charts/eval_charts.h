#pragma once
// The evaluation dashboard's charts, built from plain evaluation results. Every Qt Charts type
// the project uses lives in ui/charts.

#include <QString>
#include <vector>

#include "eval/evaluator.h"

QT_BEGIN_NAMESPACE
class QChart;
class QChartView;
QT_END_NAMESPACE

namespace camx::ui {

// IoU histogram bins: [0, 0.1), [0.1, 0.2), ..., [0.9, 1.0].
constexpr int kIouBins = 10;
int iouBin(double iou);
// Per method: how many records fall in each bin (records without the score, or of images
// without ground-truth boxes, are skipped).
std::vector<int> iouHistogram(const std::vector<ImageRecord>& records, Method method, int tap);
// Evaluated images, none of them with a ground-truth box (an image folder): its IoU figures are
// zeros that mean nothing, and the charts and tables say so instead.
bool withoutBoxes(const MethodSummary& m);
// What a chart or table shows instead of those figures.
QString noBoxesText();

// The methods shown side by side: each method's summary at the given layer (CAM: last block).
std::vector<const MethodSummary*> summariesAt(const EvalSummary& summary, int tap, int lastTap);

QChart* makeIouHistogramChart(const std::vector<ImageRecord>& records,
                              const std::vector<const MethodSummary*>& methods);
QChart* makeLayerChart(const EvalSummary& summary, const std::vector<std::string>& tapNames);
// The τ sweep with MaxBoxAcc; for an evaluation with the WSOL protocol, its own threshold sweep
// (box accuracy at IoU 50, best contour) instead.
QChart* makeSweepChart(const EvalSummary& summary,
                       const std::vector<const MethodSummary*>& methods);
QChart* makeIouThresholdChart(const std::vector<const MethodSummary*>& methods);

// Writes what a chart view shows as PNG (at `widthPx`, 0: on-screen size x2) or SVG.
bool saveChart(QChartView* view, const QString& file, int widthPx, QString* error);

}  // namespace camx::ui
