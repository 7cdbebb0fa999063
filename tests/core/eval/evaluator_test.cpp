#include <gtest/gtest.h>
#include <fstream>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "../test_support.h"
#include "eval/evaluator.h"
#include "eval/ranking.h"
#include "explain/model_session.h"
#include "nn/checkpoint_io.h"

namespace camx {
namespace {
namespace fs = std::filesystem;

ImageRecord record(std::size_t index, int label, int predicted, double iou,
                   std::vector<float> sweepLargest, std::vector<float> sweepBest) {
    ImageRecord r;
    r.index = index;
    r.relPath = "b/x" + std::to_string(index) + ".jpg";
    r.label = label;
    r.predicted = predicted;
    r.probability = 0.9f;
    r.top5 = {{predicted, 0.9f, 0.f}, {label, 0.05f, 0.f}};
    MapScore s;
    s.method = Method::Cam;
    s.tap = 3;
    s.iou = iou;
    s.box = Box{0, 0, 1, 1};
    s.sweepLargest = std::move(sweepLargest);
    s.sweepBest = std::move(sweepBest);
    r.scores.push_back(s);
    return r;
}

TEST(Summary, MatchesHandComputedMetrics) {
    // Four images, two thresholds. Hand-computed:
    //  mean IoU (0.8+0.6+0.4+0.1)/4 = 0.475; loc@0.5: 2/4; top-1 loc: image 0 only (1 is wrong):
    //  1/4 MaxBoxAcc: tau0 largest >=0.5: {0.7,0.2,0.55,0.1} -> 2/4; tau1: {0.9,0.6,0.6,0.4} -> 3/4
    //  => 0.75 at tau1 MaxBoxAccV2 (best boxes): tau0 {0.7,0.35,0.55,0.3}, tau1 {0.9,0.6,0.75,0.4}
    //    delta .3: tau0 4/4 -> 1.0; delta .5: tau1 3/4; delta .7: tau1 2/4 => (1 + .75 + .5)/3 =
    //    0.75
    EvalOptions o;
    o.sweep = {0.2f, 0.5f};
    std::vector<ImageRecord> rs = {
        record(0, 0, 0, 0.8, {0.7f, 0.9f}, {0.7f, 0.9f}),
        record(1, 1, 0, 0.6, {0.2f, 0.6f}, {0.35f, 0.6f}),
        record(2, 1, 1, 0.4, {0.55f, 0.6f}, {0.55f, 0.75f}),
        record(3, 0, 0, 0.1, {0.1f, 0.4f}, {0.3f, 0.4f}),
    };
    std::vector<std::string> taps = {"stem", "layer1.0", "layer1.1", "layer4.1"};
    const EvalSummary s = summarize(rs, o, taps);
    EXPECT_EQ(s.images, 4u);
    EXPECT_DOUBLE_EQ(s.top1, 0.75);
    EXPECT_DOUBLE_EQ(s.top5, 1.0);
    ASSERT_EQ(s.methods.size(), 1u);
    const MethodSummary& m = s.methods[0];
    EXPECT_EQ(m.tapName, "layer4.1");
    EXPECT_NEAR(m.meanIou, 0.475, 1e-12);
    EXPECT_NEAR(m.locAccuracy, 0.5, 1e-12);
    EXPECT_NEAR(m.gtKnownLoc, 0.5, 1e-12);
    EXPECT_NEAR(m.top1Loc, 0.25, 1e-12);
    EXPECT_NEAR(m.maxBoxAcc, 0.75, 1e-12);
    EXPECT_FLOAT_EQ(m.maxBoxAccTau, 0.5f);
    EXPECT_NEAR(m.maxBoxAccV2, 0.75, 1e-12);
    ASSERT_EQ(m.sweepCurve.size(), 2u);
    EXPECT_NEAR(m.sweepCurve[0], 0.5, 1e-12);
    // Per breed: label 0 -> images 0, 3: mean IoU 0.45, loc 1/2; label 1 -> images 1, 2: 0.5, 1/2.
    EXPECT_NEAR(m.perBreed.at(0).first, 0.45, 1e-12);
    EXPECT_NEAR(m.perBreed.at(1).second, 0.5, 1e-12);
    // Localisation accuracy against the IoU threshold: at 0.05 all four, at 0.5 two.
    EXPECT_NEAR(m.iouThresholdCurve.front(), 1.0, 1e-12);
    EXPECT_NEAR(m.iouThresholdCurve[9], 0.5, 1e-12);
}

TEST(Ranking, WorstAndBestBySplitIndexWithTiesInSplitOrder) {
    // record(index, label, predicted, iou, ...) puts CAM at tap 3.
    std::vector<ImageRecord> rs = {record(10, 0, 0, 0.5, {}, {}), record(11, 0, 0, 0.2, {}, {}),
                                   record(12, 0, 0, 0.5, {}, {}), record(13, 0, 0, 0.9, {}, {})};
    // CAM is read at the last block whatever tap is asked for.
    EXPECT_EQ(rankByIou(rs, Method::Cam, 0, 3, 3, true), (std::vector<std::size_t>{11, 10, 12}));
    EXPECT_EQ(rankByIou(rs, Method::Cam, 0, 3, 2, false), (std::vector<std::size_t>{13, 10}));
    // A filter on the split index; a method without scores gives nothing.
    EXPECT_EQ(rankByIou(rs, Method::Cam, 0, 3, 9, true, [](std::size_t i) { return i != 11; }),
              (std::vector<std::size_t>{10, 12, 13}));
    EXPECT_TRUE(rankByIou(rs, Method::GradCam, 3, 3, 5, true).empty());
    // An image without ground-truth boxes scores IoU 0 but is not "the worst": it is left out.
    rs[1].hasBoxes = false;
    EXPECT_EQ(rankByIou(rs, Method::Cam, 0, 3, 2, true), (std::vector<std::size_t>{10, 12}));
}

TEST(ScoreMap, BoxAndIouFromARawMap) {
    // A 4x4 raw map with one hot cell, upsampled to 40x40: the box sits around that cell.
    Heatmap raw{4, 4, std::vector<float>(16, 0.f)};
    raw.data[1 * 4 + 2] = 1.f;
    EvalOptions o;
    o.tau = 0.5f;
    o.sweep = {0.1f, 0.9f};
    const std::vector<Box> truth = {{20, 10, 29, 19}};
    const MapScore s = scoreMap(raw, Method::GradCam, 0, 40, 40, truth, o);
    ASSERT_TRUE(s.box);
    EXPECT_GT(s.iou, 0.5);
    EXPECT_LT(s.box->xmin, 25);
    EXPECT_GT(s.box->xmax, 24);
    ASSERT_EQ(s.sweepLargest.size(), 2u);
    EXPECT_GE(s.sweepBest[0], s.sweepLargest[0]);
}

class SplitEval : public test::DemoSuite<3, 4, 3, 13, true> {
protected:
};

TEST_F(SplitEval, WritesCsvAndJsonThatAgreeWithTheRecords) {
    auto model = ModelSession::open(modelFile());
    test::TempDir out;
    EvalOptions o;
    o.sweep = EvalOptions::defaultSweep(0.25f);
    o.taps = {model->info().findTap("layer3.1"), model->info().lastBlockTap};
    o.batchSize = 5;
    const EvalResult r = evaluateSplit(*model, s_ds->test, o, out.path());
    ASSERT_EQ(r.records.size(), 12u);
    EXPECT_FALSE(fs::exists(out / "eval_partial.jsonl"));
    // CAM at the last block, Grad-CAM at both taps.
    ASSERT_EQ(r.summary.methods.size(), 3u);
    const std::string csv = test::slurp(out / "per_image.csv");
    EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 13);
    EXPECT_NE(csv.find("gradcam@layer3.1_iou"), std::string::npos);
    const auto j = nlohmann::json::parse(test::slurp(out / "summary.json"));
    EXPECT_EQ(j["images"].get<int>(), 12);
    EXPECT_NEAR(j["methods"][0]["mean_iou"].get<double>(), r.summary.methods[0].meanIou, 1e-12);
    // The records' IoUs are the boxes' IoUs against the truth.
    for (const auto& rec : r.records)
        for (const auto& sc : rec.scores)
            EXPECT_NEAR(sc.iou, bestIou(sc.box, s_ds->test.samples[rec.index].boxes), 1e-12);

