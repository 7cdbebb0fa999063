// The CLI as scripts use it: exit codes, messages, and the files it writes.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <sstream>

#include "../core/test_support.h"
#include "common/cpu_features.h"
#include "data/image_io.h"
#include "distributed/process_group.h"
#include "nn/checkpoint.h"
#include "nn/checkpoint_io.h"
#include "train/train_config.h"

namespace camx {
namespace {
namespace fs = std::filesystem;

struct CliRun {
    int code;
    std::string output;
};

CliRun cli(const std::string& args) {
    // `timeout` turns a regression into a hang (a FIFO, a runaway file) into a failure.
    const std::string cmd = "timeout 300 " + std::string(CAMX_CLI) + " " + args + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    CliRun r{-1, {}};
    if (!p) return r;
    char buf[4096];
    while (std::fgets(buf, sizeof buf, p)) r.output += buf;
    const int status = pclose(p);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

class Cli : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        s_dir = new test::TempDir();
        ASSERT_EQ(cli("make-demo --out " + (s_dir->path() / "demo").string() +
                      " --breeds 3 --train-per-breed 4 --test-per-breed 2 --seed 3")
                      .code,
                  0);
        test::trainTinyModel(s_dir->path() / "demo", s_dir->path() / "m");
    }
    static void TearDownTestSuite() { delete s_dir; }
    static test::TempDir* s_dir;
};
test::TempDir* Cli::s_dir = nullptr;

TEST_F(Cli, CheckDataPrintsCountsAndFailsOnlyWhenNothingLoads) {
    CliRun r = cli("check-data " + (s_dir->path() / "demo").string());
    EXPECT_EQ(r.code, 0) << r.output;
    EXPECT_NE(r.output.find("train      12 loaded /     12 listed"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("classes  3"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("format   stanford-dogs"), std::string::npos) << r.output;
    test::TempDir empty;
    r = cli("check-data " + empty.path().string());
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.output.find("is not a dataset CAM Explorer reads"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("CUB-200-2011"), std::string::npos) << r.output;
    r = cli("check-data");
    EXPECT_EQ(r.code, 2) << r.output;  // a required argument is missing: bad arguments
    r = cli("frobnicate");
    EXPECT_EQ(r.code, 2) << r.output;
}

TEST_F(Cli, CheckDataSaysWhichTfdsVersionItRead) {
    // Two versions of a TFDS copy, written by the independent writer (as tfds_test.cpp does).
    test::TempDir t;
    for (const char* version : {"0.1.0", "0.2.0"}) {
        const std::string cmd = "/usr/bin/python3 '" +
                                test::fixture("tfds/stanford_dogs_to_tfds.py").string() + "' '" +
                                (s_dir->path() / "demo").string() + "' '" + t.path().string() +
                                "' --shards 2 --version " + version;
        ASSERT_EQ(std::system(cmd.c_str()), 0)
            << cmd << "\nneeds /usr/bin/python3 with python3-protobuf and python3-scipy";
    }
    const std::string cache = " --quiet --cache " + (t / "cache").string();
    CliRun r = cli("check-data " + (t / "stanford_dogs").string() + cache);
    EXPECT_EQ(r.code, 0) << r.output;
    EXPECT_NE(r.output.find("format   tfds"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("note     stanford_dogs holds versions 0.1.0, 0.2.0: reading 0.2.0"),
              std::string::npos)
        << r.output;
    EXPECT_NE(r.output.find("test        6 loaded /      6 listed"), std::string::npos) << r.output;
    // The version folder itself: nothing to choose, no note.
    r = cli("check-data " + (t / "stanford_dogs" / "0.1.0").string() + cache);
    EXPECT_EQ(r.code, 0) << r.output;
    EXPECT_EQ(r.output.find("note "), std::string::npos) << r.output;
}

TEST_F(Cli, OtherLayoutsAreWrittenDetectedAndEvaluated) {
    test::TempDir t;
    const std::string small = " --breeds 3 --train-per-breed 2 --test-per-breed 2 --quiet";
    CliRun r = cli("make-demo --format cub --out " + (t / "cub").string() + small);
    ASSERT_EQ(r.code, 0) << r.output;
    r = cli("check-data " + (t / "cub").string());
    EXPECT_EQ(r.code, 0) << r.output;
    EXPECT_NE(r.output.find("format   cub"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("test        6 loaded /      6 listed"), std::string::npos) << r.output;
    // No Stanford Dogs source is left beside it.
    EXPECT_FALSE(fs::exists(t / ".cub.stanford-dogs"));

    r = cli("make-demo --format wsol --out " + (t / "wsol").string() + small);
    ASSERT_EQ(r.code, 0) << r.output;
    const std::string data =
        " --data " + (t / "wsol/images").string() + " --metadata " + (t / "wsol/metadata").string();
    const fs::path out = t / "ev";
    r = cli("eval --model " + (s_dir->path() / "m/best.ckpt").string() + data +
            " --split test --out " + out.string());
    ASSERT_EQ(r.code, 0) << r.output;
    const auto j = nlohmann::json::parse(test::slurp(out / "summary.json"));
    EXPECT_EQ(j["images"].get<int>(), 6);
    EXPECT_EQ(j["class_match"].get<std::string>(), "same names");
    // wsolevaluation has a val split; this metadata has none.
    r = cli("eval --model " + (s_dir->path() / "m/best.ckpt").string() + data +
            " --split val --out " + (t / "ev2").string());
    EXPECT_EQ(r.code, 1) << r.output;
    EXPECT_NE(r.output.find("the val split"), std::string::npos) << r.output;
    // The metadata given as the data: said what to do.
    r = cli("check-data " + (t / "wsol/metadata").string());
    EXPECT_EQ(r.code, 1) << r.output;
    EXPECT_NE(r.output.find("--metadata"), std::string::npos) << r.output;
}

TEST_F(Cli, InfoNamesTheLibraries) {
    const CliRun r = cli("info");
    EXPECT_EQ(r.code, 0);
    for (const char* k : {"LibTorch", "OpenCV", "matio", "CPU threads", "CPU bf16", "CUDA"})
        EXPECT_NE(r.output.find(k), std::string::npos) << k;
}

TEST_F(Cli, ExplainWritesNpyMapsAndJson) {
    const fs::path img = s_dir->path() / "demo/Images/n90000002-Tiger_Hound/n90000002_1004.jpg";
    const fs::path ann = s_dir->path() / "demo/Annotation/n90000002-Tiger_Hound/n90000002_1004";
    const fs::path out = s_dir->path() / "ex";
    const CliRun r =
        cli("explain --model " + (s_dir->path() / "m/best.ckpt").string() + " --image " +
            img.string() + " --annotation " + ann.string() +
            " --methods cam,gradcam,layercam --layers last,layer3.0 --out " + out.string());
    ASSERT_EQ(r.code, 0) << r.output;
    for (const char* f : {"input.npy", "logits.npy", "cam_layer4.1_raw.npy",
                          "gradcam_layer3.0_norm.npy", "layercam_layer4.1_full.npy", "result.json"})
        EXPECT_TRUE(fs::exists(out / f)) << f;
    const std::string npy = test::slurp(out / "logits.npy");
    EXPECT_EQ(npy.substr(0, 6), "\x93NUMPY");
    EXPECT_NE(npy.find("'shape': (1, 3)"), std::string::npos) << npy.substr(0, 120);
    const auto j = nlohmann::json::parse(test::slurp(out / "result.json"));
    EXPECT_EQ(j["maps"].size(), 5u);  // CAM at the last block + 2 methods x 2 layers
    EXPECT_EQ(j["ground_truth"].size(), 1u);
    EXPECT_TRUE(j["maps"][0].contains("iou"));
    EXPECT_EQ(j["top5"].size(), 3u);
}

// The float data of a .npy file written by explain (little-endian float32, version 1 header).
std::vector<float> npyFloats(const fs::path& file) {
    const std::string bytes = test::slurp(file);
    const std::size_t header =
        10 + static_cast<unsigned char>(bytes[8]) + 256 * static_cast<unsigned char>(bytes[9]);
    std::vector<float> out((bytes.size() - header) / sizeof(float));
    std::memcpy(out.data(), bytes.data() + header, out.size() * sizeof(float));
    return out;
}

TEST_F(Cli, ExplainTakesFinerCamAndTheSmoothingOptions) {
    const std::string model = (s_dir->path() / "m/best.ckpt").string();
    const fs::path img = s_dir->path() / "demo/Images/n90000002-Tiger_Hound/n90000002_1004.jpg";
    const std::string base = "explain --model " + model + " --image " + img.string() +
                             " --layers layer3.0 --methods gradcam,finercam ";
    // alpha 0: Finer-CAM is Grad-CAM of the target (to about 1e-8).
    const fs::path zero = s_dir->path() / "finer0";
    CliRun r = cli(base + "--finer-alpha 0 --finer-compare 2,1 --out " + zero.string());
    ASSERT_EQ(r.code, 0) << r.output;
    const auto j = nlohmann::json::parse(test::slurp(zero / "result.json"));
    ASSERT_TRUE(j.contains("finer_cam")) << j.dump();
    EXPECT_EQ(j["finer_cam"]["alpha"], 0.0);
    EXPECT_EQ(j["finer_cam"]["compare_ranks"], nlohmann::json::array({2, 1}));
    // The demo model has three classes: the other two, the farther one first.
    const auto classes = j["finer_cam"]["compare_classes"].get<std::vector<int>>();
    ASSERT_EQ(classes.size(), 2u);
    EXPECT_NE(classes[0], classes[1]);
    for (int c : classes) EXPECT_NE(c, j["target"].get<int>());
    EXPECT_EQ(j["finer_cam"]["compare_names"].size(), 2u);
    EXPECT_EQ(j["aug_smooth"], false);
    EXPECT_NE(r.output.find("finercam compares"), std::string::npos) << r.output;
    const auto finer = npyFloats(zero / "finercam_layer3.0_norm.npy");
    const auto grad = npyFloats(zero / "gradcam_layer3.0_norm.npy");
    ASSERT_EQ(finer.size(), grad.size());
    ASSERT_FALSE(finer.empty());
    for (std::size_t i = 0; i < finer.size(); ++i) EXPECT_NEAR(finer[i], grad[i], 1e-5) << i;
    // The defaults: alpha 1 and ranks 1, 2, 3 as far as the model has classes (here 1, 2), in
    // the other order. Both smoothing options are recorded.
    const fs::path one = s_dir->path() / "finer1";
    r = cli(base + "--aug-smooth --eigen-smooth --out " + one.string());
    ASSERT_EQ(r.code, 0) << r.output;
    const auto k = nlohmann::json::parse(test::slurp(one / "result.json"));
    EXPECT_EQ(k["finer_cam"]["alpha"], 1.0);
    EXPECT_EQ(k["finer_cam"]["compare_ranks"], nlohmann::json::array({1, 2}));
    EXPECT_EQ(k["finer_cam"]["compare_classes"], nlohmann::json::array({classes[1], classes[0]}));
    EXPECT_EQ(k["aug_smooth"], true);
    EXPECT_EQ(k["eigen_smooth"], true);
    EXPECT_TRUE(fs::exists(one / "finercam_layer3.0_raw.npy"));
    EXPECT_NE(npyFloats(one / "finercam_layer3.0_norm.npy"), finer);
    // A rank the model does not have is refused, naming the option.
    r = cli(base + "--finer-compare 3 --out " + (s_dir->path() / "finer3").string());
    EXPECT_EQ(r.code, 2) << r.output;
    EXPECT_NE(r.output.find("--finer-compare"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("ranks 1 to 2"), std::string::npos) << r.output;
}

TEST_F(Cli, ExplainAndEvalRejectBadArgumentsClearly) {
    const std::string model = (s_dir->path() / "m/best.ckpt").string();
    const fs::path img = s_dir->path() / "demo/Images/n90000001-Spotted_Pointer/n90000001_1000.jpg";
    CliRun r = cli("explain --model " + model + " --image " + img.string() + " --methods nope");
    EXPECT_NE(r.code, 0);
    EXPECT_NE(r.output.find("unknown method 'nope'"), std::string::npos) << r.output;
    EXPECT_EQ(r.code, 2);
    r = cli("explain --model " + model + " --image " + img.string() + " --layers layer9.9");
    EXPECT_NE(r.output.find("unknown layer 'layer9.9'"), std::string::npos) << r.output;
    EXPECT_EQ(r.code, 2);
    r = cli("explain --model " + model + " --image " + img.string() + " --class 7");
    EXPECT_NE(r.output.find("class 7 does not exist"), std::string::npos) << r.output;
    test::TempDir junk;
    test::spit(junk / "m.ckpt", "junk");
    r = cli("explain --model " + (junk / "m.ckpt").string() + " --image " + img.string());
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.output.find("m.ckpt"), std::string::npos) << r.output;
}

TEST_F(Cli, EvalWritesCsvAndSummary) {
    const fs::path out = s_dir->path() / "ev";
    const CliRun r = cli("eval --model " + (s_dir->path() / "m/best.ckpt").string() + " --data " +
                         (s_dir->path() / "demo").string() + " --limit 4 --out " + out.string());
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_NE(r.output.find("4 images"), std::string::npos) << r.output;
    const auto j = nlohmann::json::parse(test::slurp(out / "summary.json"));
    EXPECT_EQ(j["images"].get<int>(), 4);
    EXPECT_EQ(j["methods"].size(), 2u);
    EXPECT_TRUE(j["methods"][1].contains("max_box_acc_v2"));
}

TEST_F(Cli, EvalTakesFinerCamsAndTheSmoothingOptions) {
    const std::string base = "eval --model " + (s_dir->path() / "m/best.ckpt").string() +
                             " --data " + (s_dir->path() / "demo").string() + " --limit 3 ";
    // Alpha 0 is Grad-CAM: the same boxes, image by image.
    const fs::path out = s_dir->path() / "ev-finer";
    CliRun r = cli(base + "--methods gradcam,finercam --finer-alpha 0 --out " + out.string());
    ASSERT_EQ(r.code, 0) << r.output;
    auto j = nlohmann::json::parse(test::slurp(out / "summary.json"));
    ASSERT_EQ(j["methods"].size(), 2u);
    EXPECT_EQ(j["methods"][1]["method"], "finercam");
    EXPECT_DOUBLE_EQ(j["methods"][1]["mean_iou"].get<double>(),
                     j["methods"][0]["mean_iou"].get<double>());
    EXPECT_EQ(j["finer_cam"]["alpha"].get<double>(), 0.0);
    EXPECT_EQ(j["aug_smooth"], false);
    // The smoothing is recorded, and changes the maps (so an earlier run does not resume).
    const fs::path smooth = s_dir->path() / "ev-smooth";
    r = cli(base + "--methods gradcam --aug-smooth --eigen-smooth --out " + smooth.string());
    ASSERT_EQ(r.code, 0) << r.output;
    j = nlohmann::json::parse(test::slurp(smooth / "summary.json"));
    EXPECT_EQ(j["aug_smooth"], true);
    EXPECT_EQ(j["eigen_smooth"], true);
    const fs::path plain = s_dir->path() / "ev-plain";
    ASSERT_EQ(cli(base + "--methods gradcam --out " + plain.string()).code, 0);
    fs::copy_file(plain / "records.jsonl", smooth / "eval_partial.jsonl");
    r = cli(base + "--methods gradcam --aug-smooth --eigen-smooth --out " + smooth.string());
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_EQ(r.output.find("resumed"), std::string::npos) << r.output;
    fs::copy_file(smooth / "records.jsonl", smooth / "eval_partial.jsonl");  // the same settings
    r = cli(base + "--methods gradcam --aug-smooth --eigen-smooth --out " + smooth.string());
    EXPECT_NE(r.output.find("resumed 3 images"), std::string::npos) << r.output;
    // A rank the model lacks names the option.
    r = cli(base + "--methods finercam --finer-compare 9 --out " + out.string());
    EXPECT_EQ(r.code, 2) << r.output;
    EXPECT_NE(r.output.find("--finer-compare"), std::string::npos) << r.output;
}

TEST_F(Cli, EvalRunsTheSanityCheckAndNamesAnUnknownMetric) {
    const std::string base = "eval --model " + (s_dir->path() / "m/best.ckpt").string() +
                             " --data " + (s_dir->path() / "demo").string() + " --limit 2 ";
    CliRun r = cli(base + "--metrics sanity,faithiness");
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.output.find("unknown metric 'faithiness'"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("sanity"), std::string::npos) << r.output;
    const fs::path out = s_dir->path() / "ev-sanity";
    r = cli(base + "--metrics sanity --out " + out.string());
    ASSERT_EQ(r.code, 0) << r.output;
    // The table: a row per randomised layer, from the head down to the stem.
    const auto table = r.output.find("sanity check");
    ASSERT_NE(table, std::string::npos) << r.output;
    EXPECT_LT(r.output.find("\nfc ", table), r.output.find("\nstem ", table)) << r.output;
    EXPECT_EQ(r.output.find("faithfulness ("), std::string::npos);  // nothing else was asked
    const auto j = nlohmann::json::parse(test::slurp(out / "summary.json"));
    ASSERT_EQ(j["methods"].size(), 5u);  // CAM, Grad-CAM and the three baselines
    for (const auto& m : j["methods"]) {
        ASSERT_TRUE(m.contains("sanity_spearman")) << m["method"];
        EXPECT_EQ(m["sanity_layers"].front(), "fc");
        EXPECT_EQ(m["sanity_layers"].back(), "stem");
        EXPECT_EQ(m["sanity_ssim"].size(), m["sanity_layers"].size());
    }
    EXPECT_EQ(j["methods"][2]["method"], "random");
    EXPECT_DOUBLE_EQ(j["methods"][2]["sanity_ssim"][0].get<double>(), 1.0);
}

TEST_F(Cli, EvalAndExplainTakeAPrecisionAndTheSummaryRecordsIt) {
    const std::string model = (s_dir->path() / "m/best.ckpt").string();
    const std::string data = (s_dir->path() / "demo").string();
    const fs::path img = s_dir->path() / "demo/Images/n90000001-Spotted_Pointer/n90000001_1000.jpg";
    CliRun r = cli("eval --model " + model + " --data " + data + " --precision fp16");
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.output.find("--precision"), std::string::npos) << r.output;
    r = cli("explain --model " + model + " --image " + img.string() + " --precision half");
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.output.find("--precision"), std::string::npos) << r.output;

    if (!cpuHasFastBf16()) GTEST_SKIP() << "this CPU computes no bf16";
    const fs::path fp32 = s_dir->path() / "ev32", bf16 = s_dir->path() / "ev16";
    r = cli("eval --model " + model + " --data " + data + " --limit 4 --out " + fp32.string());
    ASSERT_EQ(r.code, 0) << r.output;
    r = cli("eval --model " + model + " --data " + data + " --limit 4 --precision bf16 --out " +
            bf16.string());
    ASSERT_EQ(r.code, 0) << r.output;
    const auto a = nlohmann::json::parse(test::slurp(fp32 / "summary.json"));
    const auto b = nlohmann::json::parse(test::slurp(bf16 / "summary.json"));
    EXPECT_EQ(a["precision"], "fp32");
    EXPECT_EQ(b["precision"], "bf16");
    EXPECT_EQ(b["images"].get<int>(), 4);
    r = cli("explain --model " + model + " --image " + img.string() + " --precision bf16 --out " +
            (s_dir->path() / "ex16").string());
    EXPECT_EQ(r.code, 0) << r.output;
}

TEST_F(Cli, ExportMakesComparisonAndGridFiguresHeadless) {
    const std::string base = "export --model " + (s_dir->path() / "m/best.ckpt").string() +
                             " --data " + (s_dir->path() / "demo").string() + " --quiet";
    test::TempDir out;
    // One image: the photo and two overlays side by side, at the asked width.
    CliRun r =
        cli(base + " --images n90000002_1004.jpg --width 900 --out " + (out / "one.png").string());
    ASSERT_EQ(r.code, 0) << r.output;
    const cv::Mat one = readRgb(out / "one.png");
    EXPECT_EQ(one.cols, 900);
    EXPECT_NE(r.output.find("900 x " + std::to_string(one.rows) + " px"), std::string::npos)
        << r.output;
    // With each map's deletion and insertion curves: a band more at the same width.
    r = cli(base + " --images n90000002_1004.jpg --width 900 --curves --curve-steps 4 --out " +
            (out / "curves.png").string());
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_GT(readRgb(out / "curves.png").rows, one.rows * 5 / 4);
    r = cli(base + " --images n90000002_1004.jpg --curves --curve-steps 1 --out " +
            (out / "c1.png").string());
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.output.find("--curve-steps"), std::string::npos) << r.output;
    // A DPI scales the natural size instead.
    r = cli(base + " --images n90000002_1004.jpg --dpi 192 --out " + (out / "hi.png").string());
    ASSERT_EQ(r.code, 0) << r.output;
    const cv::Mat hi = readRgb(out / "hi.png");
    r = cli(base + " --images n90000002_1004.jpg --out " + (out / "lo.png").string());
    const cv::Mat lo = readRgb(out / "lo.png");
    EXPECT_NEAR(hi.cols, 2 * lo.cols, 1);

    // The 4 worst images by Grad-CAM IoU from a saved evaluation, as an SVG grid.
    const fs::path ev = out / "ev";
    ASSERT_EQ(cli("eval --model " + (s_dir->path() / "m/best.ckpt").string() + " --data " +
                  (s_dir->path() / "demo").string() + " --out " + ev.string())
                  .code,
              0);
    r = cli(base + " --worst 4 --eval " + ev.string() + " --title Worst --out " +
            (out / "worst.svg").string());
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_NE(r.output.find("4 images"), std::string::npos) << r.output;
    EXPECT_GT(test::svgElementCount(out / "worst.svg"), 40);
    // A filter result as a multi-page PDF: one page per image.
    r = cli(base + " --breed Tiger_Hound --first 2 --pages --out " + (out / "pages.pdf").string());
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_EQ(test::pdfPageCount(test::slurp(out / "pages.pdf")), 2);
    r = cli(base + " --first 3 --out " + (out / "grid.pdf").string());
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_EQ(test::pdfPageCount(test::slurp(out / "grid.pdf")), 1);

    // Clear refusals.
    r = cli(base + " --out " + (out / "x.bmp").string());
    EXPECT_NE(r.code, 0);
    EXPECT_NE(r.output.find("must end in .png"), std::string::npos) << r.output;
    r = cli(base + " --best 3 --out " + (out / "b.png").string());
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.output.find("records.jsonl"), std::string::npos) << r.output;
    r = cli(base + " --images nope.jpg --out " + (out / "n.png").string());
    EXPECT_NE(r.output.find("'nope.jpg' is not in the test split"), std::string::npos) << r.output;
    r = cli(base + " --layer layer9 --out " + (out / "n.png").string());
    EXPECT_NE(r.output.find("unknown layer 'layer9'"), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(out / "n.png"));
}

// Arguments that used to be accepted silently, or exited with CLI11's own codes (105, 114…):
// every one now exits with 2, the status commands.h documents for bad arguments, and names the
// option.
TEST_F(Cli, BadArgumentsExitWithTwoAndNameTheOption) {
    const std::string model = (s_dir->path() / "m/best.ckpt").string();
    const std::string data = (s_dir->path() / "demo").string();
    const fs::path img = s_dir->path() / "demo/Images/n90000001-Spotted_Pointer/n90000001_1000.jpg";
    const std::string explain = "explain --model " + model + " --image " + img.string() + " ";
    test::TempDir out;
    const std::string eval =
        "eval --model " + model + " --data " + data + " --out " + (out / "e").string() + " ";
    const std::pair<std::string, std::string> cases[] = {
        {explain + "--tau nan", "--tau"},
        {explain + "--tau inf", "--tau"},
        {eval + "--tau nan", "--tau"},
        {eval + "--limit -1", "--limit"},
        {eval + "--limit 0", "--limit"},
        {explain + "--num-classes -3", "--num-classes"},
        {eval + "--num-classes -3", "--num-classes"},
        {explain + "--layers ,", "--layers"},
        {eval + "--layers ,", "--layers"},
        {explain + "--methods ,", "--methods"},
        {explain + "--finer-compare 0", "--finer-compare"},
        {explain + "--finer-compare 1,x", "--finer-compare"},
        {explain + "--finer-compare ,", "--finer-compare"},
        {explain + "--finer-alpha nan", "--finer-alpha"},
        {explain + "--arch resnet7", "--arch"},
        {eval + "--sweep-step nan", "--sweep-step"},
        {"train --data " + data + " --epochs 0 --out " + (out / "t").string(), "epochs"},
        {"train --data " + data + " --arch keras-resnet50 --out " + (out / "t").string(),
         "keras-resnet50 is the network of imported Keras models"},
        {"train --data " + data + " --precision fp16 --out " + (out / "t").string(), "--precision"},
        {"train --data " + data + " --amp --precision fp32 --out " + (out / "t").string(), "--amp"},
        {"make-demo --out " + (out / "d").string() + " --seed -1", "--seed"},
        {"check-data", "DIR"},
        {eval + "--bogus", "--bogus"},
    };
    for (const auto& [args, option] : cases) {
        const CliRun r = cli(args);
        EXPECT_EQ(r.code, 2) << args << "\n" << r.output;
        EXPECT_NE(r.output.find(option), std::string::npos) << args << "\n" << r.output;
    }
    // Nothing was written by any of them.
    EXPECT_TRUE(fs::is_empty(out.path()));
    // --help and --version are not errors.
    EXPECT_EQ(cli("--help").code, 0);
    EXPECT_EQ(cli("--version").code, 0);
}

// A Keras model opens with the preprocessing the user states (the file does not record it), and
// its layers carry Keras's names.
TEST_F(Cli, KerasModelsTakeTheirPreprocessingAndKerasLayerNames) {
    const std::string h5 = test::fixture("keras/resnet50_w2_c5.h5").string();
    CliRun r = cli("model --model " + h5 + " --keras-preprocess caffe");
    ASSERT_EQ(r.code, 0) << r.output;
    for (const char* line :
         {"architecture  keras-resnet50 (Keras 2 HDF5 model)\n",
          "classes       5 (class 0 ... class 4)\n",
          "input         64x64, mean 0.485,0.458,0.408 std 0.004,0.004,0.004\n",
          "preprocess    caffe: keras.applications.resnet50.preprocess_input (RGB to BGR, minus "
          "the "
          "ImageNet means 103.939, 116.779, 123.68 on 0-255 values, no scaling)\n",
          "CAM           at conv5_block3_out\n",
          "layers        21 maps (16 blocks); default conv5_block3_out\n"})
        EXPECT_NE(r.output.find(line), std::string::npos) << line << r.output;

    // Without it: refused, saying how to state it. A wrong value names the option.
    r = cli("model --model " + h5);
    EXPECT_EQ(r.code, 1) << r.output;
    EXPECT_NE(r.output.find("Keras files do not record how their input was preprocessed: say "
                            "which (--keras-preprocess caffe"),
              std::string::npos)
        << r.output;
    r = cli("model --model " + h5 + " --keras-preprocess imagenet");
    EXPECT_EQ(r.code, 2) << r.output;
    EXPECT_NE(r.output.find("--keras-preprocess"), std::string::npos) << r.output;
    // On another kind of model it is ignored, and said so.
    r = cli("model --model " + (s_dir->path() / "m/best.ckpt").string() +
            " --keras-preprocess unit");
    EXPECT_EQ(r.code, 0) << r.output;
    EXPECT_NE(r.output.find("is not a Keras model; --keras-preprocess is ignored"),
              std::string::npos)
        << r.output;

    // explain by Keras layer names, on the .keras archive.
    const fs::path img = s_dir->path() / "demo/Images/n90000001-Spotted_Pointer/n90000001_1000.jpg";
    const fs::path out = s_dir->path() / "keras-ex";
    r = cli("explain --model " + test::fixture("keras/resnet50_w2_c5.keras").string() +
            " --keras-preprocess unit --image " + img.string() +
            " --methods cam,gradcam --layers last,conv4_block6_out --out " + out.string());
    ASSERT_EQ(r.code, 0) << r.output;
    for (const char* f : {"cam_conv5_block3_out_raw.npy", "gradcam_conv4_block6_out_raw.npy",
                          "logits.npy", "result.json"})
        EXPECT_TRUE(fs::exists(out / f)) << f;
    const auto j = nlohmann::json::parse(test::slurp(out / "result.json"));
    EXPECT_EQ(j["top5"].size(), 5u);
}

// A FIFO would block the reader forever (and Ctrl+C was ignored there): it is refused up front.
TEST_F(Cli, AFifoOrAFolderIsRefusedWithoutBlocking) {
    const std::string model = (s_dir->path() / "m/best.ckpt").string();
    const fs::path img = s_dir->path() / "demo/Images/n90000001-Spotted_Pointer/n90000001_1000.jpg";
    test::TempDir dir;
    const fs::path fifo = dir / "pipe";
    ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
    // `timeout` turns a regression (a hang) into a failure instead of a stuck suite.
    CliRun r = cli("explain --model " + model + " --image " + fifo.string() + " --out " +
                   (dir / "o").string());
    EXPECT_EQ(r.code, 2) << r.output;
    EXPECT_NE(r.output.find("not a regular file (a FIFO)"), std::string::npos) << r.output;
    r = cli("explain --model " + model + " --image " + img.string() + " --annotation " +
            fifo.string() + " --out " + (dir / "o").string());
    EXPECT_EQ(r.code, 2) << r.output;
    EXPECT_NE(r.output.find("a FIFO"), std::string::npos) << r.output;
    r = cli("explain --model " + dir.path().string() + " --image " + img.string());
    EXPECT_EQ(r.code, 2) << r.output;
    EXPECT_NE(r.output.find("is a folder, not a file"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("does not exist"), std::string::npos) << r.output;
}

// An explanation's files are one set: a failed run leaves the previous set whole, and a folder of
// other files is never swapped away.
TEST_F(Cli, ExplainWritesItsOutputsAsASet) {
    const std::string model = (s_dir->path() / "m/best.ckpt").string();
    const fs::path img = s_dir->path() / "demo/Images/n90000001-Spotted_Pointer/n90000001_1000.jpg";
    test::TempDir dir;
    const fs::path out = dir / "ex";
    const std::string base = "explain --model " + model + " --image " + img.string() + " --out " +
                             out.string() + " --quiet ";
    ASSERT_EQ(cli(base + "--methods cam").code, 0);
    const std::string before = test::slurp(out / "result.json");
    // Fails after the model is open (unknown layer): nothing changes in the folder.
    CliRun r = cli(base + "--methods gradcam --layers layer4.1,layer9.9");
    EXPECT_EQ(r.code, 2) << r.output;
    EXPECT_EQ(test::slurp(out / "result.json"), before);
    EXPECT_FALSE(fs::exists(out / "gradcam_layer4.1_raw.npy"));
    // A successful run replaces the set whole: the old method's files are gone.
    ASSERT_EQ(cli(base + "--methods gradcam").code, 0);
    EXPECT_TRUE(fs::exists(out / "gradcam_layer4.1_raw.npy"));
    EXPECT_FALSE(fs::exists(out / "cam_layer4.1_raw.npy"));
    // No staging folder is left beside it.
    for (const auto& e : fs::directory_iterator(dir.path()))
        EXPECT_EQ(e.path().filename(), "ex") << e.path();
    // A folder holding the user's own files is refused, and the files are kept.
    test::spit(out / "notes.txt", "mine");
    r = cli(base + "--methods cam");
    EXPECT_EQ(r.code, 1) << r.output;
    EXPECT_NE(r.output.find("notes.txt"), std::string::npos) << r.output;
    EXPECT_EQ(test::slurp(out / "notes.txt"), "mine");
    EXPECT_TRUE(fs::exists(out / "gradcam_layer4.1_raw.npy"));
}

// `--preset` sets its fields; options given explicitly win over it.
TEST_F(Cli, ExplicitOptionsOverrideAPreset) {
    test::TempDir dir;
    const CliRun r = cli("train --quiet --data " + (s_dir->path() / "demo").string() + " --out " +
                         (dir / "run").string() +
                         " --preset course --lr 0.05 --batch 8 --epochs 1 --arch resnet18 "
                         "--width 4 --input-size 32");
    ASSERT_EQ(r.code, 0) << r.output;
    const TrainConfig c =
        TrainConfig::fromJson(readCheckpointMeta(dir / "run" / "last.ckpt").trainConfigJson);
    EXPECT_DOUBLE_EQ(c.learningRate, 0.05);  // given
    EXPECT_EQ(c.batchSize, 8);               // given
    EXPECT_EQ(c.epochs, 1);                  // given
    EXPECT_DOUBLE_EQ(c.momentum, 0.0);       // the course preset's
    EXPECT_EQ(c.schedule, TrainConfig::Schedule::Constant);
    EXPECT_EQ(c.baseWidth, 4);
}

// `--precision` picks the arithmetic (auto: what this CPU computes natively), `--amp` is bf16,
// the checkpoint records what ran, and `--resume` keeps it whatever the command line says.
TEST_F(Cli, PrecisionIsRecordedAndResumeKeepsIt) {
    test::TempDir dir;
    const std::string base = "train --quiet --data " + (s_dir->path() / "demo").string() +
                             " --arch resnet18 --width 4 --input-size 32 --batch 4 ";
    auto recorded = [&](const char* run) {
        return TrainConfig::fromJson(readCheckpointMeta(dir / run / "last.ckpt").trainConfigJson)
            .precision;
    };
    CliRun r = cli(base + "--epochs 1 --precision fp32 --out " + (dir / "fp32").string());
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_NE(r.output.find("Precision: fp32\n"), std::string::npos) << r.output;
    EXPECT_EQ(recorded("fp32"), Precision::Fp32);

    r = cli(base + "--epochs 1 --amp --out " + (dir / "amp").string());
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_NE(r.output.find("Precision: bf16 autocast with fp32 master weights, channels-last"),
              std::string::npos)
        << r.output;
    EXPECT_EQ(recorded("amp"), Precision::Bf16);
    r = cli(base + "--epochs 2 --precision fp32 --out " + (dir / "amp").string() + " --resume " +
            (dir / "amp" / "last.ckpt").string());
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_NE(r.output.find("--resume keeps the run's precision (bf16)"), std::string::npos)
        << r.output;
    EXPECT_NE(r.output.find("(kept from the checkpoint)"), std::string::npos) << r.output;
    EXPECT_EQ(recorded("amp"), Precision::Bf16);
    EXPECT_EQ(readCheckpointMeta(dir / "amp" / "last.ckpt").epoch, 2);

    // The default is auto, resolved by the same CPU check in the CLI's process as in this one.
    r = cli(base + "--epochs 1 --out " + (dir / "auto").string());
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_NE(r.output.find("(automatic: this CPU"), std::string::npos) << r.output;
    EXPECT_EQ(recorded("auto"), cpuHasFastBf16() ? Precision::Bf16 : Precision::Fp32);
}

// The first Ctrl+C stops at the next step; a second one quits at once with status 130.
TEST_F(Cli, CtrlCStopsAndASecondCtrlCQuitsAtOnce) {
    const std::string model = (s_dir->path() / "m/best.ckpt").string();
    test::TempDir dir;
    for (int presses : {1, 2}) {
        const std::string out = (dir / ("e" + std::to_string(presses))).string();
        const pid_t pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            const int devnull = open("/dev/null", O_WRONLY);
            dup2(devnull, STDOUT_FILENO);
            dup2(devnull, STDERR_FILENO);
            execl(CAMX_CLI, CAMX_CLI, "eval", "--quiet", "--model", model.c_str(), "--data",
                  (s_dir->path() / "demo").c_str(), "--split", "train", "--methods",
                  "scorecam,gradcam", "--layers", "all", "--batch", "1", "--out", out.c_str(),
                  static_cast<char*>(nullptr));
            _exit(127);
        }
        // Wait until the evaluation has started writing its progress.
        for (int i = 0; i < 600 && !fs::exists(fs::path(out) / "eval_partial.jsonl"); ++i)
            usleep(50000);
        ASSERT_TRUE(fs::exists(fs::path(out) / "eval_partial.jsonl"));
        for (int k = 0; k < presses; ++k) kill(pid, SIGINT);
        int status = 0;
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status));
        EXPECT_EQ(WEXITSTATUS(status), 130) << presses;
        // Interrupted, not finished: the progress is kept for a resume.
        EXPECT_FALSE(fs::exists(fs::path(out) / "summary.json"));
    }
}

