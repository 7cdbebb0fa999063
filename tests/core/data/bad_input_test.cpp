// Every kind of damage the real dataset (or a user's folder) can bring: each is skipped or
// repaired, named in the load report with the file at fault, and loading goes on.
#include <gtest/gtest.h>

#include "../test_support.h"
#include "data/dataset.h"
#include "data/mat_io.h"

namespace camx {
namespace {
namespace fs = std::filesystem;
using test::TempDir;

class BadInput : public ::testing::Test {
protected:
    void SetUp() override {
        test::makeSmallDemo(m_dir / "d");
        root = m_dir / "d";
        const Dataset ds = openStanfordDogs(root);
        test = ds.test.samples;
    }

    // The test sample at position i: its image and annotation paths.
    fs::path image(std::size_t i) const { return test[i].imagePath; }
    fs::path annotation(std::size_t i) const {
        std::string rel = test[i].relPath;
        return root / "Annotation" / rel.substr(0, rel.size() - 4);
    }

    static const LoadIssue* findIssue(const LoadReport& r, const fs::path& file) {
        for (const auto& i : r.issues)
            if (i.file == file.string()) return &i;
        return nullptr;
    }

    TempDir m_dir;
    fs::path root;
    std::vector<Sample> test;
};

TEST_F(BadInput, TruncatedJpegIsSkippedAndNamed) {
    const std::string bytes = test::slurp(image(0));
    test::spit(image(0), bytes.substr(0, bytes.size() / 2));
    Dataset ds = openStanfordDogs(root);
    EXPECT_EQ(ds.test.samples.size(), test.size() - 1);
    const LoadIssue* issue = findIssue(ds.test.report, image(0));
    ASSERT_NE(issue, nullptr);
    EXPECT_EQ(issue->kind, LoadIssue::Kind::Skipped);
    EXPECT_NE(issue->message.find("truncated"), std::string::npos) << issue->message;
    EXPECT_EQ(ds.test.report.listed, test.size());
    EXPECT_EQ(ds.test.report.loaded, test.size() - 1);
}

TEST_F(BadInput, UnreadableAndEmptyImagesAreSkipped) {
    test::spit(image(0), "this is not an image at all");
    test::spit(image(1), "");
    Dataset ds = openStanfordDogs(root);
    EXPECT_EQ(ds.test.samples.size(), test.size() - 2);
    ASSERT_NE(findIssue(ds.test.report, image(0)), nullptr);
    EXPECT_NE(findIssue(ds.test.report, image(0))->message.find("unrecognised"), std::string::npos);
    ASSERT_NE(findIssue(ds.test.report, image(1)), nullptr);
    EXPECT_EQ(findIssue(ds.test.report, image(1))->message, "empty file");
}

TEST_F(BadInput, VerifyDecodesAndCatchesDamageAHeaderCheckMisses) {
    // Valid signature and end marker, garbage in between: only decoding notices.
    std::string bytes = test::slurp(image(2));
    for (std::size_t i = 20; i + 2 < bytes.size(); ++i) bytes[i] = static_cast<char>(0xff);
    test::spit(image(2), bytes);
    OpenOptions opt;
    opt.verifyImages = true;
    Dataset ds = openStanfordDogs(root, opt);
    ASSERT_NE(findIssue(ds.test.report, image(2)), nullptr);
    EXPECT_EQ(ds.test.samples.size(), test.size() - 1);
}

TEST_F(BadInput, GrayscaleCmykAndPngNamedJpgAreDecodedNotSkipped) {
    fs::copy_file(test::fixture("images/grayscale.jpg"), image(0),
                  fs::copy_options::overwrite_existing);
    fs::copy_file(test::fixture("images/cmyk.jpg"), image(1), fs::copy_options::overwrite_existing);
    fs::copy_file(test::fixture("images/png_data.jpg"), image(2),
                  fs::copy_options::overwrite_existing);
    OpenOptions opt;
    opt.verifyImages = true;
    Dataset ds = openStanfordDogs(root, opt);
    EXPECT_EQ(ds.test.samples.size(), test.size());
    EXPECT_EQ(ds.test.report.skipped(), 0u);
}

TEST_F(BadInput, MissingAndMalformedXmlAreSkipped) {
    fs::remove(annotation(0));
    test::spit(annotation(1), "<annotation><size><width>10</wid");
    Dataset ds = openStanfordDogs(root);
    EXPECT_EQ(ds.test.samples.size(), test.size() - 2);
    const LoadIssue* missing = findIssue(ds.test.report, annotation(0));
    ASSERT_NE(missing, nullptr);
    EXPECT_NE(missing->message.find("missing"), std::string::npos) << missing->message;
    const LoadIssue* malformed = findIssue(ds.test.report, annotation(1));
    ASSERT_NE(malformed, nullptr);
    EXPECT_NE(malformed->message.find("malformed XML"), std::string::npos) << malformed->message;
}

TEST_F(BadInput, BoxesOutsideOrInvertedAreRepairedOrDropped) {
    const int w = test[0].width, h = test[0].height;
    const std::string head = "<annotation><size><width>" + std::to_string(w) + "</width><height>" +
                             std::to_string(h) + "</height><depth>3</depth></size>";
    auto box = [](int a, int b, int c, int d) {
        return "<object><name>x</name><bndbox><xmin>" + std::to_string(a) + "</xmin><ymin>" +
               std::to_string(b) + "</ymin><xmax>" + std::to_string(c) + "</xmax><ymax>" +
               std::to_string(d) + "</ymax></bndbox></object>";
    };
    // Sample 0: one box past the border (clipped), one inverted (dropped).
    test::spit(annotation(0),
               head + box(-15, 5, w + 40, 60) + box(90, 10, 20, 50) + "</annotation>");
    // Sample 1: its only box is inverted, so no box remains and the item is skipped.
    test::spit(annotation(1), head + box(50, 80, 40, 10) + "</annotation>");
    Dataset ds = openStanfordDogs(root);
    ASSERT_EQ(ds.test.samples.size(), test.size() - 1);
    const Sample& s0 = ds.test.samples[0];
    ASSERT_EQ(s0.boxes.size(), 1u);
    EXPECT_EQ(s0.boxes[0], (Box{0, 5, w - 1, 60}));
    std::size_t repairedForS0 = 0;
    for (const auto& i : ds.test.report.issues)
        if (i.file == annotation(0).string()) {
            EXPECT_EQ(i.kind, LoadIssue::Kind::Repaired);
            ++repairedForS0;
        }
    EXPECT_EQ(repairedForS0, 2u);
    const LoadIssue* skipped = nullptr;
    for (const auto& i : ds.test.report.issues)
        if (i.file == annotation(1).string() && i.kind == LoadIssue::Kind::Skipped) skipped = &i;
    ASSERT_NE(skipped, nullptr);
    EXPECT_NE(skipped->message.find("no usable bounding box"), std::string::npos);
}

TEST_F(BadInput, ListNamingMissingFilesSkipsThoseEntries) {
    fs::remove(image(0));
    ListFile l = readListFile(root / "test_list.mat");
    l.files.push_back("n90000001-Spotted_Pointer/does_not_exist.jpg");
    l.labels.push_back(1);
    l.files.push_back("../../etc/passwd");
    l.labels.push_back(1);
    std::vector<double> labels(l.labels.begin(), l.labels.end());
    writeMatFile(root / "test_list.mat", {{"file_list", l.files}}, {{"labels", labels}});
    Dataset ds = openStanfordDogs(root);
    EXPECT_EQ(ds.test.report.listed, test.size() + 2);
    EXPECT_EQ(ds.test.samples.size(), test.size() - 1);
    const LoadIssue* issue = findIssue(ds.test.report, image(0));
    ASSERT_NE(issue, nullptr);
    EXPECT_EQ(issue->message, "image file is missing");
    EXPECT_EQ(ds.test.report.skipped(), 3u);
}

TEST_F(BadInput, MatOfUnexpectedShapeLosesOnlyItsSplit) {
    writeMatFile(root / "test_list.mat", {{"file_list", {"a/b.jpg", "c/d.jpg"}}},
                 {{"labels", {1, 2, 3}}});
    Dataset ds = openStanfordDogs(root);
    EXPECT_TRUE(ds.test.samples.empty());
    EXPECT_EQ(ds.train.samples.size(), 12u);
    ASSERT_EQ(ds.test.report.issues.size(), 1u);
    EXPECT_EQ(ds.test.report.issues[0].file, (root / "test_list.mat").string());
    EXPECT_NE(ds.test.report.issues[0].message.find("'labels' has shape 3x1"), std::string::npos)
        << ds.test.report.issues[0].message;
}

TEST_F(BadInput, EmptyOrWrongFolderThrowsNamingIt) {
    TempDir other;
    auto expectMessage = [](const fs::path& p, const std::string& needle) {
        try {
            openStanfordDogs(p);
            ADD_FAILURE() << "opened " << p;
        } catch (const DatasetError& e) {
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find(p.filename().string()), std::string::npos)
                << e.what();
        }
    };
    expectMessage(other.path(), "is not a Stanford Dogs folder");
    expectMessage(other / "nope", "does not exist");
    test::spit(other / "file.txt", "x");
    expectMessage(other / "file.txt", "is not a folder");
    // The right layout with every list broken: nothing can be loaded.
    test::spit(root / "train_list.mat", "broken");
    test::spit(root / "test_list.mat", "broken");
    expectMessage(root, "nothing could be loaded");
}

}  // namespace
}  // namespace camx
