// The TensorFlow Datasets reader, against shards written by an independent writer
// (tests/fixtures/tfds/stanford_dogs_to_tfds.py: Python, python3-protobuf, its own CRC-32C) from
// the demo in the authors' layout.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>

#include <opencv2/core.hpp>

#include "../test_support.h"
#include "common/fs_util.h"
#include "data/formats/tfds_reader.h"
#include "data/formats/tfrecord.h"
#include "data/image_io.h"
#include "eval/evaluator.h"
#include "explain/model_session.h"

namespace camx {
namespace {
namespace fs = std::filesystem;

// Writes `src` (authors' layout) as <out>/stanford_dogs/<version>/ shards.
void writeTfdsCopy(const fs::path& src, const fs::path& out, const std::string& extra = {}) {
    const std::string cmd = "/usr/bin/python3 '" +
                            test::fixture("tfds/stanford_dogs_to_tfds.py").string() + "' '" +
                            src.string() + "' '" + out.string() + "' --shards 3 " + extra;
    ASSERT_EQ(std::system(cmd.c_str()), 0)
        << cmd << "\nneeds /usr/bin/python3 with python3-protobuf and python3-scipy "
        << "(packaging/install-deps.sh installs them)";
}

// The byte offsets of a shard's records, walked by their length fields.
std::vector<std::uint64_t> recordOffsets(const fs::path& shard) {
    const std::string bytes = test::slurp(shard);
    std::vector<std::uint64_t> out;
    for (std::uint64_t pos = 0; pos + 12 <= bytes.size();) {
        out.push_back(pos);
        std::uint64_t len = 0;
        for (int i = 7; i >= 0; --i)
            len = (len << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(pos) + i]);
        pos += 12 + len + 4;
    }
    return out;
}

void flipByte(const fs::path& file, std::uint64_t at) {
    std::string bytes = test::slurp(file);
    bytes[static_cast<std::size_t>(at)] =
        static_cast<char>(bytes[static_cast<std::size_t>(at)] ^ 0x5a);
    test::spit(file, bytes);
}

std::size_t total(const Dataset& ds) {
    return ds.train.samples.size() + ds.val.samples.size() + ds.test.samples.size();
}

// Every issue text of a split, joined, for messages and searches.
std::string issuesText(const SplitData& s) {
    std::string out;
    for (const auto& i : s.report.issues) out += i.file + ": " + i.message + "\n";
    return out;
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::vector<Sample> byPath(std::vector<Sample> v) {
    std::sort(v.begin(), v.end(),
              [](const Sample& a, const Sample& b) { return a.relPath < b.relPath; });
    return v;
}

// One demo (3 breeds, 3 train + 4 test each, a tiny model trained on it) and its TFDS copy.
class Tfds : public test::DemoSuite<3, 4, 3, 13, true> {
protected:
    static void SetUpTestSuite() {
        DemoSuite::SetUpTestSuite();
        writeTfdsCopy(dir() / "d", dir() / "tfds");
    }
    static fs::path parent() { return dir() / "tfds" / "stanford_dogs"; }
    static fs::path version() { return parent() / "0.2.0"; }
    static fs::path shard(const std::string& split, int n) {
        char name[64];
        std::snprintf(name, sizeof name, "stanford_dogs-%s.tfrecord-%05d-of-00003", split.c_str(),
                      n);
        return version() / name;
    }
    // A copy of the version folder to damage, and a cache folder of its own.
    void SetUp() override {
        fs::copy(version(), m_tmp / "0.2.0", fs::copy_options::recursive);
        m_opt.cacheDir = m_tmp / "cache";
    }
    fs::path copyDir() const { return m_tmp / "0.2.0"; }
    fs::path copyShard(const std::string& split, int n) const {
        return copyDir() / shard(split, n).filename();
    }
    test::TempDir m_tmp;
    OpenOptions m_opt;
};

TEST_F(Tfds, DemoAsShardsReadsAsTheAuthorsLayout) {
    const Dataset t = openDataset(parent(), m_opt);
    EXPECT_EQ(t.format, DatasetFormat::Tfds);
    EXPECT_EQ(detectDatasetFormat(parent()), DatasetFormat::Tfds);
    // The folder names as the authors spell them, recovered from image/filename.
    EXPECT_EQ(t.breedFolders, s_ds->breedFolders);
    EXPECT_EQ(t.breedNames, s_ds->breedNames);
    for (SplitKind k : {SplitKind::Train, SplitKind::Test}) {
        const auto a = byPath(s_ds->split(k).samples), b = byPath(t.split(k).samples);
        ASSERT_EQ(a.size(), b.size()) << issuesText(t.split(k));
        EXPECT_TRUE(t.split(k).report.issues.empty()) << issuesText(t.split(k));
        EXPECT_EQ(t.split(k).report.listed, a.size());
        for (std::size_t i = 0; i < a.size(); ++i) {
            SCOPED_TRACE(a[i].relPath);
            ASSERT_EQ(a[i].relPath, b[i].relPath);
            EXPECT_EQ(a[i].label, b[i].label);
            EXPECT_EQ(a[i].width, b[i].width);
            EXPECT_EQ(a[i].height, b[i].height);
            // round(v * side) gives the XML's integers back exactly.
            EXPECT_EQ(a[i].boxes, b[i].boxes);
            // The image inside the shard, read lazily through the same decoder.
            EXPECT_FALSE(fs::exists(b[i].imagePath));
            EXPECT_EQ(b[i].imagePath.filename(), a[i].imagePath.filename());
            const cv::Mat pa = readRgb(a[i].imagePath), pb = readRgb(b[i].imagePath);
            ASSERT_EQ(pa.size(), pb.size());
            EXPECT_EQ(cv::norm(pa, pb, cv::NORM_INF), 0.0);
            EXPECT_EQ(imageHeaderSize(b[i].imagePath),
                      (std::optional<std::pair<int, int>>{{b[i].width, b[i].height}}));
        }
    }
}

TEST_F(Tfds, DemoAsShardsEvaluatesExactlyAsTheAuthorsLayout) {
    const Dataset t = openTfds(version(), m_opt);
    SplitData a, b;
    a.samples = byPath(s_ds->test.samples);
    b.samples = byPath(t.test.samples);
    ASSERT_EQ(a.samples.size(), 12u);
    ASSERT_EQ(b.samples.size(), a.samples.size());
    auto model = ModelSession::open(modelFile());
    EvalOptions o;
    o.sweep = EvalOptions::defaultSweep(0.25f);
    o.taps = {model->info().findTap("layer3.1"), model->info().lastBlockTap};
    o.batchSize = 5;
    o.datasetClassNames = s_ds->breedNames;
    test::TempDir outA, outB;
    const EvalResult ra = evaluateSplit(*model, a, o, outA.path());
    o.datasetClassNames = t.breedNames;
    const EvalResult rb = evaluateSplit(*model, b, o, outB.path());
    ASSERT_EQ(ra.records.size(), rb.records.size());
    EXPECT_TRUE(rb.skipped.empty());
    for (std::size_t i = 0; i < ra.records.size(); ++i) {
        const auto &x = ra.records[i], &y = rb.records[i];
        SCOPED_TRACE(x.relPath);
        EXPECT_EQ(x.relPath, y.relPath);
        EXPECT_EQ(x.label, y.label);
        EXPECT_EQ(x.predicted, y.predicted);
        EXPECT_EQ(x.probability, y.probability);
        ASSERT_EQ(x.scores.size(), y.scores.size());
        for (std::size_t m = 0; m < x.scores.size(); ++m) {
            EXPECT_EQ(x.scores[m].iou, y.scores[m].iou);
            EXPECT_EQ(x.scores[m].box, y.scores[m].box);
            EXPECT_EQ(x.scores[m].sweepBest, y.scores[m].sweepBest);
        }
    }
    EXPECT_EQ(ra.summary.classMatch, rb.summary.classMatch);
    EXPECT_EQ(ra.summary.top1, rb.summary.top1);
    ASSERT_EQ(ra.summary.methods.size(), rb.summary.methods.size());
    for (std::size_t m = 0; m < ra.summary.methods.size(); ++m) {
        EXPECT_EQ(ra.summary.methods[m].meanIou, rb.summary.methods[m].meanIou);
        EXPECT_EQ(ra.summary.methods[m].locAccuracy, rb.summary.methods[m].locAccuracy);
    }
}

TEST_F(Tfds, ResumeKeyFollowsTheShardsImagesAreIn) {
    const Dataset d = openTfds(copyDir(), m_opt);
    const std::vector<Sample>& test = d.test.samples;
    ASSERT_EQ(test.size(), 12u);
    const std::string before = splitDigest(test);
    // Opened again, unchanged: the same digest.
    EXPECT_EQ(splitDigest(openTfds(copyDir(), m_opt).test.samples), before);
    // A shard the split does not read, rewritten: the same digest.
    const fs::path train = copyShard("train", 0);
    test::spit(train, test::slurp(train) + std::string(64, '\0'));
    EXPECT_EQ(splitDigest(test), before);
    // One of its own shards rewritten (another size): another digest, though the record
    // offsets, names, labels and boxes are all as they were.
    const fs::path own = copyShard("test", 1);
    const std::string bytes = test::slurp(own);
    test::spit(own, bytes + std::string(16, '\0'));
    const std::string longer = splitDigest(test);
    EXPECT_NE(longer, before);
    // Back as it was: the digest it had.
    test::spit(own, bytes);
    EXPECT_EQ(splitDigest(test), before);
    // The record offset counts too: the same shard, an image said to start elsewhere.
    std::vector<Sample> moved = test;
    fs::path shardFile;
    std::uint64_t offset = 0;
    ASSERT_TRUE(parseTfdsImagePath(moved[0].imagePath, &shardFile, &offset));
    moved[0].imagePath = tfdsImagePath(shardFile, offset + 1, moved[0].relPath);
    EXPECT_NE(splitDigest(moved), before);
}

TEST_F(Tfds, AnInterruptedEvaluationOfAShardedSplitResumes) {
    const Dataset d = openTfds(copyDir(), m_opt);
    ASSERT_EQ(d.test.samples.size(), 12u);
    auto model = ModelSession::open(modelFile());
    EvalOptions o;
    o.batchSize = 4;
    o.datasetClassNames = d.breedNames;
    test::TempDir out;
    CancelToken stop;
    EXPECT_THROW(evaluateSplit(*model, d.test, o, out.path(), test::stopAfter(stop, 4)), Cancelled);
    ASSERT_TRUE(fs::exists(out / "eval_partial.jsonl"));
    EXPECT_FALSE(fs::exists(out / "summary.json"));
    const EvalResult resumed = evaluateSplit(*model, d.test, o, out.path());
    EXPECT_GE(resumed.resumed, 4u);
    EXPECT_TRUE(resumed.skipped.empty());
    ASSERT_EQ(resumed.records.size(), 12u);
    test::TempDir fresh;
    const EvalResult whole = evaluateSplit(*model, d.test, o, fresh.path());
    EXPECT_EQ(whole.resumed, 0u);
    ASSERT_EQ(whole.records.size(), 12u);
    for (std::size_t i = 0; i < 12; ++i) {
        EXPECT_EQ(resumed.records[i].index, i);
        EXPECT_EQ(resumed.records[i].relPath, whole.records[i].relPath);
        EXPECT_EQ(resumed.records[i].predicted, whole.records[i].predicted);
        EXPECT_NEAR(resumed.records[i].scores[0].iou, whole.records[i].scores[0].iou, 1e-9);
    }
    EXPECT_EQ(test::slurp(out / "per_image.csv"), test::slurp(fresh / "per_image.csv"));

    // A partial run, then one of the split's shards rewritten: its rows are not resumed.
    test::TempDir again;
    CancelToken stop2;
    EXPECT_THROW(evaluateSplit(*model, d.test, o, again.path(), test::stopAfter(stop2, 4)),
                 Cancelled);
    const fs::path own = copyShard("test", 0);
    test::spit(own, test::slurp(own) + std::string(16, '\0'));
    const EvalResult rewritten = evaluateSplit(*model, d.test, o, again.path());
    EXPECT_EQ(rewritten.resumed, 0u);
    EXPECT_EQ(rewritten.records.size(), 12u);
}

TEST_F(Tfds, BadLengthCrcLosesTheRestOfThatShardOnly) {
    const fs::path bad = copyShard("test", 1);
    const auto offsets = recordOffsets(bad);
    ASSERT_GE(offsets.size(), 3u);
    flipByte(bad, offsets[1] + 2);  // record 2's length field
    const Dataset d = openTfds(copyDir(), m_opt);
    EXPECT_EQ(d.train.samples.size(), 9u);
    EXPECT_EQ(d.test.samples.size(), 12u - (offsets.size() - 1));
    const std::string issues = issuesText(d.test);
    EXPECT_NE(issues.find(bad.string() + ": record 2 (at byte " + std::to_string(offsets[1]) +
                          "): bad length CRC"),
              std::string::npos)
        << issues;
    EXPECT_NE(issues.find("cannot be read"), std::string::npos) << issues;
}

TEST_F(Tfds, BadDataCrcSkipsThatRecordOnly) {
    const fs::path bad = copyShard("train", 0);
    const auto offsets = recordOffsets(bad);
    ASSERT_GE(offsets.size(), 3u);
    flipByte(bad, offsets[1] + 12 + 40);  // inside record 2's data
    const Dataset d = openTfds(copyDir(), m_opt);
    EXPECT_EQ(d.train.samples.size(), 8u);
    EXPECT_EQ(d.test.samples.size(), 12u);
    const std::string issues = issuesText(d.train);
    EXPECT_NE(issues.find(bad.string() + ": record 2 (at byte " + std::to_string(offsets[1]) +
                          "): bad data CRC"),
              std::string::npos)
        << issues;
    EXPECT_NE(issues.find("record skipped"), std::string::npos);
    EXPECT_EQ(d.train.report.listed, 9u);
}

TEST_F(Tfds, TruncatedLastRecordIsReportedAndTheRestLoads) {
    const fs::path bad = copyShard("test", 2);
    const auto offsets = recordOffsets(bad);
    fs::resize_file(bad, fs::file_size(bad) - 100);
    const Dataset d = openTfds(copyDir(), m_opt);
    EXPECT_EQ(d.test.samples.size(), 11u);
    const std::string issues = issuesText(d.test);
    EXPECT_NE(issues.find(bad.string() + ": record " + std::to_string(offsets.size()) +
                          " (at byte " + std::to_string(offsets.back()) + "): truncated record"),
              std::string::npos)
        << issues;
}

TEST_F(Tfds, GarbageShardIsReportedAndTheOthersLoad) {
    const fs::path bad = copyShard("train", 2);
    const auto n = recordOffsets(bad).size();
    std::mt19937 rng(3);
    std::string junk(20000, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    test::spit(bad, junk);
    const Dataset d = openTfds(copyDir(), m_opt);
    EXPECT_EQ(d.train.samples.size(), 9u - n);
    EXPECT_EQ(d.test.samples.size(), 12u);
    const std::string issues = issuesText(d.train);
    EXPECT_NE(issues.find(bad.string() + ": record 1 (at byte 0): bad length CRC"),
              std::string::npos)
        << issues;
    // dataset_info.json's count for the shard says what was lost.
    EXPECT_NE(issues.find("dataset_info.json lists " + std::to_string(n) +
                          " records in this shard; only 1 could be located"),
              std::string::npos)
        << issues;
}

TEST_F(Tfds, ImageReadLaterFromADamagedShardNamesShardAndRecord) {
    const Dataset d = openTfds(copyDir(), m_opt);
    const Sample s = d.test.samples.front();
    fs::path shardFile;
    std::uint64_t offset = 0;
    ASSERT_TRUE(parseTfdsImagePath(s.imagePath, &shardFile, &offset));
    flipByte(shardFile, offset + 12 + 100);
    try {
        readRgb(s.imagePath);
        FAIL() << "a damaged record decoded";
    } catch (const ImageError& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("shard '" + shardFile.string() + "', record at byte " +
                           std::to_string(offset) + ": bad data CRC"),
                  std::string::npos)
            << msg;
    }
}

TEST_F(Tfds, MissingLabelFileIsAnErrorNamingIt) {
    fs::remove(copyDir() / "label.labels.txt");
    try {
        openDataset(copyDir(), m_opt);
        FAIL() << "opened without label.labels.txt";
    } catch (const DatasetError& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("label.labels.txt"), std::string::npos) << msg;
        EXPECT_NE(msg.find(copyDir().string()), std::string::npos) << msg;
    }
}

TEST_F(Tfds, VersionFolderOrItsParentWithTheHighestVersion) {
    const Dataset v = openTfds(version(), m_opt);
    const Dataset p = openTfds(parent(), m_opt);
    EXPECT_EQ(v.root, p.root);
    EXPECT_EQ(total(v), total(p));
    // One version: nothing to say about which.
    EXPECT_TRUE(v.notes.empty());
    EXPECT_TRUE(p.notes.empty());
    // 0.10.0 is above 0.2.0 (numerically, not as text); here it lacks one test shard.
    const fs::path versions = m_tmp / "stanford_dogs";
    fs::create_directories(versions);
    fs::rename(copyDir(), versions / "0.10.0");
    fs::copy(version(), versions / "0.2.0", fs::copy_options::recursive);
    const auto n = recordOffsets(versions / "0.10.0" / shard("test", 0).filename()).size();
    fs::remove(versions / "0.10.0" / shard("test", 0).filename());
    EXPECT_EQ(detectDatasetFormat(versions), DatasetFormat::Tfds);
    const Dataset h = openDataset(versions, m_opt);
    EXPECT_EQ(h.root.filename(), "0.10.0");
    // Which of the versions was read is a note of the dataset (the load report, check-data),
    // the versions in numeric order; also when the folder is given with a trailing slash.
    EXPECT_EQ(h.notes, std::vector<std::string>{
                           "stanford_dogs holds versions 0.2.0, 0.10.0: reading 0.10.0"});
    EXPECT_EQ(openDataset(versions / "", m_opt).notes, h.notes);
    std::string note;
    EXPECT_EQ(findTfdsVersionDir(versions, &note), versions / "0.10.0");
    EXPECT_EQ(std::vector<std::string>{note}, h.notes);
    // Given the version folder itself: no note.
    EXPECT_TRUE(openDataset(versions / "0.2.0", m_opt).notes.empty());
    EXPECT_EQ(h.test.samples.size(), 12u - n);
    EXPECT_NE(issuesText(h.test).find("stanford_dogs-test.tfrecord-00000-of-00003: shard missing"),
              std::string::npos)
        << issuesText(h.test);
    // A folder with neither is no TFDS copy.
    EXPECT_EQ(findTfdsVersionDir(m_tmp.path()), std::nullopt);
}

TEST_F(Tfds, IndexIsCachedAndRebuiltForAChangedShard) {
    TfdsIndexStats first, second, third, fourth;
    const Dataset a = openTfds(copyDir(), m_opt, &first);
    EXPECT_EQ(first.shardsScanned, 6u);
    EXPECT_EQ(first.shardsFromCache, 0u);
    ASSERT_TRUE(fs::exists(first.indexFile));
    EXPECT_EQ(first.indexFile.parent_path(), m_opt.cacheDir / "tfds-index");

    const Dataset b = openTfds(copyDir(), m_opt, &second);
    EXPECT_EQ(second.shardsScanned, 0u);
    EXPECT_EQ(second.shardsFromCache, 6u);
    ASSERT_EQ(total(a), total(b));
    for (std::size_t i = 0; i < a.test.samples.size(); ++i) {
        EXPECT_EQ(a.test.samples[i].imagePath, b.test.samples[i].imagePath);
        EXPECT_EQ(a.test.samples[i].boxes, b.test.samples[i].boxes);
        EXPECT_EQ(a.test.samples[i].label, b.test.samples[i].label);
    }

    // A shard rewritten in place (same size, newer time) is read again, and what it now says
    // is what loads: its record 1 damaged.
    const fs::path changed = copyShard("test", 0);
    flipByte(changed, 12 + 30);
    fs::last_write_time(changed, fs::last_write_time(changed) + std::chrono::seconds(5));
    const Dataset c = openTfds(copyDir(), m_opt, &third);
    EXPECT_EQ(third.shardsScanned, 1u);
    EXPECT_EQ(third.shardsFromCache, 5u);
    EXPECT_EQ(c.test.samples.size(), 11u);
    EXPECT_NE(issuesText(c.test).find("record 1 (at byte 0): bad data CRC"), std::string::npos);

    // A damaged index is rebuilt, not trusted.
    test::spit(first.indexFile, "{\"format\": 1, \"shards\": [");
    const Dataset d = openTfds(copyDir(), m_opt, &fourth);
    EXPECT_EQ(fourth.shardsScanned, 6u);
    EXPECT_EQ(total(d), total(c));
}

TEST_F(Tfds, LowerCaseClassNamesMatchAModelCaseInsensitively) {
    test::TempDir bare;
    writeTfdsCopy(dir() / "d", bare.path(), "--bare-filenames");
    const Dataset t = openTfds(bare / "stanford_dogs", m_opt);
    ASSERT_EQ(t.numClasses(), 3u);
    // Only label.labels.txt's lower-case names are known, and they are what is shown.
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(t.breedFolders[i], lower(s_ds->breedFolders[i]));
        EXPECT_EQ(t.breedNames[i], lower(s_ds->breedNames[i]));
        EXPECT_NE(t.breedNames[i], s_ds->breedNames[i]);
    }
    EXPECT_EQ(total(t), 21u);
    // A model whose classes are the authors' names in another order: matched by name.
    std::vector<std::string> modelNames(s_ds->breedNames.rbegin(), s_ds->breedNames.rend());
    const ClassMatch m = matchClasses(t.breedNames, modelNames);
    EXPECT_EQ(m.how, "by name");
    EXPECT_EQ(m.toModel, (std::vector<int>{2, 1, 0}));
}