// Sharded evaluation: `--nproc 2` starts two workers that share the split over Gloo on loopback;
// rank 0 merges. The files are those of one process, and a partial run of either kind resumes in
// the other.
std::string evalArgs(const fs::path& dir, const fs::path& out) {
    return "eval --quiet --model " + (dir / "m/best.ckpt").string() + " --data " +
           (dir / "demo").string() + " --limit 6 --batch 2 --metrics deletion,insertion " +
           "--metric-steps 4 --out " + out.string();
}
std::vector<std::string> linesOf(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t at = 0;
    while (at < text.size()) {
        const auto nl = text.find('\n', at);
        lines.push_back(text.substr(at, nl - at));
        at = nl == std::string::npos ? text.size() : nl + 1;
    }
    return lines;
}
void expectSameFiles(const fs::path& a, const fs::path& b) {
    for (const char* f : {"per_image.csv", "summary.json", "records.jsonl"})
        EXPECT_EQ(test::slurp(a / f), test::slurp(b / f)) << f;
    EXPECT_TRUE(fs::exists(a / "per_image.csv"));
}

TEST_F(Cli, EvalWithTwoProcessesWritesTheFilesOfOneAndResumesAcrossWorldSizes) {
    const fs::path one = s_dir->path() / "ev-one", two = s_dir->path() / "ev-two";
    CliRun r = cli(evalArgs(s_dir->path(), one));
    ASSERT_EQ(r.code, 0) << r.output;
    r = cli(evalArgs(s_dir->path(), two) + " --nproc 2");
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_NE(r.output.find("2 processes (gloo)"), std::string::npos) << r.output;
    // Rank 0 alone prints the tables.
    const auto first = r.output.find("6 images");
    ASSERT_NE(first, std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("6 images", first + 1), std::string::npos) << r.output;
    expectSameFiles(one, two);
    for (const auto& e : fs::directory_iterator(two))
        EXPECT_EQ(e.path().filename().string().find("eval_partial"), std::string::npos) << e.path();

    // A 2-process run interrupted after images 0, 1 and 2 (each rank's file, one cut short),
    // resumed by one process.
    const auto records = linesOf(test::slurp(one / "records.jsonl"));
    ASSERT_EQ(records.size(), 7u);  // the key, then six images
    const fs::path resumed1 = s_dir->path() / "ev-resume1";
    fs::create_directories(resumed1);
    test::spit(resumed1 / "eval_partial.rank0.jsonl",
               records[0] + "\n" + records[1] + "\n" + records[3] + "\n");
    test::spit(resumed1 / "eval_partial.rank1.jsonl",
               records[0] + "\n" + records[2] + "\n" + records[6].substr(0, 20));
    r = cli(evalArgs(s_dir->path(), resumed1));
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_NE(r.output.find("resumed 3 images"), std::string::npos) << r.output;
    expectSameFiles(one, resumed1);
    EXPECT_FALSE(fs::exists(resumed1 / "eval_partial.rank0.jsonl"));
    EXPECT_FALSE(fs::exists(resumed1 / "eval_partial.rank1.jsonl"));

    // And the reverse: one process's partial file (and a stale rank file of another
    // evaluation, ignored), resumed by two.
    const fs::path resumed2 = s_dir->path() / "ev-resume2";
    fs::create_directories(resumed2);
    test::spit(resumed2 / "eval_partial.jsonl",
               records[0] + "\n" + records[1] + "\n" + records[4] + "\n");
    test::spit(resumed2 / "eval_partial.rank3.jsonl",
               "{\"model_digest\":\"other\"}\n" + records[2] + "\n");
    r = cli(evalArgs(s_dir->path(), resumed2) + " --nproc 2");
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_NE(r.output.find("resumed 2 images"), std::string::npos) << r.output;
    expectSameFiles(one, resumed2);
    EXPECT_FALSE(fs::exists(resumed2 / "eval_partial.jsonl"));
    EXPECT_FALSE(fs::exists(resumed2 / "eval_partial.rank3.jsonl"));
}

