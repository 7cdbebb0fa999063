#include "train/trainer.h"

#include <ATen/ATen.h>
#include <torch/cuda.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include <chrono>
#include <cmath>
#include <memory>

#include "common/cpu_features.h"
#include "common/csv_writer.h"
#include "data/loader.h"
#include "distributed/grad_reducer.h"
#include "distributed/process_group.h"
#include "distributed/sync_batchnorm.h"
#include "explain/explainer.h"
#include "nn/checkpoint_io.h"
#include "nn/runtime.h"
#include "nn/weights.h"
#include "train/train_step.h"

namespace camx {
namespace fs = std::filesystem;

double learningRateAt(const TrainConfig& c, double epoch) {
    double lr = c.learningRate;
    switch (c.schedule) {
        case TrainConfig::Schedule::Constant:
            break;
        case TrainConfig::Schedule::Step:
            lr *= std::pow(c.stepGamma, std::floor(epoch / c.stepEpochs));
            break;
        case TrainConfig::Schedule::Cosine: {
            const double t = std::clamp(
                (epoch - c.warmupEpochs) / std::max(1e-9, c.epochs - c.warmupEpochs), 0.0, 1.0);
            lr *= 0.5 * (1.0 + std::cos(M_PI * t));
            break;
        }
    }
    if (c.warmupEpochs > 0 && epoch < c.warmupEpochs) lr *= (epoch + 1e-3) / c.warmupEpochs;
    return lr;
}

namespace {

std::unique_ptr<torch::optim::Optimizer> makeOptimizer(const TrainConfig& c,
                                                       std::vector<at::Tensor> params) {
    if (c.optimizer == TrainConfig::Optimizer::Sgd)
        return std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(c.learningRate)
                                                               .momentum(c.momentum)
                                                               .weight_decay(c.weightDecay));
    return std::make_unique<torch::optim::AdamW>(
        params, torch::optim::AdamWOptions(c.learningRate).weight_decay(c.weightDecay));
}

void setLearningRate(torch::optim::Optimizer& opt, double lr) {
    for (auto& g : opt.param_groups()) g.options().set_lr(lr);
}

void writeHistory(const fs::path& path, const std::vector<EpochRecord>& history) {
    CsvWriter csv;
    csv.row({"epoch", "train_loss", "train_top1", "val_loss", "val_top1", "val_top5", "lr",
             "seconds", "images_per_second"});
    for (const auto& e : history)
        csv.row({std::to_string(e.epoch), CsvWriter::number(e.trainLoss),
                 CsvWriter::number(e.trainTop1), CsvWriter::number(e.valLoss),
                 CsvWriter::number(e.valTop1), CsvWriter::number(e.valTop5),
                 CsvWriter::number(e.learningRate), CsvWriter::number(e.seconds, 4),
                 CsvWriter::number(e.imagesPerSecond, 4)});
    csv.save(path);
}

c10::Device trainingDevice(const TrainConfig& cfg) {
    return cfg.forceCpu ? c10::Device(c10::kCPU) : preferredDevice();
}

}  // namespace

PrecisionChoice trainingPrecision(const TrainConfig& cfg) {
    const c10::Device device = trainingDevice(cfg);
    return resolvePrecision(cfg.precision, device.is_cuda(), cudaHasNativeBf16(device));
}

