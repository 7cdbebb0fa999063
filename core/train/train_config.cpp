#include "train/train_config.h"

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace camx {
using nlohmann::json;

TrainConfig TrainConfig::coursePreset() {
    TrainConfig c;
    c.optimizer = Optimizer::Sgd;
    c.learningRate = 0.01;
    c.momentum = 0.0;
    c.weightDecay = 0.0;
    c.batchSize = 16;
    c.epochs = 30;
    c.schedule = Schedule::Constant;
    c.augment = Augmentation{};
    c.labelSmoothing = 0;
    c.warmupEpochs = 0;
    return c;
}

std::string TrainConfig::toJson() const {
    json j = {{"arch", archName(arch)},
              {"base_width", baseWidth},
              {"input_size", inputSize},
              {"weights_file", weightsFile},
              {"freeze_backbone", freezeBackbone},
              {"epochs", epochs},
              {"batch_size", batchSize},
              {"optimizer", optimizer == Optimizer::Sgd ? "sgd" : "adamw"},
              {"lr", learningRate},
              {"momentum", momentum},
              {"weight_decay", weightDecay},
              {"schedule", schedule == Schedule::Constant ? "constant"
                           : schedule == Schedule::Step   ? "step"
                                                          : "cosine"},
              {"step_epochs", stepEpochs},
              {"step_gamma", stepGamma},
              {"warmup_epochs", warmupEpochs},
              {"label_smoothing", labelSmoothing},
              {"flip", augment.flip},
              {"random_resized_crop", augment.randomResizedCrop},
              {"color_jitter", augment.colorJitter},
              {"bn_recalibration_images", bnRecalibrationImages},
              {"force_cpu", forceCpu},
              {"mixed_precision", mixedPrecision},
              {"channels_last", channelsLast},
              {"seed", seed},
              {"cache_images", cacheImages}};
    return j.dump();
}

TrainConfig TrainConfig::fromJson(const std::string& text) {
    TrainConfig c;
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) {
        throw std::invalid_argument(std::string("training configuration is not valid JSON: ") +
                                    e.what());
    }
    try {
        if (auto a = parseArch(j.value("arch", archName(c.arch))))
            c.arch = *a;
        else
            throw std::invalid_argument("unknown architecture in training configuration");
        c.baseWidth = j.value("base_width", c.baseWidth);
        c.inputSize = j.value("input_size", c.inputSize);
        c.weightsFile = j.value("weights_file", c.weightsFile);
        c.freezeBackbone = j.value("freeze_backbone", c.freezeBackbone);
        c.epochs = j.value("epochs", c.epochs);
        c.batchSize = j.value("batch_size", c.batchSize);
        const std::string opt = j.value("optimizer", std::string("sgd"));
        if (opt != "sgd" && opt != "adamw")
            throw std::invalid_argument("optimizer must be sgd or adamw");
        c.optimizer = opt == "sgd" ? Optimizer::Sgd : Optimizer::AdamW;
        c.learningRate = j.value("lr", c.learningRate);
        c.momentum = j.value("momentum", c.momentum);
        c.weightDecay = j.value("weight_decay", c.weightDecay);
        const std::string sch = j.value("schedule", std::string("cosine"));
        if (sch == "constant")
            c.schedule = Schedule::Constant;
        else if (sch == "step")
            c.schedule = Schedule::Step;
        else if (sch == "cosine")
            c.schedule = Schedule::Cosine;
        else
            throw std::invalid_argument("schedule must be constant, step or cosine");
        c.stepEpochs = j.value("step_epochs", c.stepEpochs);
        c.stepGamma = j.value("step_gamma", c.stepGamma);
        c.warmupEpochs = j.value("warmup_epochs", c.warmupEpochs);
        c.forceCpu = j.value("force_cpu", c.forceCpu);
        c.bnRecalibrationImages = j.value("bn_recalibration_images", c.bnRecalibrationImages);
        c.labelSmoothing = j.value("label_smoothing", c.labelSmoothing);
        c.augment.flip = j.value("flip", false);
        c.augment.randomResizedCrop = j.value("random_resized_crop", false);
        c.augment.colorJitter = j.value("color_jitter", false);
        c.mixedPrecision = j.value("mixed_precision", false);
        c.channelsLast = j.value("channels_last", false);
        c.seed = j.value("seed", std::uint64_t{0});
        c.cacheImages = j.value("cache_images", true);
    } catch (const json::exception& e) {
        throw std::invalid_argument(
            std::string("training configuration has a field of the wrong type: ") + e.what());
    }
    c.validate();
    return c;
}

void TrainConfig::validate() const {
    auto need = [](bool ok, const char* what) {
        if (!ok) throw std::invalid_argument(what);
    };
    need(baseWidth >= 1 && baseWidth <= 512, "base width must be 1..512");
    need(inputSize >= 32 && inputSize <= 1024, "input size must be 32..1024 pixels");
    need(epochs >= 1 && epochs <= 10000, "epochs must be 1..10000");
    need(batchSize >= 1 && batchSize <= 4096, "batch size must be 1..4096");
    need(learningRate > 0 && learningRate < 10, "learning rate must be in (0, 10)");
    need(momentum >= 0 && momentum < 1, "momentum must be in [0, 1)");
    need(weightDecay >= 0 && weightDecay < 1, "weight decay must be in [0, 1)");
    need(stepEpochs >= 1, "step epochs must be at least 1");
    need(stepGamma > 0 && stepGamma <= 1, "step gamma must be in (0, 1]");
    need(warmupEpochs >= 0, "warm-up epochs must not be negative");
    need(bnRecalibrationImages >= 0, "batch-norm recalibration images must not be negative");
    need(labelSmoothing >= 0 && labelSmoothing < 1, "label smoothing must be in [0, 1)");
}

}  // namespace camx
