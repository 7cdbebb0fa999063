#pragma once
// Helpers shared by the core tests: temporary folders, a small generated demo, tar writing.

#include <filesystem>
#include <string>
#include <vector>

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
void trainTinyModel(const std::filesystem::path& datasetDir, const std::filesystem::path& out);

std::filesystem::path fixture(const std::string& name);
std::string slurp(const std::filesystem::path& p);
void spit(const std::filesystem::path& p, const std::string& bytes);

}  // namespace camx::test
