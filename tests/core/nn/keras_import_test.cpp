// Keras model import. The reference throughout is tests/fixtures/keras/make_keras_fixtures.py: a
// NumPy re-implementation of keras.applications' ResNet-50 v1 layers and of preprocess_input,
// written from Keras's documented semantics (TensorFlow is not packaged for Debian), which also
// writes the files in Keras's HDF5 / .keras layouts with h5py. It shares no code with the importer.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "../test_support.h"
#include "common/fs_util.h"
#include "explain/model_session.h"
#include "nn/checkpoint.h"
#include "nn/inference_net.h"
#include "nn/keras_import.h"
#include "nn/weights.h"

namespace camx {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const char* kBase = "keras/resnet50_w2_c5";

json expectedFor(const fs::path& file) {
    return json::parse(test::slurp(file));
}

// The fixed 8-bit RGB image of make_keras_fixtures.py's test_image().
cv::Mat testImage(int size) {
    cv::Mat m(size, size, CV_8UC3);
    for (int y = 0; y < size; ++y)
        for (int x = 0; x < size; ++x)
            for (int c = 0; c < 3; ++c)
                m.ptr<unsigned char>(y)[3 * x + c] =
                    static_cast<unsigned char>((7 * y + 13 * x + 29 * c + (x * y) % 17) % 256);
    return m;
}

at::Tensor prepared(int size, KerasPreprocess p) {
    std::vector<float> chw(3u * size * size);
    toChwNormalized(testImage(size), kerasNormalization(p), chw.data());
    return at::from_blob(chw.data(), {1, 3, size, size}, at::kFloat).clone();
}

// Relative to the reference's magnitude (the reference runs in float64; we in float32).
void expectClose(const at::Tensor& got, const json& want, const std::string& what) {
    const at::Tensor g = got.to(at::kFloat).contiguous().view(-1);
    ASSERT_EQ(g.numel(), static_cast<int64_t>(want.size())) << what;
    double scale = 1e-6;
    for (const auto& v : want) scale = std::max(scale, std::abs(v.get<double>()));
    double worst = 0;
    for (int64_t i = 0; i < g.numel(); ++i)
        worst = std::max(
            worst, std::abs(g[i].item<double>() - want[static_cast<std::size_t>(i)].get<double>()));
    EXPECT_LE(worst / scale, 1e-4)
        << what << ": largest difference " << worst << " at scale " << scale;
}

// The network's input, value by value, against keras.applications' preprocess_input formulas:
// caffe is BGR minus the means on 0-255 values, unit is RGB / 255.
TEST(KerasImport, PreprocessingIsKerasOwn) {
    const int size = 16;
    const cv::Mat img = testImage(size);
    const std::size_t plane = static_cast<std::size_t>(size) * size;
    std::vector<float> caffe(3 * plane), unit(3 * plane);
    toChwNormalized(img, kerasNormalization(KerasPreprocess::Caffe), caffe.data());
    toChwNormalized(img, kerasNormalization(KerasPreprocess::Unit), unit.data());
    const double bgrMeans[3] = {103.939, 116.779, 123.68};
    for (int y = 0; y < size; ++y)
        for (int x = 0; x < size; ++x) {
            const std::size_t p = static_cast<std::size_t>(y) * size + x;
            for (int c = 0; c < 3; ++c) {
                const double rgb = img.ptr<unsigned char>(y)[3 * x + c];
                const double bgr = img.ptr<unsigned char>(y)[3 * x + 2 - c];
                EXPECT_NEAR(caffe[c * plane + p], bgr - bgrMeans[c], 1e-4)
                    << y << " " << x << " " << c;
                EXPECT_NEAR(unit[c * plane + p], rgb / 255.0, 1e-7) << y << " " << x << " " << c;
            }
        }
}

KerasImport importFile(const fs::path& file) {
    const std::string bytes = test::slurp(file);
    return importKerasModel(readKerasFile(bytes, file.string()), file.string());
}

class KerasLayouts : public ::testing::TestWithParam<const char*> {};

// Every layout Keras writes gives the reference's logits and conv5_block3_out, on the plain
// network and on the inference form (batch norm folded into the biased convolutions).
TEST_P(KerasLayouts, MatchesNumpyReference) {
    const fs::path file = test::fixture(std::string(kBase) + GetParam());
    const json want = expectedFor(test::fixture(std::string(kBase) + "_expected.json"));
    KerasImport k = importFile(file);
    EXPECT_EQ(k.numClasses, 5);
    EXPECT_EQ(k.baseWidth, 2);
    EXPECT_EQ(k.denseName, "dense");
    const int size = want["size"].get<int>();
    const int tap = k.net->findTap("conv5_block3_out");
    ASSERT_GE(tap, 0);
    EXPECT_EQ(tap, k.net->lastBlockTap());
    at::NoGradGuard noGrad;
    for (const char* mode : {"caffe", "unit"}) {
        const auto p = *parseKerasPreprocess(mode);
        const at::Tensor x = prepared(size, p);
        ForwardOutput eager = k.net->forwardTaps(x, {tap});
        expectClose(eager.logits, want[mode]["logits"], std::string(mode) + " logits");
        expectClose(eager.taps[0], want[mode]["conv5_block3_out"],
                    std::string(mode) + " conv5_block3_out");
        InferenceNet fast(*k.net, c10::Device(c10::kCPU));
        ForwardOutput folded = fast.forward(x, {tap});
        expectClose(folded.logits, want[mode]["logits"], std::string(mode) + " folded logits");
        expectClose(folded.taps[0], want[mode]["conv5_block3_out"],
                    std::string(mode) + " folded conv5_block3_out");
    }
}

INSTANTIATE_TEST_SUITE_P(Keras, KerasLayouts,
                         ::testing::Values(".h5", "_nested.h5", "_weights_only.h5", ".keras"));

TEST(KerasImport, ReadsEachLayoutAsWhatItIs) {
    const std::string f = test::fixture(std::string(kBase) + ".h5").string();
    EXPECT_EQ(readKerasFile(test::slurp(f), f).format, KerasFile::Format::Keras2Model);
    const std::string n = test::fixture(std::string(kBase) + "_nested.h5").string();
    const KerasFile nested = readKerasFile(test::slurp(n), n);
    EXPECT_EQ(nested.containers, std::vector<std::string>{"resnet50"});
    EXPECT_NE(nested.find("conv5_block3_3_conv"), nullptr);
    const std::string w = test::fixture(std::string(kBase) + "_weights_only.h5").string();
    const KerasFile weights = readKerasFile(test::slurp(w), w);
    EXPECT_EQ(weights.format, KerasFile::Format::Keras2Weights);
    EXPECT_TRUE(weights.modelConfig.empty());
    const std::string k = test::fixture(std::string(kBase) + ".keras").string();
    const KerasFile k3 = readKerasFile(test::slurp(k), k);
    EXPECT_EQ(k3.format, KerasFile::Format::Keras3Archive);
    // layers/functional/layers/batch_normalization_52/vars/3 is conv5_block3_3_bn's variance.
    ASSERT_NE(k3.find("conv5_block3_3_bn"), nullptr);
    EXPECT_EQ(k3.find("conv5_block3_3_bn")->vars.count("moving_variance"), 1u);
}

// Through the session, as the CLI and the explorer open it: the stated preprocessing decides the
// input (caffe: BGR, minus the means), the logits are x.W + b and the probabilities softmax of
// them, once.
TEST(KerasImport, SessionUsesStatedPreprocessingAndPreSoftmaxLogits) {
    const fs::path file = test::fixture(std::string(kBase) + ".h5");
    const json want = expectedFor(test::fixture(std::string(kBase) + "_expected.json"));
    for (const char* mode : {"caffe", "unit"}) {
        auto s = ModelSession::open(file, {}, {}, ModelSession::Names::Required, {},
                                    parseKerasPreprocess(mode));
        const ModelInfo& info = s->info();
        EXPECT_EQ(info.arch, Arch::KerasResNet50);
        EXPECT_EQ(info.inputSize, 64);  // the config's input shape
        EXPECT_EQ(info.numClasses(), 5);
        EXPECT_TRUE(info.camAvailable);
        ASSERT_TRUE(info.kerasPreprocess);
        EXPECT_EQ(kerasPreprocessName(*info.kerasPreprocess), mode);
        EXPECT_EQ(info.taps[static_cast<std::size_t>(info.lastBlockTap)].name, "conv5_block3_out");
        EXPECT_GE(info.findTap("pool1_pool"), 0);
        const std::vector<float> chw = s->prepareInput(testImage(64));
        const auto logits = s->classifyPrepared(chw.data(), 1);
        expectClose(at::tensor(logits[0]), want[mode]["logits"], std::string(mode) + " logits");
        ExplainOptions o;
        o.methods = {Method::Cam, Method::GradCam};
        const auto e = s->explain({testImage(64)}, {-1}, o);
        ASSERT_EQ(e.size(), 1u);
        std::vector<float> probs(e[0].top.size());
        for (const ClassScore& c : e[0].top) {
            const auto i = static_cast<std::size_t>(c.classIndex);
            EXPECT_NEAR(c.probability, want[mode]["probabilities"][i].get<double>(), 1e-4);
            EXPECT_NEAR(c.logit, want[mode]["logits"][i].get<double>(),
                        1e-4 * std::max(1.0, std::abs(want[mode]["logits"][i].get<double>())));
        }
        // GAP + Dense: Grad-CAM of the logit at the last block is ReLU(CAM) / (h * w).
        ASSERT_EQ(e[0].maps.size(), 2u);
        const Heatmap& cam = e[0].maps[0].raw;
        const Heatmap& grad = e[0].maps[1].raw;
        ASSERT_EQ(cam.data.size(), grad.data.size());
        const float hw = static_cast<float>(cam.width * cam.height);
        for (std::size_t i = 0; i < cam.data.size(); ++i)
            EXPECT_NEAR(std::max(cam.data[i], 0.f) / hw, std::max(grad.data[i], 0.f),
                        1e-4f * (1.f + std::abs(cam.data[i])));
    }
}

TEST(KerasImport, TapsCarryKerasNames) {
    KerasImport k = importFile(test::fixture(std::string(kBase) + ".h5"));
    const auto& taps = k.net->taps();
    EXPECT_EQ(taps.front().name, "pool1_pool");
    EXPECT_EQ(k.net->blockTaps().size(), 16u);
    EXPECT_EQ(taps[static_cast<std::size_t>(k.net->blockTaps().front())].name, "conv2_block1_out");
    EXPECT_GE(k.net->findTap("conv4_block6_out"), 0);
    EXPECT_GE(k.net->findTap("conv5"), 0);  // the stage
    EXPECT_EQ(archName(Arch::KerasResNet50), "keras-resnet50");
    EXPECT_EQ(parseArch("keras-resnet50"), Arch::KerasResNet50);
}

std::string errorOf(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(KerasImport, RefusesHdf5ThatIsNotKeras) {
    const fs::path f = test::fixture("keras/not_keras.h5");
    const std::string msg =
        errorOf([&] { ModelSession::open(f, {}, {}, {}, {}, KerasPreprocess::Caffe); });
    EXPECT_NE(msg.find("not_keras.h5"), std::string::npos) << msg;
    EXPECT_NE(msg.find("not a Keras model"), std::string::npos) << msg;
}

TEST(KerasImport, RefusesTruncatedFiles) {
    test::TempDir dir;
    for (const char* ext : {".h5", ".keras"}) {
        const std::string bytes = test::slurp(test::fixture(std::string(kBase) + ext));
        for (double keep : {0.02, 0.5, 0.98}) {
            const fs::path cut = dir / (std::string("cut") + ext);
            test::spit(cut, bytes.substr(0, static_cast<std::size_t>(bytes.size() * keep)));
            const std::string msg =
                errorOf([&] { ModelSession::open(cut, {}, {}, {}, {}, KerasPreprocess::Unit); });
            EXPECT_NE(msg.find("cut" + std::string(ext)), std::string::npos) << msg;
            EXPECT_TRUE(msg.find("truncated") != std::string::npos ||
                        msg.find("not a readable") != std::string::npos ||
                        msg.find("cannot read") != std::string::npos)
                << ext << " " << keep << ": " << msg;
        }
    }
}

// A weight that leads outside the file (an external or soft link, raw data in another file) is
// refused before anything follows it.
TEST(KerasImport, RefusesWeightsOutsideTheFile) {
    const std::pair<const char*, const char*> cases[] = {
        {"external_link.h5",
         "'conv1_conv/kernel:0' is an external link, which Keras does not write"},
        {"soft_link.h5", "'conv1_conv/kernel:0' is a soft link, which Keras does not write"},
        {"external_data.h5",
         "weight 'conv1_conv/kernel:0' keeps its values in other files, which Keras does not do"},
    };
    for (const auto& [name, want] : cases) {
        const std::string f = test::fixture(std::string("keras/") + name).string();
        const std::string msg = errorOf([&] { readKerasFile(test::slurp(f), f); });
        EXPECT_NE(msg.find("'" + f + "': "), std::string::npos) << msg;
        EXPECT_NE(msg.find(want), std::string::npos) << msg;
    }
}

// Found by fuzz_keras: a zip whose failure libarchive gives no message for (a null string).
TEST(KerasImport, ArchiveErrorWithoutMessage) {
    const std::string f = test::fixture("keras/fuzz_zip_without_libarchive_message.keras").string();
    const std::string msg = errorOf([&] { readKerasFile(test::slurp(f), f); });
    EXPECT_EQ(msg, "'" + f + "' is not a readable .keras archive: unknown libarchive error");
}

// libhdf5 runs in a child process: what it reads comes back whole (every layout, value for value
// the same as a read in this process)...
TEST(KerasImport, ChildProcessReadIsTheSameAsInProcess) {
    for (const char* ext : {".h5", "_nested.h5", "_weights_only.h5", ".keras"}) {
        const std::string f = test::fixture(std::string(kBase) + ext).string();
        const std::string bytes = test::slurp(f);
        const KerasFile child = readKerasFile(bytes, f);
        const KerasFile here = readKerasFileInProcess(bytes, f);
        EXPECT_EQ(child.format, here.format) << ext;
        EXPECT_EQ(child.kerasVersion, here.kerasVersion) << ext;
        EXPECT_EQ(child.modelConfig, here.modelConfig) << ext;
        EXPECT_EQ(child.containers, here.containers) << ext;
        ASSERT_EQ(child.layers.size(), here.layers.size()) << ext;
        ASSERT_GT(child.layers.size(), 50u) << ext;
        for (std::size_t i = 0; i < here.layers.size(); ++i) {
            const KerasLayer& a = child.layers[i];
            const KerasLayer& b = here.layers[i];
            EXPECT_EQ(a.name, b.name);
            EXPECT_EQ(a.className, b.className);
            ASSERT_EQ(a.vars.size(), b.vars.size()) << a.name;
            for (const auto& [name, v] : b.vars) {
                ASSERT_EQ(a.vars.count(name), 1u) << a.name << "/" << name;
                EXPECT_EQ(a.vars.at(name).shape, v.shape) << a.name << "/" << name;
                EXPECT_EQ(a.vars.at(name).values, v.values) << a.name << "/" << name;
            }
        }
    }
    // ... and its errors are the same messages.
    const std::string f = test::fixture("keras/not_keras.h5").string();
    EXPECT_EQ(errorOf([&] { readKerasFile(test::slurp(f), f); }),
              errorOf([&] { readKerasFileInProcess(test::slurp(f), f); }));
}

// ... and a crash inside libhdf5 (found by fuzz_keras: a damaged copy of resnet50_w2_c5.h5 on
// which H5Aread of model_config reads unmapped memory) is an error naming the file, not the end of
// this process.
TEST(KerasImport, CrashInsideLibhdf5IsContained) {
    const fs::path f = test::fixture("keras/fuzz_hdf5_segv.h5");
    const std::string msg =
        errorOf([&] { ModelSession::open(f, {}, {}, {}, {}, KerasPreprocess::Caffe); });
    EXPECT_EQ(msg.rfind("'" + f.string() + "': ", 0), 0u) << msg;
    // Signal 11 in a plain build; under AddressSanitizer its report ends the child instead.
    EXPECT_TRUE(msg.find("libhdf5 crashed reading it (signal 11, Segmentation fault): the file "
                         "is damaged") != std::string::npos ||
                msg.find("reading it failed inside libhdf5") != std::string::npos ||
                msg.find("libhdf5 crashed reading it (signal 6") != std::string::npos)
        << msg;
}

TEST(KerasImport, NamesOtherArchitecturesAndWhatIsSupported) {
    KerasFile vgg;
    for (const char* n : {"block1_conv1", "block1_conv2", "block5_conv3", "fc1", "predictions"})
        vgg.layers.push_back({n, "", {}});
    std::string msg = errorOf([&] { importKerasModel(vgg, "vgg.h5"); });
    EXPECT_NE(msg.find("VGG-16"), std::string::npos) << msg;
    EXPECT_NE(msg.find("ResNet-50 (v1)"), std::string::npos) << msg;

    const std::string f = test::fixture(std::string(kBase) + ".h5").string();
    KerasFile deeper = readKerasFile(test::slurp(f), f);
    for (int b = 7; b <= 23; ++b)
        deeper.layers.push_back({"conv4_block" + std::to_string(b) + "_1_conv", "", {}});
    msg = errorOf([&] { importKerasModel(deeper, "r101.h5"); });
    EXPECT_NE(msg.find("ResNet-101"), std::string::npos) << msg;

    KerasFile v2 = readKerasFile(test::slurp(f), f);
    v2.layers.push_back({"conv2_block1_preact_bn", "", {}});
    msg = errorOf([&] { importKerasModel(v2, "v2.h5"); });
    EXPECT_NE(msg.find("ResNet v2"), std::string::npos) << msg;
}

TEST(KerasImport, RefusesHeadsOtherThanAveragePoolingAndDense) {
    const std::string f = test::fixture(std::string(kBase) + ".h5").string();
    KerasFile file = readKerasFile(test::slurp(f), f);
    const std::string gap = "\"GlobalAveragePooling2D\"";
    file.modelConfig.replace(file.modelConfig.find(gap), gap.size(), "\"GlobalMaxPooling2D\"");
    const std::string msg = errorOf([&] { importKerasModel(file, "max.h5"); });
    EXPECT_NE(
        msg.find("its head has a GlobalMaxPooling2D layer ('avg_pool') where CAM needs global "
                 "average pooling"),
        std::string::npos)
        << msg;

    KerasFile noDense = readKerasFile(test::slurp(f), f);
    noDense.layers.erase(std::remove_if(noDense.layers.begin(), noDense.layers.end(),
                                        [](const KerasLayer& l) { return l.name == "dense"; }),
                         noDense.layers.end());
    EXPECT_NE(errorOf([&] { importKerasModel(noDense, "x.h5"); }).find("no Dense layer"),
              std::string::npos);
}

TEST(KerasImport, WrongShapesAreListed) {
    const std::string f = test::fixture(std::string(kBase) + ".h5").string();
    KerasFile file = readKerasFile(test::slurp(f), f);
    for (KerasLayer& l : file.layers)
        if (l.name == "conv3_block2_2_conv") l.vars["kernel"].shape = {3, 3, 4, 5};
    const std::string msg = errorOf([&] { importKerasModel(file, "bad.h5"); });
    EXPECT_NE(msg.find("conv3_block2_2_conv/kernel is (3, 3, 4, 5), expected (3, 3, 4, 4)"),
              std::string::npos)
        << msg;
}

// The dataset's class names must fit the Dense layer, as for every other model kind.
TEST(KerasImport, ClassCountMustMatchTheDataset) {
    const fs::path file = test::fixture(std::string(kBase) + ".keras");
    const std::string msg = errorOf([&] {
        ModelSession::open(file, {"a", "b", "c"}, {}, ModelSession::Names::Required, {},
                           KerasPreprocess::Caffe);
    });
    EXPECT_NE(msg.find("has 5 classes but 3 class names were given"), std::string::npos) << msg;
    auto s = ModelSession::open(file, {"a", "b", "c", "d", "e"}, {}, ModelSession::Names::Required,
                                {}, KerasPreprocess::Caffe);
    EXPECT_EQ(s->info().classNames[4], "e");
}

TEST(KerasImport, PreprocessingMustBeStated) {
    const fs::path file = test::fixture(std::string(kBase) + ".h5");
    const std::string msg = errorOf([&] { ModelSession::open(file); });
    EXPECT_NE(msg.find("--keras-preprocess"), std::string::npos) << msg;
    EXPECT_NE(msg.find("resnet50_w2_c5.h5"), std::string::npos) << msg;
}

// The sanity check's cascade finds each Keras block's modules (taps named by Keras, modules by
// torchvision) and randomises the network step by step.
TEST(KerasImport, RandomizationCascadeCoversEveryBlock) {
    auto s = ModelSession::open(test::fixture(std::string(kBase) + ".h5"), {}, {}, {}, {},
                                KerasPreprocess::Caffe);
    const auto steps = s->randomizationCascade();
    ASSERT_EQ(steps.size(), 18u);  // fc, 16 blocks, stem
    EXPECT_EQ(steps[0].label, "fc");
    EXPECT_EQ(steps[1].label, "conv5_block3_out");
    EXPECT_FALSE(steps[1].modules.empty());
    EXPECT_EQ(steps.back().label, "stem");
}

// Full size (width 64, 120 classes, ~95 MB), written at test time by the same NumPy reference
// (h5py, from test_pkgs in packaging/install-deps.sh), at a 64-pixel input to stay quick.
TEST(KerasImport, FullSizeResNet50MatchesNumpyReference) {
    // A test dependency (packaging/install-deps.sh), so its absence fails rather than skips.
    ASSERT_EQ(std::system("/usr/bin/python3 -c 'import h5py, numpy' >/dev/null 2>&1"), 0)
        << "needs /usr/bin/python3 with numpy and h5py (python3-numpy, python3-h5py) to write the "
           "full-size reference file";
    test::TempDir dir;
    const std::string cmd = "/usr/bin/python3 '" +
                            test::fixture("keras/make_keras_fixtures.py").string() + "' --full '" +
                            dir.path().string() + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    const json want = expectedFor(dir / "resnet50_full_expected.json");
    KerasImport k = importFile(dir / "resnet50_full.h5");
    EXPECT_EQ(k.baseWidth, 64);
    EXPECT_EQ(k.numClasses, 120);
    EXPECT_EQ(k.net->featureChannels(), 2048);
    at::NoGradGuard noGrad;
    InferenceNet fast(*k.net, c10::Device(c10::kCPU));
    const int tap = k.net->findTap("conv5_block3_out");
    ForwardOutput out = fast.forward(prepared(64, KerasPreprocess::Caffe), {tap});
    expectClose(out.logits, want["caffe"]["logits"], "full-size logits");
    expectClose(out.taps[0], want["caffe"]["conv5_block3_out"], "full-size conv5_block3_out");
}

}  // namespace
}  // namespace camx
