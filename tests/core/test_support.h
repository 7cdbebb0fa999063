#pragma once
// Helpers shared by the core tests: temporary folders, a small generated demo, tar writing.

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "nn/checkpoint.h"
#include "train/train_config.h"

namespace camx::test {

// A fresh folder under the system temp dir, removed when the object goes away.
class TempDir {
public:
    TempDir();
    ~TempDir();
    const std::filesystem::path& path() const { return m_path; }
    std::filesystem::path operator/(const std::string& s) const { return m_path / s; }

private:
    std::filesystem::path m_path;
};

// Generates a small demo dataset (3 breeds, 4 train + 3 test each, seed 7) into `dir`.
void makeSmallDemo(const std::filesystem::path& dir, int trainPerBreed = 4, int testPerBreed = 3,
                   int breeds = 3, unsigned long long seed = 7);

// Writes a tar archive at `tar` of the folder entries below `root` named in `entries`.
void writeTar(const std::filesystem::path& tar, const std::filesystem::path& root,
              const std::vector<std::string>& entries);

// Trains a tiny ResNet-18 (width 4, 64 px, one epoch) on `dataset`; its best.ckpt lands in `out`.
// Seconds on a CPU: enough for tests of everything downstream of a model.
// A ResNet-18 of base width 4 for one epoch in batches of 5, in fp32: seconds on a CPU.
TrainConfig tinyTrainConfig(int inputSize = 64, std::uint64_t seed = 1);
void trainTinyModel(const std::filesystem::path& datasetDir, const std::filesystem::path& out);

std::filesystem::path fixture(const std::string& name);

// Metadata of a 3-class ResNet-18 of base width 2 at 32 px: the smallest checkpoint worth writing.
CheckpointMeta tinyCheckpointMeta();

}  // namespace camx::test

#include "common/job.h"
#include "data/dataset.h"

namespace camx::test {

// A test suite sharing one generated demo dataset (and, for suites that ask, a tiny model trained
// on it): made once in SetUpTestSuite, removed after the last test.
template <int TrainPerBreed, int TestPerBreed, int Breeds, unsigned Seed, bool WithModel = false>
class DemoSuite : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        s_dir = std::make_unique<TempDir>();
        makeSmallDemo(s_dir->path() / "d", TrainPerBreed, TestPerBreed, Breeds, Seed);
        s_ds = std::make_unique<Dataset>(openStanfordDogs(s_dir->path() / "d"));
        if (WithModel) trainTinyModel(s_dir->path() / "d", s_dir->path() / "m");
    }
    static void TearDownTestSuite() {
        s_ds.reset();
        s_dir.reset();
    }
    static std::filesystem::path dir() { return s_dir->path(); }
    static std::filesystem::path modelFile() { return s_dir->path() / "m" / "best.ckpt"; }
    static inline std::unique_ptr<TempDir> s_dir;
    static inline std::unique_ptr<Dataset> s_ds;
};
std::string slurp(const std::filesystem::path& p);
// Exported figures: the pages of a PDF (page objects, not the page tree), and whether a file is
// well-formed XML with an <svg> root (the number of elements, 0 when it is not).
int pdfPageCount(const std::string& pdfBytes);
int svgElementCount(const std::filesystem::path& svg);
void spit(const std::filesystem::path& p, const std::string& bytes);

// A job that cancels itself once an evaluation has done `after` images (to interrupt one and
// resume it).
JobContext stopAfter(CancelToken& stop, std::size_t after);

}  // namespace camx::test