    // Saved and read back (dashboard): the same options, records and summary.
    std::vector<std::string> tapNames;
    for (const auto& t : model->info().taps) tapNames.push_back(t.name);
    const SavedEvaluation back = loadEvaluation(out.path(), tapNames);
    EXPECT_EQ(back.options.taps, o.taps);
    EXPECT_EQ(back.options.sweep, o.sweep);
    EXPECT_EQ(back.model, modelFile().string());
    ASSERT_EQ(back.records.size(), r.records.size());
    EXPECT_EQ(back.records[7].scores[1].box, r.records[7].scores[1].box);
    ASSERT_EQ(back.summary.methods.size(), r.summary.methods.size());
    for (std::size_t m = 0; m < r.summary.methods.size(); ++m) {
        EXPECT_NEAR(back.summary.methods[m].meanIou, r.summary.methods[m].meanIou, 1e-6);
        EXPECT_NEAR(back.summary.methods[m].maxBoxAcc, r.summary.methods[m].maxBoxAcc, 1e-12);
    }
    // A damaged file names itself and the line.
    {
        std::ofstream f(out / "records.jsonl", std::ios::app);
        f << "{\"index\": 3, \"file\": \n";
    }
    try {
        loadEvaluation(out.path(), tapNames);
        ADD_FAILURE() << "a damaged file was accepted";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("records.jsonl' line 14"), std::string::npos)
            << e.what();
    }
    test::TempDir empty;
    EXPECT_THROW(loadEvaluation(empty.path(), tapNames), std::runtime_error);
}

