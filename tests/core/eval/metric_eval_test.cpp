// `eval --metrics`: the faithfulness metrics inside a split evaluation. Every map and the three
// baselines get their numbers; the summary's keys are the documented ones and equal the means of
// the records; a resumed or reloaded evaluation gives the same; other metric settings do not
// resume old rows. The sanity check compares every map with the randomised models' maps, step by
// step, as the evaluation scores maps.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "../test_support.h"
#include "data/loader.h"
#include "eval/evaluator.h"
#include "explain/model_session.h"
#include "explain/postprocess.h"
#include "metrics/similarity.h"

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
    // The summary: the issue's keys, baselines with layer null, means of the records.
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
    EXPECT_EQ(j["metrics"]["metrics"], "deletion,insertion,road,drop,pointing,sanity");
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

TEST_F(MetricEval, TheSanityCheckComparesEveryMapWithEachRandomisedModelsMap) {
    auto model = ModelSession::open(modelFile());
    test::TempDir out;
    EvalOptions o;
    o.methods = {Method::Cam, Method::GradCam};
    o.taps = {0, model->info().lastBlockTap};  // CAM stays at the last block
    o.batchSize = 2;
    o.limit = 3;  // two batches: the randomised weights must not depend on the batch
    o.metrics.sanity = true;
    o.metrics.seed = 11;
    const EvalResult r = evaluateSplit(*model, s_ds->test, o, out.path());
    const auto cascade = model->randomizationCascade();
    ASSERT_GE(cascade.size(), 3u);  // fc, the blocks, the stem
    ASSERT_EQ(r.records.size(), 3u);

    // The oracle: the same images in the same batches, the randomised models' maps asked for
    // directly, each compared with the original's after the evaluation's normalisation, at the
    // input's size.
    LoaderOptions lo;
    lo.batchSize = 2;
    lo.inputSize = model->info().inputSize;
    lo.norm = model->info().norm;
    std::vector<Sample> first(s_ds->test.samples.begin(), s_ds->test.samples.begin() + 3);
    BatchLoader loader(first, lo);
    loader.startEpoch(0);
    const int S = lo.inputSize;
    SanityOptions so;
    so.explain.methods = o.methods;
    so.explain.taps = o.taps;
    so.seed = 11;
    std::vector<ImageExplanation> original;
    std::vector<std::vector<ImageExplanation>> randomized(cascade.size());  // [step][image]
    while (const auto batch = loader.next()) {
        std::vector<int> targets;
        for (std::size_t i : batch->indices) targets.push_back(r.records[i].classLabel());
        const SanityResult part = model->explainRandomized(
            batch->images.data_ptr<float>(), static_cast<int>(targets.size()), targets, so);
        ASSERT_EQ(part.steps.size(), cascade.size());
        original.insert(original.end(), part.original.begin(), part.original.end());
        for (std::size_t k = 0; k < cascade.size(); ++k)
            randomized[k].insert(randomized[k].end(), part.steps[k].explanations.begin(),
                                 part.steps[k].explanations.end());
    }
    ASSERT_EQ(original.size(), 3u);
    auto shown = [S](const MapResult& m) {
        return upsampleMap(normalizeMap(m.raw, methodUsesRelu(m.method)), S, S);
    };
    std::size_t compared = 0;
    for (std::size_t i = 0; i < 3; ++i) {
        const auto& rec = r.records[i];
        for (const MapScore& s : rec.scores) {
            ASSERT_TRUE(s.metrics);
            ASSERT_EQ(s.metrics->sanitySpearman.size(), cascade.size());
            ASSERT_EQ(s.metrics->sanitySsim.size(), cascade.size());
            if (methodIsBaseline(s.method)) {
                // The same map whatever the weights.
                for (std::size_t k = 0; k < cascade.size(); ++k) {
                    EXPECT_NEAR(s.metrics->sanitySpearman[k], 1.0, 1e-6);
                    EXPECT_NEAR(s.metrics->sanitySsim[k], 1.0, 1e-6);
                }
                continue;
            }
            const auto& orig = original[i].maps;
            const auto o1 = std::find_if(orig.begin(), orig.end(), [&](const MapResult& m) {
                return m.method == s.method && m.tap == s.tap;
            });
            ASSERT_NE(o1, orig.end());
            const Heatmap mine = shown(*o1);
            for (std::size_t k = 0; k < cascade.size(); ++k) {
                const auto& rm = randomized[k][i].maps[o1 - orig.begin()];
                const Heatmap theirs = shown(rm);
                const double rho = spearmanCorrelation(mine, theirs);
                const double st = ssim(mine, theirs);
                if (std::isnan(rho))
                    EXPECT_TRUE(std::isnan(s.metrics->sanitySpearman[k]));
                else
                    EXPECT_NEAR(s.metrics->sanitySpearman[k], rho, 1e-6)
                        << methodId(s.method) << "@" << s.tap << " step " << cascade[k].label;
                EXPECT_NEAR(s.metrics->sanitySsim[k], st, 1e-6);
                ++compared;
            }
        }
    }
    EXPECT_EQ(compared, 3u * 3u * cascade.size());  // CAM, Grad-CAM at two layers
    // Randomising the head changes CAM at once (its class weights are new).
    EXPECT_LT(r.records[0].find(Method::Cam, model->info().lastBlockTap)->metrics->sanitySsim[0],
              0.999);

    // summary.json: the layers top down and a mean per layer; reloaded the same.
    std::ifstream in(out / "summary.json");
    const json j = json::parse(in);
    for (const auto& m : j["methods"]) {
        ASSERT_EQ(m["sanity_layers"].size(), cascade.size());
        EXPECT_EQ(m["sanity_layers"][0], cascade[0].label);
        EXPECT_EQ(m["sanity_spearman"].size(), cascade.size());
        EXPECT_EQ(m["sanity_ssim"].size(), cascade.size());
        EXPECT_FALSE(m.contains("deletion_auc"));  // only what was asked
    }
    const MethodSummary& gradcam = *std::find_if(
        r.summary.methods.begin(), r.summary.methods.end(),
        [&](const MethodSummary& m) { return m.method == Method::GradCam && m.tap == 0; });
    double mean = 0;
    for (const auto& rec : r.records) mean += rec.find(Method::GradCam, 0)->metrics->sanitySsim[1];
    EXPECT_NEAR(gradcam.metrics->sanitySsim[1], mean / 3, 1e-6);
    // per_image.csv: a Spearman and an SSIM column per map and randomised layer.
    const std::string csv = test::slurp(out / "per_image.csv");
    const std::string last = tapNames(*model)[static_cast<std::size_t>(model->info().lastBlockTap)];
    for (const std::string& c : {"cam@" + last + "_sanity_ssim@" + cascade.back().label,
                                 "random_sanity_spearman@" + cascade.front().label})
        EXPECT_NE(csv.find(c), std::string::npos) << c;
    const SavedEvaluation saved = loadEvaluation(out.path(), tapNames(*model));
    EXPECT_EQ(saved.options.metrics.sanitySteps.size(), cascade.size());
    ASSERT_EQ(saved.summary.methods.size(), r.summary.methods.size());
    for (std::size_t k = 0; k < r.summary.methods.size(); ++k)
        EXPECT_EQ(saved.summary.methods[k].metrics->sanitySsim,
                  r.summary.methods[k].metrics->sanitySsim);
}

