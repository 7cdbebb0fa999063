#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "../test_support.h"
#include "nn/checkpoint_io.h"
#include "train/train_step.h"
#include "train/trainer.h"

namespace camx {
namespace {
namespace fs = std::filesystem;

class Trainer : public test::DemoSuite<6, 3, 3, 9> {
protected:
    static TrainConfig tiny() {
        TrainConfig c = test::tinyTrainConfig(32, 3);
        c.epochs = 2;
        c.learningRate = 0.05;
        c.augment.flip = c.augment.randomResizedCrop = true;
        c.loaderThreads = 2;
        c.bnRecalibrationImages = 6;  // every run here re-estimates batch-norm statistics too
        return c;
    }
};

TEST_F(Trainer, WritesCheckpointsHistoryAndReportsProgress) {
    test::TempDir out;
    int steps = 0, epochs = 0;
    TrainCallbacks cb;
    cb.onStep = [&](const StepMetrics& m) {
        ++steps;
        EXPECT_EQ(m.stepsPerEpoch, 4);  // 18 images in batches of 5
        EXPECT_TRUE(std::isfinite(m.loss));
    };
    cb.onEpoch = [&](const EpochRecord&) { ++epochs; };
    TrainResult r = trainModel(*s_ds, tiny(), out.path(), cb);
    EXPECT_EQ(steps, 8);
    EXPECT_EQ(epochs, 2);
    ASSERT_EQ(r.history.size(), 2u);
    EXPECT_TRUE(fs::exists(out / "last.ckpt"));
    EXPECT_TRUE(fs::exists(out / "best.ckpt"));
    const std::string csv = test::slurp(out / "history.csv");
    EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 3);
    EXPECT_EQ(csv.rfind("epoch,train_loss,train_top1,val_loss,val_top1,val_top5", 0), 0u);
    const CheckpointMeta m = readCheckpointMeta(out / "last.ckpt");
    EXPECT_EQ(m.epoch, 2);
    EXPECT_EQ(m.classNames, s_ds->breedNames);
    EXPECT_EQ(TrainConfig::fromJson(m.trainConfigJson).toJson(), tiny().toJson());
}

TEST_F(Trainer, ResumingContinuesExactlyAsAnUninterruptedRun) {
    test::TempDir a, b;
    trainModel(*s_ds, tiny(), a.path());
    // Interrupt the same run during its second epoch, then resume from the first epoch's file.
    CancelToken stop;
    TrainCallbacks cb;
    cb.onStep = [&](const StepMetrics& m) {
        if (m.epoch == 1) stop.cancel();
    };
    EXPECT_THROW(trainModel(*s_ds, tiny(), b.path(), cb, JobContext{{}, &stop}), Cancelled);
    EXPECT_EQ(readCheckpointMeta(b / "last.ckpt").epoch, 1);
    TrainResult resumed = trainModel(*s_ds, tiny(), b.path(), {}, {}, b / "last.ckpt");
    ASSERT_EQ(resumed.history.size(), 2u);
    auto wa = loadCheckpoint(a / "last.ckpt").net->named_parameters();
    auto wb = loadCheckpoint(b / "last.ckpt").net->named_parameters();
    for (auto& p : wa) EXPECT_TRUE(at::allclose(p.value(), wb[p.key()], 1e-5, 1e-6)) << p.key();
}

TEST_F(Trainer, SameSeedSameWeights) {
    test::TempDir a, b;
    TrainConfig c = tiny();
    c.epochs = 1;
    trainModel(*s_ds, c, a.path());
    trainModel(*s_ds, c, b.path());
    auto wa = loadCheckpoint(a / "last.ckpt").net->named_parameters();
    auto wb = loadCheckpoint(b / "last.ckpt").net->named_parameters();
    for (auto& p : wa) EXPECT_TRUE(at::allclose(p.value(), wb[p.key()], 1e-5, 1e-6)) << p.key();
}

TEST_F(Trainer, CancelStopsWithoutWritingAPartialEpoch) {
    test::TempDir out;
    CancelToken token;
    TrainCallbacks cb;
    cb.onStep = [&](const StepMetrics& m) {
        if (m.step == 1) token.cancel();
    };
    std::vector<std::string> log;
    cb.onLog = [&](const std::string& s) { log.push_back(s); };
    EXPECT_THROW(trainModel(*s_ds, tiny(), out.path(), cb, JobContext{{}, &token}), Cancelled);
    // It does not promise a checkpoint it never wrote.
    ASSERT_FALSE(log.empty());
    EXPECT_NE(log.back().find("nothing to resume from"), std::string::npos) << log.back();
    EXPECT_FALSE(fs::exists(out / "last.ckpt"));
}

TEST_F(Trainer, FrozenBackboneTrainsOnlyTheHead) {
    test::TempDir out;
    TrainConfig c = tiny();
    c.epochs = 1;
    c.freezeBackbone = true;
    at::manual_seed(c.seed);
    CamNet fresh(c.arch, 3, c.baseWidth);
    trainModel(*s_ds, c, out.path());
    auto trained = loadCheckpoint(out / "last.ckpt").net;
    auto before = fresh->named_parameters();
    for (auto& p : trained->named_parameters()) {
        const bool head = p.key().rfind("fc.", 0) == 0;
        EXPECT_EQ(at::equal(p.value(), before[p.key()]), !head) << p.key();
    }
    for (auto& b : trained->named_buffers()) {
        if (b.key().find("running_mean") != std::string::npos) {
            EXPECT_TRUE(at::equal(b.value(), fresh->named_buffers()[b.key()])) << b.key();
        }
    }
}

// Precise BN: the running statistics become the plain average of the batches' statistics under
// the current weights (checked on the stem, whose input is known), nothing else changes.
TEST(BatchNormRecalibration, AveragesTheBatchStatisticsExactly) {
    at::manual_seed(5);
    CamNet net(Arch::ResNet18, 3, 4);
    net->train();
    for (int i = 0; i < 3; ++i) net->forward(at::randn({4, 3, 32, 32}));  // stale statistics
    std::vector<at::Tensor> batches;
    for (int i = 0; i < 3; ++i) batches.push_back(at::randn({5, 3, 32, 32}) * (1.0 + i));
    auto params = net->named_parameters();
    auto buffers = net->named_buffers();
    const at::Tensor w = params["conv1.weight"].detach().clone();
    const at::Tensor fcBefore = params["fc.weight"].detach().clone();
    const int64_t tracked = buffers["bn1.num_batches_tracked"].item<int64_t>();
    at::Tensor meanSum = at::zeros({4}), varSum = at::zeros({4});
    for (const auto& x : batches) {
        const at::Tensor y = at::conv2d(x, w, {}, 2, 3);
        meanSum += y.mean({0, 2, 3});
        varSum += y.var({0, 2, 3}, /*unbiased=*/true);
    }
    std::size_t next = 0;
    net->eval();
    recalibrateBatchNorm(
        net, [&] { return next < batches.size() ? batches[next++] : at::Tensor(); }, {});
    EXPECT_EQ(next, batches.size());
    EXPECT_FALSE(net->is_training());  // the mode is restored
    EXPECT_TRUE(at::allclose(buffers["bn1.running_mean"], meanSum / 3, 1e-5, 1e-6));
    EXPECT_TRUE(at::allclose(buffers["bn1.running_var"], varSum / 3, 1e-4, 1e-5));
    EXPECT_EQ(buffers["bn1.num_batches_tracked"].item<int64_t>(), tracked);
    EXPECT_TRUE(at::equal(params["fc.weight"], fcBefore));
    // Momentum is back: a training-mode forward moves the statistics by 10 %, not 1/(n+1).
    const at::Tensor before = buffers["bn1.running_mean"].clone();
    net->train();
    const at::Tensor x = at::randn({5, 3, 32, 32});
    net->forward(x);
    const at::Tensor m = at::conv2d(x, w, {}, 2, 3).mean({0, 2, 3});
    EXPECT_TRUE(at::allclose(buffers["bn1.running_mean"], 0.9 * before + 0.1 * m, 1e-5, 1e-6));
}

TEST(TrainConfig, SchedulesAndCoursePreset) {
    TrainConfig c;
    c.learningRate = 0.1;
    c.epochs = 10;
    c.schedule = TrainConfig::Schedule::Cosine;
    EXPECT_NEAR(learningRateAt(c, 0), 0.1, 1e-12);
    EXPECT_NEAR(learningRateAt(c, 5), 0.05, 1e-12);
    EXPECT_NEAR(learningRateAt(c, 10), 0.0, 1e-12);
    c.schedule = TrainConfig::Schedule::Step;
    c.stepEpochs = 3;
    c.stepGamma = 0.5;
    EXPECT_NEAR(learningRateAt(c, 2.9), 0.1, 1e-12);
    EXPECT_NEAR(learningRateAt(c, 3.0), 0.05, 1e-12);
    c.warmupEpochs = 2;
    EXPECT_NEAR(learningRateAt(c, 1.0), 0.1 * (1.0 + 1e-3) / 2, 1e-9);
    const TrainConfig course = TrainConfig::coursePreset();
    EXPECT_EQ(course.batchSize, 16);
    EXPECT_DOUBLE_EQ(course.learningRate, 0.01);
    EXPECT_EQ(course.optimizer, TrainConfig::Optimizer::Sgd);
    EXPECT_FALSE(course.augment.any());
    EXPECT_EQ(course.schedule, TrainConfig::Schedule::Constant);
    EXPECT_THROW(TrainConfig::fromJson("{\"batch_size\": 0}"), std::invalid_argument);
    EXPECT_THROW(TrainConfig::fromJson("{\"optimizer\": \"rmsprop\"}"), std::invalid_argument);
    EXPECT_THROW(TrainConfig::fromJson("not json"), std::invalid_argument);
}

}  // namespace
}  // namespace camx

