// ImageNet (ILSVRC 2012) validation and PASCAL VOC: each read back from the demo written in its
// layout and detected automatically, ImageNet from either of its annotation sources and in both
// of its layouts, VOC's largest-object label rule on a hand-written annotation, and damaged files
// reported with the file at fault.
#include <gtest/gtest.h>

#include <map>
#include <opencv2/core.hpp>

#include "../test_support.h"
#include "data/dataset.h"
#include "data/formats/dataset_writer.h"
#include "data/formats/voc_reader.h"
#include "data/image_io.h"
#include "data/imagenet_classes.h"
#include "data/table_file.h"

namespace camx {
namespace {
namespace fs = std::filesystem;

using ImageNetFormat = test::DemoSuite<4, 3, 3, 11>;
using VocFormat = test::DemoSuite<4, 3, 3, 12>;

// Samples by image file name without extension: what each layout must keep whatever its paths.
std::map<std::string, Sample> byStem(const SplitData& split) {
    std::map<std::string, Sample> out;
    for (const Sample& s : split.samples) out[s.imagePath.stem().string()] = s;
    return out;
}

void expectSameSamples(const SplitData& a, const SplitData& b) {
    const auto ma = byStem(a), mb = byStem(b);
    ASSERT_EQ(ma.size(), mb.size());
    for (const auto& [name, s] : ma) {
        ASSERT_TRUE(mb.count(name)) << name;
        const Sample& t = mb.at(name);
        EXPECT_EQ(fs::path(t.relPath).stem().string(), name);
        EXPECT_TRUE(fs::is_regular_file(t.imagePath)) << t.imagePath;
        EXPECT_EQ(s.label, t.label) << name;
        EXPECT_EQ(s.width, t.width) << name;
        EXPECT_EQ(s.height, t.height) << name;
        ASSERT_EQ(s.boxes.size(), t.boxes.size()) << name;
        for (std::size_t i = 0; i < s.boxes.size(); ++i) {
            EXPECT_EQ(s.boxes[i].xmin, t.boxes[i].xmin) << name;
            EXPECT_EQ(s.boxes[i].ymin, t.boxes[i].ymin) << name;
            EXPECT_EQ(s.boxes[i].xmax, t.boxes[i].xmax) << name;
            EXPECT_EQ(s.boxes[i].ymax, t.boxes[i].ymax) << name;
        }
    }
}

std::string issuesText(const LoadReport& r) {
    std::string all;
    for (const auto& i : r.issues)
        all += std::string(i.kind == LoadIssue::Kind::Skipped ? "skipped " : "repaired ") + i.file +
               ": " + i.message + "\n";
    return all;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

const char* const kAnnotationsDir = "ILSVRC/Annotations/CLS-LOC/val";
const char* const kImagesDir = "ILSVRC/Data/CLS-LOC/val";

// The test images' ids as LOC_val_solution.csv lists them (its rows are sorted).
std::vector<std::string> solutionIds(const fs::path& root) {
    std::vector<std::string> ids;
    for (const auto& r : readTableFile(root / "LOC_val_solution.csv", ','))
        if (r.number > 1) ids.push_back(r.fields.at(0));
    return ids;
}

// ---------------------------------------------------------------------------------------------
// ImageNet

TEST_F(ImageNetFormat, KaggleLayoutWrittenFromTheDemoReadsBackTheSameSamples) {
    test::TempDir out;
    writeDatasetAs(*s_ds, out.path(), DatasetFormat::ImageNet);
    for (const char* f : {"LOC_val_solution.csv", "LOC_synset_mapping.txt"})
        EXPECT_TRUE(fs::is_regular_file(out / f)) << f;
    const auto ids = solutionIds(out.path());
    ASSERT_EQ(ids.size(), s_ds->test.samples.size());
    EXPECT_TRUE(fs::is_regular_file(out / kAnnotationsDir / (ids.front() + ".xml")));
    // Kaggle's synset line: the wnid, then the names.
    EXPECT_EQ(test::slurp(out / "LOC_synset_mapping.txt").substr(0, 10), "n90000001 ");

    std::string why;
    EXPECT_EQ(detectDatasetFormat(out.path(), &why), DatasetFormat::ImageNet) << why;
    const Dataset in = openDataset(out.path());
    EXPECT_EQ(in.format, DatasetFormat::ImageNet);
    EXPECT_EQ(in.benchmark, "ILSVRC");
    EXPECT_EQ(in.breedNames, s_ds->breedNames);
    ASSERT_EQ(in.breedFolders.size(), s_ds->breedFolders.size());
    for (std::size_t c = 0; c < in.breedFolders.size(); ++c)  // the wnid of "n90000001-Name"
        EXPECT_EQ(in.breedFolders[c], s_ds->breedFolders[c].substr(0, 9));
    // ImageNet validation is one split, the evaluation split.
    expectSameSamples(s_ds->test, in.test);
    EXPECT_TRUE(in.train.samples.empty());
    EXPECT_TRUE(in.val.samples.empty());
    EXPECT_TRUE(in.test.report.issues.empty()) << issuesText(in.test.report);
    EXPECT_EQ(in.test.report.listed, s_ds->test.samples.size());
    EXPECT_EQ(in.test.report.loaded, s_ds->test.samples.size());
}

TEST_F(ImageNetFormat, EitherAnnotationSourceAloneGivesTheSameSamples) {
    // The XML only, and no synset mapping: classes are the sorted wnids, named by them.
    {
        test::TempDir out;
        writeDatasetAs(*s_ds, out.path(), DatasetFormat::ImageNet);
        fs::remove(out / "LOC_val_solution.csv");
        fs::remove(out / "LOC_synset_mapping.txt");
        EXPECT_EQ(detectDatasetFormat(out.path()), DatasetFormat::ImageNet);
        const Dataset in = openDataset(out.path());
        expectSameSamples(s_ds->test, in.test);
        ASSERT_EQ(in.breedNames.size(), 3u);
        EXPECT_EQ(in.breedNames[0], "n90000001");
        EXPECT_EQ(in.breedFolders[2], "n90000003");
        EXPECT_TRUE(in.test.report.issues.empty()) << issuesText(in.test.report);
    }
    // The CSV only: the sizes come from the images' headers.
    {
        test::TempDir out;
        writeDatasetAs(*s_ds, out.path(), DatasetFormat::ImageNet);
        fs::remove_all(out / "ILSVRC" / "Annotations");
        EXPECT_EQ(detectDatasetFormat(out.path()), DatasetFormat::ImageNet);
        const Dataset in = openDataset(out.path());
        expectSameSamples(s_ds->test, in.test);
        EXPECT_EQ(in.breedNames, s_ds->breedNames);
        EXPECT_TRUE(in.test.report.issues.empty()) << issuesText(in.test.report);
    }
    // Both, disagreeing: the XML wins.
    {
        test::TempDir out;
        writeDatasetAs(*s_ds, out.path(), DatasetFormat::ImageNet);
        const auto ids = solutionIds(out.path());
        std::string csv = "ImageId,PredictionString\n";
        for (const auto& id : ids) csv += id + ",n90000001 1 2 3 4\n";
        test::spit(out / "LOC_val_solution.csv", csv);
        const Dataset in = openDataset(out.path());
        expectSameSamples(s_ds->test, in.test);
    }
    // A CSV that is no CSV (an unclosed quote) is reported; the XML files give every sample.
    {
        test::TempDir out;
        writeDatasetAs(*s_ds, out.path(), DatasetFormat::ImageNet);
        test::spit(out / "LOC_val_solution.csv", "ImageId,PredictionString\n\"x,n90000001 1\n");
        const Dataset in = openDataset(out.path());
        expectSameSamples(s_ds->test, in.test);
        ASSERT_EQ(in.test.report.issues.size(), 1u) << issuesText(in.test.report);
        EXPECT_EQ(in.test.report.issues[0].file, (out / "LOC_val_solution.csv").string());
        EXPECT_TRUE(contains(in.test.report.issues[0].message, "is not valid delimited text"))
            << in.test.report.issues[0].message;
    }
}

TEST_F(ImageNetFormat, ClassicLayoutsFlatOrInClassFoldersAreFound) {
    test::TempDir kaggle;
    writeDatasetAs(*s_ds, kaggle.path(), DatasetFormat::ImageNet);
    const auto ids = solutionIds(kaggle.path());
    std::map<std::string, std::string> wnidOf;  // id -> wnid, from the solution
    for (const auto& r : readTableFile(kaggle / "LOC_val_solution.csv", ','))
        if (r.number > 1) wnidOf[r.fields[0]] = r.fields[1].substr(0, 9);

    // val/<wnid>/<image> (torchvision's arrangement) beside ILSVRC2012_bbox_val_v3/val/*.xml.
    {
        test::TempDir out;
        for (const auto& id : ids) {
            fs::create_directories(out / "val" / wnidOf[id]);
            fs::copy_file(kaggle / kImagesDir / (id + ".jpg"),
                          out / "val" / wnidOf[id] / (id + ".JPEG"));
            fs::create_directories(out / "ILSVRC2012_bbox_val_v3" / "val");
            fs::copy_file(kaggle / kAnnotationsDir / (id + ".xml"),
                          out / "ILSVRC2012_bbox_val_v3" / "val" / (id + ".xml"));
        }
        std::string why;
        ASSERT_EQ(detectDatasetFormat(out.path(), &why), DatasetFormat::ImageNet) << why;
        const Dataset in = openDataset(out.path());
        expectSameSamples(s_ds->test, in.test);
        // Paths are relative to the image folder: "<wnid>/<image>".
        for (const Sample& s : in.test.samples)
            EXPECT_EQ(fs::path(s.relPath).parent_path().string(),
                      in.breedFolders.at(static_cast<std::size_t>(s.label)));
        EXPECT_TRUE(in.test.report.issues.empty()) << issuesText(in.test.report);
    }
    // A flat val/ holding the images and their XML together (the bbox archive unpacked in it),
    // named as ILSVRC names them; or that folder given itself.
    {
        test::TempDir out;
        fs::create_directories(out / "val");
        SplitData expected = s_ds->test;
        for (Sample& s : expected.samples)
            s.imagePath = "ILSVRC2012_val_" + s.imagePath.filename().string();
        for (const auto& id : ids) {
            fs::copy_file(kaggle / kImagesDir / (id + ".jpg"),
                          out / "val" / ("ILSVRC2012_val_" + id + ".JPEG"));
            fs::copy_file(kaggle / kAnnotationsDir / (id + ".xml"),
                          out / "val" / ("ILSVRC2012_val_" + id + ".xml"));
        }
        ASSERT_EQ(detectDatasetFormat(out.path()), DatasetFormat::ImageNet);
        expectSameSamples(expected, openDataset(out.path()).test);
        ASSERT_EQ(detectDatasetFormat(out / "val"), DatasetFormat::ImageNet);
        expectSameSamples(expected, openDataset(out / "val").test);
    }
    // Other images with VOC XML beside them (labelImg's folders) are not ImageNet.
    {
        test::TempDir out;
        fs::create_directories(out / "val");
        fs::copy_file(kaggle / kImagesDir / (ids[0] + ".jpg"), out / "val" / "a.jpg");
        fs::copy_file(kaggle / kAnnotationsDir / (ids[0] + ".xml"), out / "val" / "a.xml");
        EXPECT_NE(detectDatasetFormat(out.path()), DatasetFormat::ImageNet);
        EXPECT_NE(detectDatasetFormat(out / "val"), DatasetFormat::ImageNet);
    }
    // val/ of images alone is no ImageNet with boxes.
    {
        test::TempDir out;
        fs::create_directories(out / "val");
        fs::copy_file(kaggle / kImagesDir / (ids.front() + ".jpg"), out / "val" / "a.JPEG");
        EXPECT_NE(detectDatasetFormat(out.path()), DatasetFormat::ImageNet);
    }
}

TEST_F(ImageNetFormat, DamagedFilesAreReportedWithTheFileAndTheRestLoads) {
    test::TempDir out;
    writeDatasetAs(*s_ds, out.path(), DatasetFormat::ImageNet);
    const auto ids = solutionIds(out.path());
    ASSERT_GE(ids.size(), 7u);
    const fs::path xmlDir = out / kAnnotationsDir;
    const fs::path csvPath = out / "LOC_val_solution.csv";
    // 0: malformed XML, but a CSV row to fall back on.
    test::spit(xmlDir / (ids[0] + ".xml"), "<annotation><size><width>3</wi");
    // 1: malformed XML and no CSV row either.
    test::spit(xmlDir / (ids[1] + ".xml"), "<annotation><size>");
    // 2: CSV only, with a field too many; 3: CSV only, with a word for a number.
    fs::remove(xmlDir / (ids[2] + ".xml"));
    fs::remove(xmlDir / (ids[3] + ".xml"));
    // 4: a class the synset mapping does not list.
    std::string xml = test::slurp(xmlDir / (ids[4] + ".xml"));
    for (std::size_t p; (p = xml.find("n9000000")) != std::string::npos;)
        xml.replace(p, 9, "n00000042");
    test::spit(xmlDir / (ids[4] + ".xml"), xml);
    // 5: an annotation without its image.
    fs::remove(out / kImagesDir / (ids[5] + ".jpg"));
    // 6: an image without any annotation.
    fs::remove(xmlDir / (ids[6] + ".xml"));
    // The CSV rows: 1 and 6 gone, 2 and 3 damaged.
    std::string csv = "ImageId,PredictionString\n";
    for (const auto& r : readTableFile(csvPath, ','))
        if (r.number > 1 && r.fields[0] != ids[1] && r.fields[0] != ids[6]) {
            if (r.fields[0] == ids[2])
                csv += ids[2] + "," + r.fields[1] + ",extra\n";
            else if (r.fields[0] == ids[3])
                csv += ids[3] + ",n90000001 1 x 3 4\n";
            else
                csv += r.fields[0] + "," + r.fields[1] + "\n";
        }
    test::spit(csvPath, csv);

    const Dataset in = openDataset(out.path());
    const std::string all = issuesText(in.test.report);
    // 0 loads (from its row); 1, 2, 3, 4, 5 and 6 do not.
    EXPECT_EQ(in.test.samples.size(), ids.size() - 6) << all;
    EXPECT_EQ(in.test.report.loaded, ids.size() - 6);
    const auto got = byStem(in.test);
    EXPECT_TRUE(got.count(ids[0])) << all;
    for (int k = 1; k <= 6; ++k) EXPECT_FALSE(got.count(ids[k])) << ids[k];
    const std::string x0 = (xmlDir / (ids[0] + ".xml")).string(),
                      x1 = (xmlDir / (ids[1] + ".xml")).string(),
                      x4 = (xmlDir / (ids[4] + ".xml")).string(), c = csvPath.string();
    EXPECT_TRUE(contains(all, "repaired " + x0 + ": malformed XML")) << all;
    EXPECT_TRUE(contains(all, "row in LOC_val_solution.csv is used instead")) << all;
    EXPECT_TRUE(contains(all, "skipped " + x1 + ": malformed XML")) << all;
    EXPECT_TRUE(contains(all, c + ": row ")) << all;
    EXPECT_TRUE(contains(all, "is not 'ImageId,PredictionString' (3 fields)")) << all;
    EXPECT_TRUE(contains(all, "('" + ids[3] + "'): 'x' is not a number")) << all;
    EXPECT_TRUE(contains(all, "skipped " + x4 + ": object 1 of '" + ids[4] +
                                  "' has the unknown class 'n00000042' (not in " +
                                  (out / "LOC_synset_mapping.txt").string() + ")"))
        << all;
    EXPECT_TRUE(contains(all, "no image named '" + ids[5] + "'")) << all;
    EXPECT_TRUE(contains(all, "skipped " + (out / kImagesDir / (ids[6] + ".jpg")).string() +
                                  ": no annotation: no '" + ids[6] + ".xml' and no row in " +
                                  "LOC_val_solution.csv"))
        << all;
}

TEST_F(ImageNetFormat, AGoneImageWithOnlyACsvRowAndACancelledOpen) {
    test::TempDir out;
    writeDatasetAs(*s_ds, out.path(), DatasetFormat::ImageNet);
    fs::remove_all(out / "ILSVRC" / "Annotations");
    const auto ids = solutionIds(out.path());
    // An image cut to a few bytes: its size cannot be read from its header.
    test::spit(out / kImagesDir / (ids[0] + ".jpg"), "\xff\xd8\xff");
    const Dataset in = openDataset(out.path());
    EXPECT_EQ(in.test.samples.size(), ids.size() - 1);
    ASSERT_FALSE(in.test.report.issues.empty());
    EXPECT_EQ(in.test.report.issues.front().file, (out / kImagesDir / (ids[0] + ".jpg")).string());
    EXPECT_EQ(in.test.report.issues.front().kind, LoadIssue::Kind::Skipped);

    CancelToken cancel;
    cancel.cancel();
    OpenOptions o;
    o.job.cancel = &cancel;
    EXPECT_THROW(openDataset(out.path(), o), Cancelled);
}

TEST(ImageNetNames, AllThousandWnidsWithoutTheMappingGetTorchvisionsNames) {
    // Without LOC_synset_mapping.txt the classes are the sorted wnids, which is torchvision's
    // order: with all 1000 of them the compiled-in names apply, class i being names[i].
    test::TempDir dir;
    const fs::path images = dir / "ILSVRC" / "Data" / "CLS-LOC" / "val";
    fs::create_directories(images);
    const fs::path first = images / "ILSVRC2012_val_00000001.JPEG";
    writeRgb(first, cv::Mat(12, 16, CV_8UC3, cv::Scalar(10, 20, 30)));
    std::string csv = "ImageId,PredictionString\n";
    for (int i = 0; i < 1000; ++i) {
        char id[32], wnid[16];
        std::snprintf(id, sizeof id, "ILSVRC2012_val_%08d", i + 1);
        std::snprintf(wnid, sizeof wnid, "n%08d", 999 - i);  // listed out of order
        if (i > 0) fs::create_hard_link(first, images / (std::string(id) + ".JPEG"));
        csv += std::string(id) + "," + wnid + " 1 2 10 8\n";
    }
    test::spit(dir / "LOC_val_solution.csv", csv);
    const Dataset ds = openDataset(dir.path());
    ASSERT_EQ(ds.numClasses(), 1000u);
    EXPECT_EQ(ds.breedFolders.front(), "n00000000");
    EXPECT_EQ(ds.breedNames, imageNetClassNames());
    EXPECT_EQ(ds.breedNames.front(), "tench");
    ASSERT_EQ(ds.test.samples.size(), 1000u);
    // Image 1 is wnid n00000999: class 999, "toilet tissue" in torchvision's list.
    for (const Sample& s : ds.test.samples) {
        if (s.relPath.find("00000001") != std::string::npos) {
            EXPECT_EQ(s.label, 999);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// PASCAL VOC

TEST_F(VocFormat, WrittenFromTheDemoReadsBackTheSameSamples) {
    test::TempDir out;
    const fs::path voc = out / "VOCdevkit" / "VOC2012";
    writeDatasetAs(*s_ds, voc, DatasetFormat::Voc);
    EXPECT_TRUE(fs::is_regular_file(voc / "ImageSets" / "Main" / "train.txt"));
    EXPECT_TRUE(fs::is_regular_file(voc / "ImageSets" / "Main" / "test.txt"));
    EXPECT_FALSE(fs::exists(voc / "ImageSets" / "Main" / "val.txt"));  // the demo has none
    // The folder holding VOCdevkit/ is found, and the format detected.
    EXPECT_EQ(findVocRoot(out.path()), voc);
    std::string why;
    EXPECT_EQ(detectDatasetFormat(out.path(), &why), DatasetFormat::Voc) << why;
    const Dataset in = openDataset(out.path());
    EXPECT_EQ(in.format, DatasetFormat::Voc);
    EXPECT_EQ(in.root, voc);
    EXPECT_EQ(in.labelRule, "the class of the image's largest object");
    EXPECT_EQ(in.breedFolders, s_ds->breedFolders);
    EXPECT_EQ(in.breedNames, s_ds->breedNames);
    expectSameSamples(s_ds->train, in.train);
    expectSameSamples(s_ds->test, in.test);
    EXPECT_TRUE(in.val.samples.empty());
    for (const auto* r : {&in.train.report, &in.test.report})
        EXPECT_TRUE(r->issues.empty()) << issuesText(*r);
    EXPECT_EQ(in.train.report.listed, s_ds->train.samples.size());
}

// A small VOC folder written by hand: images of the given sizes and annotations.
void writeImage(const fs::path& p, int w, int h) {
    writeRgb(p, cv::Mat(h, w, CV_8UC3, cv::Scalar(40, 90, 160)));
}

std::string object(const std::string& name, int x0, int y0, int x1, int y1) {
    return "<object><name>" + name + "</name><difficult>0</difficult><bndbox><xmin>" +
           std::to_string(x0) + "</xmin><ymin>" + std::to_string(y0) + "</ymin><xmax>" +
           std::to_string(x1) + "</xmax><ymax>" + std::to_string(y1) + "</ymax></bndbox></object>";
}

std::string annotation(const std::string& size, const std::string& objects) {
    return "<annotation><folder>VOC2007</folder>" + size + objects + "</annotation>";
}

const std::string kSize80x60 = "<size><width>80</width><height>60</height><depth>3</depth></size>";

TEST(VocLabels, TheLargestObjectGivesTheLabelAndItsClassTheBoxes) {
    test::TempDir voc;
    for (const char* d : {"Annotations", "JPEGImages", "ImageSets/Main"})
        fs::create_directories(voc / d);
    for (const char* id : {"000001", "000002", "000003", "000004"})
        writeImage(voc / "JPEGImages" / (std::string(id) + ".jpg"), 80, 60);
    // 1: a small cat, a large dog and a small dog.
    test::spit(voc / "Annotations" / "000001.xml",
               annotation(kSize80x60, object("cat", 0, 0, 9, 9) + object("dog", 10, 10, 59, 49) +
                                          object("dog", 60, 0, 69, 5)));
    // 2: one cat, with a box passing the border (clipped, and said so).
    test::spit(voc / "Annotations" / "000002.xml",
               annotation(kSize80x60, object("cat", 5, 5, 90, 40)));
    // 3: a tie: the first object in the file wins.
    test::spit(
        voc / "Annotations" / "000003.xml",
        annotation(kSize80x60, object("person", 0, 0, 9, 9) + object("bicycle", 20, 20, 29, 29)));
    // 4: no <size>: the image's header gives it.
    test::spit(voc / "Annotations" / "000004.xml", annotation("", object("bicycle", 1, 2, 30, 40)));
    // Only trainval.txt (then it is the training split); the per-class lists are not read.
    test::spit(voc / "ImageSets/Main/trainval.txt", "000001\n000002\n000003\n000004\n");
    test::spit(voc / "ImageSets/Main/cat_trainval.txt", "000001 1\n000002 1\nnonsense\n");

    const Dataset ds = openDataset(voc.path());
    EXPECT_EQ(ds.format, DatasetFormat::Voc);
    EXPECT_EQ(ds.breedFolders, (std::vector<std::string>{"bicycle", "cat", "dog", "person"}));
    EXPECT_EQ(ds.breedNames, ds.breedFolders);
    ASSERT_EQ(ds.train.samples.size(), 4u) << issuesText(ds.train.report);
    EXPECT_TRUE(ds.test.samples.empty());
    const auto s = byStem(ds.train);
    const Sample& one = s.at("000001");
    EXPECT_EQ(one.label, 2);  // dog
    ASSERT_EQ(one.boxes.size(), 2u);
    EXPECT_EQ(one.boxes[0].xmin, 10);
    EXPECT_EQ(one.boxes[0].ymax, 49);
    EXPECT_EQ(one.boxes[1].xmin, 60);
    EXPECT_EQ(one.boxes[1].xmax, 69);
    EXPECT_EQ(s.at("000002").label, 1);  // cat
    EXPECT_EQ(s.at("000002").boxes.at(0).xmax, 79);
    EXPECT_EQ(s.at("000003").label, 3);  // person, the first of two equal boxes
    ASSERT_EQ(s.at("000003").boxes.size(), 1u);
    EXPECT_EQ(s.at("000003").boxes[0].xmax, 9);
    EXPECT_EQ(s.at("000004").label, 0);
    EXPECT_EQ(s.at("000004").width, 80);
    EXPECT_EQ(s.at("000004").height, 60);
    const std::string all = issuesText(ds.train.report);
    EXPECT_EQ(ds.train.report.issues.size(), 1u) << all;
    EXPECT_TRUE(contains(all, "repaired " + (voc / "Annotations" / "000002.xml").string() +
                                  ": box 1 [5,5,90,40] passes the image border 80x60; clipped"))
        << all;
}

TEST_F(VocFormat, DamagedFilesAreReportedWithTheFileAndTheRestLoads) {
    test::TempDir voc;
    writeDatasetAs(*s_ds, voc.path(), DatasetFormat::Voc);
    const fs::path main = voc / "ImageSets" / "Main";
    std::vector<std::string> ids;
    for (const auto& r : readTableFile(main / "train.txt", ' ')) ids.push_back(r.fields[0]);
    ASSERT_GE(ids.size(), 4u);
    test::spit(voc / "Annotations" / (ids[0] + ".xml"), "<annotation><object>");
    fs::remove(voc / "JPEGImages" / (ids[1] + ".jpg"));
    fs::remove(voc / "Annotations" / (ids[2] + ".xml"));
    // A row of two fields and a path leaving the folder; trainval.txt is ignored beside train.txt.
    test::spit(main / "train.txt", test::slurp(main / "train.txt") + "a b\n../../etc/passwd\n");
    test::spit(main / "trainval.txt", "nothing_here\n");

    const Dataset in = openDataset(voc.path());
    EXPECT_EQ(in.train.samples.size(), ids.size() - 3);
    EXPECT_EQ(in.train.report.listed, ids.size() + 2);  // the two bad rows too
    expectSameSamples(s_ds->test, in.test);
    const std::string all = issuesText(in.train.report);
    EXPECT_TRUE(contains(
        all, "skipped " + (voc / "Annotations" / (ids[0] + ".xml")).string() + ": malformed XML"))
        << all;
    EXPECT_TRUE(contains(all, "skipped " + (voc / "JPEGImages" / (ids[1] + ".jpg")).string() +
                                  ": image file is missing"))
        << all;
    EXPECT_TRUE(contains(all, "skipped " + (voc / "Annotations" / (ids[2] + ".xml")).string() +
                                  ": annotation is missing"))
        << all;
    const std::string list = (main / "train.txt").string();
    EXPECT_TRUE(
        contains(all, list + ": row " + std::to_string(ids.size() + 1) + " is not one image id"))
        << all;
    EXPECT_TRUE(
        contains(all, list + ": row " + std::to_string(ids.size() + 2) + " is not one image id"))
        << all;
    EXPECT_FALSE(contains(all, "nothing_here")) << all;
}

// ---------------------------------------------------------------------------------------------
// Folders that are neither

TEST(ImageNetVocDetection, FoldersThatAreNeitherAreRefusedClearly) {
    test::TempDir empty;
    try {
        openDataset(empty.path());
        FAIL() << "opened";
    } catch (const DatasetError& e) {
        const std::string m = e.what();
        EXPECT_TRUE(contains(m, empty.path().string())) << m;
        EXPECT_TRUE(contains(m, "PASCAL VOC (Annotations/, JPEGImages/ and ImageSets/Main/")) << m;
        EXPECT_TRUE(contains(m, "ImageNet validation (LOC_val_solution.csv")) << m;
    }
    for (auto [format, expected] :
         {std::pair{DatasetFormat::Voc, "is not a PASCAL VOC folder"},
          std::pair{DatasetFormat::ImageNet, "is not an ImageNet validation folder"}}) {
        OpenOptions o;
        o.format = format;
        try {
            openDataset(empty.path(), o);
            FAIL() << "opened as " << datasetFormatName(format);
        } catch (const DatasetError& e) {
            EXPECT_TRUE(contains(e.what(), expected)) << e.what();
            EXPECT_TRUE(contains(e.what(), empty.path().string())) << e.what();
        }
    }
    // VOC's folders without a list; ImageNet's files without a single usable image.
    test::TempDir voc;
    for (const char* d : {"Annotations", "JPEGImages", "ImageSets/Main"})
        fs::create_directories(voc / d);
    EXPECT_EQ(detectDatasetFormat(voc.path()), DatasetFormat::Voc);
    try {
        openDataset(voc.path());
        FAIL() << "opened";
    } catch (const DatasetError& e) {
        EXPECT_TRUE(contains(e.what(), "has none of train.txt, val.txt, trainval.txt and test.txt"))
            << e.what();
    }
    test::TempDir inet;
    fs::create_directories(inet / kImagesDir);
    test::spit(inet / "LOC_val_solution.csv", "ImageId,PredictionString\nx,n1 1 2 3 4\n");
    EXPECT_EQ(detectDatasetFormat(inet.path()), DatasetFormat::ImageNet);
    try {
        openDataset(inet.path());
        FAIL() << "opened";
    } catch (const DatasetError& e) {
        EXPECT_TRUE(contains(e.what(), "nothing could be loaded")) << e.what();
        EXPECT_TRUE(contains(e.what(), "no image named 'x'")) << e.what();
    }
    for (const char* n : {"imagenet", "voc"})
        EXPECT_EQ(datasetFormatName(*parseDatasetFormat(n)), std::string(n));
}

}  // namespace
}  // namespace camx
