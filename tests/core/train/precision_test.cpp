// bf16 where the CPU has it (issue #13): the CPU-feature check, the rule that picks a precision,
// a training step under bf16 autocast, and what checkpoints record and resumes keep. Both paths
// are forced through overrideCpuBf16ForTesting, so they run on any machine.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <torch/optim/sgd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "../test_support.h"
#include "common/cpu_features.h"
#include "common/precision.h"
#include "nn/checkpoint_io.h"
#include "train/train_step.h"
#include "train/trainer.h"

namespace camx {
namespace {
namespace fs = std::filesystem;

// Forces the CPU's bf16 answer for one scope.
struct ForceCpuBf16 {
    explicit ForceCpuBf16(bool on) { overrideCpuBf16ForTesting(on); }
    ~ForceCpuBf16() { overrideCpuBf16ForTesting(std::nullopt); }
    void set(bool on) { overrideCpuBf16ForTesting(on); }
};

// The kernel's view of the CPU (Linux): the flags of the first processor in /proc/cpuinfo.
std::optional<std::string> procCpuFlags() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("flags", 0) == 0) return " " + line.substr(line.find(':') + 1) + " ";
    return std::nullopt;
}

TEST(CpuInfo, AgreesWithTheKernelsFlags) {
    const auto flags = procCpuFlags();
#if !(defined(__x86_64__) || defined(__i386__))
    EXPECT_FALSE(cpuFeatures().avx512Bf16);
    EXPECT_FALSE(cpuFeatures().amxBf16);
    GTEST_SKIP() << "not x86";
#endif
    if (!flags) GTEST_SKIP() << "no /proc/cpuinfo";
    // The kernel lists a feature only when it also saves its state, as our XGETBV check asks.
    EXPECT_EQ(cpuFeatures().avx512Bf16, flags->find(" avx512_bf16 ") != std::string::npos);
    EXPECT_EQ(cpuFeatures().amxBf16, flags->find(" amx_bf16 ") != std::string::npos);
    EXPECT_FALSE(cpuBrand().empty());
    EXPECT_NE(cpuBrand().front(), ' ') << cpuBrand();
    EXPECT_NE(cpuBrand().back(), ' ') << cpuBrand();
    std::printf("[          ] CPU: %s; AVX-512 BF16 %d, AMX-BF16 %d\n", cpuBrand().c_str(),
                cpuFeatures().avx512Bf16, cpuFeatures().amxBf16);
}

TEST(CpuInfo, TheOverrideForcesBothAnswersAndRestoresTheDetectedOne) {
    const bool detected = cpuHasFastBf16();
    {
        ForceCpuBf16 force(true);
        EXPECT_TRUE(cpuHasFastBf16());
        force.set(false);
        EXPECT_FALSE(cpuHasFastBf16());
        EXPECT_EQ(cpuBf16FeatureName(), "");
    }
    EXPECT_EQ(cpuHasFastBf16(), detected);
}

TEST(Precision, IdsParseBack) {
    for (Precision p : {Precision::Auto, Precision::Fp32, Precision::Bf16})
        EXPECT_EQ(parsePrecision(precisionId(p)), p);
    EXPECT_EQ(precisionId(Precision::Bf16), std::string("bf16"));
    EXPECT_FALSE(parsePrecision("fp16"));
    EXPECT_FALSE(parsePrecision("BF16"));
    EXPECT_FALSE(parsePrecision(""));
}

TEST(Precision, AutoFollowsTheCpuAndExplicitChoicesStay) {
    ForceCpuBf16 force(true);
    PrecisionChoice c = resolvePrecision(Precision::Auto, false);
    EXPECT_EQ(c.resolved, Precision::Bf16);
    EXPECT_FALSE(c.emulated());
    EXPECT_NE(c.describe(true).find("bf16 autocast with fp32 master weights, channels-last"),
              std::string::npos)
        << c.describe(true);
    EXPECT_NE(c.describe(true).find("automatic"), std::string::npos) << c.describe(true);
    EXPECT_EQ(resolvePrecision(Precision::Fp32, false).resolved, Precision::Fp32);
    EXPECT_EQ(resolvePrecision(Precision::Fp32, false).describe(false), "fp32");

    force.set(false);
    c = resolvePrecision(Precision::Auto, false);
    EXPECT_EQ(c.resolved, Precision::Fp32);
    EXPECT_EQ(c.describe(false), "fp32 (automatic: this CPU has no AVX-512 BF16 or AMX)");
    // Asked for explicitly, bf16 still runs without the hardware, and the log says it is slow.
    c = resolvePrecision(Precision::Bf16, false);
    EXPECT_EQ(c.resolved, Precision::Bf16);
    EXPECT_TRUE(c.emulated());
    EXPECT_NE(c.describe(true).find("emulates bf16"), std::string::npos) << c.describe(true);
    EXPECT_NE(c.describe(true).find("slower than fp32"), std::string::npos) << c.describe(true);

    // CUDA follows the GPU, whatever the CPU has.
    EXPECT_EQ(resolvePrecision(Precision::Auto, true, true).resolved, Precision::Bf16);
    EXPECT_EQ(resolvePrecision(Precision::Auto, true, false).resolved, Precision::Fp32);
    force.set(true);
    EXPECT_EQ(resolvePrecision(Precision::Auto, true, false).resolved, Precision::Fp32);
}

