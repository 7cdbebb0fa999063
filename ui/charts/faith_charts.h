#pragma once
// The evaluation dashboard's faithfulness view, built from plain evaluation results
// (eval/metric_eval.h): the metrics' names, directions and per-image values, the ranking of a
// method's images by one of them, and the charts (deletion and insertion curves with their
// areas, ROAD's MoRF and LeRF curves, the sanity check's similarity per cascade step).

#include <QColor>
#include <QString>
#include <optional>
#include <vector>

#include "eval/evaluator.h"

QT_BEGIN_NAMESPACE
class QChart;
QT_END_NAMESPACE

namespace camx::ui {

enum class FaithMetric {
    DeletionAuc,
    InsertionAuc,
    RoadCombined,
    AvgDrop,
    IncreaseInConfidence,
    PointingGame,
    EnergyPointingGame,
    Sanity,  // per image: the mean Spearman correlation over the cascade's steps
};
// The table's columns, in order (Sanity is charted, not tabled).
const std::vector<FaithMetric>& faithTableMetrics();
QString faithMetricName(FaithMetric m);    // "Deletion AUC"
QString faithMetricHeader(FaithMetric m);  // "Deletion\nAUC ↓": two lines, with the direction
QString faithMetricTip(FaithMetric m);     // what it means and which direction is better
bool faithLowerIsBetter(FaithMetric m);
int faithDecimals(FaithMetric m);  // 3 for scores, 1 for percentages
// The split's mean (the summary's) and one image's value; empty where it was not measured.
std::optional<double> summaryMetric(const MetricSummary& s, FaithMetric m);
std::optional<double> imageMetric(const MapMetrics& m, FaithMetric metric);
// The rows of the split (ImageRecord::index) of the images with the metric for this method's
// map, best first (ties by row); images without it are left out.
std::vector<int> rankImagesBy(const std::vector<ImageRecord>& records, Method method, int tap,
                              FaithMetric metric);

// A method's colour and line style on the faithfulness charts: the methods' colours, and greys
// with dashes for the baseline maps.
QColor faithColour(Method m);
// "Grad-CAM" or "Random (baseline)".
QString faithMethodLabel(const MethodSummary& m);

// Deletion or insertion: mean score against the fraction of pixels removed / inserted, one
// line per method (named with its AUC) over a translucent area.
QChart* makeDeletionChart(const std::vector<const MethodSummary*>& methods, bool insertion);
// ROAD: mean score change against the percentile removed, MoRF solid and LeRF dashed.
QChart* makeRoadChart(const std::vector<const MethodSummary*>& methods,
                      const std::vector<int>& percentiles);
// The sanity check: similarity to the original map at each step of the cascade ("original"
// first at 1), Spearman or SSIM.
QChart* makeSanityChart(const std::vector<const MethodSummary*>& methods,
                        const std::vector<std::string>& steps, bool ssim);

}  // namespace camx::ui