TrainResult trainModel(const Dataset& dataset, TrainConfig cfg, const fs::path& outDir,
                       const TrainCallbacks& cb, const JobContext& job,
                       const std::optional<fs::path>& resumeFrom, const DataParallel& parallel) {
    cfg.validate();
    dist::ProcessGroupHandle* group = parallel.group;
    const int world = group ? group->worldSize() : 1;
    const int rank = group ? group->rank() : 0;
    const bool lead = rank == 0;  // writes the checkpoints and the log
    if (dataset.train.samples.empty())
        throw std::invalid_argument("the dataset has no training images");
    auto log = [&](const std::string& s) {
        if (cb.onLog) cb.onLog(s);
    };
    TrainResult result;

    CheckpointMeta meta;
    CamNet net{nullptr};
    int startEpoch = 0;
    if (resumeFrom) {
        LoadedCheckpoint loaded = loadCheckpoint(*resumeFrom);
        const int epochs = cfg.epochs;
        cfg = TrainConfig::fromJson(loaded.meta.trainConfigJson);
        cfg.epochs = epochs;
        if (loaded.meta.numClasses() != static_cast<int64_t>(dataset.numClasses()))
            throw CheckpointError(
                "'" + resumeFrom->string() + "' has " + std::to_string(loaded.meta.numClasses()) +
                " classes but the dataset has " + std::to_string(dataset.numClasses()));
        meta = loaded.meta;
        net = loaded.net;
        startEpoch = meta.epoch;
        log("Resuming from '" + resumeFrom->string() + "' after epoch " +
            std::to_string(startEpoch));
        if (cfg.processes != world)
            log("The run was trained in " + std::to_string(cfg.processes) + " process" +
                (cfg.processes == 1 ? "" : "es") + " (global batch " +
                std::to_string(cfg.batchSize * cfg.processes) + "); it continues in " +
                std::to_string(world) + " (global batch " + std::to_string(cfg.batchSize * world) +
                "): --batch is per process");
    } else {
        at::manual_seed(cfg.seed);
        net = CamNet(cfg.arch, static_cast<int64_t>(dataset.numClasses()), cfg.baseWidth);
        if (!cfg.weightsFile.empty()) {
            const ImportReport r = loadWeightsFile(net, cfg.weightsFile);
            log("Loaded " + std::to_string(r.loaded) + " tensors from '" + cfg.weightsFile + "'" +
                (r.headDropped ? " (new classifier head)" : ""));
        }
        meta.arch = cfg.arch;
        meta.baseWidth = cfg.baseWidth;
        meta.classNames = dataset.breedNames;
        meta.classFolders = dataset.breedFolders;
        meta.inputSize = cfg.inputSize;
    }
    c10::Device device = trainingDevice(cfg);
    // One GPU per process: the process's rank on this machine picks it (NCCL's rule).
    if (group && device.is_cuda() && torch::cuda::device_count() > 0)
        device = c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(
                                             group->config().localRank %
                                             static_cast<int>(torch::cuda::device_count())));
    // Resolved here, where the device is known; the checkpoint records the result, so a resumed
    // run (whose configuration comes from the checkpoint) keeps it on any machine.
    const PrecisionChoice precision =
        resolvePrecision(cfg.precision, device.is_cuda(), cudaHasNativeBf16(device));
    cfg.precision = precision.resolved;
    cfg.processes = world;
    const bool channelsLast = precision.channelsLast(cfg.channelsLast);
    meta.trainConfigJson = cfg.toJson();
    result.device = device.is_cuda() ? deviceDescription()
                                     : "cpu (" + cpuBrand() + ", " +
                                           std::to_string(runtimeInfo().cpuThreads) + " threads)";
    net->to(device);
    // Every process starts from rank 0's weights (they are equal already when built from the same
    // seed or file; this makes it so whatever happened).
    if (group) dist::broadcastParameters(*group, *net);
    if (channelsLast) toChannelsLast(net);
    net->setBackboneFrozen(cfg.freezeBackbone);
    std::vector<at::Tensor> trainable;
    for (auto& p : net->parameters())
        if (p.requires_grad()) trainable.push_back(p);
    auto optimizer = makeOptimizer(cfg, trainable);
    if (resumeFrom) loadOptimizerState(*resumeFrom, *optimizer);
    std::unique_ptr<dist::GradientReducer> reducer;
    if (group) {
        reducer = std::make_unique<dist::GradientReducer>(*group, trainable, parallel.bucketBytes);
        if (cfg.syncBatchNorm) net->setBatchNormOverride(dist::syncBatchNorm(*group));
    }

    LoaderOptions lo;
    lo.batchSize = cfg.batchSize;
    lo.inputSize = cfg.inputSize;
    lo.shuffle = true;
    lo.seed = cfg.seed;
    lo.threads = cfg.loaderThreads;
    lo.cacheResized = cfg.cacheImages;
    lo.augment = cfg.augment;
    lo.norm = meta.norm;
    lo.shardRank = rank;
    lo.shardCount = world;
    lo.padShards = true;  // the same number of steps in every process
    BatchLoader trainLoader(dataset.train.samples, lo);
    LoaderOptions vo = lo;
    vo.padShards = false;  // every validation image once
    vo.shuffle = false;
    vo.augment = Augmentation{};
    vo.batchSize = std::max(cfg.batchSize, 32);
    BatchLoader valLoader(dataset.test.samples, vo);
    // A fixed subset spread evenly over the training list (which is grouped by breed).
    std::unique_ptr<BatchLoader> bnLoader;
    if (cfg.bnRecalibrationImages > 0 && !cfg.freezeBackbone) {
        const std::size_t n = dataset.train.samples.size();
        const std::size_t k = std::min<std::size_t>(n, cfg.bnRecalibrationImages);
        std::vector<Sample> subset;
        subset.reserve(k);
        for (std::size_t i = 0; i < k; ++i) subset.push_back(dataset.train.samples[i * n / k]);
        LoaderOptions bo = vo;
        bo.shardRank = 0;  // the same subset in every process, so the statistics agree
        bo.shardCount = 1;
        bo.batchSize = cfg.batchSize;
        bo.shuffle = true;  // mixed breeds in every batch, same batches every epoch
        bnLoader = std::make_unique<BatchLoader>(std::move(subset), bo);
    }

    if (lead) fs::create_directories(outDir);
    result.lastCheckpoint = outDir / "last.ckpt";
    result.bestCheckpoint = outDir / "best.ckpt";
    result.history = meta.history;
    // Validation and batch-norm recalibration run in the training precision too (train_step.h).
    StepOptions so;
    so.labelSmoothing = cfg.labelSmoothing;
    so.mixedPrecision = precision.bf16();
    so.channelsLast = channelsLast;
    if (reducer) so.afterBackward = [&] { reducer->finish(); };
    const int steps = static_cast<int>(trainLoader.batchesPerEpoch());
    log("Training " + archName(cfg.arch) + " on " + result.device + ": " +
        std::to_string(dataset.train.samples.size()) + " train / " +
        std::to_string(dataset.test.samples.size()) + " validation images, " +
        std::to_string(steps) + " steps per epoch");
    if (group)
        log("Processes: " + std::to_string(world) + " (" + group->config().backend + ", rank " +
            std::to_string(rank) + "), batch " + std::to_string(cfg.batchSize) +
            " per process, global batch " + std::to_string(cfg.batchSize * world) +
            (cfg.syncBatchNorm ? ", synchronised batch norm" : "") + "; gradients in " +
            std::to_string(reducer->bucketCount()) + " bucket" +
            (reducer->bucketCount() == 1 ? "" : "s"));
    else if (cfg.syncBatchNorm)
        log("Synchronised batch norm changes nothing in a single process");
    log("Precision: " + precision.describe(channelsLast) +
        (resumeFrom ? " (kept from the checkpoint)" : ""));

    using clock = std::chrono::steady_clock;
    for (int epoch = startEpoch; epoch < cfg.epochs; ++epoch) {
        const auto t0 = clock::now();
        if (cfg.freezeBackbone)
            net->eval();  // frozen batch-norm statistics too
        else
            net->train();
        trainLoader.startEpoch(epoch);
        double lossSum = 0;
        int64_t correct = 0, seen = 0;
        int step = 0;
        auto tStep = clock::now();
        while (auto batch = trainLoader.next()) {
            const int64_t count = batch->images.size(0);
            bool cancel = job.cancelled(), skip = count == 0;
            if (group) {
                // One small all-reduce per step: the global batch, and whether any process is
                // cancelled or has nothing to train on (then every process stops or skips alike).
                std::vector<float> agree{static_cast<float>(count), skip ? 1.f : 0.f,
                                         cancel ? 1.f : 0.f};
                group->allReduceSum(agree);
                cancel = agree[2] > 0;
                skip = agree[1] > 0;
                so.lossWeight = agree[0] > 0 ? static_cast<double>(count) / agree[0] : 1.0;
            }
            if (cancel) {
                log("Cancelled during epoch " + std::to_string(epoch + 1) +
                    (epoch > 0 ? "; the last finished epoch is kept"
                               : "; no epoch had finished, so there is nothing to resume from"));
                throw Cancelled();
            }
            if (skip) {
                if (group)
                    log("Step " + std::to_string(step + 1) +
                        " skipped: a process had no "
                        "image it could decode");
                continue;
            }
            if (reducer) reducer->prepare();
            const double lr = learningRateAt(cfg, epoch + double(step) / steps);
            setLearningRate(*optimizer, lr);
            const StepOutput out =
                trainStep(net, *optimizer, batch->images.to(device), batch->labels.to(device), so);
            lossSum += out.loss * out.count;
            correct += out.correct;
            seen += out.count;
            const auto now = clock::now();
            const double dt = std::chrono::duration<double>(now - tStep).count();
            tStep = now;
            for (const auto& f : batch->failures) log("Skipped " + f.file + ": " + f.message);
            if (cb.onStep)
                cb.onStep({epoch, step, steps, out.loss,
                           double(out.correct) / std::max<int64_t>(1, out.count), lr,
                           dt > 0 ? out.count / dt : 0.0});
            job.report(static_cast<std::size_t>(epoch * steps + step + 1),
                       static_cast<std::size_t>(cfg.epochs * steps),
                       "Epoch " + std::to_string(epoch + 1) + "/" + std::to_string(cfg.epochs));
            ++step;
        }
        const double trainSeconds = std::chrono::duration<double>(clock::now() - t0).count();

        if (group) {
            // The epoch's training figures over every process.
            std::vector<double> sums{lossSum, static_cast<double>(correct),
                                     static_cast<double>(seen)};
            group->allReduceSum(sums);  // in double: figures independent of the process count
            lossSum = sums[0];
            correct = static_cast<int64_t>(std::llround(sums[1]));
            seen = static_cast<int64_t>(std::llround(sums[2]));
        }
        if (bnLoader) {
            // Every process recalibrates on the same subset with the same weights, so the
            // statistics agree without synchronisation.
            net->setBatchNormOverride(nullptr);
            bnLoader->startEpoch(0);
            recalibrateBatchNorm(
                net,
                [&]() -> at::Tensor {
                    if (job.cancelled()) return {};
                    auto b = bnLoader->next();
                    while (b && b->images.size(0) < 2) b = bnLoader->next();
                    return b ? b->images.to(device) : at::Tensor();
                },
                so);
            if (group && cfg.syncBatchNorm) net->setBatchNormOverride(dist::syncBatchNorm(*group));
            job.throwIfCancelled();
        }
        // Validation uses rank 0's statistics everywhere (they differ without synchronised batch
        // norm or recalibration), as DDP's buffer broadcast does.
        if (group) dist::broadcastBuffers(*group, *net);
        net->eval();
        valLoader.startEpoch(0);
        double vLoss = 0;
        int64_t v1 = 0, v5 = 0, vn = 0;
        while (auto batch = valLoader.next()) {
            job.throwIfCancelled();
            if (batch->images.size(0) == 0) continue;
            const StepOutput out =
                evalStep(net, batch->images.to(device), batch->labels.to(device), so);
            vLoss += out.loss * out.count;
            v1 += out.correct;
            v5 += out.correct5;
            vn += out.count;
        }
        if (group) {
            std::vector<double> sums{vLoss, static_cast<double>(v1), static_cast<double>(v5),
                                     static_cast<double>(vn)};
            group->allReduceSum(sums);  // in double: figures independent of the process count
            vLoss = sums[0];
            v1 = static_cast<int64_t>(std::llround(sums[1]));
            v5 = static_cast<int64_t>(std::llround(sums[2]));
            vn = static_cast<int64_t>(std::llround(sums[3]));
        }
        EpochRecord rec;
        rec.epoch = epoch + 1;
        rec.trainLoss = lossSum / std::max<int64_t>(1, seen);
        rec.trainTop1 = double(correct) / std::max<int64_t>(1, seen);
        rec.valLoss = vn ? vLoss / vn : 0;
        rec.valTop1 = vn ? double(v1) / vn : 0;
        rec.valTop5 = vn ? double(v5) / vn : 0;
        rec.learningRate = learningRateAt(cfg, epoch + 1.0 - 1e-9);
        rec.seconds = std::chrono::duration<double>(clock::now() - t0).count();
        rec.imagesPerSecond = seen / std::max(1e-9, trainSeconds);
        meta.history.push_back(rec);
        meta.epoch = epoch + 1;
        const bool best = rec.valTop1 >= meta.bestValTop1;
        if (best) meta.bestValTop1 = rec.valTop1;
        if (lead) {
            saveCheckpoint(result.lastCheckpoint, meta, net, optimizer.get());
            if (best) saveCheckpoint(result.bestCheckpoint, meta, net, nullptr);
            writeHistory(outDir / "history.csv", meta.history);
        }
        result.history = meta.history;
        char line[200];
        std::snprintf(line, sizeof line,
                      "Epoch %d/%d: train loss %.4f top-1 %.3f | val loss %.4f top-1 %.3f top-5 "
                      "%.3f | %.1f img/s%s",
                      rec.epoch, cfg.epochs, rec.trainLoss, rec.trainTop1, rec.valLoss, rec.valTop1,
                      rec.valTop5, rec.imagesPerSecond, best ? " (best)" : "");
        log(line);
        if (cb.onEpoch) cb.onEpoch(rec);
    }
    return result;
}

}  // namespace camx
