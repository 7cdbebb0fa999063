// The explorer's background passes across a model switch: no result of the old model is stored or
// shown, the busy state comes back to idle, and setModel() never waits for a worker.
#include <gtest/gtest.h>

#include <QSignalSpy>
#include <QTest>

#include "../core/test_support.h"
#include "explain/model_session.h"
#include "explorer/explain_controller.h"

namespace camx::ui {
namespace {
namespace fs = std::filesystem;

class ControllerSwitch : public test::DemoSuite<2, 4, 3, 41, true> {
protected:
    static QString image(std::size_t i) {
        return QString::fromStdString(s_ds->test.samples.at(i).imagePath.string());
    }
    // Runs the event loop until the controller reports idle (or the time runs out).
    static bool waitIdle(ExplainController& c, QSignalSpy& busy) {
        return QTest::qWaitFor([&] { return !busy.isEmpty() && !busy.last().at(0).toBool(); },
                               60000);
    }
};

TEST_F(ControllerSwitch, ASwitchDropsTheOldModelsPassesAndReturnsToIdle) {
    ExplainController c;
    QSignalSpy busy(&c, &ExplainController::busyChanged);
    QSignalSpy ready(&c, &ExplainController::ready);
    c.setModel(ModelSession::open(modelFile()));
    // One announced pass and several queued prefetches for the old model.
    c.request({image(0), -1, ScoreKind::Logit});
    for (std::size_t i = 1; i < 8; ++i) c.prefetch({image(i), -1, ScoreKind::Logit});
    ASSERT_FALSE(busy.isEmpty());
    EXPECT_TRUE(busy.last().at(0).toBool());
    // Switch while they run or wait: nothing of the old model may land in the new cache or be
    // announced, and every dropped pass must still count down.
    c.setModel(ModelSession::open(modelFile()));
    ASSERT_TRUE(waitIdle(c, busy)) << "the busy indicator stayed on";
    EXPECT_EQ(ready.count(), 0);
    EXPECT_EQ(c.cacheSize(), 0);
    // The new model works: the same request now comes back.
    c.request({image(0), -1, ScoreKind::Logit});
    ASSERT_TRUE(ready.wait(60000));
    EXPECT_EQ(c.cacheSize(), 1);
    ASSERT_TRUE(waitIdle(c, busy));
}

TEST_F(ControllerSwitch, ARunningScoreCamIsCancelledBySwitchingNotWaitedFor) {
    ExplainController c;
    QSignalSpy busy(&c, &ExplainController::busyChanged);
    QSignalSpy ready(&c, &ExplainController::ready);
    QSignalSpy scoreCam(&c, &ExplainController::scoreCamReady);
    auto model = std::shared_ptr<ModelSession>(ModelSession::open(modelFile()));
    c.setModel(model);
    const ExplainKey key{image(1), -1, ScoreKind::Logit};
    c.request(key);
    ASSERT_TRUE(ready.wait(60000));
    // The switch comes while Score-CAM is queued or running (no event is processed in between):
    // it is cancelled, and whatever it computed is for the old model.
    c.requestScoreCam(key, model->info().lastBlockTap);
    c.setModel(ModelSession::open(modelFile()));
    ASSERT_TRUE(waitIdle(c, busy)) << "the busy indicator stayed on";
    EXPECT_EQ(scoreCam.count(), 0);
    EXPECT_EQ(c.cacheSize(), 0);
}

// A layer pass and a Score-CAM for the same image, both asked for before either finished: the
// one that finishes last must not drop the other's maps from the cache (Score-CAM used to store
// its own copy of the image's result over the layer's).
TEST_F(ControllerSwitch, ALayerPassAndAScoreCamKeepEachOthersMaps) {
    ExplainController c;
    QSignalSpy ready(&c, &ExplainController::ready);
    QSignalSpy scoreCam(&c, &ExplainController::scoreCamReady);
    // A TorchScript model: its listed layers are more than the blocks a pass explains.
    auto model = std::shared_ptr<ModelSession>(
        ModelSession::open(test::fixture("torchscript") / "resnet_gap_head.traced.pt"));
    c.setModel(model);
    const ExplainKey key{image(2), -1, ScoreKind::Logit};
    c.request(key);
    ASSERT_TRUE(ready.wait(60000));
    const int layer = model->info().findTap("trunk.conv1");
    ASSERT_GE(layer, 0);
    ASSERT_FALSE(c.cached(key)->explanation.find(Method::GradCam, layer));
    // The controller's single worker is busy with a prefetch, so both queue behind it and run in
    // order: the layer pass, then Score-CAM, which started from the result without the layer.
    c.prefetch({image(3), -1, ScoreKind::Logit});
    c.requestTap(key, layer);
    c.requestScoreCam(key, model->info().lastBlockTap);
    ASSERT_TRUE(scoreCam.wait(60000));
    ASSERT_EQ(ready.count(), 2) << "the layer pass did not finish first";
    const auto now = c.cached(key);
    ASSERT_TRUE(now);
    EXPECT_TRUE(now->explanation.find(Method::GradCam, layer)) << "the layer's maps were dropped";
    EXPECT_TRUE(now->explanation.find(Method::ScoreCam, model->info().lastBlockTap));
}

}  // namespace
}  // namespace camx::ui
