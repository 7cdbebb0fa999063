// The CLI as scripts use it: exit codes, messages, and the files it writes.
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "../core/test_support.h"
#include "data/image_io.h"

namespace camx {
namespace {
namespace fs = std::filesystem;

struct CliRun {
    int code;
    std::string output;
};

CliRun cli(const std::string& args) {
    const std::string cmd = std::string(CAMX_CLI) + " " + args + " 2>&1";
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
    EXPECT_NE(r.output.find("breeds   3"), std::string::npos) << r.output;
    test::TempDir empty;
    r = cli("check-data " + empty.path().string());
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.output.find("is not a Stanford Dogs folder"), std::string::npos) << r.output;
    r = cli("check-data");
    EXPECT_EQ(r.code, 106) << r.output;  // CLI11: a required argument is missing
    r = cli("frobnicate");
    EXPECT_NE(r.code, 0);
}

TEST_F(Cli, InfoNamesTheLibraries) {
    const CliRun r = cli("info");
    EXPECT_EQ(r.code, 0);
    for (const char* k : {"LibTorch", "OpenCV", "matio", "CPU threads", "CUDA"})
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

TEST_F(Cli, ExplainAndEvalRejectBadArgumentsClearly) {
    const std::string model = (s_dir->path() / "m/best.ckpt").string();
    const fs::path img = s_dir->path() / "demo/Images/n90000001-Spotted_Pointer/n90000001_1000.jpg";
    CliRun r = cli("explain --model " + model + " --image " + img.string() + " --methods nope");
    EXPECT_NE(r.code, 0);
    EXPECT_NE(r.output.find("unknown method 'nope'"), std::string::npos) << r.output;
    r = cli("explain --model " + model + " --image " + img.string() + " --layers layer9.9");
    EXPECT_NE(r.output.find("unknown layer 'layer9.9'"), std::string::npos) << r.output;
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

}  // namespace
}  // namespace camx
