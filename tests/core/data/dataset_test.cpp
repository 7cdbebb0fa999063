#include <gtest/gtest.h>

#include <cstring>

#include "../test_support.h"
#include "data/dataset.h"
#include "data/mat_io.h"

namespace camx {
namespace {
namespace fs = std::filesystem;
using test::TempDir;

const char* kTwoDogs = R"(<annotation>
  <folder>02085620</folder><filename>n02085620_10074</filename>
  <source><database>ImageNet database</database></source>
  <size><width>500</width><height>375</height><depth>3</depth></size>
  <segment>0</segment>
  <object><name>Chihuahua</name><pose>Unspecified</pose><truncated>0</truncated>
    <difficult>0</difficult><bndbox><xmin>25</xmin><ymin>10</ymin><xmax>276</xmax><ymax>498</ymax></bndbox></object>
  <object><name>Chihuahua</name><bndbox><xmin>300</xmin><ymin>40</ymin><xmax>480</xmax><ymax>200</ymax></bndbox></object>
</annotation>)";

TEST(Annotation, ReadsSizeAndEveryObject) {
    Annotation a = parseAnnotation(kTwoDogs, std::strlen(kTwoDogs));
    EXPECT_EQ(a.width, 500);
    EXPECT_EQ(a.height, 375);
    EXPECT_EQ(a.depth, 3);
    ASSERT_EQ(a.boxes.size(), 2u);
    EXPECT_EQ(a.boxes[0], (Box{25, 10, 276, 498}));
    EXPECT_EQ(a.boxes[1], (Box{300, 40, 480, 200}));
}

TEST(Annotation, RejectsMalformedXmlWithReason) {
    const std::string bad = std::string(kTwoDogs).substr(0, 200);
    try {
        parseAnnotation(bad.data(), bad.size());
        FAIL() << "truncated XML was accepted";
    } catch (const DatasetError& e) {
        EXPECT_NE(std::string(e.what()).find("malformed XML"), std::string::npos) << e.what();
    }
}

TEST(Annotation, RejectsMissingPieces) {
    auto expectError = [](const std::string& xml, const std::string& needle) {
        try {
            parseAnnotation(xml.data(), xml.size());
            ADD_FAILURE() << "accepted: " << xml;
        } catch (const DatasetError& e) {
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
        }
    };
    expectError("<foo/>", "no <annotation>");
    expectError("<annotation><object/></annotation>", "missing <size>");
    expectError("<annotation><size><width>5</width><height>5</height></size></annotation>",
                "no <object>");
    expectError("<annotation><size><width>5</width><height>5</height></size><object/></annotation>",
                "no <bndbox>");
    expectError(
        "<annotation><size><width>5</width><height>5</height></size><object><bndbox>"
        "<xmin>a</xmin><ymin>0</ymin><xmax>1</xmax><ymax>1</ymax></bndbox></object></annotation>",
        "not a number");
    expectError("<annotation><size><width>0</width><height>5</height></size></annotation>",
                "not a positive image size");
}

TEST(Boxes, ClipsToTheImageAndFlagsRealDamage) {
    bool clipped = false;
    // Edges written as width/height are a convention, not damage.
    auto b = sanitizeBox({0, 0, 500, 375}, 500, 375, &clipped);
    ASSERT_TRUE(b);
    EXPECT_EQ(*b, (Box{0, 0, 499, 374}));
    EXPECT_FALSE(clipped);
    b = sanitizeBox({-20, 10, 600, 100}, 500, 375, &clipped);
    ASSERT_TRUE(b);
    EXPECT_EQ(*b, (Box{0, 10, 499, 100}));
    EXPECT_TRUE(clipped);
    EXPECT_FALSE(sanitizeBox({100, 10, 50, 100}, 500, 375, &clipped)) << "inverted box kept";
    EXPECT_FALSE(sanitizeBox({600, 10, 700, 100}, 500, 375, &clipped)) << "box outside kept";
}

TEST(Breeds, DisplayNameDropsWnidAndUnderscores) {
    EXPECT_EQ(breedDisplayName("n02085620-Chihuahua"), "Chihuahua");
    EXPECT_EQ(breedDisplayName("n02116738-African_hunting_dog"), "African hunting dog");
    EXPECT_EQ(breedDisplayName("n02096051-Airedale"), "Airedale");
}

TEST(ListFile, RoundTripsThroughMatio) {
    TempDir dir;
    writeMatFile(
        dir / "l.mat",
        {{"file_list", {"a-B/x.jpg", "c-D/y.jpg"}}, {"annotation_list", {"a-B/x", "c-D/y"}}},
        {{"labels", {1, 2}}});
    ListFile l = readListFile(dir / "l.mat");
    EXPECT_EQ(l.files, (std::vector<std::string>{"a-B/x.jpg", "c-D/y.jpg"}));
    EXPECT_EQ(l.labels, (std::vector<int>{1, 2}));
}

TEST(ListFile, ReadsTheAuthorsFixture) {
    // A list in the authors' format, written by MATLAB-compatible tooling (UTF-16 text cells).
    ListFile l = readListFile(test::fixture("lists/test_list_sample.mat"));
    ASSERT_EQ(l.files.size(), 3u);
    EXPECT_EQ(l.files[0], "n02085620-Chihuahua/n02085620_2650.jpg");
    EXPECT_EQ(l.labels, (std::vector<int>{1, 1, 2}));
}

TEST(ListFile, NamesTheFileAndVariableWhenTheShapeIsWrong) {
    TempDir dir;
    writeMatFile(dir / "short.mat", {{"file_list", {"a-B/x.jpg", "c-D/y.jpg"}}}, {{"labels", {1}}});
    try {
        readListFile(dir / "short.mat");
        FAIL();
    } catch (const DatasetError& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("short.mat"), std::string::npos) << msg;
        EXPECT_NE(msg.find("'labels'"), std::string::npos) << msg;
    }
    writeMatFile(dir / "numbers.mat", {}, {{"file_list", {1, 2}}, {"labels", {1, 2}}});
    try {
        readListFile(dir / "numbers.mat");
        FAIL();
    } catch (const DatasetError& e) {
        EXPECT_NE(std::string(e.what()).find("not a cell array"), std::string::npos) << e.what();
    }
    test::spit(dir / "garbage.mat", "MATLAB 5.0 MAT-file, but not really");
    EXPECT_THROW(readListFile(dir / "garbage.mat"), DatasetError);
    EXPECT_THROW(readListFile(dir / "missing.mat"), DatasetError);
}

