#pragma once
// Evaluation of a whole split: per image the prediction and, for each method x tap, the box and
// its IoU; over the split mean IoU, localisation accuracy, top-1 and GT-known localisation,
// MaxBoxAcc and MaxBoxAccV2 with their threshold sweeps, per breed and per layer.
//
// Maps are made for the ground-truth class (GT-known, as the WSOL benchmark does); when the
// prediction is right that is also the predicted class's map, so top-1 localisation follows.
// Progress is kept in <out>/eval_partial.jsonl after every batch, so an interrupted run resumes
// where it stopped. The partial file is keyed by the content of what is evaluated (a digest of the
// model file, of the split's images, labels and boxes, and the settings), so a different model
// copied to the same path, or another dataset of the same size, starts afresh instead of reusing
// rows. The final outputs are written atomically.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/job.h"
#include "data/dataset.h"
#include "eval/metric_eval.h"
#include "explain/explanation.h"
#include "localize/boxes.h"

namespace camx {

class ModelSession;

// How maps become boxes and scores.
//  - Ours (the default, README "Localisation"): the map at the image's own size, inclusive
//    8-connected component boxes, the thresholds of `sweep`.
//  - Wsol: wsolevaluation's protocol exactly (eval/wsol_protocol.h): the map at 224 x 224
//    (bicubic, min-max), uint8 cuts, per-threshold contours, their IoU, their threshold list
//    (`wsolStep`), MaxBoxAcc, MaxBoxAccV2 at IoU 30/50/70 and PxAP on masks. The per-image box
//    and IoU at tau stay ours; the summary's box accuracies are theirs.
enum class EvalProtocol { Ours, Wsol };
const char* evalProtocolId(EvalProtocol p);  // "ours", "wsol"
bool parseEvalProtocol(const std::string& id, EvalProtocol* out);

struct EvalOptions {
    std::vector<Method> methods{Method::Cam, Method::GradCam};
    std::vector<int> taps;  // empty: the last block
    float tau = 0.2f;       // threshold for the reported box (CAM paper: 20 %)
    BoxMode mode = BoxMode::Largest;
    std::vector<float> sweep;  // thresholds for MaxBoxAcc; empty: none
    ScoreKind score = ScoreKind::Logit;
    int batchSize = 16;
    std::size_t limit = 0;  // first N images only; 0: all
    int loaderThreads = 0;
    // The backbone in bfloat16 (ExplainOptions::bf16): faster where the CPU has it, maps no
    // longer exact to fp32 rounding.
    bool bf16 = false;
    // The dataset's class names, in label order. Given, the model's classes are matched to them
    // (matchClasses); empty, labels are taken to be the model's class indices.
    std::vector<std::string> datasetClassNames;
    EvalProtocol protocol = EvalProtocol::Ours;
    // The WSOL protocol's threshold step: 0.01 as their evaluation.py command line, 0.001 as
    // their config.py.
    double wsolStep = 0.01;
    // Where to write every evaluated map as wsolevaluation's score maps: <dir>/<image id>.npy
    // (float64, 224 x 224, in [0, 1]), so their evaluation.py runs on them unchanged. With more
    // than one method or layer, each gets its own folder: <dir>/<method>@<layer>/. Empty: none.
    std::filesystem::path saveMapsDir;
    // Faithfulness metrics (eval/metric_eval.h); with any, the baseline maps (random, center,
    // sobel) are scored as well, as methods with layer -1.
    MetricOptions metrics;
    // The methods' options, as ExplainOptions: Finer-CAM's alpha and comparison ranks (empty:
    // its defaults), and the smoothing of every gradient method.
    double finerAlpha = 1.0;
    std::vector<int> finerCompare;
    bool augSmooth = false, eigenSmooth = false;

