// A plain folder of class subfolders (torchvision's ImageFolder) and CUB-200-2011 read from its
// .tgz as downloaded: written from the demo, detected, read back; torchvision's class and sample
// order; bad files reported; the archive unpacked once into the cache and its damage named.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <map>
#include <opencv2/imgcodecs.hpp>

#include "../test_support.h"
#include "data/dataset.h"
#include "data/formats/cub_reader.h"
#include "data/formats/dataset_writer.h"
#include "data/formats/imagefolder_reader.h"

namespace camx {
namespace {
namespace fs = std::filesystem;

std::map<std::string, Sample> byFile(const SplitData& split) {
    std::map<std::string, Sample> out;
    for (const Sample& s : split.samples) out[s.imagePath.filename().string()] = s;
    return out;
}

std::string issuesText(const Dataset& ds) {
    std::string all;
    for (const auto* r : {&ds.train.report, &ds.val.report, &ds.test.report})
        for (const auto& i : r->issues) all += i.file + ": " + i.message + "\n";
    return all;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

std::string encode(const std::string& ext, int w, int h) {
    cv::Mat img(h, w, CV_8UC3, cv::Scalar(30, 120, 200));
    std::vector<unsigned char> bytes;
    EXPECT_TRUE(cv::imencode(ext, img, bytes));
    return std::string(bytes.begin(), bytes.end());
}

// A JPEG of noise: large enough that its second half is entropy-coded data only.
std::string noisyJpeg(int w, int h) {
    cv::Mat img(h, w, CV_8UC3);
    cv::randu(img, cv::Scalar::all(0), cv::Scalar::all(255));
    std::vector<unsigned char> bytes;
    EXPECT_TRUE(cv::imencode(".jpg", img, bytes));
    return std::string(bytes.begin(), bytes.end());
}

// ---------------------------------------------------------------------------------------------
// ImageFolder written from the demo

using ImageFolderDemo = test::DemoSuite<3, 3, 3, 21>;

TEST_F(ImageFolderDemo, WrittenFromTheDemoReadsBackTheSameSamplesWithoutBoxes) {
    // Two test images become the validation split, to see all three splits come back.
    Dataset source = *s_ds;
    ASSERT_GE(source.test.samples.size(), 4u);
    source.val.samples.assign(source.test.samples.begin(), source.test.samples.begin() + 2);
    source.test.samples.erase(source.test.samples.begin(), source.test.samples.begin() + 2);

    test::TempDir out;
    writeDatasetAs(source, out.path(), DatasetFormat::ImageFolder);
    EXPECT_TRUE(fs::is_directory(out / "train"));
    EXPECT_TRUE(fs::is_directory(out / "val"));
    EXPECT_TRUE(fs::is_directory(out / "test"));
    EXPECT_TRUE(looksLikeImageFolder(out.path()));
    EXPECT_EQ(detectDatasetFormat(out.path()), DatasetFormat::ImageFolder);

    const Dataset back = openDataset(out.path());
    EXPECT_EQ(back.format, DatasetFormat::ImageFolder);
    EXPECT_EQ(back.root, fs::absolute(out.path()));
    EXPECT_EQ(back.breedNames, source.breedNames);
    ASSERT_EQ(back.breedFolders.size(), 3u);
    EXPECT_EQ(back.breedFolders[0].substr(0, 4), "001.");
    EXPECT_TRUE(issuesText(back).empty()) << issuesText(back);
    for (SplitKind k : {SplitKind::Train, SplitKind::Val, SplitKind::Test}) {
        const auto want = byFile(source.split(k)), got = byFile(back.split(k));
        ASSERT_EQ(got.size(), want.size()) << splitName(k);
        EXPECT_EQ(back.split(k).report.listed, want.size()) << splitName(k);
        EXPECT_EQ(back.split(k).report.loaded, want.size()) << splitName(k);
        for (const auto& [name, s] : want) {
            ASSERT_TRUE(got.count(name)) << splitName(k) << " " << name;
            const Sample& t = got.at(name);
            EXPECT_EQ(t.label, s.label) << name;
            EXPECT_EQ(t.width, s.width) << name;
            EXPECT_EQ(t.height, s.height) << name;
            EXPECT_TRUE(t.boxes.empty()) << name;
            EXPECT_FALSE(t.hasBoxes()) << name;
            // relPath is below the split folder: "<class folder>/<file>".
            EXPECT_EQ(t.relPath,
                      back.breedFolders.at(static_cast<std::size_t>(t.label)) + "/" + name);
            EXPECT_EQ(t.imagePath, out / splitName(k) / t.relPath);
            EXPECT_EQ(test::slurp(t.imagePath), test::slurp(s.imagePath)) << name;
        }
    }
}

TEST_F(ImageFolderDemo, OnlySplitsWithSamplesAreWrittenAndAClassMissingFromOneIsFine) {
    Dataset source = *s_ds;
    // The test split loses every image of class 0; no validation split.
    auto& t = source.test.samples;
    t.erase(std::remove_if(t.begin(), t.end(), [](const Sample& s) { return s.label == 0; }),
            t.end());
    test::TempDir out;
    writeDatasetAs(source, out.path(), DatasetFormat::ImageFolder);
    EXPECT_FALSE(fs::exists(out / "val"));
    const Dataset back = openDataset(out.path(), {});
    EXPECT_EQ(back.numClasses(), 3u);  // the union of the splits' classes
    EXPECT_EQ(back.test.samples.size(), t.size());
    for (const Sample& s : back.test.samples) EXPECT_NE(s.label, 0) << s.relPath;
    EXPECT_EQ(back.train.samples.size(), source.train.samples.size());
    EXPECT_TRUE(back.val.samples.empty());
}

// ---------------------------------------------------------------------------------------------
// ImageFolder layouts made by hand

TEST(ImageFolderLayout, AFlatFolderIsTheTestSplitInTorchvisionsOrder) {
    test::TempDir d;
    // Classes sort byte-wise as Python's sorted(): upper case before lower case.
    test::spit(d / "b" / "1.png", encode(".png", 10, 11));
    test::spit(d / "Zebra" / "z.JPG", encode(".jpg", 12, 13));  // extensions in any case
    test::spit(d / "apple" / "top.Png", encode(".png", 14, 15));
    // torchvision sorts os.walk's folders by path: "apple/a" < "apple/a b" < "apple/a/x".
    test::spit(d / "apple" / "a" / "2.png", encode(".png", 16, 17));
    test::spit(d / "apple" / "a" / "1.png", encode(".png", 18, 19));
    test::spit(d / "apple" / "a b" / "3.png", encode(".png", 20, 21));
    test::spit(d / "apple" / "a" / "x" / "4.jpeg", encode(".jpg", 22, 23));
    // Not classes: a hidden folder, a folder without images; an image outside any class.
    test::spit(d / ".ipynb_checkpoints" / "c.png", encode(".png", 8, 8));
    fs::create_directories(d / "empty");
    test::spit(d / "loose.png", encode(".png", 8, 8));

    EXPECT_TRUE(looksLikeImageFolder(d.path()));
    OpenOptions o;
    o.format = DatasetFormat::ImageFolder;
    const Dataset ds = openDataset(d.path(), o);
    EXPECT_EQ(ds.breedFolders, (std::vector<std::string>{"Zebra", "apple", "b"}));
    EXPECT_EQ(ds.breedNames, (std::vector<std::string>{"Zebra", "apple", "b"}));
    EXPECT_TRUE(ds.train.samples.empty());
    EXPECT_TRUE(ds.val.samples.empty());
    std::vector<std::string> rels;
    std::vector<int> labels;
    for (const Sample& s : ds.test.samples) {
        rels.push_back(s.relPath);
        labels.push_back(s.label);
        EXPECT_TRUE(s.boxes.empty());
    }
    EXPECT_EQ(rels, (std::vector<std::string>{"Zebra/z.JPG", "apple/top.Png", "apple/a/1.png",
                                              "apple/a/2.png", "apple/a b/3.png",
                                              "apple/a/x/4.jpeg", "b/1.png"}));
    EXPECT_EQ(labels, (std::vector<int>{0, 1, 1, 1, 1, 1, 2}));
    // Sizes from the headers.
    const auto files = byFile(ds.test);
    EXPECT_EQ(files.at("z.JPG").width, 12);
    EXPECT_EQ(files.at("z.JPG").height, 13);
    EXPECT_EQ(files.at("4.jpeg").width, 22);
    EXPECT_EQ(files.at("3.png").height, 21);
    const std::string issues = issuesText(ds);
    EXPECT_TRUE(contains(issues, (d / "empty").string() + ": holds no image file")) << issues;
    EXPECT_TRUE(contains(issues, (d / "loose.png").string() + ": not in a class folder")) << issues;
    EXPECT_FALSE(contains(issues, "ipynb")) << issues;
}

TEST(ImageFolderLayout, BadFilesInAClassFolderAreReportedNotDropped) {
    test::TempDir d;
    test::spit(d / "cat" / "good.jpg", encode(".jpg", 30, 20));
    test::spit(d / "cat" / "notes.txt", "not an image\n");
    test::spit(d / "cat" / "corrupt.jpg", std::string(500, 'x'));
    const std::string jpg = noisyJpeg(120, 90);
    test::spit(d / "cat" / "cut.jpg", jpg.substr(0, jpg.size() / 2));
    test::spit(d / "cat" / "old.bmp", encode(".bmp", 8, 8));  // torchvision's, not decoded here
    test::spit(d / "dog" / "good.png", encode(".png", 9, 7));
    fs::create_symlink(d / "dog" / "gone.png", d / "dog" / "dangling.png");

    const Dataset ds = openDataset(d.path());
    EXPECT_EQ(ds.format, DatasetFormat::ImageFolder);
    ASSERT_EQ(ds.test.samples.size(), 2u);
    EXPECT_EQ(ds.test.samples[0].relPath, "cat/good.jpg");
    EXPECT_EQ(ds.test.samples[1].relPath, "dog/good.png");
    EXPECT_EQ(ds.test.samples[1].width, 9);
    EXPECT_EQ(ds.test.report.listed, 7u);
    EXPECT_EQ(ds.test.report.loaded, 2u);
    EXPECT_EQ(ds.test.report.skipped(), 5u);
    const std::string issues = issuesText(ds);
    EXPECT_TRUE(contains(issues, (d / "cat" / "notes.txt").string() + ": not an image file"))
        << issues;
    EXPECT_TRUE(contains(issues, (d / "cat" / "corrupt.jpg").string() + ": not a JPEG or PNG"))
        << issues;
    EXPECT_TRUE(contains(issues, (d / "cat" / "cut.jpg").string() + ": truncated JPEG")) << issues;
    EXPECT_TRUE(contains(issues, (d / "cat" / "old.bmp").string() + ": not a JPEG or PNG"))
        << issues;
    EXPECT_TRUE(contains(issues, (d / "dog" / "dangling.png").string() + ": image file is missing"))
        << issues;
}

TEST(ImageFolderLayout, EmptyFoldersAndFoldersWithoutClassesAreRefusedClearly) {
    test::TempDir d;
    fs::create_directories(d / "empty");
    OpenOptions asFolder;
    asFolder.format = DatasetFormat::ImageFolder;
    try {
        openDataset(d / "empty", asFolder);
        FAIL() << "an empty folder opened";
    } catch (const DatasetError& e) {
        EXPECT_TRUE(contains(e.what(), (d / "empty").string() + "' is empty")) << e.what();
        EXPECT_TRUE(contains(e.what(), "<class>/<image>")) << e.what();
    }
    // Detection says what an image folder needs.
    EXPECT_FALSE(looksLikeImageFolder(d / "empty"));
    std::string why;
    EXPECT_EQ(detectDatasetFormat(d / "empty", &why), DatasetFormat::Auto);
    EXPECT_TRUE(contains(why, "ImageFolder")) << why;
    EXPECT_TRUE(contains(why, "CUB_200_2011.tgz")) << why;
    try {
        openDataset(d / "empty");
        FAIL() << "an empty folder opened";
    } catch (const DatasetError& e) {
        EXPECT_TRUE(contains(e.what(), "is not a dataset CAM Explorer reads")) << e.what();
        EXPECT_TRUE(contains(e.what(), "ImageFolder")) << e.what();
    }

    // Images, but no class folder; a class folder holding only text.
    test::spit(d / "flat" / "a.png", encode(".png", 8, 8));
    test::spit(d / "flat" / "docs" / "readme.txt", "hello");
    EXPECT_FALSE(looksLikeImageFolder(d / "flat"));
    try {
        openImageFolder(d / "flat", {});
        FAIL() << "a folder without classes opened";
    } catch (const DatasetError& e) {
        EXPECT_TRUE(contains(e.what(), (d / "flat").string() + "' holds no class subfolder"))
            << e.what();
    }

    // Class folders whose every image is damaged: nothing loads, and the first problem is named.
    test::spit(d / "bad" / "cat" / "a.jpg", "garbage");
    EXPECT_TRUE(looksLikeImageFolder(d / "bad"));
    try {
        openDataset(d / "bad");
        FAIL() << "nothing loadable opened";
    } catch (const DatasetError& e) {
        EXPECT_TRUE(contains(e.what(), "nothing could be loaded")) << e.what();
        EXPECT_TRUE(contains(e.what(), (d / "bad" / "cat" / "a.jpg").string())) << e.what();
    }
    EXPECT_THROW(openImageFolder(d / "missing", {}), DatasetError);
}

TEST(ImageFolderLayout, SplitFoldersShareOneSortedClassList) {
    test::TempDir d;
    test::spit(d / "train" / "cat" / "t1.png", encode(".png", 8, 8));
    test::spit(d / "train" / "dog" / "t2.png", encode(".png", 8, 8));
    test::spit(d / "val" / "dog" / "v1.png", encode(".png", 8, 8));
    test::spit(d / "test" / "ant" / "x1.png", encode(".png", 8, 8));
    test::spit(d / "test" / "dog" / "x2.png", encode(".png", 8, 8));
    test::spit(d / "extra" / "cow" / "e.png", encode(".png", 8, 8));  // beside the splits
    EXPECT_TRUE(looksLikeImageFolder(d.path()));
    // Only the splits' class folders hold images directly: still recognised.
    EXPECT_EQ(detectDatasetFormat(d.path()), DatasetFormat::ImageFolder);

    const Dataset ds = openDataset(d.path());
    EXPECT_EQ(ds.breedFolders, (std::vector<std::string>{"ant", "cat", "dog"}));
    ASSERT_EQ(ds.train.samples.size(), 2u);
    EXPECT_EQ(ds.train.samples[0].relPath, "cat/t1.png");
    EXPECT_EQ(ds.train.samples[0].label, 1);
    EXPECT_EQ(ds.train.samples[1].label, 2);
    ASSERT_EQ(ds.val.samples.size(), 1u);
    EXPECT_EQ(ds.val.samples[0].label, 2);
    EXPECT_EQ(ds.val.samples[0].imagePath, fs::absolute(d / "val" / "dog" / "v1.png"));
    ASSERT_EQ(ds.test.samples.size(), 2u);
    EXPECT_EQ(ds.test.samples[0].label, 0);
    EXPECT_EQ(ds.test.samples[1].label, 2);
    const std::string issues = issuesText(ds);
    EXPECT_TRUE(contains(issues, (d / "extra").string() + ": the folder holds train/")) << issues;

    // Only a train/ of class folders, and nothing else: the test split is empty, which is fine.
    test::TempDir t;
    test::spit(t / "train" / "cat" / "1.png", encode(".png", 8, 8));
    const Dataset only = openDataset(t.path());
    EXPECT_EQ(only.train.samples.size(), 1u);
    EXPECT_TRUE(only.test.samples.empty());
}

TEST(ImageFolderLayout, SymbolicLinksAreFollowedAndLoopsReadOnce) {
    test::TempDir d;
    test::spit(d / "elsewhere" / "bird" / "b.png", encode(".png", 8, 8));
    test::spit(d / "data" / "cat" / "c.png", encode(".png", 8, 8));
    fs::create_directory_symlink(d / "elsewhere" / "bird", d / "data" / "bird");
    // A loop: cat/again -> cat.
    fs::create_directory_symlink(d / "data" / "cat", d / "data" / "cat" / "again");
    const Dataset ds = openDataset(d / "data");
    EXPECT_EQ(ds.breedFolders, (std::vector<std::string>{"bird", "cat"}));
    ASSERT_EQ(ds.test.samples.size(), 2u);
    EXPECT_EQ(ds.test.samples[0].relPath, "bird/b.png");
    EXPECT_EQ(ds.test.samples[1].relPath, "cat/c.png");
    const std::string issues = issuesText(ds);
    EXPECT_TRUE(
        contains(issues, (d / "data" / "cat" / "again").string() + ": a folder already read"))
        << issues;
}

TEST(ImageFolderLayout, ManyImagesLoadWithoutDecodingAndCancelStops) {
    test::TempDir d;
    const std::string png = encode(".png", 6, 5);
    for (int c = 0; c < 4; ++c)
        for (int i = 0; i < 150; ++i)
            test::spit(d / ("c" + std::to_string(c)) / (std::to_string(i) + ".png"), png);
    std::size_t reports = 0;
    OpenOptions o;
    o.job.progress = [&](const Progress&) { ++reports; };
    const Dataset ds = openDataset(d.path(), o);
    ASSERT_EQ(ds.test.samples.size(), 600u);
    EXPECT_GT(reports, 0u);
    for (std::size_t i = 0; i < ds.test.samples.size(); ++i) {
        EXPECT_EQ(ds.test.samples[i].label, static_cast<int>(i / 150));
        EXPECT_EQ(ds.test.samples[i].width, 6);
    }
    // Sorted by name as strings: "c0/0.png", "c0/1.png", "c0/10.png", ...
    EXPECT_EQ(ds.test.samples[2].relPath, "c0/10.png");

    CancelToken token;
    token.cancel();
    o.job.cancel = &token;
    EXPECT_THROW(openDataset(d.path(), o), Cancelled);
}

// ---------------------------------------------------------------------------------------------
// CUB-200-2011 from its .tgz

// Writes `root`'s files and folders below it (paths relative to root) into a gzip'ed tar.
void writeTgz(const fs::path& tgz, const fs::path& root,
              const std::vector<std::pair<std::string, std::string>>& extraEntries = {}) {
    archive* a = archive_write_new();
    archive_write_add_filter_gzip(a);
    archive_write_set_format_pax_restricted(a);
    ASSERT_EQ(archive_write_open_filename(a, tgz.c_str()), ARCHIVE_OK);
    auto add = [&](const std::string& name, const std::string* data) {
        archive_entry* e = archive_entry_new();
        archive_entry_set_pathname(e, name.c_str());
        if (data) {
            archive_entry_set_size(e, static_cast<la_int64_t>(data->size()));
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_perm(e, 0644);
        } else {
            archive_entry_set_filetype(e, AE_IFDIR);
            archive_entry_set_perm(e, 0755);
        }
        ASSERT_EQ(archive_write_header(a, e), ARCHIVE_OK) << name;
        if (data) archive_write_data(a, data->data(), data->size());
        archive_entry_free(e);
    };
    std::vector<fs::path> entries;
    for (const auto& f : fs::recursive_directory_iterator(root)) entries.push_back(f.path());
    std::sort(entries.begin(), entries.end());
    for (const fs::path& p : entries) {
        const std::string name = fs::relative(p, root).generic_string();
        if (fs::is_directory(p)) {
            add(name + "/", nullptr);
        } else {
            const std::string data = test::slurp(p);
            add(name, &data);
        }
    }
    for (const auto& [name, data] : extraEntries) add(name, &data);
    archive_write_close(a);
    archive_write_free(a);
}

class CubArchive : public test::DemoSuite<3, 2, 3, 23> {
protected:
    // dl/CUB_200_2011.tgz holding CUB_200_2011/... (and attributes.txt beside, as the authors').
    void SetUp() override {
        writeDatasetAs(*s_ds, tmp / "src" / "CUB_200_2011", DatasetFormat::Cub);
        test::spit(tmp / "src" / "attributes.txt", "1 has_bill_shape::curved_(up_or_down)\n");
        fs::create_directories(tmp / "dl");
        writeTgz(archivePath(), tmp / "src");
        options.cacheDir = tmp / "cache";
    }
    fs::path archivePath() const { return tmp / "dl" / "CUB_200_2011.tgz"; }
    std::vector<fs::path> cacheEntries() const {
        std::vector<fs::path> out;
        if (fs::exists(tmp / "cache"))
            for (const auto& e : fs::directory_iterator(tmp / "cache")) out.push_back(e.path());
        return out;
    }
    test::TempDir tmp;
    OpenOptions options;
};

void expectSameCub(const Dataset& a, const Dataset& b) {
    EXPECT_EQ(a.breedFolders, b.breedFolders);
    for (SplitKind k : {SplitKind::Train, SplitKind::Val, SplitKind::Test}) {
        const auto& sa = a.split(k).samples;
        const auto& sb = b.split(k).samples;
        ASSERT_EQ(sa.size(), sb.size()) << splitName(k);
        for (std::size_t i = 0; i < sa.size(); ++i) {
            EXPECT_EQ(sa[i].relPath, sb[i].relPath);
            EXPECT_EQ(sa[i].label, sb[i].label) << sa[i].relPath;
            EXPECT_EQ(sa[i].width, sb[i].width) << sa[i].relPath;
            EXPECT_EQ(sa[i].height, sb[i].height) << sa[i].relPath;
            ASSERT_EQ(sa[i].boxes.size(), 1u);
            ASSERT_EQ(sb[i].boxes.size(), 1u);
            EXPECT_EQ(sa[i].boxes[0].xmin, sb[i].boxes[0].xmin) << sa[i].relPath;
            EXPECT_EQ(sa[i].boxes[0].ymax, sb[i].boxes[0].ymax) << sa[i].relPath;
            EXPECT_EQ(test::slurp(sa[i].imagePath), test::slurp(sb[i].imagePath));
        }
    }
}

TEST_F(CubArchive, TheTgzGivesTheSameSamplesAsTheUnpackedFolder) {
    EXPECT_EQ(detectDatasetFormat(tmp / "dl"), DatasetFormat::Cub);
    EXPECT_EQ(detectDatasetFormat(archivePath()), DatasetFormat::Cub);
    const Dataset folder = openDataset(tmp / "src");
    std::size_t progress = 0;
    options.job.progress = [&](const Progress&) { ++progress; };
    const Dataset fromTgz = openDataset(tmp / "dl", options);
    EXPECT_EQ(fromTgz.format, DatasetFormat::Cub);
    EXPECT_GT(progress, 0u);
    // Read from the cache, under a name made from the archive.
    const fs::path unpacked = tmp / "cache" / cubArchiveCacheName(archivePath());
    EXPECT_EQ(fromTgz.root, unpacked / "CUB_200_2011");
    EXPECT_TRUE(fs::is_regular_file(unpacked / ".complete"));
    EXPECT_EQ(cacheEntries(), std::vector<fs::path>{unpacked});  // no .partial left
    EXPECT_EQ(cubArchiveCacheName(archivePath()).substr(0, 13), "cub-200-2011-");
    expectSameCub(folder, fromTgz);
    EXPECT_EQ(fromTgz.train.samples.size(), s_ds->train.samples.size());
    EXPECT_TRUE(fromTgz.test.report.issues.empty()) << issuesText(fromTgz);

    // The .tgz itself, as users pass it, reads the same unpacked copy.
    const Dataset direct = openDataset(archivePath(), options);
    EXPECT_EQ(direct.root, fromTgz.root);
    expectSameCub(folder, direct);
    OpenOptions asCub = options;
    asCub.format = DatasetFormat::Cub;
    EXPECT_EQ(openDataset(archivePath(), asCub).root, fromTgz.root);
}

TEST_F(CubArchive, TheSecondOpenReusesTheCacheUntilTheArchiveChanges) {
    const Dataset first = openDataset(tmp / "dl", options);
    const fs::path unpacked = first.root.parent_path();
    // A file the unpack would not have made: gone if the folder were unpacked again.
    test::spit(unpacked / "sentinel", "x");
    const auto marker = fs::last_write_time(unpacked / ".complete");
    const Dataset second = openDataset(tmp / "dl", options);
    EXPECT_EQ(second.root, first.root);
    EXPECT_TRUE(fs::exists(unpacked / "sentinel"));
    EXPECT_EQ(fs::last_write_time(unpacked / ".complete"), marker);
    expectSameCub(first, second);

    // A changed archive (another modification time) is unpacked afresh, beside the old copy.
    fs::last_write_time(archivePath(), fs::last_write_time(archivePath()) + std::chrono::hours(1));
    const Dataset third = openDataset(tmp / "dl", options);
    EXPECT_NE(third.root, first.root);
    EXPECT_FALSE(fs::exists(third.root.parent_path() / "sentinel"));
    expectSameCub(first, third);

    // An unpacked CUB_200_2011/ beside the archive is read as it is, without unpacking.
    fs::copy(tmp / "src" / "CUB_200_2011", tmp / "dl" / "CUB_200_2011",
             fs::copy_options::recursive);
    const std::size_t before = cacheEntries().size();
    fs::last_write_time(archivePath(), fs::last_write_time(archivePath()) + std::chrono::hours(1));
    EXPECT_EQ(openDataset(tmp / "dl", options).root, fs::absolute(tmp / "dl" / "CUB_200_2011"));
    EXPECT_EQ(cacheEntries().size(), before);
}

TEST_F(CubArchive, ATruncatedArchiveIsADatasetErrorNamingIt) {
    const std::string bytes = test::slurp(archivePath());
    for (const std::size_t keep : {bytes.size() * 2 / 3, std::size_t{100}}) {
        test::spit(archivePath(), bytes.substr(0, keep));
        try {
            openDataset(tmp / "dl", options);
            FAIL() << "a truncated archive opened (" << keep << " bytes)";
        } catch (const DatasetError& e) {
            EXPECT_TRUE(contains(e.what(), archivePath().string())) << e.what();
            EXPECT_TRUE(contains(e.what(), "truncated")) << e.what();
        }
        // Nothing half-unpacked is kept, nor anything that looks complete.
        EXPECT_TRUE(cacheEntries().empty());
    }
    test::spit(archivePath(), std::string(4000, 'x'));
    EXPECT_THROW(openDataset(archivePath(), options), DatasetError);
    EXPECT_TRUE(cacheEntries().empty());
}

TEST_F(CubArchive, UnsafeEntriesAndOtherArchivesAreRefused) {
    // An entry leaving the folder: refused before anything is written outside it.
    writeTgz(archivePath(), tmp / "src", {{"../escaped.txt", "owned"}});
    try {
        openDataset(tmp / "dl", options);
        FAIL() << "an archive with ../ opened";
    } catch (const DatasetError& e) {
        EXPECT_TRUE(contains(e.what(), "unsafe path '../escaped.txt'")) << e.what();
        EXPECT_TRUE(contains(e.what(), archivePath().string())) << e.what();
    }
    EXPECT_FALSE(fs::exists(tmp / "cache" / ".." / "escaped.txt"));
    EXPECT_FALSE(fs::exists(tmp / "escaped.txt"));
    EXPECT_TRUE(cacheEntries().empty());

    // A gzip'ed tar that is no CUB: named, and its unpacked copy not kept.
    test::TempDir other;
    test::spit(other / "readme.txt", "hello");
    writeTgz(tmp / "dl" / "other.tgz", other.path());
    try {
        openDataset(tmp / "dl" / "other.tgz", options);
        FAIL() << "a non-CUB archive opened";
    } catch (const DatasetError& e) {
        EXPECT_TRUE(contains(e.what(), "does not hold CUB-200-2011")) << e.what();
        EXPECT_TRUE(contains(e.what(), "other.tgz")) << e.what();
    }
    EXPECT_TRUE(cacheEntries().empty());
    // A file that is no archive is still "not a folder".
    test::spit(tmp / "notes.txt", "x");
    EXPECT_THROW(openDataset(tmp / "notes.txt", options), DatasetError);
}

TEST_F(CubArchive, CancelLeavesNothingBehind) {
    CancelToken token;
    token.cancel();
    options.job.cancel = &token;
    // The demo archive has fewer entries than the unpack's check interval: make it longer.
    std::vector<std::pair<std::string, std::string>> filler;
    for (int i = 0; i < 200; ++i) filler.push_back({"filler/" + std::to_string(i) + ".txt", "x"});
    writeTgz(archivePath(), tmp / "src", filler);
    EXPECT_THROW(openDataset(tmp / "dl", options), Cancelled);
    EXPECT_TRUE(cacheEntries().empty());
}

}  // namespace
}  // namespace camx
