#pragma once
// Generates the built-in demo dataset: procedurally drawn "dogs" of a few breeds on cluttered
// backgrounds, written in exactly the Stanford Dogs layout (JPEGs, extension-less VOC XML,
// train_list.mat / test_list.mat / file_list.mat), so the same reader loads it.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/job.h"

namespace camx {

struct DemoOptions {
    std::uint64_t seed = 1;
    int trainPerBreed = 90;
    int testPerBreed = 60;
    int numBreeds = 10;          // at most demoBreedFolders().size()
    double twoDogChance = 0.15;  // some images show two dogs of the same breed
    int threads = 0;             // 0: all cores
    bool overwrite = false;      // replace a non-empty output folder
    JobContext job;
};

struct DemoSummary {
    std::size_t trainImages = 0;
    std::size_t testImages = 0;
    std::size_t boxes = 0;
};

// The breed folders the generator knows ("n90000001-Spotted_Pointer", ...).
const std::vector<std::string>& demoBreedFolders();

// Where `packaging/setup.sh demo` (and the start page) keep the demo: the dataset and its model,
// under the user's cache folder.
std::filesystem::path demoDatasetDir();
std::filesystem::path demoModelFile();

// Writes the dataset to `out`. The same options give byte-identical files. The folder appears
// whole or not at all: generation happens in a sibling folder that is renamed at the end.
// Throws std::runtime_error naming the folder when it exists and is not empty (unless
// options.overwrite), or when writing fails; camx::Cancelled when cancelled.
DemoSummary generateDemoDataset(const std::filesystem::path& out, const DemoOptions& options = {});

}  // namespace camx
