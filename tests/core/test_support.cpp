#include "test_support.h"
#include <pugixml.hpp>

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

#include "data/demo_generator.h"
#include "train/trainer.h"

namespace camx::test {
namespace fs = std::filesystem;

TempDir::TempDir() {
    std::random_device rd;
    m_path =
        fs::temp_directory_path() / ("camx-test-" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(m_path);
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(m_path, ec);
}

void makeSmallDemo(const fs::path& dir, int trainPerBreed, int testPerBreed, int breeds,
                   unsigned long long seed) {
    DemoOptions o;
    o.seed = seed;
    o.trainPerBreed = trainPerBreed;
    o.testPerBreed = testPerBreed;
    o.numBreeds = breeds;
    generateDemoDataset(dir, o);
}

void writeTar(const fs::path& tar, const fs::path& root, const std::vector<std::string>& entries) {
    archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    ASSERT_EQ(archive_write_open_filename(a, tar.c_str()), ARCHIVE_OK);
    std::vector<fs::path> files;
    for (const auto& e : entries) {
        const fs::path p = root / e;
        if (fs::is_directory(p)) {
            for (const auto& f : fs::recursive_directory_iterator(p))
                if (f.is_regular_file()) files.push_back(f.path());
        } else {
            files.push_back(p);
        }
    }
    for (const auto& f : files) {
        const std::string data = slurp(f);
        archive_entry* e = archive_entry_new();
        archive_entry_set_pathname(e, fs::relative(f, root).c_str());
        archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_write_header(a, e);
        archive_write_data(a, data.data(), data.size());
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
}

TrainConfig tinyTrainConfig(int inputSize, std::uint64_t seed) {
    TrainConfig c;
    c.arch = Arch::ResNet18;
    c.baseWidth = 4;
    c.inputSize = inputSize;
    c.epochs = 1;
    c.batchSize = 5;
    c.seed = seed;
    // The same arithmetic on every machine: tests compare runs and numbers. The bf16 path has
    // tests of its own (tests/core/train/precision_test.cpp).
    c.precision = Precision::Fp32;
    return c;
}

void trainTinyModel(const fs::path& datasetDir, const fs::path& out) {
    trainModel(openStanfordDogs(datasetDir), tinyTrainConfig(64, 1), out);
}

fs::path fixture(const std::string& name) {
    return fs::path(CAMX_FIXTURES) / name;
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void spit(const fs::path& p, const std::string& bytes) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
}

}  // namespace camx::test

namespace camx::test {

int pdfPageCount(const std::string& pdf) {
    if (pdf.compare(0, 5, "%PDF-") != 0) return 0;
    int pages = 0;
    for (std::size_t at = pdf.find("/Type /Page"); at != std::string::npos;
         at = pdf.find("/Type /Page", at + 1))
        if (pdf.compare(at, 12, "/Type /Pages") != 0) ++pages;
    return pages;
}

int svgElementCount(const std::filesystem::path& svg) {
    pugi::xml_document doc;
    if (!doc.load_file(svg.c_str())) return 0;
    if (std::string(doc.document_element().name()) != "svg") return 0;
    struct Counter : pugi::xml_tree_walker {
        int n = 0;
        bool for_each(pugi::xml_node& node) override {
            if (node.type() == pugi::node_element) ++n;
            return true;
        }
    } counter;
    doc.traverse(counter);
    return counter.n + 1;  // the root too
}

CheckpointMeta tinyCheckpointMeta() {
    CheckpointMeta m;
    m.arch = Arch::ResNet18;
    m.baseWidth = 2;
    m.classNames = {"a", "b", "c"};
    m.inputSize = 32;
    return m;
}

JobContext stopAfter(CancelToken& stop, std::size_t after) {
    JobContext job;
    job.cancel = &stop;
    job.progress = [&stop, after](const Progress& p) {
        if (p.stage == "Evaluating" && p.done >= after) stop.cancel();
    };
    return job;
}

}  // namespace camx::test
