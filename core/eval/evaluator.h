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

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/job.h"
#include "data/dataset.h"
#include "explain/explanation.h"
#include "localize/boxes.h"

namespace camx {

class ModelSession;

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

    static std::vector<float> defaultSweep(float step = 0.05f);  // 0, step, ..., < 1
};

struct MapScore {
    Method method;
    int tap;
    std::optional<Box> box;  // at tau, in the chosen mode
    double iou = 0;
    std::vector<float> sweepLargest;  // IoU of the largest component's box at each sweep threshold
    std::vector<float> sweepBest;     // IoU of the best component's box at each threshold
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
    double maxBoxAcc = 0;    // best over tau of the fraction with IoU >= 0.5 (largest box)
    float maxBoxAccTau = 0;
    double maxBoxAccV2 = 0;  // mean over delta in {0.3,0.5,0.7} of the best over tau (best box)
    std::vector<double> sweepCurve;         // box accuracy (delta 0.5, largest) at each threshold
    std::vector<double> iouThresholdCurve;  // localisation accuracy at IoU >= 0.05, 0.10, ..., 0.95
    std::map<int, std::pair<double, double>> perBreed;  // label -> (mean IoU, loc accuracy)
};

struct EvalSummary {
    std::size_t images = 0;
    // Classification is scored only where the model's classes match the dataset's.
    bool classified = true;
    std::string classMatch;  // how they were matched, or why classification is not scored
    double top1 = 0, top5 = 0;
    std::vector<float> sweep;
    std::vector<MethodSummary> methods;
};

struct EvalResult {
    std::vector<ImageRecord> records;
    EvalSummary summary;
    std::size_t resumed = 0;  // records taken from an earlier, interrupted run
    // Images of the split that could not be decoded: not in the records, named here (and in
    // summary.json's "skipped_images"), never dropped silently. A resumed run tries them again.
    std::vector<LoadIssue> skipped;
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

// Scores one image's maps against its boxes; shared by the evaluation and the explorer.
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
// given, name the model's predictions (else the same list).
void writePerImageCsv(const std::filesystem::path& path, const std::vector<ImageRecord>& records,
                      const std::vector<std::string>& classNames,
                      const std::vector<std::string>& tapNames,
                      const std::vector<std::string>& modelClassNames = {});
void writeSummaryJson(const std::filesystem::path& path, const EvalSummary& summary,
                      const std::vector<std::string>& classNames, const EvalOptions& options,
                      const std::vector<LoadIssue>& skipped = {});

// A digest of what an evaluation reads from a split: every image's path, file size, label, size
// and boxes. Two splits with the same digest evaluate alike.
std::string splitDigest(const std::vector<Sample>& samples);

}  // namespace camx
