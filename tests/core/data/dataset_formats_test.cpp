// The dataset formats beyond Stanford Dogs: CUB-200-2011 and wsolevaluation's metadata, each read
// back from the demo written in its layout, detected automatically, and their damaged files
// reported with the file at fault.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>

#include "../test_support.h"
#include "data/dataset.h"
#include "data/formats/dataset_writer.h"
#include "data/table_file.h"

namespace camx {
namespace {
namespace fs = std::filesystem;

using Formats = test::DemoSuite<4, 3, 3, 11>;

// Samples by image file name: what each layout must keep whatever its paths.
std::map<std::string, Sample> byFile(const SplitData& split) {
    std::map<std::string, Sample> out;
    for (const Sample& s : split.samples) out[s.imagePath.filename().string()] = s;
    return out;
}

void expectSameSamples(const SplitData& a, const SplitData& b) {
    const auto ma = byFile(a), mb = byFile(b);
    ASSERT_EQ(ma.size(), mb.size());
    for (const auto& [name, s] : ma) {
        ASSERT_TRUE(mb.count(name)) << name;
        const Sample& t = mb.at(name);
        EXPECT_EQ(s.label, t.label) << name;
        EXPECT_EQ(s.width, t.width) << name;
        EXPECT_EQ(s.height, t.height) << name;
        ASSERT_FALSE(t.boxes.empty()) << name;
        EXPECT_EQ(s.boxes.front().xmin, t.boxes.front().xmin) << name;
        EXPECT_EQ(s.boxes.front().ymin, t.boxes.front().ymin) << name;
        EXPECT_EQ(s.boxes.front().xmax, t.boxes.front().xmax) << name;
        EXPECT_EQ(s.boxes.front().ymax, t.boxes.front().ymax) << name;
    }
}

TEST_F(Formats, CubWrittenFromTheDemoReadsBackTheSameSamples) {
    test::TempDir out;
    writeDatasetAs(*s_ds, out / "CUB_200_2011", DatasetFormat::Cub);
    // The folder holding CUB_200_2011/ is found too, and the format detected.
    EXPECT_EQ(detectDatasetFormat(out.path()), DatasetFormat::Cub);
    const Dataset cub = openDataset(out.path());
    EXPECT_EQ(cub.format, DatasetFormat::Cub);
    EXPECT_EQ(cub.breedNames, s_ds->breedNames);
    EXPECT_EQ(cub.breedFolders.front().substr(0, 4), "001.");
    expectSameSamples(s_ds->train, cub.train);
    expectSameSamples(s_ds->test, cub.test);
    EXPECT_TRUE(cub.val.samples.empty());
    EXPECT_TRUE(cub.test.report.issues.empty()) << cub.test.report.issues.front().message;
}

TEST_F(Formats, CubBoxesAreXYWidthHeightInPixelsAndBecomeInclusive) {
    test::TempDir out;
    writeDatasetAs(*s_ds, out.path(), DatasetFormat::Cub);
    // The first image's box, as CUB writes it: "x y w h" with fractions.
    const auto rows = readTableFile(out / "bounding_boxes.txt", ' ');
    ASSERT_FALSE(rows.empty());
    std::string text;
    for (const auto& r : rows) {
        if (r.fields[0] == "1")
            text += "1 10.4 20.6 30.0 40.0\n";
        else
            text += r.fields[0] + " " + r.fields[1] + " " + r.fields[2] + " " + r.fields[3] + " " +
                    r.fields[4] + "\n";
    }
    test::spit(out / "bounding_boxes.txt", text);
    const Dataset cub = openDataset(out.path(), {});
    const auto images = readTableFile(out / "images.txt", ' ');
    const std::string first = fs::path(images.front().fields[1]).filename().string();
    const auto train = byFile(cub.train);
    ASSERT_TRUE(train.count(first));
    const Box& b = train.at(first).boxes.front();
    // x 10.4 -> 10, y 20.6 -> 21; x + w = 40.4 -> 40, one past the last pixel 39.
    EXPECT_EQ(b.xmin, 10);
    EXPECT_EQ(b.ymin, 21);
    EXPECT_EQ(b.xmax, 39);
    EXPECT_EQ(b.ymax, 60);
}

TEST_F(Formats, CubDamageIsReportedWithTheFileAndTheRestLoads) {
    test::TempDir out;
    writeDatasetAs(*s_ds, out.path(), DatasetFormat::Cub);
    // A malformed label row, a box of words, and a missing image.
    std::string labels = test::slurp(out / "image_class_labels.txt");
    labels.replace(0, labels.find('\n'), "1 x y");
    test::spit(out / "image_class_labels.txt", labels);
    std::string boxes = test::slurp(out / "bounding_boxes.txt");
    const auto second = boxes.find('\n') + 1;
    boxes.replace(second, boxes.find('\n', second) - second, "2 a b c d");
    test::spit(out / "bounding_boxes.txt", boxes);
    const auto images = readTableFile(out / "images.txt", ' ');
    fs::remove(out / "images" / images.at(2).fields[1]);

    const Dataset cub = openDataset(out.path());
    const std::size_t total = s_ds->train.samples.size() + s_ds->test.samples.size();
    EXPECT_EQ(cub.train.samples.size() + cub.test.samples.size(), total - 3);
    std::string all;
    for (const auto* r : {&cub.train.report, &cub.test.report})
        for (const auto& i : r->issues) all += i.file + ": " + i.message + "\n";
    EXPECT_NE(all.find("image_class_labels.txt: row 1 is not '<image id> <value>'"),
              std::string::npos)
        << all;
    EXPECT_NE(all.find("bounding_boxes.txt: image 2's box is not four numbers"), std::string::npos)
        << all;
    EXPECT_NE(all.find("image file is missing"), std::string::npos) << all;
}

TEST_F(Formats, WsolMetadataWrittenFromTheDemoReadsBackTheSameSamples) {
    test::TempDir out;
    writeDatasetAs(*s_ds, out.path(), DatasetFormat::Wsol);
    OpenOptions o;
    o.metadataDir = out / "metadata";
    const Dataset w = openDataset(out / "images", o);
    EXPECT_EQ(w.format, DatasetFormat::Wsol);
    // Classes are named after the folder holding each class's images.
    EXPECT_EQ(w.breedNames, s_ds->breedNames);
    expectSameSamples(s_ds->train, w.train);
    expectSameSamples(s_ds->test, w.test);
    // localization.txt has x1, y1 one past the last pixel, as wsolevaluation's metadata.
    const auto loc = readTableFile(out / "metadata" / "test" / "localization.txt", ',');
    const auto test = byFile(w.test);
    const Sample& s = test.at(fs::path(loc.front().fields[0]).filename().string());
    EXPECT_EQ(std::to_string(s.boxes.front().xmax + 1), loc.front().fields[3]);
    // A metadata folder given as the data is recognised and named.
    std::string why;
    EXPECT_EQ(detectDatasetFormat(out / "metadata", &why), DatasetFormat::Auto);
    EXPECT_NE(why.find("--metadata"), std::string::npos) << why;
}

TEST_F(Formats, WsolSeveralBoxesPerImageAndAValidationSplit) {
    test::TempDir out;
    writeDatasetAs(*s_ds, out.path(), DatasetFormat::Wsol);
    const fs::path meta = out / "metadata";
    // The test split also serves as val; one image gets a second box.
    fs::create_directories(meta / "val");
    for (const char* f :
         {"image_ids.txt", "class_labels.txt", "localization.txt", "image_sizes.txt"})
        fs::copy_file(meta / "test" / f, meta / "val" / f);
    const auto ids = readTableFile(meta / "val" / "image_ids.txt", ',');
    const std::string id = ids.front().fields[0];
    test::spit(meta / "val" / "localization.txt",
               test::slurp(meta / "val" / "localization.txt") + id + ",1,2,5,7\n");
    OpenOptions o;
    o.metadataDir = meta;
    o.format = DatasetFormat::Wsol;
    const Dataset w = openDataset(out / "images", o);
    ASSERT_EQ(w.val.samples.size(), s_ds->test.samples.size());
    const auto it = std::find_if(w.val.samples.begin(), w.val.samples.end(),
                                 [&](const Sample& s) { return s.relPath == id; });
    ASSERT_NE(it, w.val.samples.end());
    ASSERT_EQ(it->boxes.size(), 2u);
    EXPECT_EQ(it->boxes[1].xmin, 1);
    EXPECT_EQ(it->boxes[1].ymin, 2);
    EXPECT_EQ(it->boxes[1].xmax, 4);
    EXPECT_EQ(it->boxes[1].ymax, 6);
    EXPECT_EQ(&w.split(SplitKind::Val), &w.val);
}

TEST_F(Formats, WsolBadRowsAreReported) {
    test::TempDir out;
    writeDatasetAs(*s_ds, out.path(), DatasetFormat::Wsol);
    const fs::path test = out / "metadata" / "test";
    const auto ids = readTableFile(test / "image_ids.txt", ',');
    // A path leaving the image folder, a label that is no number, an image without a box.
    test::spit(test / "image_ids.txt", test::slurp(test / "image_ids.txt") + "../../etc/passwd\n");
    std::string labels = test::slurp(test / "class_labels.txt");
    labels.replace(labels.find(',') + 1, 1, "x");
    test::spit(test / "class_labels.txt", labels);
    std::string loc;
    for (const auto& r : readTableFile(test / "localization.txt", ','))
        if (r.fields[0] != ids.at(1).fields[0])
            loc += r.fields[0] + "," + r.fields[1] + "," + r.fields[2] + "," + r.fields[3] + "," +
                   r.fields[4] + "\n";
    test::spit(test / "localization.txt", loc);
    OpenOptions o;
    o.metadataDir = out / "metadata";
    const Dataset w = openDataset(out / "images", o);
    EXPECT_EQ(w.test.samples.size(), s_ds->test.samples.size() - 2);
    EXPECT_EQ(w.test.report.listed, s_ds->test.samples.size() + 1);
    std::string all;
    for (const auto& i : w.test.report.issues) all += i.file + ": " + i.message + "\n";
    EXPECT_NE(all.find("image_ids.txt: row " + std::to_string(ids.size() + 1) +
                       " is not an image path under the image folder"),
              std::string::npos)
        << all;
    EXPECT_NE(all.find("class_labels.txt: row 1 is not '<image id>,<class>'"), std::string::npos)
        << all;
    EXPECT_NE(all.find("'" + ids.at(1).fields[0] + "' has no box or mask"), std::string::npos)
        << all;
}

TEST_F(Formats, WsolMaskMetadataOpenImagesStyle) {
    // OpenImages' localization.txt: one row per instance mask, the ignore mask on the first row
    // only; masks are paths under the data folder. Boxes rows elsewhere keep their listed values.
    test::TempDir out;
    writeDatasetAs(*s_ds, out.path(), DatasetFormat::Wsol);
    const fs::path meta = out / "metadata";
    fs::rename(meta, out / "OpenImages");
    const fs::path test = out / "OpenImages" / "test";
    const auto ids = readTableFile(test / "image_ids.txt", ',');
    ASSERT_GE(ids.size(), 4u);
    const std::string a = ids[0].fields[0], b = ids[1].fields[0], c = ids[2].fields[0],
                      d = ids[3].fields[0];
    for (const char* f : {"a_m0.png", "a_m1.png", "a_ignore.png", "b_m0.png", "d_m0.png"})
        test::spit(out / "images" / f, "png bytes are read when scored");
    test::spit(test / "localization.txt",
               a + ",a_m0.png,a_ignore.png\n" + a + ",a_m1.png,\n" +  // two instances
                   b + ",b_m0.png,\n" +                               // no ignore mask
                   c + ",missing.png,\n" +                            // a mask that is not there
                   d + ",d_m0.png,\n" + d + ",../escape.png,\n");     // a path leaving the folder
    OpenOptions o;
    o.metadataDir = out / "OpenImages";
    const Dataset w = openDataset(out / "images", o);
    EXPECT_EQ(w.benchmark, "OpenImages");
    auto find = [&](const std::string& id) -> const Sample* {
        for (const auto& s : w.test.samples)
            if (s.relPath == id) return &s;
        return nullptr;
    };
    const Sample* sa = find(a);
    ASSERT_TRUE(sa);
    EXPECT_FALSE(sa->hasBoxes());
    ASSERT_EQ(sa->maskPaths.size(), 2u);
    EXPECT_EQ(sa->maskPaths[1], w.root / "a_m1.png");
    EXPECT_EQ(sa->ignoreMaskPath, w.root / "a_ignore.png");
    const Sample* sb = find(b);
    ASSERT_TRUE(sb);
    EXPECT_EQ(sb->maskPaths.size(), 1u);
    EXPECT_TRUE(sb->ignoreMaskPath.empty());
    EXPECT_FALSE(find(c));
    std::string all;
    for (const auto& i : w.test.report.issues) all += i.file + ": " + i.message + "\n";
    EXPECT_NE(all.find("missing.png: mask of '" + c + "' does not exist"), std::string::npos)
        << all;
    EXPECT_NE(all.find("localization.txt: row 6 is not '<image id>,<mask file>"), std::string::npos)
        << all;
    // d keeps the mask that is fine; the bad row is named, not applied.
    const Sample* sd = find(d);
    ASSERT_TRUE(sd);
    EXPECT_EQ(sd->maskPaths.size(), 1u);
}

TEST_F(Formats, WsolBoxesAreKeptAsListedForTheProtocol) {
    // x1 = width (one past the last pixel) is clipped for our boxes but kept as listed, which is
    // what wsolevaluation scores against; the metadata folder's name names the benchmark.
    test::TempDir out;
    writeDatasetAs(*s_ds, out.path(), DatasetFormat::Wsol);
    fs::rename(out / "metadata", out / "CUB");
    const fs::path test = out / "CUB" / "test";
    const auto ids = readTableFile(test / "image_ids.txt", ',');
    std::string id = ids.at(0).fields[0], w, h;
    for (const auto& r : readTableFile(test / "image_sizes.txt", ','))
        if (r.fields[0] == id) w = r.fields[1], h = r.fields[2];
    ASSERT_FALSE(w.empty());
    std::string loc = id + ",3,4," + w + "," + h + "\n";
    for (const auto& r : readTableFile(test / "localization.txt", ','))
        if (r.fields[0] != id)
            loc += r.fields[0] + "," + r.fields[1] + "," + r.fields[2] + "," + r.fields[3] + "," +
                   r.fields[4] + "\n";
    test::spit(test / "localization.txt", loc);
    OpenOptions o;
    o.metadataDir = out / "CUB/";
    const Dataset ds = openDataset(out / "images", o);
    EXPECT_EQ(ds.benchmark, "CUB");
    const Sample& s = ds.test.samples.at(0);
    ASSERT_EQ(s.relPath, id);
    ASSERT_EQ(s.listedBoxes.size(), 1u);
    EXPECT_EQ(s.listedBoxes[0], (Box{3, 4, std::stoi(w), std::stoi(h)}));
    ASSERT_EQ(s.boxes.size(), 1u);
    EXPECT_EQ(s.boxes[0], (Box{3, 4, std::stoi(w) - 1, std::stoi(h) - 1}));
}

TEST_F(Formats, TheWsolDemoFolderOpensWhole) {
    // make-demo --format wsol writes images/ and metadata/ side by side: the folder itself opens
    // as that pair (it was read as an image folder with classes "images" and "metadata").
    test::TempDir out;
    writeDatasetAs(*s_ds, out.path(), DatasetFormat::Wsol);
    EXPECT_EQ(detectDatasetFormat(out.path()), DatasetFormat::Wsol);
    const Dataset whole = openDataset(out.path());
    OpenOptions o;
    o.metadataDir = out / "metadata";
    const Dataset pair = openDataset(out / "images", o);
    EXPECT_EQ(whole.format, DatasetFormat::Wsol);
    EXPECT_EQ(whole.root, pair.root);
    EXPECT_EQ(whole.breedNames, pair.breedNames);
    ASSERT_EQ(whole.test.samples.size(), pair.test.samples.size());
    for (std::size_t i = 0; i < whole.test.samples.size(); ++i) {
        EXPECT_EQ(whole.test.samples[i].relPath, pair.test.samples[i].relPath);
        EXPECT_EQ(whole.test.samples[i].boxes, pair.test.samples[i].boxes);
    }
    o.metadataDir.clear();
    o.format = DatasetFormat::Wsol;
    EXPECT_EQ(openDataset(out.path(), o).test.samples.size(), pair.test.samples.size());
}

TEST_F(Formats, AFifoOrAFolderAsAMetadataFileIsRefusedWithoutHanging) {
    test::TempDir out;
    writeDatasetAs(*s_ds, out.path(), DatasetFormat::Wsol);
    const fs::path loc = out / "metadata" / "test" / "localization.txt";
    fs::remove(loc);
    ASSERT_EQ(::mkfifo(loc.c_str(), 0600), 0);
    OpenOptions o;
    o.metadataDir = out / "metadata";
    try {
        openDataset(out / "images", o);
        FAIL() << "opened";
    } catch (const DatasetError& e) {
        EXPECT_NE(std::string(e.what()).find(loc.string()), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("FIFO"), std::string::npos) << e.what();
    }
    test::TempDir cub;
    writeDatasetAs(*s_ds, cub.path(), DatasetFormat::Cub);
    fs::remove(cub / "train_test_split.txt");
    fs::create_directory(cub / "train_test_split.txt");
    try {
        openDataset(cub.path());
        FAIL() << "opened";
    } catch (const DatasetError& e) {
        EXPECT_NE(std::string(e.what()).find("train_test_split.txt"), std::string::npos)
            << e.what();
    }
}

TEST(DatasetFormats, UnknownFoldersAndFormatsSayWhatIsExpected) {
    test::TempDir empty;
    try {
        openDataset(empty.path());
        FAIL();
    } catch (const DatasetError& e) {
        const std::string m = e.what();
        EXPECT_NE(m.find(empty.path().string()), std::string::npos) << m;
        EXPECT_NE(m.find("CUB-200-2011"), std::string::npos) << m;
        EXPECT_NE(m.find("Stanford Dogs"), std::string::npos) << m;
    }
    OpenOptions o;
    o.format = DatasetFormat::Wsol;
    EXPECT_THROW(openDataset(empty.path(), o), DatasetError);  // no --metadata
    for (const char* n : {"auto", "stanford-dogs", "cub", "wsol"})
        EXPECT_EQ(datasetFormatName(*parseDatasetFormat(n)), std::string(n));
    EXPECT_FALSE(parseDatasetFormat("coco"));
    EXPECT_EQ(parseSplitName("val"), SplitKind::Val);
    EXPECT_FALSE(parseSplitName("dev"));
    EXPECT_EQ(classDisplayName("001.Black_footed_Albatross"), "Black footed Albatross");
    EXPECT_EQ(classDisplayName("n02085620-Chihuahua"), "Chihuahua");
}

TEST(TableFile, FieldsAreNumbersOnlyWhenWhole) {
    EXPECT_EQ(tableInteger("12"), 12);
    EXPECT_EQ(tableInteger("-3"), -3);
    for (const char* bad : {"", "1.5", "3 ", " 3", "x", "99999999999999999999"})
        EXPECT_FALSE(tableInteger(bad)) << bad;
    EXPECT_DOUBLE_EQ(*tableNumber("60.5"), 60.5);
    EXPECT_DOUBLE_EQ(*tableNumber("27"), 27.0);
    for (const char* bad : {"", "nan", "inf", "1e400", "4,5", "1.0x"})
        EXPECT_FALSE(tableNumber(bad)) << bad;
}

TEST(TableFile, QuotedFieldsCrLfAndEmptyLinesAreCsv) {
    const auto rows = parseTable("a,\"b,c\"\r\n\r\nd,e\n", ',', "t.csv");
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].fields[1], "b,c");
    EXPECT_EQ(rows[1].fields[0], "d");
    EXPECT_EQ(rows[1].number, 2u);
    try {
        parseTable("a,\"unclosed\n", ',', "bad.csv");
        FAIL();
    } catch (const DatasetError& e) {
        EXPECT_NE(std::string(e.what()).find("bad.csv"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace camx
