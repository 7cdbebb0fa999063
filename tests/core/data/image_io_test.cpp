#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include "../test_support.h"
#include "data/image_io.h"

namespace camx {
namespace {

TEST(ImageIo, DecodesOddFilesToThreeChannelRgb) {
    for (const char* name : {"images/grayscale.jpg", "images/cmyk.jpg", "images/png_data.jpg"}) {
        cv::Mat m = readRgb(test::fixture(name));
        EXPECT_EQ(m.type(), CV_8UC3) << name;
        EXPECT_EQ(m.cols, 64) << name;
        EXPECT_EQ(m.rows, 48) << name;
    }
}

TEST(ImageIo, CmykFixtureKeepsItsColours) {
    // The fixture is pure red in CMYK (C=0, M=255, Y=255, K=0): decoding must give red, not a
    // channel-swapped or inverted colour.
    cv::Mat m = readRgb(test::fixture("images/cmyk.jpg"));
    const cv::Vec3b px = m.at<cv::Vec3b>(24, 32);
    EXPECT_GT(px[0], 200);
    EXPECT_LT(px[1], 60);
    EXPECT_LT(px[2], 60);
}

TEST(ImageIo, ErrorsNameTheFile) {
    test::TempDir dir;
    test::spit(dir / "bad.jpg", "nope");
    try {
        readRgb(dir / "bad.jpg");
        FAIL();
    } catch (const ImageError& e) {
        EXPECT_NE(std::string(e.what()).find("bad.jpg"), std::string::npos);
    }
}

TEST(ImageIo, GreyDecodingIsOpenCvsImreadGrayscale) {
    // Masks are read as wsolevaluation reads them (cv2.imread(..., IMREAD_GRAYSCALE)): the same
    // values for a grey PNG and for a colour one (OpenCV's own conversion), through our checks.
    test::TempDir dir;
    cv::Mat colour(7, 9, CV_8UC3);
    cv::randu(colour, 0, 256);
    cv::Mat grey(7, 9, CV_8U);
    cv::randu(grey, 0, 256);
    for (const auto& [name, m] : {std::pair{"colour.png", colour}, std::pair{"grey.png", grey}}) {
        const std::string file = (dir / name).string();
        ASSERT_TRUE(cv::imwrite(file, m));
        const cv::Mat ours = readGray(file), theirs = cv::imread(file, cv::IMREAD_GRAYSCALE);
        ASSERT_EQ(ours.type(), CV_8UC1) << name;
        EXPECT_EQ(cv::countNonZero(ours != theirs), 0) << name;
    }
    try {
        readGray(dir / "missing.png");
        ADD_FAILURE();
    } catch (const ImageError& e) {
        EXPECT_NE(std::string(e.what()).find("missing.png"), std::string::npos) << e.what();
    }
}

TEST(ImageIo, NormalisesToChwWithImageNetStatistics) {
    cv::Mat rgb(2, 3, CV_8UC3, cv::Scalar(255, 0, 128));
    std::vector<float> out(3 * 2 * 3);
    Normalization n;
    toChwNormalized(rgb, n, out.data());
    EXPECT_NEAR(out[0], (1.0f - 0.485f) / 0.229f, 1e-5);           // R plane
    EXPECT_NEAR(out[6], (0.0f - 0.456f) / 0.224f, 1e-5);           // G plane
    EXPECT_NEAR(out[12], (128 / 255.0f - 0.406f) / 0.225f, 1e-5);  // B plane
}

TEST(ImageIo, ResizesTheWholeImageWithoutCrop) {
    cv::Mat rgb(375, 500, CV_8UC3, cv::Scalar(0, 0, 0));
    rgb(cv::Rect(0, 0, 250, 375)).setTo(cv::Scalar(255, 255, 255));  // left half white
    cv::Mat r = resizeForModel(rgb, 224);
    EXPECT_EQ(r.size(), cv::Size(224, 224));
    EXPECT_EQ(r.at<cv::Vec3b>(112, 10)[0], 255);
    EXPECT_EQ(r.at<cv::Vec3b>(112, 214)[0], 0);
}

}  // namespace
}  // namespace camx