TEST(ListFile, OnlyLevel5FilesReachMatio) {
    // Found by the fuzzer: 129 bytes without a level 5 header made matio read them as level 4
    // and allocate 1.6 GB for a variable name in Mat_Open.
    const auto path = fs::path(CAMX_FIXTURES) / ".." / "fuzz" / "corpus" / "matlist" /
                      "regression_level4_header.mat";
    try {
        readListFile(path);
        ADD_FAILURE() << "opened";
    } catch (const DatasetError& e) {
        EXPECT_NE(std::string(e.what()).find("is not a MATLAB level 5 file"), std::string::npos)
            << e.what();
    }
}

TEST(ListFile, ElementsThatClaimMoreThanTheFileHoldsAreRejectedBeforeMatioAllocates) {
    // Found by the fuzzer: a name and a text cell claiming gigabytes made matio allocate them.
    for (const char* f : {"regression_name_length.mat", "regression_data_length.mat"}) {
        const auto path = fs::path(CAMX_FIXTURES) / ".." / "fuzz" / "corpus" / "matlist" / f;
        try {
            readListFile(path);
            ADD_FAILURE() << f;
        } catch (const DatasetError& e) {
            EXPECT_NE(std::string(e.what()).find("is damaged"), std::string::npos) << e.what();
        }
    }
}