    static std::vector<float> defaultSweep(float step = 0.05f);  // 0, step, ..., < 1
};

struct MapScore {
    Method method;
    int tap;
    std::optional<Box> box;  // at tau, in the chosen mode
    double iou = 0;
    std::vector<float> sweepLargest;  // IoU of the largest component's box at each sweep threshold
    std::vector<float> sweepBest;     // IoU of the best component's box at each threshold
    // The WSOL protocol's outcome for this map, kept compact and exact: for each of
    // wsolV2Hits' IoU thresholds (30, 50, 70) and for wsolV1Hits (50, largest contour), the
    // half-open ranges [first, last) of score-map threshold indices at which the best box reaches
    // it. Empty without the protocol (or without boxes).
    std::vector<std::vector<std::pair<int, int>>> wsolV2Hits;
    std::vector<std::pair<int, int>> wsolV1Hits;
    // PxAP's two histograms for this map (foreground, background pixels per bin), sparse as
    // (bin, count) pairs. Empty without masks.
    std::vector<std::pair<int, std::int64_t>> wsolForeground, wsolBackground;
    // The faithfulness metrics of this map, when the evaluation asked for any.
    std::optional<MapMetrics> metrics;
};

struct ImageRecord {
    std::size_t index = 0;  // in the split
    std::string relPath;
    static constexpr int kSameAsLabel = -2;
    int label = -1;  // the dataset's label
    // That class among the model's outputs: -1 when the model has no such class, kSameAsLabel
    // when the model's classes are the dataset's.
    int modelLabel = kSameAsLabel;
    int classLabel() const { return modelLabel == kSameAsLabel ? label : modelLabel; }
    // False for an image without ground-truth boxes (an image folder, OpenImages' masks): its
    // IoU is not scored and it counts in no IoU figure.
    bool hasBoxes = true;
    int predicted = -1;
    float probability = 0;  // of the predicted class
    std::vector<ClassScore> top5;
    std::vector<MapScore> scores;

    const MapScore* find(Method m, int tap) const;
};

struct MethodSummary {
    Method method;
    int tap;
    std::string tapName;
    std::size_t images = 0;
    double meanIou = 0;
    double locAccuracy = 0;  // IoU >= 0.5
    double top1Loc = 0;      // correct class and IoU >= 0.5
    double gtKnownLoc = 0;   // IoU >= 0.5 with the true class's map
    // Our protocol's threshold sweep (connected components). Under the WSOL protocol these stay
    // 0 and empty: its MaxBoxAcc, MaxBoxAccV2 and curve (contours) are in `wsol` below.
    double maxBoxAcc = 0;  // best over tau of the fraction with IoU >= 0.5 (largest box)
    float maxBoxAccTau = 0;
    double maxBoxAccV2 = 0;  // mean over delta in {0.3,0.5,0.7} of the best over tau (best box)
    std::vector<double> sweepCurve;         // box accuracy (delta 0.5, largest) at each threshold
    std::vector<double> iouThresholdCurve;  // localisation accuracy at IoU >= 0.05, 0.10, ..., 0.95
    std::map<int, std::pair<double, double>> perBreed;  // label -> (mean IoU, loc accuracy)
    // Images with ground-truth boxes: only they count in the IoU figures above (an image folder
    // has none, and then they stay 0 with `images - boxedImages` saying why).
    std::size_t boxedImages = 0;