TEST_F(SplitEval, AnInterruptedRunResumesWhereItStopped) {
    auto model = ModelSession::open(modelFile());
    test::TempDir out;
    EvalOptions o;
    o.batchSize = 4;
    CancelToken stop;
    JobContext job;
    job.cancel = &stop;
    job.progress = [&](const Progress& p) {
        if (p.stage == "Evaluating" && p.done >= 4) stop.cancel();
    };
    EXPECT_THROW(evaluateSplit(*model, s_ds->test, o, out.path(), job), Cancelled);
    EXPECT_TRUE(fs::exists(out / "eval_partial.jsonl"));
    EXPECT_FALSE(fs::exists(out / "summary.json"));
    const EvalResult resumed = evaluateSplit(*model, s_ds->test, o, out.path());
    EXPECT_GE(resumed.resumed, 4u);
    ASSERT_EQ(resumed.records.size(), 12u);
    test::TempDir fresh;
    const EvalResult whole = evaluateSplit(*model, s_ds->test, o, fresh.path());
    for (std::size_t i = 0; i < 12; ++i) {
        EXPECT_EQ(resumed.records[i].index, i);
        EXPECT_EQ(resumed.records[i].predicted, whole.records[i].predicted);
        EXPECT_NEAR(resumed.records[i].scores[0].iou, whole.records[i].scores[0].iou, 1e-9);
    }
    EXPECT_EQ(test::slurp(out / "per_image.csv"), test::slurp(fresh / "per_image.csv"));
}

TEST_F(SplitEval, LimitAndBadLayersAreHandled) {
    auto model = ModelSession::open(modelFile());
    test::TempDir out;
    EvalOptions o;
    o.limit = 5;
    EXPECT_EQ(evaluateSplit(*model, s_ds->test, o, out.path()).records.size(), 5u);
    o.taps = {999};
    EXPECT_THROW(evaluateSplit(*model, s_ds->test, o, out.path()), std::invalid_argument);
}

TEST_F(SplitEval, AnotherModelAtTheSamePathDoesNotResumeTheOldRows) {
    test::TempDir out;
    const fs::path path = out / "model.ckpt";
    fs::copy_file(modelFile(), path);
    EvalOptions o;
    o.batchSize = 4;
    {
        auto a = ModelSession::open(path);
        CancelToken stop;
        EXPECT_THROW(evaluateSplit(*a, s_ds->test, o, out / "ev", test::stopAfter(stop, 4)),
                     Cancelled);
    }
    ASSERT_TRUE(fs::exists(out / "ev" / "eval_partial.jsonl"));
    // Another model copied over the same file: the head's weights negated.
    {
        LoadedCheckpoint l = loadCheckpoint(modelFile());
        {
            at::NoGradGuard g;
            l.net->classifier()->weight.neg_();
        }
        saveCheckpoint(path, l.meta, l.net);
    }
    auto b = ModelSession::open(path);
    const EvalResult r = evaluateSplit(*b, s_ds->test, o, out / "ev");
    EXPECT_EQ(r.resumed, 0u);
    test::TempDir fresh;
    const EvalResult whole = evaluateSplit(*b, s_ds->test, o, fresh.path());
    ASSERT_EQ(r.records.size(), whole.records.size());
    for (std::size_t i = 0; i < r.records.size(); ++i)
        EXPECT_EQ(r.records[i].predicted, whole.records[i].predicted) << i;
    EXPECT_EQ(test::slurp(out / "ev" / "per_image.csv"), test::slurp(fresh / "per_image.csv"));
}

TEST_F(SplitEval, AnotherDatasetOfTheSameSizeDoesNotResumeTheOldRows) {
    auto model = ModelSession::open(modelFile());
    test::TempDir out;
    EvalOptions o;
    o.batchSize = 4;
    CancelToken stop;
    EXPECT_THROW(evaluateSplit(*model, s_ds->test, o, out.path(), test::stopAfter(stop, 4)),
                 Cancelled);
    // Same number of images, other ground truth.
    SplitData other = s_ds->test;
    for (Sample& smp : other.samples)
        for (Box& b : smp.boxes) b = Box{0, 0, b.xmax / 2, b.ymax / 2};
    const EvalResult r = evaluateSplit(*model, other, o, out.path());
    EXPECT_EQ(r.resumed, 0u);
    for (const auto& rec : r.records)
        EXPECT_NEAR(rec.scores[0].iou, bestIou(rec.scores[0].box, other.samples[rec.index].boxes),
                    1e-12);
    // And the same model and data resume as before.
    CancelToken stop2;
    test::TempDir again;
    EXPECT_THROW(evaluateSplit(*model, other, o, again.path(), test::stopAfter(stop2, 4)),
                 Cancelled);
    EXPECT_GE(evaluateSplit(*model, other, o, again.path()).resumed, 4u);
}