TEST(Dataset, ReadsTheDemoRoundTrip) {
    TempDir dir;
    test::makeSmallDemo(dir / "demo");
    Dataset ds = openStanfordDogs(dir / "demo");
    EXPECT_EQ(ds.numClasses(), 3u);
    EXPECT_EQ(ds.breedNames[0], "Spotted Pointer");
    EXPECT_EQ(ds.train.samples.size(), 12u);
    EXPECT_EQ(ds.test.samples.size(), 9u);
    EXPECT_TRUE(ds.train.report.issues.empty());
    EXPECT_TRUE(ds.test.report.issues.empty());
    for (const Sample& s : ds.test.samples) {
        EXPECT_TRUE(fs::exists(s.imagePath));
        EXPECT_GE(s.width, 400);
        EXPECT_GE(s.height, 300);
        ASSERT_FALSE(s.boxes.empty());
        for (const Box& b : s.boxes) {
            EXPECT_LE(0, b.xmin);
            EXPECT_LT(b.xmin, b.xmax);
            EXPECT_LT(b.xmax, s.width);
            EXPECT_LT(b.ymax, s.height);
        }
        // Folder and label agree.
        EXPECT_EQ(s.relPath.substr(0, s.relPath.find('/')), ds.breedFolders[s.label]);
    }
}

TEST(Dataset, ReadsListsFromAListsSubfolder) {
    TempDir dir;
    test::makeSmallDemo(dir / "demo");
    fs::create_directories(dir / "demo" / "lists");
    for (const char* f : {"train_list.mat", "test_list.mat", "file_list.mat"})
        fs::rename(dir / "demo" / f, dir / "demo" / "lists" / f);
    Dataset ds = openStanfordDogs(dir / "demo");
    EXPECT_EQ(ds.train.samples.size(), 12u);
}

TEST(Dataset, UnpacksTheThreeArchivesOnceIntoTheCache) {
    TempDir dir;
    test::makeSmallDemo(dir / "demo");
    fs::create_directories(dir / "dl");
    test::writeTar(dir / "dl" / "images.tar", dir / "demo", {"Images"});
    test::writeTar(dir / "dl" / "annotation.tar", dir / "demo", {"Annotation"});
    test::writeTar(dir / "dl" / "lists.tar", dir / "demo",
                   {"file_list.mat", "train_list.mat", "test_list.mat"});
    OpenOptions opt;
    opt.cacheDir = dir / "cache";
    std::size_t progressCalls = 0;
    opt.job.progress = [&](const Progress&) { ++progressCalls; };
    Dataset ds = openStanfordDogs(dir / "dl", opt);
    EXPECT_EQ(ds.train.samples.size(), 12u);
    EXPECT_EQ(ds.test.samples.size(), 9u);
    EXPECT_GT(progressCalls, 0u);
    EXPECT_TRUE(ds.root.string().rfind((dir / "cache").string(), 0) == 0) << ds.root;
    // The second open reuses the unpacked copy: remove an archive to prove it is not read again.
    const auto stamp = fs::last_write_time(ds.root / "Images");
    Dataset again = openStanfordDogs(dir / "dl", opt);
    EXPECT_EQ(again.root, ds.root);
    EXPECT_EQ(fs::last_write_time(again.root / "Images"), stamp);
}

TEST(Dataset, DamagedArchiveGivesAClearError) {
    TempDir dir;
    test::makeSmallDemo(dir / "demo");
    fs::create_directories(dir / "dl");
    test::writeTar(dir / "dl" / "images.tar", dir / "demo", {"Images"});
    test::writeTar(dir / "dl" / "annotation.tar", dir / "demo", {"Annotation"});
    test::spit(dir / "dl" / "lists.tar", std::string(1000, 'x'));
    OpenOptions opt;
    opt.cacheDir = dir / "cache";
    try {
        openStanfordDogs(dir / "dl", opt);
        FAIL();
    } catch (const DatasetError& e) {
        EXPECT_NE(std::string(e.what()).find("lists.tar"), std::string::npos) << e.what();
    }
    // Nothing half-unpacked is left to be mistaken for a complete copy.
    for (const auto& entry : fs::directory_iterator(dir / "cache"))
        EXPECT_FALSE(fs::exists(entry.path() / ".complete")) << entry.path();
}

TEST(Dataset, CancelStopsTheLoad) {
    TempDir dir;
    test::makeSmallDemo(dir / "demo");
    CancelToken token;
    token.cancel();
    OpenOptions opt;
    opt.job.cancel = &token;
    EXPECT_THROW(openStanfordDogs(dir / "demo", opt), Cancelled);
}

}  // namespace
}  // namespace camx
