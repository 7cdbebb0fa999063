#include <cstdio>
#include <functional>

#include "commands.h"
#include "common/fs_util.h"
#include "data/dataset.h"
#include "distributed/process_group.h"
#include "launcher.h"
#include "nn/checkpoint.h"
#include "nn/weights.h"
#include "terminal_progress.h"
#include "train/trainer.h"

namespace camx::cli {

void addTrainCommand(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "train", "Train the CAM classifier; writes last.ckpt, best.ckpt and history.csv");
    static DataOptions data;
    static std::string out = "runs/train", weights, resume, preset, arch = "resnet50",
                       optimizer = "sgd", schedule = "cosine", precision = "auto";
    static TrainConfig c;
    static bool imagenet = false, flip = false, crop = false, jitter = false, quiet = false,
                amp = false;
    static DistOptions distOptions;
    static std::string configFile;
    static double bucketMegabytes = 25;
    addDataOptions(cmd, data);
    cmd->add_option("--out", out, "output folder for checkpoints and the CSV log")
        ->capture_default_str();
    cmd->add_option("--arch", arch, "resnet18, resnet34, resnet50 or resnet101")
        ->capture_default_str();
    cmd->add_option("--weights", weights, "torchvision .pth file to start from")
        ->check(RegularFile);
    cmd->add_flag("--imagenet", imagenet, "start from the cached torchvision ImageNet weights");
    cmd->add_option("--resume", resume, "checkpoint to continue from (last.ckpt)")
        ->check(RegularFile);
    {
        std::string help = "a named recipe; options given explicitly override its fields:";
        std::vector<std::string> ids;
        for (const auto& p : trainPresets()) {
            help += "\n  " + p.id + ": " + p.description;
            ids.push_back(p.id);
        }
        cmd->add_option("--preset", preset, help)->check(CLI::IsMember(ids));
    }
    cmd->add_option("--config", configFile,
                    "a training configuration as JSON, as checkpoints record it (the wizard's "
                    "multi-process runs pass one); options given explicitly override its fields")
        ->check(RegularFile)
        ->excludes("--preset");
    cmd->add_option("--epochs", c.epochs)->capture_default_str();
    cmd->add_option("--batch", c.batchSize)->capture_default_str();
    cmd->add_option("--lr", c.learningRate)->capture_default_str();
    cmd->add_option("--optimizer", optimizer)
        ->check(CLI::IsMember({"sgd", "adamw"}))
        ->capture_default_str();
    cmd->add_option("--momentum", c.momentum)->capture_default_str();
    cmd->add_option("--weight-decay", c.weightDecay)->capture_default_str();
    cmd->add_option("--schedule", schedule)
        ->check(CLI::IsMember({"constant", "step", "cosine"}))
        ->capture_default_str();
    cmd->add_option("--step-epochs", c.stepEpochs)->capture_default_str();
    cmd->add_option("--step-gamma", c.stepGamma)->capture_default_str();
    cmd->add_option("--warmup", c.warmupEpochs, "linear warm-up epochs")->capture_default_str();
    cmd->add_option("--label-smoothing", c.labelSmoothing)->capture_default_str();
    cmd->add_option("--bn-recalibrate", c.bnRecalibrationImages,
                    "re-estimate batch-norm statistics on N training images before each "
                    "validation (0: off)")
        ->capture_default_str();
    cmd->add_flag("--flip", flip, "random horizontal flips");
    cmd->add_flag("--crop", crop, "random resized crops");
    cmd->add_flag("--jitter", jitter, "colour jitter");
    cmd->add_flag("--freeze-backbone", c.freezeBackbone, "train the classifier head only");
    cmd->add_option("--input-size", c.inputSize)->capture_default_str();
    cmd->add_option("--width", c.baseWidth, "base width (64 is the real network)")
        ->capture_default_str();
    cmd->add_flag("--cpu", c.forceCpu, "train on the CPU even when a GPU is usable");
    auto* precisionOption =
        cmd->add_option("--precision", precision,
                        "auto: bf16 autocast (fp32 master weights, channels-last) on CPUs with "
                        "AVX-512 BF16 or AMX and on GPUs with native bf16, fp32 elsewhere; fp32; "
                        "bf16 (emulated, slower than fp32, on CPUs without it). The checkpoint "
                        "records the precision used, and --resume keeps it")
            ->check(CLI::IsMember({"auto", "fp32", "bf16"}))
            ->capture_default_str();
    cmd->add_flag("--amp", amp, "the same as --precision bf16")->excludes(precisionOption);
    cmd->add_flag("--channels-last", c.channelsLast,
                  "channels-last memory format in fp32 too (bf16 always uses it)");
    cmd->add_option("--seed", c.seed)->check(CLI::NonNegativeNumber)->capture_default_str();
    cmd->add_flag("--quiet", quiet, "no progress bar");
    addDistributedOptions(cmd, distOptions,
                          "train in N local processes (data parallel; --batch is per process, "
                          "rank 0 writes the checkpoints)");
    cmd->add_flag("--sync-bn", c.syncBatchNorm,
                  "several processes: batch-norm statistics over the global batch (recorded; "
                  "--resume keeps it)");
    cmd->add_option("--bucket-mb", bucketMegabytes,
                    "several processes: gradients are summed in buckets of this many MiB while "
                    "the backward pass runs")
        ->check(FiniteNumber & CLI::Range(0.0, 4096.0))
        ->capture_default_str();
    cmd->callback([cmd] {
        const std::unique_ptr<dist::ProcessGroupHandle> group = startOrJoinGroup(distOptions);
        // Only rank 0 reports: the others keep quiet unless they fail.
        const bool reporter = !group || group->rank() == 0;
        // The options write into `c` (defaults unless given). A preset starts from the defaults;
        // then every option the user gave explicitly is copied over it, so `--preset course
        // --lr 0.1` trains at 0.1.
        auto given = [cmd](const char* name) { return cmd->count(name) > 0; };
        c.optimizer =
            optimizer == "sgd" ? TrainConfig::Optimizer::Sgd : TrainConfig::Optimizer::AdamW;
        c.schedule = schedule == "constant" ? TrainConfig::Schedule::Constant
                     : schedule == "step"   ? TrainConfig::Schedule::Step
                                            : TrainConfig::Schedule::Cosine;
        c.augment.flip = flip;
        c.augment.randomResizedCrop = crop;
        c.augment.colorJitter = jitter;
        auto a = parseArch(arch);
        if (!a) throw CLI::ValidationError("--arch", "unknown architecture '" + arch + "'");
        if (*a == Arch::KerasResNet50)
            throw CLI::ValidationError("--arch",
                                       "keras-resnet50 is the network of imported Keras "
                                       "models; train resnet50 instead");
        c.arch = *a;
        c.precision = amp ? Precision::Bf16 : *parsePrecision(precision);
        TrainConfig cfg = c;
        if (!preset.empty() || !configFile.empty()) {
            cfg = TrainConfig{};
            if (!configFile.empty()) {
                try {
                    cfg = TrainConfig::fromJson(readFile(configFile));
                } catch (const std::invalid_argument& e) {
                    throw CLI::ValidationError("--config", "'" + configFile + "': " + e.what());
                }
            }
            if (!preset.empty()) applyTrainPreset(preset, cfg);
            const std::pair<const char*, std::function<void()>> overrides[] = {
                {"--arch", [&] { cfg.arch = c.arch; }},
                {"--epochs", [&] { cfg.epochs = c.epochs; }},
                {"--batch", [&] { cfg.batchSize = c.batchSize; }},
                {"--lr", [&] { cfg.learningRate = c.learningRate; }},
                {"--optimizer", [&] { cfg.optimizer = c.optimizer; }},
                {"--momentum", [&] { cfg.momentum = c.momentum; }},
                {"--weight-decay", [&] { cfg.weightDecay = c.weightDecay; }},
                {"--schedule", [&] { cfg.schedule = c.schedule; }},
                {"--step-epochs", [&] { cfg.stepEpochs = c.stepEpochs; }},
                {"--step-gamma", [&] { cfg.stepGamma = c.stepGamma; }},
                {"--warmup", [&] { cfg.warmupEpochs = c.warmupEpochs; }},
                {"--label-smoothing", [&] { cfg.labelSmoothing = c.labelSmoothing; }},
                {"--bn-recalibrate", [&] { cfg.bnRecalibrationImages = c.bnRecalibrationImages; }},
                {"--flip", [&] { cfg.augment.flip = c.augment.flip; }},
                {"--crop", [&] { cfg.augment.randomResizedCrop = c.augment.randomResizedCrop; }},
                {"--jitter", [&] { cfg.augment.colorJitter = c.augment.colorJitter; }},
                {"--freeze-backbone", [&] { cfg.freezeBackbone = c.freezeBackbone; }},
                {"--input-size", [&] { cfg.inputSize = c.inputSize; }},
                {"--width", [&] { cfg.baseWidth = c.baseWidth; }},
                {"--cpu", [&] { cfg.forceCpu = c.forceCpu; }},
                {"--precision", [&] { cfg.precision = c.precision; }},
                {"--amp", [&] { cfg.precision = c.precision; }},
                {"--channels-last", [&] { cfg.channelsLast = c.channelsLast; }},
                {"--seed", [&] { cfg.seed = c.seed; }},
                {"--sync-bn", [&] { cfg.syncBatchNorm = c.syncBatchNorm; }}};
            for (const auto& [name, copy] : overrides)
                if (given(name)) copy();
        }
        try {
            cfg.validate();
        } catch (const std::invalid_argument& e) {
            throw CLI::ValidationError(e.what());
        }
        if (configFile.empty() || given("--weights")) cfg.weightsFile = weights;
        if (imagenet) cfg.weightsFile = findImageNetWeights(cfg.arch).string();
        TerminalProgress bar(quiet || !reporter);
        OpenOptions oo;
        oo.job = {bar.callback(), &interruptToken()};
        const Dataset ds = openData(data, oo);
        bar.finish();
        TrainCallbacks cb;
        if (reporter)
            cb.onLog = [&](const std::string& s) {
                bar.finish();
                std::printf("%s\n", s.c_str());
                std::fflush(stdout);
            };
        std::optional<std::filesystem::path> from;
        if (!resume.empty()) from = resume;
        // A resumed run continues with its checkpoint's configuration, the precision it resolved
        // to included; say so rather than drop an explicit choice silently.
        if (from && (given("--precision") || given("--amp"))) {
            try {
                const TrainConfig kept =
                    TrainConfig::fromJson(readCheckpointMeta(*from).trainConfigJson);
                if (kept.precision != trainingPrecision(cfg).resolved)
                    if (cb.onLog)
                        cb.onLog(std::string("Note: --resume keeps the run's precision (") +
                                 precisionId(kept.precision) + "); " +
                                 (given("--amp") ? "--amp" : "--precision " + precision) +
                                 " is not applied");
            } catch (const std::exception&) {
                // trainModel reports an unreadable checkpoint
            }
        }
        DataParallel parallel;
        parallel.group = group.get();
        parallel.bucketBytes = static_cast<std::size_t>(bucketMegabytes * 1024 * 1024);
        const TrainResult r =
            trainModel(ds, cfg, out, cb, {bar.callback(), &interruptToken()}, from, parallel);
        bar.finish();
        if (!reporter) return;
        std::printf("checkpoint  %s\nbest        %s\nlog         %s\n", r.lastCheckpoint.c_str(),
                    r.bestCheckpoint.c_str(), (std::filesystem::path(out) / "history.csv").c_str());
    });
}

}  // namespace camx::cli