// A ResNet-18 of width 8 at 32 px: the same weights and batch through both paths.
struct TinyNet {
    CamNet net;
    std::unique_ptr<torch::optim::SGD> opt;
    explicit TinyNet(bool channelsLast) : net(Arch::ResNet18, 5, 8) {
        if (channelsLast) toChannelsLast(net);
        net->train();
        opt = std::make_unique<torch::optim::SGD>(net->parameters(),
                                                  torch::optim::SGDOptions(0.05).momentum(0.9));
    }
};

TEST(TrainStepBf16, ConvolutionsRunInBf16WhileWeightsAndLossStayFp32) {
    at::manual_seed(11);
    const at::Tensor x = at::randn({8, 3, 32, 32});
    const at::Tensor y = at::randint(0, 5, {8}, at::kLong);
    at::manual_seed(3);
    TinyNet fp32(false);
    at::manual_seed(3);
    TinyNet bf16(true);
    const StepOptions o32;
    StepOptions o16;
    o16.mixedPrecision = o16.channelsLast = true;

    // Inside the step's forward pass autocast is on: the last layer hands back bf16 logits.
    // Outside, it is off again, for this thread and for whatever runs next on it.
    {
        torch::NoGradGuard g;
        EXPECT_EQ(forwardLogits(bf16.net, x, o16).scalar_type(), at::kBFloat16);
        EXPECT_EQ(forwardLogits(fp32.net, x, o32).scalar_type(), at::kFloat);
        EXPECT_FALSE(at::autocast::is_cpu_enabled());
        // Same weights, different arithmetic: close, but not the fp32 numbers (bf16 keeps 8
        // significant bits, so its logits are off by far more than fp32 rounding would be).
        const at::Tensor a = forwardLogits(fp32.net, x, o32);
        const at::Tensor b = forwardLogits(bf16.net, x, o16).to(at::kFloat);
        const double diff = (a - b).abs().max().item<double>();
        const double scale = a.abs().max().item<double>();
        EXPECT_GT(diff, 1e-4 * scale);
        EXPECT_LT(diff, 0.1 * scale);
    }

    std::vector<double> losses32, losses16;
    for (int i = 0; i < 8; ++i) {
        losses32.push_back(trainStep(fp32.net, *fp32.opt, x, y, o32).loss);
        losses16.push_back(trainStep(bf16.net, *bf16.opt, x, y, o16).loss);
        EXPECT_FALSE(at::autocast::is_cpu_enabled());
    }
    EXPECT_NE(losses16[0], losses32[0]);
    EXPECT_NEAR(losses16[0], losses32[0], 0.05 * losses32[0]);
    // It learns: the loss on the batch it keeps seeing falls, as in fp32.
    EXPECT_LT(losses16.back(), 0.7 * losses16.front())
        << losses16.front() << " -> " << losses16.back();
    EXPECT_LT(losses32.back(), 0.7 * losses32.front());
    // Master weights: parameters and their gradients stay fp32 (and convolutions channels-last).
    for (const auto& p : bf16.net->named_parameters()) {
        EXPECT_EQ(p.value().scalar_type(), at::kFloat) << p.key();
        ASSERT_TRUE(p.value().grad().defined()) << p.key();
        EXPECT_EQ(p.value().grad().scalar_type(), at::kFloat) << p.key();
        if (p.value().dim() == 4) {
            EXPECT_TRUE(p.value().is_contiguous(at::MemoryFormat::ChannelsLast)) << p.key();
        }
    }
    // Evaluation in the same precision gives fp32 numbers out.
    const StepOutput e = evalStep(bf16.net, x, y, o16);
    EXPECT_TRUE(std::isfinite(e.loss));
    EXPECT_EQ(e.count, 8);
    EXPECT_FALSE(at::autocast::is_cpu_enabled());
}

TEST(TrainConfigPrecision, JsonRoundTripsAndOldCheckpointsStillLoad) {
    TrainConfig c;
    EXPECT_EQ(c.precision, Precision::Auto);
    for (Precision p : {Precision::Auto, Precision::Fp32, Precision::Bf16}) {
        c.precision = p;
        EXPECT_EQ(TrainConfig::fromJson(c.toJson()).precision, p);
    }
    // JSON written before the field existed: mixed_precision (bf16 autocast on CUDA) or nothing.
    nlohmann::json old = nlohmann::json::parse(TrainConfig{}.toJson());
    old.erase("precision");
    old["mixed_precision"] = true;
    EXPECT_EQ(TrainConfig::fromJson(old.dump()).precision, Precision::Bf16);
    old["mixed_precision"] = false;
    EXPECT_EQ(TrainConfig::fromJson(old.dump()).precision, Precision::Fp32);
    old.erase("mixed_precision");
    EXPECT_EQ(TrainConfig::fromJson(old.dump()).precision, Precision::Fp32);
    old["precision"] = "fp16";
    try {
        TrainConfig::fromJson(old.dump());
        ADD_FAILURE() << "fp16 accepted";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("precision"), std::string::npos) << e.what();
    }
}

