// Files made to hurt the reader: decompression bombs, annotations declaring absurd sizes, FIFOs
// where files belong, and images too small for reduced decoding. Each is refused (or read) quickly
// with a message naming the file and what is wrong; nothing allocates what a header claims first.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <fcntl.h>
#include <unistd.h>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <future>
#include <opencv2/imgcodecs.hpp>
#include <thread>

#include "../test_support.h"
#include "common/limits.h"
#include "data/archive_cache.h"
#include "data/dataset.h"
#include "data/image_io.h"
#include "data/mat_io.h"

namespace camx {
namespace {
namespace fs = std::filesystem;
using test::TempDir;

// Restores the default pixel budget when a test that lowers it ends.
struct BudgetGuard {
    explicit BudgetGuard(std::uint64_t pixels) { setPixelBudget(pixels); }
    ~BudgetGuard() { setPixelBudget(kDefaultPixelBudget); }
};

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

std::string encode(const std::string& ext, int w, int h) {
    cv::Mat img(h, w, CV_8UC3, cv::Scalar(30, 120, 200));
    std::vector<unsigned char> bytes;
    EXPECT_TRUE(cv::imencode(ext, img, bytes));
    return std::string(bytes.begin(), bytes.end());
}

void putBe16(std::string& s, std::size_t at, unsigned v) {
    s[at] = static_cast<char>((v >> 8) & 0xff);
    s[at + 1] = static_cast<char>(v & 0xff);
}
void putBe32(std::string& s, std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) s[at + i] = static_cast<char>((v >> (24 - 8 * i)) & 0xff);
}

// A small real PNG whose IHDR claims width x height (the CRC no longer matches: nothing may get as
// far as checking it).
std::string pngClaiming(std::uint32_t w, std::uint32_t h) {
    std::string png = encode(".png", 8, 8);
    putBe32(png, 16, w);
    putBe32(png, 20, h);
    return png;
}

std::size_t findSof(const std::string& jpg) {
    for (std::size_t i = 2; i + 9 < jpg.size(); ++i)
        if (static_cast<unsigned char>(jpg[i]) == 0xff &&
            (static_cast<unsigned char>(jpg[i + 1]) == 0xc0 ||
             static_cast<unsigned char>(jpg[i + 1]) == 0xc2))
            return i;
    ADD_FAILURE() << "no SOF marker";
    return 0;
}

// A small real JPEG whose frame header claims width x height: 27 KB bombs are made like this.
std::string jpegClaiming(unsigned w, unsigned h) {
    std::string jpg = encode(".jpg", 16, 16);
    const std::size_t sof = findSof(jpg);
    putBe16(jpg, sof + 5, h);
    putBe16(jpg, sof + 7, w);
    return jpg;
}

// Runs `fn` on another thread and waits up to a generous deadline. A reader that blocks on the
// FIFO `fifo` is then released by opening and closing the FIFO's write end (so the test ends
// either way), and the test fails. The deadline is a watchdog, not a measurement.
template <typename Fn>
void runWithoutHanging(const fs::path& fifo, Fn fn) {
    auto done = std::async(std::launch::async, fn);
    if (done.wait_for(std::chrono::seconds(20)) == std::future_status::ready) {
        done.get();
        return;
    }
    ADD_FAILURE() << "reading " << fifo << " blocked";
    while (done.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
        const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
        if (fd >= 0) ::close(fd);
    }
}

// ---------------------------------------------------------------------------------------------
// 8. Annotations declaring absurd sizes

std::string annotationXml(int w, int h, int xmax = 10, int ymax = 10) {
    return "<annotation><size><width>" + std::to_string(w) + "</width><height>" +
           std::to_string(h) +
           "</height><depth>3</depth></size><object><name>x</name><bndbox><xmin>0</xmin>"
           "<ymin>0</ymin><xmax>" +
           std::to_string(xmax) + "</xmax><ymax>" + std::to_string(ymax) +
           "</ymax></bndbox></object></annotation>";
}

std::string parseError(const std::string& xml) {
    try {
        parseAnnotation(xml.data(), xml.size());
    } catch (const DatasetError& e) {
        return e.what();
    }
    return {};
}

TEST(HostileAnnotation, SizeOverTheSideLimitIsRefusedNamingTheLimit) {
    const std::string msg = parseError(annotationXml(9'999'999, 375));
    EXPECT_TRUE(contains(msg, "9999999x375")) << msg;
    EXPECT_TRUE(contains(msg, "65535")) << msg;
    EXPECT_TRUE(contains(parseError(annotationXml(500, 70'000)), "65535"));
}

TEST(HostileAnnotation, SizeOverThePixelBudgetIsRefusedNamingTheBudget) {
    const std::string msg = parseError(annotationXml(40'000, 40'000));
    EXPECT_TRUE(contains(msg, "40000x40000")) << msg;
    EXPECT_TRUE(contains(msg, "1600 MP")) << msg;
    EXPECT_TRUE(contains(msg, "100 MP")) << msg;
    EXPECT_TRUE(contains(msg, "--max-megapixels")) << msg;
    // The budget is process-wide and follows the setting.
    EXPECT_TRUE(parseError(annotationXml(500, 375)).empty());
    BudgetGuard budget(100'000);
    EXPECT_TRUE(contains(parseError(annotationXml(500, 375)), "0.1 MP"));
}

TEST(HostileAnnotation, FuzzCorpusCaseIsRefused) {
    const std::string xml = test::slurp(fs::path(CAMX_FIXTURES) / ".." / "fuzz" / "corpus" /
                                        "annotation" / "huge_size.xml");
    ASSERT_FALSE(xml.empty());
    EXPECT_TRUE(contains(parseError(xml), "9999999")) << parseError(xml);
}

TEST(HostileAnnotation, EntitiesAreNotExpanded) {
    const std::string xml =
        "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY l \"lol\"><!ENTITY l2 \"&l;&l;&l;&l;\">"
        "<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
        "<annotation><folder>&l2;&x;</folder><size><width>5</width><height>5</height></size>"
        "<object><bndbox><xmin>0</xmin><ymin>0</ymin><xmax>4</xmax><ymax>4</ymax></bndbox>"
        "</object></annotation>";
    Annotation a = parseAnnotation(xml.data(), xml.size());
    EXPECT_EQ(a.width, 5);
}

// ---------------------------------------------------------------------------------------------
// 9. Decompression bombs

TEST(HostileImage, PngClaimingGigapixelsIsRefusedFromItsHeader) {
    TempDir dir;
    const fs::path p = dir / "bomb.png";
    test::spit(p, pngClaiming(30'000, 30'000));
    const auto size = imageHeaderSize(p);
    ASSERT_TRUE(size);
    EXPECT_EQ(*size, (std::pair<int, int>{30'000, 30'000}));
    for (auto read : {&readRgb, &readReduced, &readGray}) {
        try {
            read(p);
            ADD_FAILURE() << "decoded a 900 MP image";
        } catch (const ImageError& e) {
            const std::string msg = e.what();
            EXPECT_TRUE(contains(msg, "image '" + p.string() +
                                          "' declares 30000x30000 pixels "
                                          "(900 MP), over the 100 MP budget "
                                          "(--max-megapixels)"))
                << msg;
        }
    }
    const std::string bytes = test::slurp(p);
    try {
        decodeRgb(bytes.data(), bytes.size(), "in-memory.png");
        ADD_FAILURE();
    } catch (const ImageError& e) {
        EXPECT_TRUE(contains(e.what(), "'in-memory.png' declares 30000x30000")) << e.what();
    }
    const auto probe = probeImageFile(p);
    ASSERT_TRUE(probe);
    EXPECT_TRUE(contains(*probe, "900 MP")) << *probe;
}

TEST(HostileImage, JpegClaimingGigapixelsIsRefusedFromItsHeader) {
    TempDir dir;
    const fs::path p = dir / "bomb.jpg";
    test::spit(p, jpegClaiming(30'000, 30'000));
    const auto size = imageHeaderSize(p);
    ASSERT_TRUE(size);
    EXPECT_EQ(*size, (std::pair<int, int>{30'000, 30'000}));
    const auto probe = probeImageFile(p);
    ASSERT_TRUE(probe);
    EXPECT_TRUE(contains(*probe, "bomb.jpg' declares 30000x30000 pixels (900 MP)")) << *probe;
}

TEST(HostileImage, EveryReaderChecksTheBudgetBeforeDecoding) {
    // Real, valid images just over a lowered budget: only the budget check can refuse them.
    TempDir dir;
    test::spit(dir / "a.jpg", encode(".jpg", 200, 100));
    test::spit(dir / "a.png", encode(".png", 200, 100));
    test::spit(dir / "a.bmp", encode(".bmp", 200, 100));
    test::spit(dir / "a.tif", encode(".tiff", 200, 100));
    BudgetGuard budget(19'999);
    for (const char* name : {"a.jpg", "a.png", "a.bmp", "a.tif"}) {
        const fs::path p = dir / name;
        EXPECT_EQ(imageHeaderSize(p), (std::pair<int, int>{200, 100})) << name;
        for (auto read : {&readRgb, &readReduced, &readGray}) {
            try {
                read(p);
                ADD_FAILURE() << name;
            } catch (const ImageError& e) {
                EXPECT_TRUE(contains(e.what(), "'" + p.string() + "' declares 200x100 pixels"))
                    << e.what();
            }
        }
        const std::string bytes = test::slurp(p);
        EXPECT_THROW(decodeRgb(bytes.data(), bytes.size(), name), ImageError) << name;
    }
    for (const char* name : {"a.jpg", "a.png"}) {
        const auto probe = probeImageFile(dir / name);
        ASSERT_TRUE(probe) << name;
        EXPECT_TRUE(contains(*probe, "budget")) << *probe;
    }
    setPixelBudget(20'000);
    for (const char* name : {"a.jpg", "a.png", "a.bmp", "a.tif"}) {
        EXPECT_EQ(readRgb(dir / name).size(), cv::Size(200, 100)) << name;
        if (std::strcmp(name, "a.jpg") == 0 || std::strcmp(name, "a.png") == 0) {
            EXPECT_FALSE(probeImageFile(dir / name)) << name;
        }
    }
}

TEST(HostileImage, JpegHeaderAfterLargeMetadataIsStillFound) {
    // Three 64 KB APP1 blocks before the frame header: the header reader has to read on.
    std::string jpg = encode(".jpg", 40, 30);
    std::string app(4 + 65'533, 'x');
    app[0] = static_cast<char>(0xff);
    app[1] = static_cast<char>(0xe1);
    putBe16(app, 2, 65'535);
    jpg.insert(2, app + app + app);
    TempDir dir;
    test::spit(dir / "exif.jpg", jpg);
    EXPECT_EQ(imageHeaderSize(dir / "exif.jpg"), (std::pair<int, int>{40, 30}));
    EXPECT_FALSE(probeImageFile(dir / "exif.jpg"));
    EXPECT_EQ(readRgb(dir / "exif.jpg").size(), cv::Size(40, 30));
}

TEST(HostileImage, UnknownFormatsAreNotDecodedAndNamed) {
    TempDir dir;
    test::spit(dir / "x.img", "GIF89a and then some bytes");
    std::string why;
    EXPECT_FALSE(imageHeaderSize(dir / "x.img", &why));
    EXPECT_TRUE(contains(why, "unrecognised")) << why;
    try {
        readRgb(dir / "x.img");
        ADD_FAILURE();
    } catch (const ImageError& e) {
        EXPECT_TRUE(contains(e.what(), "x.img")) << e.what();
    }
}

TEST(HostileImage, DecoderLimitIsExportedForOpenCv) {
    // The environment the process started with (setenv does not change /proc/self/environ).
    const std::string startEnv = test::slurp("/proc/self/environ");
    if (contains(startEnv, "OPENCV_IO_MAX_IMAGE_PIXELS="))
        GTEST_SKIP() << "set by the user; left alone";
    BudgetGuard budget(12'345'678);
    applyDecoderLimits();
    const char* v = std::getenv("OPENCV_IO_MAX_IMAGE_PIXELS");
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(std::string(v), "12345678");
}

// ---------------------------------------------------------------------------------------------
// Dataset-level: skipped and named in the load report

class HostileDataset : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        s_dir = std::make_unique<TempDir>();
        test::makeSmallDemo(s_dir->path() / "pristine", 1, 3, 2, 11);
    }
    static void TearDownTestSuite() { s_dir.reset(); }

    void SetUp() override {
        root = m_dir / "d";
        fs::copy(s_dir->path() / "pristine", root, fs::copy_options::recursive);
        samples = openStanfordDogs(root).test.samples;
        ASSERT_EQ(samples.size(), 6u);
    }
    fs::path image(std::size_t i) const { return samples[i].imagePath; }
    fs::path annotation(std::size_t i) const {
        const std::string rel = samples[i].relPath;
        return root / "Annotation" / rel.substr(0, rel.size() - 4);
    }
    static const LoadIssue* findIssue(const LoadReport& r, const fs::path& file) {
        for (const auto& i : r.issues)
            if (i.file == file.string()) return &i;
        return nullptr;
    }

    static inline std::unique_ptr<TempDir> s_dir;
    TempDir m_dir;
    fs::path root;
    std::vector<Sample> samples;
};

TEST_F(HostileDataset, AnnotationDeclaringAHugeSizeIsSkippedAndNamed) {
    test::spit(annotation(0), annotationXml(9'999'999, 9'999'999));
    test::spit(annotation(1), annotationXml(40'000, 40'000));
    const Dataset ds = openStanfordDogs(root);
    EXPECT_EQ(ds.test.samples.size(), samples.size() - 2);
    for (std::size_t i : {0u, 1u}) {
        const LoadIssue* issue = findIssue(ds.test.report, annotation(i));
        ASSERT_NE(issue, nullptr) << i;
        EXPECT_EQ(issue->kind, LoadIssue::Kind::Skipped);
        EXPECT_TRUE(contains(issue->message, i == 0 ? "65535" : "budget")) << issue->message;
    }
    for (const auto& s : ds.test.samples)
        EXPECT_LE(std::uint64_t(s.width) * std::uint64_t(s.height), pixelBudget());
}

TEST_F(HostileDataset, AnnotationSizeFarFromTheImageIsReportedAndNamed) {
    const Sample& s = samples[0];
    test::spit(annotation(0), annotationXml(s.width * 10, s.height * 10));
    // Width and height swapped (a rotated photo) is not wild.
    test::spit(annotation(1), annotationXml(samples[1].height, samples[1].width));
    const Dataset ds = openStanfordDogs(root);
    EXPECT_EQ(ds.test.samples.size(), samples.size());
    ASSERT_EQ(ds.test.report.issues.size(), 1u);
    const LoadIssue* issue = findIssue(ds.test.report, annotation(0));
    ASSERT_NE(issue, nullptr);
    EXPECT_EQ(issue->kind, LoadIssue::Kind::Repaired);
    EXPECT_TRUE(contains(issue->message,
                         std::to_string(s.width * 10) + "x" + std::to_string(s.height * 10)))
        << issue->message;
    EXPECT_TRUE(contains(issue->message, std::to_string(s.width) + "x" + std::to_string(s.height)))
        << issue->message;
    EXPECT_TRUE(contains(issue->message, image(0).string())) << issue->message;
}

TEST_F(HostileDataset, DecompressionBombsAreSkippedByTheHeaderCheckAndByVerify) {
    test::spit(image(0), pngClaiming(30'000, 30'000));
    test::spit(image(1), jpegClaiming(30'000, 30'000));
    for (bool verify : {false, true}) {
        OpenOptions opt;
        opt.verifyImages = verify;
        const Dataset ds = openStanfordDogs(root, opt);
        EXPECT_EQ(ds.test.samples.size(), samples.size() - 2);
        for (std::size_t i : {0u, 1u}) {
            const LoadIssue* issue = findIssue(ds.test.report, image(i));
            ASSERT_NE(issue, nullptr) << i;
            EXPECT_TRUE(contains(issue->message, "900 MP")) << issue->message;
        }
    }
}

TEST_F(HostileDataset, ALoweredBudgetSkipsEveryImageOverIt) {
    // Demo images are 400..500 x 300..375: a 0.1 MP budget refuses all of them.
    BudgetGuard budget(100'000);
    OpenOptions opt;
    opt.verifyImages = true;
    try {
        openStanfordDogs(root, opt);
        ADD_FAILURE() << "loaded images over the budget";
    } catch (const DatasetError& e) {
        EXPECT_TRUE(contains(e.what(), "budget")) << e.what();
    }
}

// ---------------------------------------------------------------------------------------------
// 10. FIFOs where files belong

TEST(HostileFifo, ReadersRefuseAFifoWithoutOpeningIt) {
    TempDir dir;
    const fs::path fifo = dir / "pipe.jpg";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    runWithoutHanging(fifo, [&] {
        for (auto read : {&readRgb, &readReduced, &readGray}) {
            try {
                read(fifo);
                ADD_FAILURE() << "read a FIFO";
            } catch (const ImageError& e) {
                EXPECT_TRUE(contains(e.what(), "pipe.jpg")) << e.what();
                EXPECT_TRUE(contains(e.what(), "FIFO")) << e.what();
            }
        }
        std::string why;
        EXPECT_FALSE(imageHeaderSize(fifo, &why));
        EXPECT_TRUE(contains(why, "FIFO")) << why;
        const auto probe = probeImageFile(fifo);
        ASSERT_TRUE(probe);
        EXPECT_TRUE(contains(*probe, "FIFO")) << *probe;
        try {
            readAnnotationFile(fifo);
            ADD_FAILURE() << "read a FIFO";
        } catch (const DatasetError& e) {
            EXPECT_TRUE(contains(e.what(), "FIFO")) << e.what();
        }
        try {
            readListFile(fifo);
            ADD_FAILURE() << "read a FIFO";
        } catch (const DatasetError& e) {
            EXPECT_TRUE(contains(e.what(), "pipe.jpg")) << e.what();
            EXPECT_TRUE(contains(e.what(), "FIFO")) << e.what();
        }
    });
    // A symlink to a FIFO is followed and refused the same way.
    fs::create_symlink(fifo, dir / "link.jpg");
    runWithoutHanging(fifo, [&] { EXPECT_THROW(readRgb(dir / "link.jpg"), ImageError); });
}

TEST_F(HostileDataset, FifosAsImageOrAnnotationAreSkippedAndNamed) {
    fs::remove(image(0));
    ASSERT_EQ(::mkfifo(image(0).c_str(), 0600), 0);
    fs::remove(annotation(1));
    ASSERT_EQ(::mkfifo(annotation(1).c_str(), 0600), 0);
    runWithoutHanging(annotation(1), [&] {
        OpenOptions opt;
        opt.verifyImages = true;
        const Dataset ds = openStanfordDogs(root, opt);
        EXPECT_EQ(ds.test.samples.size(), samples.size() - 2);
        const LoadIssue* img = findIssue(ds.test.report, image(0));
        ASSERT_NE(img, nullptr);
        EXPECT_TRUE(contains(img->message, "FIFO")) << img->message;
        const LoadIssue* ann = findIssue(ds.test.report, annotation(1));
        ASSERT_NE(ann, nullptr);
        EXPECT_TRUE(contains(ann->message, "FIFO")) << ann->message;
    });
}

// ---------------------------------------------------------------------------------------------
// 20. Tiny images are valid images

TEST(TinyImage, OnePixelPngAndJpegDecodeReduced) {
    TempDir dir;
    test::spit(dir / "one.png", encode(".png", 1, 1));
    test::spit(dir / "one.jpg", encode(".jpg", 1, 1));
    test::spit(dir / "png_named.jpg", encode(".png", 1, 1));
    for (const char* name : {"one.png", "one.jpg", "png_named.jpg"}) {
        cv::Mat m = readReduced(dir / name);
        EXPECT_EQ(m.size(), cv::Size(1, 1)) << name;
        EXPECT_EQ(m.type(), CV_8UC3) << name;
        EXPECT_EQ(readRgb(dir / name).size(), cv::Size(1, 1)) << name;
    }
    // Small non-JPEGs decode at full size; large JPEGs still at 1/8.
    test::spit(dir / "small.png", encode(".png", 20, 12));
    EXPECT_EQ(readReduced(dir / "small.png").size(), cv::Size(20, 12));
    test::spit(dir / "big.jpg", encode(".jpg", 640, 480));
    EXPECT_EQ(readReduced(dir / "big.jpg").size(), cv::Size(80, 60));
}

TEST_F(HostileDataset, OnePixelImagesPassVerify) {
    test::spit(image(0), encode(".png", 1, 1));
    test::spit(image(1), encode(".jpg", 1, 1));
    test::spit(annotation(0), annotationXml(1, 1, 0, 0));
    test::spit(annotation(1), annotationXml(1, 1, 0, 0));
    OpenOptions opt;
    opt.verifyImages = true;
    const Dataset ds = openStanfordDogs(root, opt);
    EXPECT_EQ(ds.test.samples.size(), samples.size());
    EXPECT_EQ(ds.test.report.skipped(), 0u);
    for (const auto& i : ds.test.report.issues) ADD_FAILURE() << i.file << ": " << i.message;
}

// ---------------------------------------------------------------------------------------------
// Stable keys and bytes

TEST(StableKeys, ArchiveCacheNameIsAFixedXxh3OfPathAndSizes) {
    const std::string name =
        archiveCacheName("/data/stanford-dogs", 793'579'520, 21'852'160, 481'280);
    EXPECT_EQ(name, "stanford-dogs-9ad5725d9d808cee");
    EXPECT_NE(archiveCacheName("/data/stanford-dogs", 793'579'520, 21'852'160, 481'281), name);
    EXPECT_NE(archiveCacheName("/data/stanford-dog", 793'579'520, 21'852'160, 481'280), name);
}

TEST(StableKeys, MatFilesCarryAFixedHeaderWithoutACreationTime) {
    TempDir dir;
    writeMatFile(dir / "a.mat", {{"file_list", {"a-B/x.jpg"}}}, {{"labels", {1}}});
    const std::string bytes = test::slurp(dir / "a.mat");
    ASSERT_GE(bytes.size(), 128u);
    const std::string text = kMatHeaderText;
    EXPECT_EQ(bytes.substr(0, text.size()), text);
    for (std::size_t i = text.size(); i < 116; ++i)
        EXPECT_TRUE(bytes[i] == ' ' || bytes[i] == '\0') << "header byte " << i;
    writeMatFile(dir / "b.mat", {{"file_list", {"a-B/x.jpg"}}}, {{"labels", {1}}});
    EXPECT_TRUE(test::slurp(dir / "b.mat") == bytes);
}

}  // namespace
}  // namespace camx
