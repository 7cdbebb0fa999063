// How fast the index of ImageNet validation opens: 50,000 images of 1,000 synsets in Kaggle's
// layout (tiny valid JPEGs, one XML per image, LOC_val_solution.csv, LOC_synset_mapping.txt),
// opened with openDataset() from the XML and the CSV, from the XML only, and from the CSV only
// (sizes from the image headers). Best of 3 each, page cache warm. Target: <= 3 s.
//   bench_dataset_open [--dir DIR] [--reuse] [--images N]
// The index is generated into DIR (default: <temp>/camx-bench-imagenet-val); with --reuse an
// index generated before (of the same size) is used as it is.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <opencv2/core.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "data/dataset.h"
#include "data/image_io.h"

using namespace camx;
namespace fs = std::filesystem;

namespace {

void writeFile(const fs::path& p, const std::string& text) {
    std::ofstream out(p, std::ios::binary);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + p.string());
}

std::string wnidOf(int c) {
    char w[16];
    std::snprintf(w, sizeof w, "n%08d", 1440764 + c * 7919);
    return w;
}

// The full index under dir/full; dir/csv-only and dir/xml-only share its files (links).
void generate(const fs::path& dir, int images) {
    fs::remove_all(dir);
    const fs::path full = dir / "full";
    const fs::path imgDir = full / "ILSVRC" / "Data" / "CLS-LOC" / "val";
    const fs::path xmlDir = full / "ILSVRC" / "Annotations" / "CLS-LOC" / "val";
    fs::create_directories(imgDir);
    fs::create_directories(xmlDir);
    fs::create_directories(dir / "seeds");
    // A few small, valid JPEGs of different sizes; each image is a hard link to one of them
    // (ext4 allows 65,000 links per file).
    constexpr int kSeeds = 8;
    std::mt19937 rng(7);
    std::vector<std::pair<int, int>> sizes;
    for (int k = 0; k < kSeeds; ++k) {
        const int w = 40 + 8 * k, h = 30 + 6 * k;
        cv::Mat m(h, w, CV_8UC3);
        cv::randu(m, cv::Scalar::all(0), cv::Scalar::all(255));
        writeRgb(dir / "seeds" / (std::to_string(k) + ".jpg"), m, 80);
        sizes.emplace_back(w, h);
    }
    std::string mapping;
    for (int c = 0; c < 1000; ++c) mapping += wnidOf(c) + " class " + std::to_string(c) + ", x\n";
    writeFile(full / "LOC_synset_mapping.txt", mapping);
    std::string csv = "ImageId,PredictionString\n";
    for (int i = 1; i <= images; ++i) {
        char id[40];
        std::snprintf(id, sizeof id, "ILSVRC2012_val_%08d", i);
        const int k = i % kSeeds;
        const auto [w, h] = sizes[static_cast<std::size_t>(k)];
        const std::string wnid = wnidOf((i * 37) % 1000);
        std::error_code ec;
        fs::create_hard_link(dir / "seeds" / (std::to_string(k) + ".jpg"),
                             imgDir / (std::string(id) + ".JPEG"), ec);
        if (ec)
            fs::copy_file(dir / "seeds" / (std::to_string(k) + ".jpg"),
                          imgDir / (std::string(id) + ".JPEG"));
        const int x0 = static_cast<int>(rng() % (w / 2)), y0 = static_cast<int>(rng() % (h / 2));
        const int x1 = x0 + w / 3, y1 = y0 + h / 3;
        auto n = [](int v) { return std::to_string(v); };
        writeFile(xmlDir / (std::string(id) + ".xml"),
                  "<annotation>\n\t<folder>val</folder>\n\t<filename>" + std::string(id) +
                      "</filename>\n\t<source>\n\t\t<database>ILSVRC_2012</database>\n\t</source>"
                      "\n\t<size>\n\t\t<width>" +
                      n(w) + "</width>\n\t\t<height>" + n(h) +
                      "</height>\n\t\t<depth>3</depth>\n\t</size>\n\t<segmented>0</segmented>\n\t"
                      "<object>\n\t\t<name>" +
                      wnid +
                      "</name>\n\t\t<pose>Unspecified</pose>\n\t\t<truncated>0</truncated>\n\t\t"
                      "<difficult>0</difficult>\n\t\t<bndbox>\n\t\t\t<xmin>" +
                      n(x0) + "</xmin>\n\t\t\t<ymin>" + n(y0) + "</ymin>\n\t\t\t<xmax>" + n(x1) +
                      "</xmax>\n\t\t\t<ymax>" + n(y1) +
                      "</ymax>\n\t\t</bndbox>\n\t</object>\n</annotation>\n");
        csv += std::string(id) + "," + wnid + " " + n(x0) + " " + n(y0) + " " + n(x1) + " " +
               n(y1) + " \n";
    }
    writeFile(full / "LOC_val_solution.csv", csv);
    // The same index with one annotation source each: links to the full one's files.
    for (const char* variant : {"csv-only", "xml-only"}) {
        const fs::path v = dir / variant;
        fs::create_directories(v / "ILSVRC" / "Data" / "CLS-LOC");
        fs::create_directory_symlink(imgDir, v / "ILSVRC" / "Data" / "CLS-LOC" / "val");
        fs::create_hard_link(full / "LOC_synset_mapping.txt", v / "LOC_synset_mapping.txt");
        if (std::strcmp(variant, "csv-only") == 0) {
            fs::create_hard_link(full / "LOC_val_solution.csv", v / "LOC_val_solution.csv");
        } else {
            fs::create_directories(v / "ILSVRC" / "Annotations" / "CLS-LOC");
            fs::create_directory_symlink(xmlDir, v / "ILSVRC" / "Annotations" / "CLS-LOC" / "val");
        }
    }
    writeFile(dir / "complete", std::to_string(images) + "\n");
}

}  // namespace

