// `eval --metrics`: the faithfulness metrics inside a split evaluation. Every map and the three
// baselines get their numbers; the summary's keys are the documented ones and equal the means of
// the records; a resumed or reloaded evaluation gives the same; other metric settings do not
// resume old rows.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "../test_support.h"
#include "eval/evaluator.h"
#include "explain/model_session.h"

namespace camx {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

class MetricEval : public test::DemoSuite<2, 2, 3, 41, true> {
protected:
    static std::vector<std::string> tapNames(const ModelSession& m) {
        std::vector<std::string> names;
        for (const auto& t : m.info().taps) names.push_back(t.name);
        return names;
    }
    static EvalOptions options() {
        EvalOptions o;
        o.methods = {Method::Cam, Method::GradCam};
        o.batchSize = 4;
        parseMetricList("all", &o.metrics);
        o.metrics.steps = 4;
        o.metrics.roadPercentiles = {30, 70};
        o.metrics.seed = 5;
        return o;
    }
};

TEST_F(MetricEval, EveryMapAndTheBaselinesGetTheDocumentedFigures) {
    auto model = ModelSession::open(modelFile());
    test::TempDir out;
    const EvalOptions o = options();
    const EvalResult r = evaluateSplit(*model, s_ds->test, o, out.path());
    ASSERT_EQ(r.records.size(), s_ds->test.samples.size());
    const std::vector<Method> expected = {Method::Cam, Method::GradCam, Method::RandomMap,
                                          Method::CenterMap, Method::SobelMap};
    for (const auto& rec : r.records) {
        ASSERT_EQ(rec.scores.size(), expected.size());
        for (std::size_t j = 0; j < expected.size(); ++j) {
            const MapScore& s = rec.scores[j];
            EXPECT_EQ(s.method, expected[j]);
            EXPECT_EQ(s.tap, methodIsBaseline(s.method) ? -1 : model->info().lastBlockTap);
            ASSERT_TRUE(s.metrics);
            EXPECT_EQ(s.metrics->deletion.size(), 5u);  // 4 steps
            EXPECT_EQ(s.metrics->insertion.size(), 5u);
            EXPECT_EQ(s.metrics->roadMorf.size(), 2u);
            ASSERT_TRUE(s.metrics->pointingHit);  // the demo has boxes
            ASSERT_TRUE(s.metrics->scoreBefore);
            // The image's own score is the same for every map; deletion starts from it.
            EXPECT_NEAR(*s.metrics->scoreBefore, *rec.scores[0].metrics->scoreBefore, 1e-6);
            EXPECT_NEAR(s.metrics->deletion.front(), *s.metrics->scoreBefore, 1e-5);
            EXPECT_NEAR(s.metrics->insertion.back(), *s.metrics->scoreBefore, 1e-5);
            EXPECT_GE(*s.metrics->energyPointing, 0.0);
            EXPECT_LE(*s.metrics->energyPointing, 1.0);
        }
    }
    // The summary: the keys, baselines with layer null, means of the records.
    std::ifstream in(out / "summary.json");
    const json j = json::parse(in);
    ASSERT_EQ(j["methods"].size(), 5u);
    for (const auto& m : j["methods"]) {
        for (const char* k : {"deletion_auc", "insertion_auc", "road_combined", "avg_drop",
                              "increase_in_confidence", "pointing_game", "energy_pointing_game"})
            EXPECT_TRUE(m.contains(k) && m[k].is_number()) << m["method"] << " " << k;
        const bool baseline =
            m["method"] == "random" || m["method"] == "center" || m["method"] == "sobel";
        EXPECT_EQ(m["layer"].is_null(), baseline) << m["method"];
    }
    EXPECT_EQ(j["metrics"]["metrics"], "deletion,insertion,road,drop,pointing");
    for (std::size_t k = 0; k < r.summary.methods.size(); ++k) {
        const MethodSummary& ms = r.summary.methods[k];
        ASSERT_TRUE(ms.metrics);
        double del = 0, drop = 0, hits = 0;
        for (const auto& rec : r.records) {
            const MapMetrics& m = *rec.find(ms.method, ms.tap)->metrics;
            del += *m.deletionAuc;
            drop += std::max(0.0, *m.scoreBefore - *m.scoreMultiplied) / *m.scoreBefore;
            hits += *m.pointingHit;
        }
        const double n = static_cast<double>(r.records.size());
        EXPECT_NEAR(*ms.metrics->deletionAuc, del / n, 1e-12);
        EXPECT_NEAR(*ms.metrics->avgDrop, 100 * drop / n, 1e-9);
        EXPECT_NEAR(*ms.metrics->pointingGame, hits / n, 1e-12);
        EXPECT_NEAR(j["methods"][k]["deletion_auc"].get<double>(), del / n, 1e-9);
        EXPECT_EQ(ms.metrics->deletionCurve.size(), 5u);
    }
    // The per-image CSV names the columns per map.
    const std::string csv = test::slurp(out / "per_image.csv");
    for (const char* c : {"gradcam@layer4.1_deletion_auc", "random_road_combined", "sobel_iou",
                          "center_pointing_hit", "cam@layer4.1_score_times_map"})
        EXPECT_NE(csv.find(c), std::string::npos) << c;

    // Reloaded (the dashboard's path): the same numbers, the settings read back.
    const SavedEvaluation saved = loadEvaluation(out.path(), tapNames(*model));
    EXPECT_EQ(metricListId(saved.options.metrics), metricListId(o.metrics));
    EXPECT_EQ(saved.options.metrics.roadPercentiles, o.metrics.roadPercentiles);
    ASSERT_EQ(saved.summary.methods.size(), r.summary.methods.size());
    for (std::size_t k = 0; k < r.summary.methods.size(); ++k) {
        EXPECT_EQ(*saved.summary.methods[k].metrics->roadCombined,
                  *r.summary.methods[k].metrics->roadCombined);
        EXPECT_EQ(*saved.summary.methods[k].metrics->insertionAuc,
                  *r.summary.methods[k].metrics->insertionAuc);
    }
}

TEST_F(MetricEval, TheSeedDecidesTheNoiseAndOtherSettingsDoNotResume) {
    auto model = ModelSession::open(modelFile());
    test::TempDir a, b;
    EvalOptions o = options();
    o.limit = 2;
    o.metrics.deletion = o.metrics.insertion = o.metrics.pointing = o.metrics.drop = false;
    const EvalResult first = evaluateSplit(*model, s_ds->test, o, a.path());
    const EvalResult again = evaluateSplit(*model, s_ds->test, o, b.path());
    for (std::size_t i = 0; i < first.records.size(); ++i)
        for (std::size_t j = 0; j < first.records[i].scores.size(); ++j)
            EXPECT_EQ(first.records[i].scores[j].metrics->roadMorf,
                      again.records[i].scores[j].metrics->roadMorf);
    // An interrupted run's rows resume only under the same metric settings.
    fs::copy_file(a / kRecordsFile, a / "eval_partial.jsonl");
    EXPECT_EQ(evaluateSplit(*model, s_ds->test, o, a.path()).resumed, 2u);
    fs::copy_file(b / kRecordsFile, b / "eval_partial.jsonl");
    o.metrics.seed = 6;
    const EvalResult other = evaluateSplit(*model, s_ds->test, o, b.path());
    EXPECT_EQ(other.resumed, 0u);
    EXPECT_NE(other.records[0].scores[2].metrics->roadMorf,
              first.records[0].scores[2].metrics->roadMorf);  // the random baseline and noise
}

TEST(PointingTruth, MasksAreReadThroughTheImageChecksAndABadOneIsNamed) {
    test::TempDir dir;
    cv::Mat half(20, 40, CV_8U, cv::Scalar(0));
    half(cv::Rect(0, 0, 20, 20)).setTo(255);  // left half, at half the photo's size
    ASSERT_TRUE(cv::imwrite((dir / "a.png").string(), half));
    test::spit(dir / "b.png", "not a png");
    Sample s;
    s.width = 80;
    s.height = 40;
    s.maskPaths = {dir / "a.png", dir / "b.png"};
    std::string error;
    const PointingTruth t = pointingTruthOf(s, &error);
    EXPECT_NE(error.find("b.png"), std::string::npos) << error;
    ASSERT_EQ(t.mask.size(), 80u * 40u);
    EXPECT_TRUE(t.inside(39, 39));  // scaled to the photo
    EXPECT_FALSE(t.inside(40, 0));
}

TEST(MetricList, ParsesKnownNamesAndRefusesOthers) {
    MetricOptions o;
    parseMetricList("road,pointing", &o);
    EXPECT_TRUE(o.road && o.pointing && !o.deletion);
    EXPECT_EQ(metricListId(o), "road,pointing");
    EXPECT_THROW(parseMetricList("road,faithiness", &o), std::invalid_argument);
    MetricOptions all;
    parseMetricList("all", &all);
    EXPECT_EQ(metricListId(all), "deletion,insertion,road,drop,pointing");
    // Summaries: average drop and increase in percent, from the records.
    MapMetrics a, b;
    a.scoreBefore = 0.8, a.scoreMultiplied = 0.6;  // drops by a quarter
    b.scoreBefore = 0.5, b.scoreMultiplied = 0.7;  // increases
    const auto s = summarizeMetrics({&a, &b});
    ASSERT_TRUE(s);
    EXPECT_NEAR(*s->avgDrop, 12.5, 1e-12);
    EXPECT_NEAR(*s->increaseInConfidence, 50.0, 1e-12);
    EXPECT_FALSE(s->deletionAuc);
    EXPECT_FALSE(summarizeMetrics({}));
}

}  // namespace
}  // namespace camx