// A configuration file (what checkpoints record, and what the wizard's workers get) is the base;
// options given explicitly win; a bad file is named.
TEST_F(Cli, TrainTakesAConfigurationFileAndNamesABadOne) {
    const fs::path d = s_dir->path();
    TrainConfig c;
    c.arch = Arch::ResNet18;
    c.baseWidth = 8;
    c.inputSize = 48;
    c.epochs = 3;
    c.batchSize = 5;
    c.learningRate = 0.02;
    c.precision = Precision::Fp32;
    c.seed = 12;
    test::spit(d / "cfg.json", c.toJson());
    CliRun r =
        cli("train --quiet --data " + (d / "demo").string() + " --out " + (d / "cfg-run").string() +
            " --config " + (d / "cfg.json").string() + " --epochs 1");
    ASSERT_EQ(r.code, 0) << r.output;
    const TrainConfig got =
        TrainConfig::fromJson(readCheckpointMeta(d / "cfg-run/last.ckpt").trainConfigJson);
    EXPECT_EQ(got.epochs, 1);  // given explicitly
    EXPECT_EQ(got.baseWidth, 8);
    EXPECT_EQ(got.inputSize, 48);
    EXPECT_EQ(got.batchSize, 5);
    EXPECT_DOUBLE_EQ(got.learningRate, 0.02);
    EXPECT_EQ(got.seed, 12u);
    test::spit(d / "bad.json", "{\"arch\": \"resnet18\", \"batch_size\": \"five\"}");
    r = cli("train --quiet --data " + (d / "demo").string() + " --out " + (d / "cfg-bad").string() +
            " --config " + (d / "bad.json").string());
    EXPECT_EQ(r.code, 2) << r.output;
    EXPECT_NE(r.output.find("--config"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("bad.json"), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(d / "cfg-bad/last.ckpt"));
    r = cli("train --quiet --data " + (d / "demo").string() + " --config " +
            (d / "cfg.json").string() + " --preset demo");
    EXPECT_EQ(r.code, 2) << r.output;
}

// Data-parallel training, two processes over Gloo on loopback. The suite's demo has 12 training
// images: one step per epoch at a global batch of 12.
std::string trainArgs(const fs::path& dir, const fs::path& out, int epochs, int batch) {
    return "train --quiet --data " + (dir / "demo").string() + " --out " + out.string() +
           " --arch resnet18 --width 8 --input-size 64 --precision fp32 --flip --seed 4" +
           " --epochs " + std::to_string(epochs) + " --batch " + std::to_string(batch);
}

// The largest difference between two checkpoints' parameters and batch-norm statistics.
double weightDistance(const fs::path& a, const fs::path& b) {
    const LoadedCheckpoint x = loadCheckpoint(a), y = loadCheckpoint(b);
    double most = 0;
    const auto px = x.net->named_parameters(), py = y.net->named_parameters();
    for (const auto& item : px)
        most = std::max(most, (item.value() - py[item.key()]).abs().max().item<double>());
    const auto bx = x.net->named_buffers(), by = y.net->named_buffers();
    for (const auto& item : bx)
        most = std::max(most, (item.value().to(at::kDouble) - by[item.key()].to(at::kDouble))
                                  .abs()
                                  .max()
                                  .item<double>());
    return most;
}

std::vector<std::vector<double>> historyRows(const fs::path& csv) {
    std::vector<std::vector<double>> rows;
    const auto lines = linesOf(test::slurp(csv));
    for (std::size_t i = 1; i < lines.size(); ++i) {
        if (lines[i].empty()) continue;
        std::vector<double> row;
        std::istringstream cells(lines[i]);
        for (std::string cell; std::getline(cells, cell, ',');) row.push_back(std::stod(cell));
        rows.push_back(row);
    }
    return rows;
}

TEST_F(Cli, TrainingInTwoProcessesEqualsOneProcessWithTheGlobalBatch) {
    const fs::path d = s_dir->path();
    // One step: 2 processes × --batch 6 with synchronised batch norm = 1 process × --batch 12.
    CliRun r = cli(trainArgs(d, d / "tr-one", 1, 12));
    ASSERT_EQ(r.code, 0) << r.output;
    r = cli(trainArgs(d, d / "tr-two", 1, 6) + " --sync-bn --nproc 2");
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_NE(r.output.find("Processes: 2 (gloo, rank 0), batch 6 per process, global batch 12, "
                            "synchronised batch norm"),
              std::string::npos)
        << r.output;
    EXPECT_EQ(r.output.find("rank 1"), std::string::npos) << "only rank 0 reports:\n" << r.output;
    EXPECT_LE(weightDistance(d / "tr-one/last.ckpt", d / "tr-two/last.ckpt"), 1e-5);
    // Without synchronisation each process normalises by its own 6 images: not the same step.
    r = cli(trainArgs(d, d / "tr-two-local", 1, 6) + " --nproc 2");
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_GT(weightDistance(d / "tr-one/last.ckpt", d / "tr-two-local/last.ckpt"), 1e-4);

    // Two epochs: the same history (loss, accuracy, validation sharded and summed).
    r = cli(trainArgs(d, d / "tr-one2", 2, 12));
    ASSERT_EQ(r.code, 0) << r.output;
    r = cli(trainArgs(d, d / "tr-two2", 2, 6) + " --sync-bn --nproc 2");
    ASSERT_EQ(r.code, 0) << r.output;
    const auto one = historyRows(d / "tr-one2/history.csv"),
               two = historyRows(d / "tr-two2/history.csv");
    ASSERT_EQ(one.size(), 2u);
    ASSERT_EQ(two.size(), 2u);
    for (std::size_t e = 0; e < 2; ++e)
        for (std::size_t c = 0; c < 7; ++c)  // epoch .. lr; not the timings
            EXPECT_NEAR(one[e][c], two[e][c], 1e-4) << "epoch " << e + 1 << " column " << c;
    const TrainConfig rec =
        TrainConfig::fromJson(readCheckpointMeta(d / "tr-two2/last.ckpt").trainConfigJson);
    EXPECT_EQ(rec.processes, 2);
    EXPECT_TRUE(rec.syncBatchNorm);
}

TEST_F(Cli, ATwoProcessRunResumesInOneAndTheReverse) {
    const fs::path d = s_dir->path();
    // 2 → 1: the checkpoint of a two-process epoch continues in one process.
    CliRun r = cli(trainArgs(d, d / "rs-two", 1, 6) + " --sync-bn --nproc 2");
    ASSERT_EQ(r.code, 0) << r.output;
    const std::string first = linesOf(test::slurp(d / "rs-two/history.csv")).at(1);
    r = cli("train --quiet --data " + (d / "demo").string() + " --out " + (d / "rs-two").string() +
            " --resume " + (d / "rs-two/last.ckpt").string() + " --epochs 2");
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_NE(r.output.find("The run was trained in 2 processes (global batch 12); it continues "
                            "in 1 (global batch 6)"),
              std::string::npos)
        << r.output;
    auto lines = linesOf(test::slurp(d / "rs-two/history.csv"));
    ASSERT_GE(lines.size(), 3u);
    EXPECT_EQ(lines[1], first);  // the finished epoch is kept as it was
    EXPECT_EQ(readCheckpointMeta(d / "rs-two/last.ckpt").epoch, 2);

    // 1 → 2.
    r = cli(trainArgs(d, d / "rs-one", 1, 6));
    ASSERT_EQ(r.code, 0) << r.output;
    r = cli("train --quiet --data " + (d / "demo").string() + " --out " + (d / "rs-one").string() +
            " --resume " + (d / "rs-one/last.ckpt").string() + " --epochs 2 --nproc 2");
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_NE(r.output.find("it continues in 2 (global batch 12)"), std::string::npos) << r.output;
    EXPECT_EQ(readCheckpointMeta(d / "rs-one/last.ckpt").epoch, 2);
    EXPECT_EQ(
        TrainConfig::fromJson(readCheckpointMeta(d / "rs-one/last.ckpt").trainConfigJson).processes,
        2);
}

// One of two training processes (started by hand with torchrun's variables) is killed in the
// middle of an epoch: the other stops with an error naming the failed exchange instead of
// waiting, and the last checkpoint written loads and resumes.
TEST_F(Cli, KillingOneTrainingProcessStopsTheOtherAndKeepsTheLastCheckpoint) {
    const fs::path d = s_dir->path(), out = d / "kill";
    const int port = dist::freeLocalPort();
    const std::string args = trainArgs(d, out, 1000, 2) + " --dist-timeout 60";
    pid_t pids[2];
    for (int rank = 0; rank < 2; ++rank) {
        const std::string log = (d / ("kill-rank" + std::to_string(rank) + ".log")).string();
        const std::string cmd = "exec env RANK=" + std::to_string(rank) +
                                " WORLD_SIZE=2 LOCAL_RANK=" + std::to_string(rank) +
                                " MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(port) + " " +
                                CAMX_CLI + " " + args + " > " + log + " 2>&1";
        pids[rank] = fork();
        ASSERT_GE(pids[rank], 0);
        if (pids[rank] == 0) {
            execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
            _exit(127);
        }
    }
    // A finished epoch, then into the next one.
    for (int i = 0; i < 2400 && !fs::exists(out / "last.ckpt"); ++i) usleep(50000);
    ASSERT_TRUE(fs::exists(out / "last.ckpt"));
    usleep(300000);
    kill(pids[1], SIGKILL);
    int status = 0;
    waitpid(pids[1], &status, 0);
    // Rank 0 must stop by itself; a hang would be the defect (the 60 s group timeout bounds it).
    pid_t done = 0;
    for (int i = 0; i < 1800 && done == 0; ++i) {
        done = waitpid(pids[0], &status, WNOHANG);
        if (done == 0) usleep(50000);
    }
    if (done == 0) {
        kill(pids[0], SIGKILL);
        waitpid(pids[0], &status, 0);
        FAIL() << "rank 0 did not stop after rank 1 was killed";
    }
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 1);
    const std::string log = test::slurp(d / "kill-rank0.log");
    EXPECT_NE(log.find("error: rank 0 of 2: "), std::string::npos) << log;
    EXPECT_NE(log.find("failed (a peer may have stopped"), std::string::npos) << log;
    // The last complete checkpoint loads and the run resumes from it in one process.
    const CheckpointMeta meta = readCheckpointMeta(out / "last.ckpt");
    ASSERT_GE(meta.epoch, 1);
    EXPECT_NO_THROW(loadCheckpoint(out / "last.ckpt"));
    const CliRun r = cli("train --quiet --data " + (d / "demo").string() + " --out " +
                         out.string() + " --resume " + (out / "last.ckpt").string() + " --epochs " +
                         std::to_string(meta.epoch + 1));
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_EQ(readCheckpointMeta(out / "last.ckpt").epoch, meta.epoch + 1);
}

