// Decode + resize throughput on ~500x375 JPEGs: one core, then the loader on every core.
//   bench_decode [DATASET_DIR]   (default: generates a demo dataset in a temp folder)
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "common/fs_util.h"
#include "data/dataset.h"
#include "data/demo_generator.h"
#include "data/image_io.h"
#include "data/loader.h"

using namespace camx;
namespace fs = std::filesystem;

int main(int argc, char** argv) {
    fs::path dir;
    fs::path tmp;
    if (argc > 1) {
        dir = argv[1];
    } else {
        tmp = fs::temp_directory_path() / "camx-bench-decode";
        fs::remove_all(tmp);
        DemoOptions o;
        o.trainPerBreed = 40;
        o.testPerBreed = 10;
        generateDemoDataset(tmp, o);
        dir = tmp;
    }
    const Dataset ds = openStanfordDogs(dir);
    const auto& samples = ds.train.samples;
    using clock = std::chrono::steady_clock;

    // Warm the page cache so that the figures measure decoding, not the disk.
    for (const auto& s : samples) (void)readFile(s.imagePath);

    double pixels = 0;
    auto t0 = clock::now();
    for (const auto& s : samples) {
        cv::Mat rgb = readRgb(s.imagePath);
        pixels += double(rgb.total());
        cv::Mat r = resizeForModel(rgb, 224);
        (void)r;
    }
    const double single = std::chrono::duration<double>(clock::now() - t0).count();
    const double perCore = samples.size() / single;

    LoaderOptions lo;
    lo.batchSize = 32;
    lo.inputSize = 224;
    BatchLoader loader(samples, lo);
    t0 = clock::now();
    loader.startEpoch(0);
    std::size_t n = 0;
    while (auto b = loader.next()) n += static_cast<std::size_t>(b->images.size(0));
    const double all = std::chrono::duration<double>(clock::now() - t0).count();
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());

    std::printf("images            %zu (mean %.0f px)\n", samples.size(), pixels / samples.size());
    std::printf("decode+resize     %.1f img/s on one core\n", perCore);
    std::printf("loader (batches)  %.1f img/s on %u threads = %.2fx one core\n", n / all, cores,
                (n / all) / perCore);
    if (!tmp.empty()) fs::remove_all(tmp);
    return 0;
}