TEST(TfdsBoxes, RoundingRecoversEveryXmlIntegerUpTo4096Pixels) {
    // TFDS stores x / W (computed in double) as float32; round(v * W) must give x back.
    for (int side = 1; side <= 4096; ++side)
        for (int x = 0; x <= side; ++x) {
            const float v = static_cast<float>(static_cast<double>(x) / side);
            ASSERT_EQ(tfdsCoordinateToPixel(v, side), x) << x << " / " << side;
        }
}

TEST(TfRecord, Crc32cCheckValueAndMasking) {
    // The CRC-32C check value (RFC 3720) and TensorFlow's mask of it.
    EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
    const std::uint32_t c = 0xE3069283u;
    EXPECT_EQ(maskedCrc32c("123456789", 9), ((c >> 15) | (c << 17)) + 0xa282ead8u);
}

TEST(TfRecord, BytesThatAreNoImageExampleAreRefused) {
    std::string why;
    EXPECT_FALSE(parseTfdsExample(std::string("\xff\xff\xff", 3), true, why));
    EXPECT_FALSE(why.empty());
    // An empty Example parses as protobuf but has no image.
    why.clear();
    EXPECT_FALSE(parseTfdsExample(std::string(), true, why));
    EXPECT_NE(why.find("no feature 'image'"), std::string::npos) << why;
}

}  // namespace
}  // namespace camx