TEST_F(Cli, EvalNamesABadProcessGroupEnvironmentAndAFailingWorker) {
    const fs::path out = s_dir->path() / "ev-bad";
    CliRun r = cli("eval --quiet --model " + (s_dir->path() / "m/best.ckpt").string() + " --data " +
                   (s_dir->path() / "demo").string() + " --out " + out.string());
    ASSERT_EQ(r.code, 0) << r.output;  // (the environment of this test has no group)
    r = cli("eval --quiet --model x.ckpt --data y --nproc 0");
    EXPECT_EQ(r.code, 2) << r.output;
    const std::string env = "env RANK=0 WORLD_SIZE=abc MASTER_ADDR=127.0.0.1 MASTER_PORT=1 ";
    const std::string cmd = "timeout 300 " + env + CAMX_CLI + " eval --quiet --model " +
                            (s_dir->path() / "m/best.ckpt").string() + " --data " +
                            (s_dir->path() / "demo").string() + " --out " + out.string() + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string output;
    char buf[4096];
    while (std::fgets(buf, sizeof buf, p)) output += buf;
    const int status = pclose(p);
    EXPECT_EQ(WEXITSTATUS(status), 1) << output;
    EXPECT_NE(output.find("WORLD_SIZE='abc' is not a whole number"), std::string::npos) << output;
    // Workers that fail (no such dataset): the launcher names the rank and fails too.
    r = cli("eval --quiet --model " + (s_dir->path() / "m/best.ckpt").string() + " --data " +
            (s_dir->path() / "no-such-dataset").string() + " --nproc 2 --dist-timeout 20 --out " +
            out.string());
    EXPECT_EQ(r.code, 1) << r.output;
    EXPECT_NE(r.output.find("error: worker rank "), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(" of 2 exited with status 1"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace camx