namespace camx {
namespace {

TEST(TrainPreset, SetsOnlyTheFieldsItNamesAndSaysWhatChanged) {
    TrainConfig c;
    c.baseWidth = 16;
    c.inputSize = 64;
    c.freezeBackbone = true;
    const std::vector<std::string> changed = applyTrainPreset("demo", c);
    EXPECT_EQ(c.arch, Arch::ResNet18);
    EXPECT_EQ(c.inputSize, 224);
    EXPECT_EQ(c.epochs, 8);
    EXPECT_EQ(c.optimizer, TrainConfig::Optimizer::AdamW);
    EXPECT_DOUBLE_EQ(c.learningRate, 0.002);
    EXPECT_TRUE(c.augment.flip);
    EXPECT_EQ(c.bnRecalibrationImages, 256);
    EXPECT_EQ(c.seed, 1u);
    // Fields the preset does not name stay as they were.
    EXPECT_EQ(c.baseWidth, 16);
    EXPECT_TRUE(c.freezeBackbone);
    // Each change is listed with its old and new value.
    EXPECT_NE(std::find(changed.begin(), changed.end(), "input size 64 -> 224"), changed.end());
    EXPECT_NE(std::find(changed.begin(), changed.end(), "learning rate 0.01 -> 0.002"),
              changed.end());
    // Applying it again changes nothing.
    EXPECT_TRUE(applyTrainPreset("demo", c).empty());
    EXPECT_THROW(applyTrainPreset("nonsense", c), std::invalid_argument);
}

TEST(TrainPreset, CourseMatchesTheSeedCourse) {
    TrainConfig c = TrainConfig::coursePreset();
    EXPECT_EQ(c.optimizer, TrainConfig::Optimizer::Sgd);
    EXPECT_DOUBLE_EQ(c.learningRate, 0.01);
    EXPECT_DOUBLE_EQ(c.momentum, 0.0);
    EXPECT_DOUBLE_EQ(c.weightDecay, 0.0);
    EXPECT_EQ(c.batchSize, 16);
    EXPECT_EQ(c.epochs, 30);
    EXPECT_EQ(c.schedule, TrainConfig::Schedule::Constant);
    EXPECT_FALSE(c.augment.any());
    EXPECT_NO_THROW(c.validate());
    for (const auto& p : trainPresets()) {
        TrainConfig d;
        applyTrainPreset(p.id, d);
        EXPECT_NO_THROW(d.validate()) << p.id;
        EXPECT_FALSE(p.description.empty());
    }
}

}  // namespace
}  // namespace camx