class TrainerPrecision : public test::DemoSuite<4, 2, 3, 13> {
protected:
    static TrainConfig tiny(Precision p) {
        TrainConfig c = test::tinyTrainConfig(32, 4);
        c.baseWidth = 8;
        c.precision = p;
        c.learningRate = 0.05;
        c.bnRecalibrationImages = 6;  // recalibration runs in the training precision too
        return c;
    }
    static TrainConfig recorded(const fs::path& checkpoint) {
        return TrainConfig::fromJson(readCheckpointMeta(checkpoint).trainConfigJson);
    }
    static std::string joined(const std::vector<std::string>& lines) {
        std::string s;
        for (const auto& l : lines) s += l + "\n";
        return s;
    }
};

// The checkpoint records what Auto resolved to, and a resume keeps it on a machine that would
// have decided otherwise.
TEST_F(TrainerPrecision, CheckpointRecordsTheResolvedPrecisionAndResumeKeepsIt) {
    ForceCpuBf16 force(true);
    test::TempDir a;
    std::vector<std::string> log;
    TrainCallbacks cb;
    cb.onLog = [&](const std::string& s) { log.push_back(s); };
    TrainConfig c = tiny(Precision::Auto);
    c.epochs = 1;
    trainModel(*s_ds, c, a.path(), cb);
    EXPECT_EQ(recorded(a / "last.ckpt").precision, Precision::Bf16);
    EXPECT_EQ(recorded(a / "best.ckpt").precision, Precision::Bf16);
    EXPECT_NE(joined(log).find("Precision: bf16 autocast with fp32 master weights, channels-last "
                               "(automatic"),
              std::string::npos)
        << joined(log);
    // The weights it saves are the fp32 master weights.
    for (const auto& p : loadCheckpoint(a / "last.ckpt").net->named_parameters())
        EXPECT_EQ(p.value().scalar_type(), at::kFloat) << p.key();

    // On a CPU without bf16 the resumed run stays bf16 (emulated, and the log says so).
    force.set(false);
    log.clear();
    c.epochs = 2;
    c.precision = Precision::Fp32;  // the caller's configuration does not apply on resume
    const TrainResult r = trainModel(*s_ds, c, a.path(), cb, {}, a / "last.ckpt");
    ASSERT_EQ(r.history.size(), 2u);
    EXPECT_EQ(recorded(a / "last.ckpt").precision, Precision::Bf16);
    EXPECT_NE(joined(log).find("kept from the checkpoint"), std::string::npos) << joined(log);
    EXPECT_NE(joined(log).find("emulates bf16"), std::string::npos) << joined(log);

    // A new run there resolves Auto to fp32.
    test::TempDir b;
    log.clear();
    c = tiny(Precision::Auto);
    c.epochs = 1;
    trainModel(*s_ds, c, b.path(), cb);
    EXPECT_EQ(recorded(b / "last.ckpt").precision, Precision::Fp32);
    EXPECT_NE(joined(log).find("Precision: fp32 (automatic"), std::string::npos) << joined(log);
}

// A checkpoint written before precisions existed resumes as the fp32 run it was, even where Auto
// would pick bf16.
TEST_F(TrainerPrecision, ACheckpointWithoutTheFieldResumesInFp32) {
    ForceCpuBf16 force(true);
    test::TempDir a;
    TrainConfig c = tiny(Precision::Fp32);
    c.epochs = 1;
    trainModel(*s_ds, c, a.path());
    // Rewrite last.ckpt as an earlier version wrote it: no "precision", mixed_precision false.
    LoadedCheckpoint old = loadCheckpoint(a / "last.ckpt");
    torch::optim::SGD opt(
        old.net->parameters(),
        torch::optim::SGDOptions(c.learningRate).momentum(c.momentum).weight_decay(c.weightDecay));
    loadOptimizerState(a / "last.ckpt", opt);
    nlohmann::json j = nlohmann::json::parse(old.meta.trainConfigJson);
    j.erase("precision");
    j["mixed_precision"] = false;
    old.meta.trainConfigJson = j.dump();
    saveCheckpoint(a / "last.ckpt", old.meta, old.net, &opt);
    ASSERT_EQ(readCheckpointMeta(a / "last.ckpt").trainConfigJson.find("\"precision\""),
              std::string::npos);

    std::vector<std::string> log;
    TrainCallbacks cb;
    cb.onLog = [&](const std::string& s) { log.push_back(s); };
    c.epochs = 2;
    c.precision = Precision::Auto;
    trainModel(*s_ds, c, a.path(), cb, {}, a / "last.ckpt");
    EXPECT_EQ(recorded(a / "last.ckpt").precision, Precision::Fp32);
    EXPECT_NE(joined(log).find("Precision: fp32 (kept from the checkpoint)"), std::string::npos)
        << joined(log);
}

}  // namespace
}  // namespace camx
