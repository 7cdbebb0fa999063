#include <gtest/gtest.h>

#include "../test_support.h"
#include "data/dataset.h"
#include "data/demo_generator.h"
#include "data/mat_io.h"

namespace camx {
namespace {
namespace fs = std::filesystem;

TEST(Demo, SameSeedGivesIdenticalFilesAndAnotherSeedDoesNot) {
    test::TempDir dir;
    test::makeSmallDemo(dir / "a", 2, 1, 2, 5);
    test::makeSmallDemo(dir / "b", 2, 1, 2, 5);
    test::makeSmallDemo(dir / "c", 2, 1, 2, 6);
    std::size_t files = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir / "a")) {
        if (!e.is_regular_file()) continue;
        ++files;
        const fs::path rel = fs::relative(e.path(), dir / "a");
        EXPECT_TRUE(test::slurp(e.path()) == test::slurp(dir / "b" / rel)) << rel;
    }
    EXPECT_EQ(files, 2u * 3u * 2u + 3u);  // image + XML per item, three lists
    // Nothing in the files depends on the clock: the MAT header (matio's default holds the
    // creation time, which made runs a second apart differ) is a fixed text.
    const std::string text = kMatHeaderText;
    for (const char* list : {"train_list.mat", "test_list.mat", "file_list.mat"}) {
        const std::string header = test::slurp(dir / "a" / list).substr(0, 116);
        EXPECT_EQ(header.substr(0, text.size()), text) << list;
        EXPECT_EQ(header.find_first_not_of(std::string(" \0", 2), text.size()), std::string::npos)
            << list << ": " << header;
    }
    const std::string rel = "Images/n90000001-Spotted_Pointer/n90000001_1000.jpg";
    EXPECT_FALSE(test::slurp(dir / "a" / rel) == test::slurp(dir / "c" / rel));
}

TEST(Demo, RefusesToOverwriteANonEmptyFolder) {
    test::TempDir dir;
    test::spit(dir / "out" / "keep.txt", "mine");
    DemoOptions o;
    o.trainPerBreed = 1;
    o.testPerBreed = 1;
    o.numBreeds = 2;
    EXPECT_THROW(generateDemoDataset(dir / "out", o), std::runtime_error);
    EXPECT_EQ(test::slurp(dir / "out" / "keep.txt"), "mine");
}

TEST(Demo, BoxesHugTheDrawnDog) {
    // Every box lies inside the image, is reasonably large, and the images with two dogs have
    // two boxes. The generator draws the box from the silhouette itself, so a box that is off
    // would show up as a tiny or image-sized box.
    test::TempDir dir;
    DemoOptions o;
    o.trainPerBreed = 1;
    o.testPerBreed = 20;
    o.numBreeds = 2;
    o.twoDogChance = 0.5;
    generateDemoDataset(dir / "d", o);
    Dataset ds = openStanfordDogs(dir / "d");
    std::size_t twoDogs = 0;
    for (const auto& s : ds.test.samples) {
        twoDogs += s.boxes.size() == 2;
        for (const auto& b : s.boxes) {
            const double area = double(b.xmax - b.xmin + 1) * (b.ymax - b.ymin + 1);
            EXPECT_GT(area, 0.01 * s.width * s.height);
            EXPECT_LT(area, 0.75 * s.width * s.height);
        }
    }
    EXPECT_GT(twoDogs, 5u);
    EXPECT_LT(twoDogs, 35u);
}

TEST(Demo, CancelLeavesNoFolder) {
    test::TempDir dir;
    CancelToken t;
    t.cancel();
    DemoOptions o;
    o.job.cancel = &t;
    EXPECT_THROW(generateDemoDataset(dir / "d", o), Cancelled);
    EXPECT_FALSE(fs::exists(dir / "d"));
}

}  // namespace
}  // namespace camx
