#pragma once
// evaluateSplit over several processes (torchrun, srun, or `eval --nproc`): the ranks of a process
// group share the split and rank 0 writes the outputs, which are the files a single process
// writes.
//
//  - Sharding: the images still to do are cut into batches of EvalOptions::batchSize in split
//    order, as one process would batch them, and batch k goes to rank k % world size. Each image's
//    maps, boxes and metrics then come from exactly the batch they would come from in one process
//    (LibTorch's CPU kernels may round an image differently in another batch), and the random
//    baseline and ROAD's noise are seeded per image, so the numbers are the same.
//  - Progress: rank r appends its records to <out>/eval_partial.rank<r>.jsonl (one process:
//    eval_partial.jsonl), under the same key line. On start every rank reads every partial file of
//    the folder with this evaluation's key, whatever world size wrote it, and the ranks agree on
//    the images already done; so an interrupted run resumes with any number of processes.
//  - Merge: rank 0 gathers every rank's records, skipped images and warnings over the process
//    group (no shared file system needed), writes per_image.csv, summary.json and records.jsonl,
//    and removes the partial files. Other ranks return their own records and an empty summary.

#include <filesystem>

#include "eval/evaluator.h"

namespace camx {
namespace dist {
class ProcessGroupHandle;
}

// `group` null: evaluateSplit exactly.
EvalResult evaluateSplitSharded(ModelSession& model, const SplitData& split,
                                const EvalOptions& options, const std::filesystem::path& outDir,
                                dist::ProcessGroupHandle* group, const JobContext& job = {});

// The partial files an evaluation in `outDir` may resume from, in name order.
std::vector<std::filesystem::path> partialEvaluationFiles(const std::filesystem::path& outDir);

}  // namespace camx