int main(int argc, char** argv) {
    fs::path dir = fs::temp_directory_path() / "camx-bench-imagenet-val";
    bool reuse = false;
    int images = 50000;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--dir" && i + 1 < argc) {
            dir = argv[++i];
        } else if (a == "--reuse") {
            reuse = true;
        } else if (a == "--images" && i + 1 < argc) {
            images = std::max(1, std::atoi(argv[++i]));
        } else {
            std::fprintf(stderr, "usage: bench_dataset_open [--dir DIR] [--reuse] [--images N]\n");
            return 2;
        }
    }
    std::string complete;
    if (std::ifstream in(dir / "complete"); in) std::getline(in, complete);
    if (!reuse || complete != std::to_string(images)) {
        std::printf("generating %d images in %s ...\n", images, dir.c_str());
        const double g = bench::seconds([&] { generate(dir, images); });
        std::printf("generated in %.1f s\n", g);
    } else {
        std::printf("reusing %s\n", dir.c_str());
    }

    std::printf("cores %u\n", std::max(1u, std::thread::hardware_concurrency()));
    std::printf("%-12s %8s %10s %12s\n", "annotations", "images", "best s", "images/s");
    int status = 0;
    for (const char* variant : {"full", "xml-only", "csv-only"}) {
        double best = 1e30;
        std::size_t loaded = 0, issues = 0;
        for (int run = 0; run < 3; ++run) {
            Dataset ds;
            const double t = bench::seconds([&] { ds = openDataset(dir / variant); });
            best = std::min(best, t);
            loaded = ds.test.samples.size();
            issues = ds.test.report.issues.size();
        }
        std::printf("%-12s %8zu %10.3f %12.0f%s\n",
                    std::strcmp(variant, "full") == 0 ? "xml+csv" : variant, loaded, best,
                    static_cast<double>(loaded) / best,
                    best <= 3.0 ? "" : "  (over the 3 s target)");
        if (loaded != static_cast<std::size_t>(images) || issues != 0) {
            std::printf("  expected %d images without issues, got %zu and %zu issues\n", images,
                        loaded, issues);
            status = 1;
        }
    }
    return status;
}