    // The WSOL protocol's figures, in percent as wsolevaluation reports them; set when the
    // evaluation used it.
    struct Wsol {
        std::vector<int> iouThresholds;     // 30, 50, 70
        std::vector<double> maxBoxAccV2At;  // per IoU threshold, every contour
        double maxBoxAccV2 = 0;             // their mean of the three
        double maxBoxAcc = 0;               // the largest contour at IoU 50
        std::vector<double> boxAccCurve50;  // every contour, IoU 50, per score-map threshold
        std::optional<double> pxap;         // where the split has masks
        std::size_t maskedImages = 0;
    };
    std::optional<Wsol> wsol;
    // The faithfulness metrics' means, when the evaluation asked for any.
    std::optional<MetricSummary> metrics;
};

struct EvalSummary {
    std::size_t images = 0;
    // Classification is scored only where the model's classes match the dataset's.
    bool classified = true;
    std::string classMatch;  // how they were matched, or why classification is not scored
    double top1 = 0, top5 = 0;
    std::vector<float> sweep;
    EvalProtocol protocol = EvalProtocol::Ours;
    std::vector<double> wsolThresholds;  // the WSOL protocol's score-map thresholds
    std::vector<MethodSummary> methods;
};

struct EvalResult {
    std::vector<ImageRecord> records;
    EvalSummary summary;
    std::size_t resumed = 0;  // records taken from an earlier, interrupted run
    // Images of the split that could not be decoded: not in the records, named here (and in
    // summary.json's "skipped_images"), never dropped silently. A resumed run tries them again.
    std::vector<LoadIssue> skipped;
    // Images scored only in part (a mask that cannot be read leaves the image out of PxAP):
    // named here and in summary.json's "warnings".
    std::vector<LoadIssue> warnings;
};

// Computes the summary from records (also used to rebuild it from a saved CSV/JSON).
EvalSummary summarize(const std::vector<ImageRecord>& records, const EvalOptions& options,
                      const std::vector<std::string>& tapNames);

// How a model's classes answer a dataset's: for each dataset label, the model's class index.
// Matched by name (case, '_' and '-' ignored; a 1000-class ImageNet model answers Stanford Dogs'
// 120 breeds), else by count and order, else not at all (`toModel` empty): then the evaluation
// explains the predicted class, scores localisation only and says why.
struct ClassMatch {
    std::vector<int> toModel;
    std::string how;  // "same names", "by name", "by count and order", or why none
};
ClassMatch matchClasses(const std::vector<std::string>& datasetNames,
                        const std::vector<std::string>& modelNames);

// Scores one image's maps against its boxes; shared by the evaluation and the explorer. Without
// boxes (`truth` empty) every IoU is 0; the records say so (ImageRecord::hasBoxes) and no IoU
// figure counts them.
MapScore scoreMap(const Heatmap& raw, Method method, int tap, int width, int height,
                  const std::vector<Box>& truth, const EvalOptions& options);

// Evaluates `split` with `model`, writing <outDir>/per_image.csv, summary.json and records.jsonl.
// Cancelled: throws camx::Cancelled and keeps <outDir>/eval_partial.jsonl, from which the next
// call with the same model, split and options resumes.
EvalResult evaluateSplit(ModelSession& model, const SplitData& split, const EvalOptions& options,
                         const std::filesystem::path& outDir, const JobContext& job = {});

// Where the dashboard keeps a model's evaluation of a split: next to the model file,
// e.g. runs/best.ckpt -> runs/best.eval-test/.
std::filesystem::path evaluationDirFor(const std::filesystem::path& model, SplitKind split);

// An evaluation written by evaluateSplit, read back (dashboard, `export --worst`).
inline constexpr const char* kRecordsFile = "records.jsonl";
struct SavedEvaluation {
    EvalOptions options;
    std::string model;  // the model file it was made with
    std::vector<ImageRecord> records;
    EvalSummary summary;
};
// Reads <dir>/records.jsonl and recomputes the summary. Throws std::runtime_error naming the
// file and line when it is missing or damaged, or names layers the model does not have.
SavedEvaluation loadEvaluation(const std::filesystem::path& dir,
                               const std::vector<std::string>& tapNames);

// Writes the outputs (atomic).
// `classNames` name the dataset's labels (breed, per-breed scores); `modelClassNames`, when
// given, name the model's predictions (else the same list). `sanitySteps` name the sanity
// check's columns, one Spearman and one SSIM column per randomised layer.
void writePerImageCsv(const std::filesystem::path& path, const std::vector<ImageRecord>& records,
                      const std::vector<std::string>& classNames,
                      const std::vector<std::string>& tapNames,
                      const std::vector<std::string>& modelClassNames = {},
                      const std::vector<std::string>& sanitySteps = {});
void writeSummaryJson(const std::filesystem::path& path, const EvalSummary& summary,
                      const std::vector<std::string>& classNames, const EvalOptions& options,
                      const std::vector<LoadIssue>& skipped = {},
                      const std::vector<LoadIssue>& warnings = {});

// Where --save-maps puts one method's maps at one layer: `dir` itself when the evaluation makes a
// single kind of map, else dir/<method>@<layer>/.
std::filesystem::path savedMapsFolder(const std::filesystem::path& dir, const EvalOptions& options,
                                      Method method, const std::string& tapName);

// A digest of what an evaluation reads from a split: every image's path, file size, label, size
// and boxes, and where present the boxes as listed and the masks (paths and file sizes). Two splits
// with the same digest evaluate alike. An image inside a TFDS shard (data/formats/tfrecord.h)
// counts by its shard's file name and size and its record's byte offset instead of a file size.
std::string splitDigest(const std::vector<Sample>& samples);

}  // namespace camx
