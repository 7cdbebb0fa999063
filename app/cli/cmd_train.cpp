#include <cstdio>

#include "commands.h"
#include "data/dataset.h"
#include "nn/weights.h"
#include "terminal_progress.h"
#include "train/trainer.h"

namespace camx::cli {

void addTrainCommand(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "train", "Train the CAM classifier; writes last.ckpt, best.ckpt and history.csv");
    static std::string data, out = "runs/train", weights, resume, preset, arch = "resnet50",
                             optimizer = "sgd", schedule = "cosine";
    static TrainConfig c;
    static bool imagenet = false, flip = false, crop = false, jitter = false, quiet = false;
    cmd->add_option("--data", data, "dataset folder (Stanford Dogs layout or its archives)")
        ->required();
    cmd->add_option("--out", out, "output folder for checkpoints and the CSV log")
        ->capture_default_str();
    cmd->add_option("--arch", arch, "resnet18, resnet34, resnet50 or resnet101")
        ->capture_default_str();
    cmd->add_option("--weights", weights, "torchvision .pth file to start from");
    cmd->add_flag("--imagenet", imagenet, "start from the cached torchvision ImageNet weights");
    cmd->add_option("--resume", resume, "checkpoint to continue from (last.ckpt)");
    cmd->add_option("--preset", preset,
                    "'course': SGD 0.01, batch 16, plain resize, no augmentation")
        ->check(CLI::IsMember({"course"}));
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
    cmd->add_flag("--amp", c.mixedPrecision, "bf16 mixed precision (CUDA)");
    cmd->add_flag("--channels-last", c.channelsLast, "channels-last memory format (CUDA)");
    cmd->add_option("--seed", c.seed)->capture_default_str();
    cmd->add_flag("--quiet", quiet, "no progress bar");
    cmd->callback([] {
        TrainConfig cfg = c;
        if (preset == "course") {
            TrainConfig p = TrainConfig::coursePreset();
            p.arch = cfg.arch;
            p.inputSize = cfg.inputSize;
            p.baseWidth = cfg.baseWidth;
            p.epochs = cfg.epochs;
            p.seed = cfg.seed;
            cfg = p;
        } else {
            cfg.optimizer =
                optimizer == "sgd" ? TrainConfig::Optimizer::Sgd : TrainConfig::Optimizer::AdamW;
            cfg.schedule = schedule == "constant" ? TrainConfig::Schedule::Constant
                           : schedule == "step"   ? TrainConfig::Schedule::Step
                                                  : TrainConfig::Schedule::Cosine;
            cfg.augment.flip = flip;
            cfg.augment.randomResizedCrop = crop;
            cfg.augment.colorJitter = jitter;
        }
        auto a = parseArch(arch);
        if (!a) throw CLI::ValidationError("--arch", "unknown architecture '" + arch + "'");
        cfg.arch = *a;
        cfg.weightsFile = weights;
        if (imagenet) cfg.weightsFile = findImageNetWeights(cfg.arch).string();
        TerminalProgress bar(quiet);
        OpenOptions oo;
        oo.job = {bar.callback(), &interruptToken()};
        const Dataset ds = openStanfordDogs(data, oo);
        bar.finish();
        TrainCallbacks cb;
        cb.onLog = [&](const std::string& s) {
            bar.finish();
            std::printf("%s\n", s.c_str());
            std::fflush(stdout);
        };
        std::optional<std::filesystem::path> from;
        if (!resume.empty()) from = resume;
        const TrainResult r =
            trainModel(ds, cfg, out, cb, {bar.callback(), &interruptToken()}, from);
        bar.finish();
        if (r.cancelled) throw Cancelled();
        std::printf("checkpoint  %s\nbest        %s\nlog         %s\n", r.lastCheckpoint.c_str(),
                    r.bestCheckpoint.c_str(), (std::filesystem::path(out) / "history.csv").c_str());
    });
}

}  // namespace camx::cli