TEST_F(SplitEval, ATorchScriptModelGivenOtherSettingsDoesNotResumeTheOldRows) {
    // The same file, but what the user says about it changes the results: the class names
    // (which dataset class is which output) and the input size.
    const fs::path file = test::fixture("torchscript") / "resnet_gap_head.traced.pt";
    EvalOptions o;
    o.batchSize = 4;
    o.datasetClassNames = s_ds->breedNames;
    auto interrupted = [&](ModelSession& m, const fs::path& out) {
        CancelToken stop;
        EXPECT_THROW(evaluateSplit(m, s_ds->test, o, out, test::stopAfter(stop, 4)), Cancelled);
    };
    test::TempDir out;
    auto plain = ModelSession::open(file);
    interrupted(*plain, out / "a");
    std::vector<std::string> names = s_ds->breedNames;
    while (names.size() < 10) names.push_back("other " + std::to_string(names.size()));
    ScriptMeta renamed;  // what --class-names or the Model Input dialog give
    renamed.classNames = names;
    auto named = ModelSession::open(file, {}, {}, ModelSession::Names::Required, renamed);
    const EvalResult r = evaluateSplit(*named, s_ds->test, o, out / "a");
    EXPECT_EQ(r.resumed, 0u);
    EXPECT_TRUE(r.summary.classified);  // the names now match the breeds
    for (const auto& rec : r.records) EXPECT_EQ(rec.classLabel(), rec.label);

    interrupted(*plain, out / "b");
    ScriptMeta bigger;
    bigger.inputSize = 96;
    auto resized = ModelSession::open(file, {}, {}, ModelSession::Names::Required, bigger);
    EXPECT_EQ(evaluateSplit(*resized, s_ds->test, o, out / "b").resumed, 0u);
    // The same settings again do resume.
    interrupted(*plain, out / "c");
    EXPECT_GE(evaluateSplit(*ModelSession::open(file), s_ds->test, o, out / "c").resumed, 4u);
}

TEST_F(SplitEval, AnUndecodableImageIsReportedNotDroppedSilently) {
    auto model = ModelSession::open(modelFile());
    test::TempDir out;
    SplitData split = s_ds->test;
    const fs::path broken = out / "broken.jpg";
    test::spit(broken, std::string("\xff\xd8\xff\xe0 this is not really a JPEG \xff\xd9", 32));
    split.samples[5].imagePath = broken;
    EvalOptions o;
    o.batchSize = 4;
    const EvalResult r = evaluateSplit(*model, split, o, out / "ev");
    EXPECT_EQ(r.records.size(), split.samples.size() - 1);
    ASSERT_EQ(r.skipped.size(), 1u);
    EXPECT_EQ(r.skipped[0].file, broken.string());
    EXPECT_FALSE(r.skipped[0].message.empty());
    const auto j = nlohmann::json::parse(test::slurp(out / "ev" / "summary.json"));
    ASSERT_EQ(j["skipped_images"].size(), 1u);
    EXPECT_EQ(j["skipped_images"][0]["file"].get<std::string>(), broken.string());
}

TEST_F(SplitEval, ANonUtf8FileNameDoesNotAbortTheEvaluation) {
    auto model = ModelSession::open(modelFile());
    test::TempDir out;
    SplitData split = s_ds->test;
    // Linux file names are bytes: Latin-1 "é" is not UTF-8.
    const std::string name = "caf\xe9.jpg";
    const fs::path odd = out / name;
    fs::copy_file(split.samples[2].imagePath, odd);
    split.samples[2].imagePath = odd;
    split.samples[2].relPath = "n1-Odd/" + name;
    EvalOptions o;
    o.batchSize = 4;
    const EvalResult r = evaluateSplit(*model, split, o, out / "ev");
    EXPECT_EQ(r.records.size(), split.samples.size());
    EXPECT_TRUE(r.skipped.empty());
    std::vector<std::string> tapNames;
    for (const auto& t : model->info().taps) tapNames.push_back(t.name);
    const SavedEvaluation back = loadEvaluation(out / "ev", tapNames);
    EXPECT_EQ(back.records.size(), split.samples.size());
    // The CSV keeps the name's bytes as they are.
    EXPECT_NE(test::slurp(out / "ev" / "per_image.csv").find(name), std::string::npos);
}

}  // namespace
}  // namespace camx