TEST(MetricList, UndefinedSimilaritiesAreLeftOutOfTheMeansAndWrittenAsNull) {
    MapMetrics a, b;
    const float nan = std::numeric_limits<float>::quiet_NaN();
    a.sanitySpearman = {0.5f, nan};
    a.sanitySsim = {0.25f, nan};
    b.sanitySpearman = {0.3f, nan};
    b.sanitySsim = {0.75f, nan};
    const auto s = summarizeMetrics({&a, &b});
    ASSERT_TRUE(s);
    ASSERT_EQ(s->sanitySpearman.size(), 2u);
    EXPECT_NEAR(s->sanitySpearman[0], 0.4, 1e-7);
    EXPECT_NEAR(s->sanitySsim[0], 0.5, 1e-7);
    EXPECT_TRUE(std::isnan(s->sanitySpearman[1]));
    MetricOptions o;
    o.sanity = true;
    o.sanitySteps = {"fc", "stem"};
    const json j = metricSummaryJson(*s, o);
    EXPECT_TRUE(j["sanity_spearman"][1].is_null());
    EXPECT_EQ(j["sanity_layers"], json({"fc", "stem"}));
    const MapMetrics back = mapMetricsFromJson(mapMetricsToJson(a));
    ASSERT_EQ(back.sanitySpearman.size(), 2u);
    EXPECT_FLOAT_EQ(back.sanitySpearman[0], 0.5f);
    EXPECT_TRUE(std::isnan(back.sanitySsim[1]));
    json bad = mapMetricsToJson(a);
    bad["sanity"]["ssim"].erase(1);
    EXPECT_THROW(mapMetricsFromJson(bad), std::invalid_argument);
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
    EXPECT_EQ(metricListId(all), "deletion,insertion,road,drop,pointing,sanity");
    MetricOptions sanityOnly;
    parseMetricList("sanity", &sanityOnly);
    EXPECT_TRUE(sanityOnly.sanity && sanityOnly.any() && !sanityOnly.perturbs());
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
