#include "train/train_config.h"

#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "common/json_text.h"

namespace camx {
using nlohmann::json;

TrainConfig TrainConfig::coursePreset() {
    TrainConfig c;
    applyTrainPreset("course", c);
    return c;
}

const std::vector<TrainPreset>& trainPresets() {
    static const std::vector<TrainPreset> presets = {
        {"course",
         "the seed course: SGD 0.01 without momentum or decay, batch 16, 30 epochs, constant rate, "
         "no augmentation"},
        {"demo",
         "the demo model: ResNet-18 from scratch at 224 px, AdamW 0.002, 8 epochs of 32, 2 "
         "warm-up epochs, label smoothing 0.1, flips, batch-norm recalibration on 256 images, "
         "seed 1, automatic precision"}};
    return presets;
}

namespace {
// Sets one field and notes the change in user-facing words.
template <typename T, typename Show>
void setField(T& field, const T& value, const char* name, Show show,
              std::vector<std::string>& changed) {
    if (field == value) return;
    changed.push_back(std::string(name) + " " + show(field) + " -> " + show(value));
    field = value;
}
std::string num(double v) {
    std::ostringstream o;
    o << v;
    return o.str();
}
std::string yesNo(bool b) {
    return b ? "on" : "off";
}
std::string optimizerText(TrainConfig::Optimizer o) {
    return o == TrainConfig::Optimizer::Sgd ? "SGD" : "AdamW";
}
std::string scheduleText(TrainConfig::Schedule s) {
    return s == TrainConfig::Schedule::Constant ? "constant"
           : s == TrainConfig::Schedule::Step   ? "step"
                                                : "cosine";
}
}  // namespace

std::vector<std::string> applyTrainPreset(const std::string& id, TrainConfig& c) {
    std::vector<std::string> ch;
    auto n = [](auto v) { return num(static_cast<double>(v)); };
    if (id == "course") {
        setField(c.optimizer, TrainConfig::Optimizer::Sgd, "optimizer", optimizerText, ch);
        setField(c.learningRate, 0.01, "learning rate", n, ch);
        setField(c.momentum, 0.0, "momentum", n, ch);
        setField(c.weightDecay, 0.0, "weight decay", n, ch);
        setField(c.batchSize, 16, "batch size", n, ch);
        setField(c.epochs, 30, "epochs", n, ch);
        setField(c.schedule, TrainConfig::Schedule::Constant, "schedule", scheduleText, ch);
        setField(c.augment.flip, false, "flips", yesNo, ch);
        setField(c.augment.randomResizedCrop, false, "random crops", yesNo, ch);
        setField(c.augment.colorJitter, false, "colour jitter", yesNo, ch);
        setField(c.labelSmoothing, 0.0, "label smoothing", n, ch);
        setField(c.warmupEpochs, 0.0, "warm-up epochs", n, ch);
    } else if (id == "demo") {
        setField(c.arch, Arch::ResNet18, "architecture", archName, ch);
        setField(c.inputSize, 224, "input size", n, ch);
        setField(c.epochs, 8, "epochs", n, ch);
        setField(c.batchSize, 32, "batch size", n, ch);
        setField(c.optimizer, TrainConfig::Optimizer::AdamW, "optimizer", optimizerText, ch);
        setField(c.learningRate, 0.002, "learning rate", n, ch);
        setField(c.weightDecay, 0.05, "weight decay", n, ch);
        setField(c.schedule, TrainConfig::Schedule::Cosine, "schedule", scheduleText, ch);
        setField(c.warmupEpochs, 2.0, "warm-up epochs", n, ch);
        setField(c.labelSmoothing, 0.1, "label smoothing", n, ch);
        setField(c.augment.flip, true, "flips", yesNo, ch);
        setField(c.bnRecalibrationImages, 256, "batch-norm recalibration images", n, ch);
        setField(c.seed, std::uint64_t{1}, "seed", n, ch);
        setField(c.precision, Precision::Auto, "precision", precisionId, ch);
    } else {
        std::string known;
        for (const auto& p : trainPresets()) known += (known.empty() ? "" : ", ") + p.id;
        throw std::invalid_argument("unknown preset '" + id + "' (known: " + known + ")");
    }
    return ch;
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
              {"precision", precisionId(precision)},
              // What versions before "precision" read (they ignore it on the CPU).
              {"mixed_precision", precision == Precision::Bf16},
              {"channels_last", channelsLast},
              {"seed", seed},
              {"sync_batch_norm", syncBatchNorm},
              {"processes", processes},
              {"cache_images", cacheImages}};
    return jsonText(j);
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
        if (j.contains("precision")) {
            const auto p = parsePrecision(j.at("precision").get<std::string>());
            if (!p) throw std::invalid_argument("precision must be auto, fp32 or bf16");
            c.precision = *p;
        } else {
            // Written before "precision" existed: `mixed_precision` was bf16 autocast on CUDA,
            // and without it the run was fp32.
            c.precision = j.value("mixed_precision", false) ? Precision::Bf16 : Precision::Fp32;
        }
        c.channelsLast = j.value("channels_last", false);
        c.seed = j.value("seed", std::uint64_t{0});
        c.syncBatchNorm = j.value("sync_batch_norm", false);
        c.processes = j.value("processes", 1);
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
    need(processes >= 1 && processes <= 65536, "processes must be 1..65536");
}

}  // namespace camx
