// `eval --protocol wsol`: the figures an evaluation reports equal wsolevaluation's accumulators run
// over the score maps it saved, in their layout (<dir>/<image id>.npy), exactly; boxes, masks
// (PxAP) and images without ground truth.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xnpy.hpp>

#include "../test_support.h"
#include "eval/evaluator.h"
#include "eval/wsol_protocol.h"
#include "explain/model_session.h"

namespace camx {
namespace {
namespace fs = std::filesystem;

class WsolEval : public test::DemoSuite<3, 4, 3, 29, true> {
protected:
    static std::vector<std::string> tapNames(const ModelSession& m) {
        std::vector<std::string> names;
        for (const auto& t : m.info().taps) names.push_back(t.name);
        return names;
    }
    // A saved map read back as their CamDataset does (np.load), into the float64 matrix their
    // evaluator is given.
    static cv::Mat loadMap(const fs::path& file) {
        const auto a = xt::load_npy<double>(file.string());
        EXPECT_EQ(a.dimension(), 2u) << file;
        cv::Mat m(static_cast<int>(a.shape()[0]), static_cast<int>(a.shape()[1]), CV_64F);
        std::copy(a.begin(), a.end(), m.ptr<double>(0));
        return m;
    }
    // The ground truth in their frame, written independently of the evaluator: our inclusive
    // boxes one past the last pixel (their metadata's x + w), scaled by resize_bbox.
    static std::vector<WsolBox> theirBoxes(const Sample& s) {
        std::vector<WsolBox> out;
        for (const Box& b : s.boxes)
            out.push_back(
                wsolResizeBox({b.xmin, b.ymin, b.xmax + 1, b.ymax + 1}, s.width, s.height));
        return out;
    }
};

TEST_F(WsolEval, ReportedFiguresEqualTheirAccumulatorsOnTheSavedMaps) {
    auto model = ModelSession::open(modelFile());
    const auto names = tapNames(*model);
    test::TempDir out, maps;
    EvalOptions o;
    o.protocol = EvalProtocol::Wsol;
    o.wsolStep = 0.01;
    o.sweep = EvalOptions::defaultSweep(0.05f);  // replaced by their thresholds
    o.saveMapsDir = maps.path();
    o.batchSize = 5;
    const EvalResult r = evaluateSplit(*model, s_ds->test, o, out.path());
    ASSERT_EQ(r.records.size(), s_ds->test.samples.size());
    EXPECT_EQ(r.summary.protocol, EvalProtocol::Wsol);
    EXPECT_EQ(r.summary.wsolThresholds.size(), 100u);
    EXPECT_TRUE(r.summary.sweep.empty());
    ASSERT_EQ(r.summary.methods.size(), 2u);  // CAM and Grad-CAM at the last block

    const std::vector<double> thresholds = wsolThresholds(0.01);
    for (const MethodSummary& m : r.summary.methods) {
        ASSERT_TRUE(m.wsol) << methodId(m.method);
        // Two kinds of map: one folder each, named <method>@<layer>.
        const fs::path folder = maps / (methodId(m.method) + "@" + m.tapName);
        EXPECT_EQ(savedMapsFolder(maps.path(), o, m.method, m.tapName), folder);
        WsolBoxAccumulator v2 = WsolBoxAccumulator::maxBoxAccV2(thresholds);
        WsolBoxAccumulator v1 = WsolBoxAccumulator::maxBoxAcc(thresholds);
        for (const Sample& s : s_ds->test.samples) {
            const fs::path file = folder / (s.relPath + ".npy");
            ASSERT_TRUE(fs::exists(file)) << file;
            const cv::Mat map = loadMap(file);
            ASSERT_EQ(map.rows, 224);
            ASSERT_EQ(map.cols, 224);
            double lo = 0, hi = 0;
            cv::minMaxLoc(map, &lo, &hi);
            EXPECT_EQ(lo, 0.0) << file;  // min-max normalised, as their code requires
            EXPECT_EQ(hi, 1.0) << file;
            v2.accumulate(map, theirBoxes(s));
            v1.accumulate(map, theirBoxes(s));
        }
        const WsolBoxResult a2 = v2.compute();
        const auto& w = *m.wsol;
        ASSERT_EQ(w.maxBoxAccV2At.size(), 3u);
        for (std::size_t k = 0; k < 3; ++k) EXPECT_EQ(w.maxBoxAccV2At[k], a2.maxBoxAcc[k]);
        EXPECT_EQ(w.maxBoxAccV2, a2.meanOverIou);
        EXPECT_EQ(w.maxBoxAcc, v1.compute().maxBoxAccAt(50));
        EXPECT_EQ(w.boxAccCurve50, a2.accuracyCurve[1]);
        EXPECT_FALSE(w.pxap);
        EXPECT_EQ(m.boxedImages, s_ds->test.samples.size());
        // Percent, and not all the same: the figures carry information.
        EXPECT_GE(w.maxBoxAccV2At[0], w.maxBoxAccV2At[1]);
        EXPECT_GE(w.maxBoxAccV2At[1], w.maxBoxAccV2At[2]);
        EXPECT_GT(w.maxBoxAccV2At[0], 0.0);
        EXPECT_LE(w.maxBoxAccV2At[0], 100.0);
    }

    // summary.json carries them; the saved evaluation recomputes them from its records.
    const auto j = nlohmann::json::parse(test::slurp(out / "summary.json"));
    EXPECT_EQ(j["protocol"], "wsol");
    EXPECT_EQ(j["wsol_thresholds"], 100);
    EXPECT_EQ(j["methods"][0]["wsol"]["max_box_acc_v2"].get<double>(),
              r.summary.methods[0].wsol->maxBoxAccV2);
    EXPECT_EQ(j["methods"][1]["wsol"]["max_box_acc_v2_at_iou"]["70"].get<double>(),
              r.summary.methods[1].wsol->maxBoxAccV2At[2]);
    const SavedEvaluation back = loadEvaluation(out.path(), names);
    EXPECT_EQ(back.options.protocol, EvalProtocol::Wsol);
    ASSERT_EQ(back.summary.methods.size(), 2u);
    for (std::size_t i = 0; i < 2; ++i) {
        ASSERT_TRUE(back.summary.methods[i].wsol);
        EXPECT_EQ(back.summary.methods[i].wsol->maxBoxAccV2At,
                  r.summary.methods[i].wsol->maxBoxAccV2At);
        EXPECT_EQ(back.summary.methods[i].wsol->maxBoxAcc, r.summary.methods[i].wsol->maxBoxAcc);
    }
}

TEST_F(WsolEval, OneKindOfMapGoesStraightIntoTheFolderAtTheFinerStep) {
    auto model = ModelSession::open(modelFile());
    test::TempDir out, maps;
    EvalOptions o;
    o.protocol = EvalProtocol::Wsol;
    o.wsolStep = 0.001;
    o.methods = {Method::GradCam};
    o.saveMapsDir = maps.path();
    o.limit = 3;
    const EvalResult r = evaluateSplit(*model, s_ds->test, o, out.path());
    ASSERT_EQ(r.records.size(), 3u);
    EXPECT_EQ(r.summary.wsolThresholds.size(), 1000u);
    for (std::size_t i = 0; i < 3; ++i)
        EXPECT_TRUE(fs::exists(maps / (s_ds->test.samples[i].relPath + ".npy")))
            << s_ds->test.samples[i].relPath;
    WsolBoxAccumulator v2 = WsolBoxAccumulator::maxBoxAccV2(wsolThresholds(0.001));
    for (std::size_t i = 0; i < 3; ++i) {
        const Sample& s = s_ds->test.samples[i];
        v2.accumulate(loadMap(maps / (s.relPath + ".npy")), theirBoxes(s));
    }
    ASSERT_TRUE(r.summary.methods.at(0).wsol);
    EXPECT_EQ(r.summary.methods[0].wsol->maxBoxAccV2, v2.compute().meanOverIou);
}

TEST_F(WsolEval, MasksGivePxapAndImagesWithoutBoxesAreNotScoredByIou) {
    auto model = ModelSession::open(modelFile());
    test::TempDir out, maps, masks;
    // The demo's test split as OpenImages would have it: no boxes, an instance mask (the
    // object's box filled) and an ignore mask (a band along the top) per image.
    SplitData split;
    split.samples = s_ds->test.samples;
    int n = 0;
    for (Sample& s : split.samples) {
        cv::Mat mask(s.height, s.width, CV_8U, cv::Scalar(0));
        for (const Box& b : s.boxes)
            cv::rectangle(mask, {b.xmin, b.ymin}, {b.xmax, b.ymax}, cv::Scalar(255), cv::FILLED);
        cv::Mat ignore(s.height, s.width, CV_8U, cv::Scalar(0));
        ignore.rowRange(0, std::max(1, s.height / 8)).setTo(255);
        const fs::path mf = masks / ("m" + std::to_string(n) + ".png");
        const fs::path igf = masks / ("i" + std::to_string(n) + ".png");
        ASSERT_TRUE(cv::imwrite(mf.string(), mask));
        ASSERT_TRUE(cv::imwrite(igf.string(), ignore));
        s.maskPaths = {mf};
        s.ignoreMaskPath = igf;
        s.boxes.clear();
        ++n;
    }
    // One image's mask is not a PNG: it leaves PxAP with a warning, nothing else.
    test::spit(split.samples.back().maskPaths[0], "not a png");

    EvalOptions o;
    o.protocol = EvalProtocol::Wsol;
    o.methods = {Method::Cam};
    o.saveMapsDir = maps.path();
    const EvalResult r = evaluateSplit(*model, split, o, out.path());
    ASSERT_EQ(r.records.size(), split.samples.size());
    ASSERT_EQ(r.warnings.size(), 1u);
    EXPECT_EQ(r.warnings[0].file, split.samples.back().relPath);
    EXPECT_NE(r.warnings[0].message.find("PxAP"), std::string::npos) << r.warnings[0].message;
    for (const auto& rec : r.records) EXPECT_FALSE(rec.hasBoxes);

    WsolMaskAccumulator px(wsolThresholds(0.01));
    for (std::size_t i = 0; i + 1 < split.samples.size(); ++i) {
        const Sample& s = split.samples[i];
        const cv::Mat gt =
            wsolGroundTruthMask({cv::imread(s.maskPaths[0].string(), cv::IMREAD_GRAYSCALE)},
                                cv::imread(s.ignoreMaskPath.string(), cv::IMREAD_GRAYSCALE));
        px.accumulate(loadMap(maps / (s.relPath + ".npy")), gt);
    }
    const MethodSummary& m = r.summary.methods.at(0);
    EXPECT_EQ(m.boxedImages, 0u);
    EXPECT_EQ(m.images, split.samples.size());
    EXPECT_EQ(m.meanIou, 0.0);
    ASSERT_TRUE(m.wsol);
    EXPECT_EQ(m.wsol->maskedImages, split.samples.size() - 1);
    ASSERT_TRUE(m.wsol->pxap);
    EXPECT_EQ(*m.wsol->pxap, px.compute().pxap);
    EXPECT_GT(*m.wsol->pxap, 0.0);
    EXPECT_TRUE(m.wsol->maxBoxAccV2At.empty());  // no boxes, no box accuracy

    // The per-image CSV leaves the IoU empty rather than writing a 0 nobody measured.
    const std::string csv = test::slurp(out / "per_image.csv");
    const auto line2 = csv.substr(csv.find('\n') + 1);
    EXPECT_EQ(line2.substr(line2.find('\n') - 1, 1), ",") << line2.substr(0, line2.find('\n'));
    const auto j = nlohmann::json::parse(test::slurp(out / "summary.json"));
    EXPECT_EQ(j["warnings"].size(), 1u);
    EXPECT_EQ(j["methods"][0]["boxed_images"], 0);
    EXPECT_EQ(j["methods"][0]["wsol"]["pxap"].get<double>(), *m.wsol->pxap);
}

TEST_F(WsolEval, OurProtocolSavesMapsAtTheImageSizeAndDoesNotResumeIntoWsol) {
    auto model = ModelSession::open(modelFile());
    test::TempDir out, maps;
    EvalOptions o;
    o.methods = {Method::Cam};
    o.saveMapsDir = maps.path();
    o.limit = 2;
    const EvalResult ours = evaluateSplit(*model, s_ds->test, o, out.path());
    EXPECT_FALSE(ours.summary.methods.at(0).wsol);
    const Sample& s = s_ds->test.samples[0];
    const auto a = xt::load_npy<float>((maps / (s.relPath + ".npy")).string());
    ASSERT_EQ(a.dimension(), 2u);
    EXPECT_EQ(a.shape()[0], static_cast<std::size_t>(s.height));
    EXPECT_EQ(a.shape()[1], static_cast<std::size_t>(s.width));
    EXPECT_LE(*std::max_element(a.begin(), a.end()), 1.0f);
    EXPECT_GE(*std::min_element(a.begin(), a.end()), 0.0f);

    // A partial file of our protocol is not resumed as the WSOL protocol's rows.
    {
        std::ifstream in(out / kRecordsFile);
        std::string text((std::istreambuf_iterator<char>(in)), {});
        test::spit(out / "eval_partial.jsonl", text);
    }
    o.protocol = EvalProtocol::Wsol;
    const EvalResult wsol = evaluateSplit(*model, s_ds->test, o, out.path());
    EXPECT_EQ(wsol.resumed, 0u);
    ASSERT_TRUE(wsol.summary.methods.at(0).wsol);
}

TEST_F(WsolEval, WhatTheProtocolScoresAgainstIsPartOfTheResumeKey) {
    // The listed boxes and the masks decide the WSOL figures, so a changed one must not resume
    // rows scored against the old one.
    test::TempDir dir;
    std::vector<Sample> samples(s_ds->test.samples.begin(), s_ds->test.samples.begin() + 2);
    const std::string plain = splitDigest(samples);
    samples[0].listedBoxes = samples[0].boxes;
    const std::string listed = splitDigest(samples);
    EXPECT_NE(listed, plain);
    samples[0].listedBoxes[0].xmax += 1;
    EXPECT_NE(splitDigest(samples), listed);
    samples[0].listedBoxes.clear();
    EXPECT_EQ(splitDigest(samples), plain);

    test::spit(dir / "m.png", "mask one");
    samples[1].maskPaths = {dir / "m.png"};
    const std::string masked = splitDigest(samples);
    EXPECT_NE(masked, plain);
    test::spit(dir / "m.png", "a longer mask two");
    EXPECT_NE(splitDigest(samples), masked);
    const std::string rewritten = splitDigest(samples);
    samples[1].ignoreMaskPath = dir / "ignore.png";
    EXPECT_NE(splitDigest(samples), rewritten);
}

}  // namespace
}  // namespace camx
