#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "../test_support.h"
#include "nn/resnet.h"
#include "nn/weights.h"

namespace camx {
namespace {

TEST(ResNet, TapsCoverStemBlocksAndStagesWithKerasAliases) {
    CamNet net(Arch::ResNet50, 120, 8);
    EXPECT_EQ(net->blockTaps().size(), 16u);
    EXPECT_EQ(net->taps().size(), 1u + 16u + 4u);
    const int last = net->lastBlockTap();
    EXPECT_EQ(net->taps()[static_cast<std::size_t>(last)].name, "layer4.2");
    EXPECT_EQ(net->findTap("conv5_block3_out"), last);
    EXPECT_EQ(net->findTap("conv4_block6_out"), net->findTap("layer3.5"));
    EXPECT_EQ(net->findTap("conv2_block1_out"), net->findTap("layer1.0"));
    EXPECT_EQ(net->findTap("pool1_pool"), net->findTap("stem"));
    EXPECT_EQ(net->findTap("layer9.9"), -1);
    EXPECT_EQ(net->taps()[static_cast<std::size_t>(net->findTap("layer4"))].kerasName,
              "conv5_block3_out");
    EXPECT_EQ(CamNet(Arch::ResNet101, 10, 4)->blockTaps().size(), 33u);
    EXPECT_EQ(CamNet(Arch::ResNet18, 10, 4)->blockTaps().size(), 8u);
}

TEST(ResNet, TorchvisionKeyNamesAndFeatureShape) {
    CamNet net(Arch::ResNet50, 120);
    auto params = net->named_parameters();
    EXPECT_TRUE(params.contains("layer1.0.downsample.0.weight"));
    EXPECT_TRUE(params.contains("layer4.2.conv3.weight"));
    EXPECT_TRUE(params.contains("fc.weight"));
    EXPECT_TRUE(net->named_buffers().contains("layer4.2.bn3.running_var"));
    int64_t n = 0;
    for (auto& p : net->parameters()) n += p.numel();
    // torchvision's ResNet-50 with a 120-class head: 23.5 M backbone + 2048*120+120.
    EXPECT_EQ(n, 23508032 + 2048 * 120 + 120);
    net->eval();
    torch::NoGradGuard g;
    auto out = net->forwardTaps(at::zeros({1, 3, 224, 224}), {net->lastBlockTap()});
    EXPECT_EQ(out.taps[0].sizes(), (at::IntArrayRef{1, 2048, 7, 7}));
    EXPECT_EQ(out.logits.sizes(), (at::IntArrayRef{1, 120}));
}

class TorchvisionFixture : public ::testing::TestWithParam<std::pair<Arch, const char*>> {};

TEST_P(TorchvisionFixture, ImportedWeightsReproducePyTorchsOutputs) {
    const auto [arch, name] = GetParam();
    CamNet net(arch, 10, 4);
    const auto report =
        loadWeightsFile(net, test::fixture(std::string("weights/") + name + "_w4_c10.pth"));
    EXPECT_FALSE(report.headDropped);
    EXPECT_EQ(report.loaded, net->named_parameters().size() + net->named_buffers().size());
    const NamedTensors expected =
        readTorchStateDict(test::fixture(std::string("weights/") + name + "_w4_c10_expected.pt"));
    ASSERT_EQ(expected.size(), 3u);
    net->eval();
    torch::NoGradGuard g;
    auto out = net->forwardTaps(expected[0].second, {net->lastBlockTap()});
    EXPECT_TRUE(at::allclose(out.logits, expected[1].second, 1e-4, 1e-5))
        << out.logits << expected[1].second;
    EXPECT_TRUE(at::allclose(out.taps[0], expected[2].second, 1e-4, 1e-5));
}

INSTANTIATE_TEST_SUITE_P(Weights, TorchvisionFixture,
                         ::testing::Values(std::make_pair(Arch::ResNet18, "resnet18"),
                                           std::make_pair(Arch::ResNet50, "resnet50")));

TEST(Weights, InfersArchitectureFromTheStateDict) {
    auto m = inferModel(readTorchStateDict(test::fixture("weights/resnet50_w4_c10.pth")));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->arch, Arch::ResNet50);
    EXPECT_EQ(m->numClasses, 10);
    EXPECT_EQ(m->baseWidth, 4);
}

TEST(Weights, HeadIsDroppedWhenTheClassCountDiffers) {
    CamNet net(Arch::ResNet18, 120, 4);
    const auto report = loadWeightsFile(net, test::fixture("weights/resnet18_w4_c10.pth"));
    EXPECT_TRUE(report.headDropped);
    const auto sd = readTorchStateDict(test::fixture("weights/resnet18_w4_c10.pth"));
    for (const auto& [k, v] : sd)
        if (k == "layer2.1.conv2.weight") {
            EXPECT_TRUE(at::equal(net->named_parameters()["layer2.1.conv2.weight"], v));
        }
}

TEST(Weights, WrongArchitectureListsTheMismatches) {
    CamNet net(Arch::ResNet18, 10, 4);
    try {
        loadWeightsFile(net, test::fixture("weights/resnet50_w4_c10.pth"));
        FAIL();
    } catch (const WeightsError& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("do not fit resnet18"), std::string::npos) << msg;
        EXPECT_NE(msg.find("layer1.0.conv1.weight: file has [4,4,1,1], network has [4,4,3,3]"),
                  std::string::npos)
            << msg;
    }
}

TEST(Weights, CorruptTruncatedAndForeignFilesGiveClearErrors) {
    test::TempDir dir;
    const std::string good = test::slurp(test::fixture("weights/resnet18_w4_c10.pth"));
    test::spit(dir / "trunc.pth", good.substr(0, good.size() / 2));
    test::spit(dir / "text.pth", "hello");
    test::spit(dir / "legacy.pth", std::string("\x80\x02\x8a\x0a"
                                               "legacy"));
    for (const char* f : {"trunc.pth", "text.pth", "legacy.pth"}) {
        try {
            readTorchStateDict(dir / f);
            ADD_FAILURE() << f;
        } catch (const WeightsError& e) {
            EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << e.what();
        }
    }
    EXPECT_THROW(readTorchStateDict(dir / "absent.pth"), WeightsError);
}

}  // namespace
}  // namespace camx
