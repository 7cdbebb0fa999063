#include "data/formats/dataset_writer.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "common/fs_util.h"

namespace camx {
namespace fs = std::filesystem;

namespace {
void placeImage(const fs::path& from, const fs::path& to) {
    std::error_code ec;
    fs::create_directories(to.parent_path(), ec);
    if (ec)
        throw DatasetError("cannot create '" + to.parent_path().string() + "': " + ec.message());
    fs::remove(to, ec);
    fs::create_hard_link(from, to, ec);
    if (!ec) return;
    fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
    if (ec) throw DatasetError("cannot write '" + to.string() + "': " + ec.message());
}

void writeText(const fs::path& file, const std::string& text) {
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    try {
        writeFileAtomically(file, text);
    } catch (const std::exception& e) {
        throw DatasetError(e.what());
    }
}

// A class folder name without spaces (CUB's "001.Black_footed_Albatross" form).
std::string cubFolder(std::size_t index, const std::string& name) {
    char prefix[16];
    std::snprintf(prefix, sizeof prefix, "%03zu.", index + 1);
    std::string n = name;
    std::replace(n.begin(), n.end(), ' ', '_');
    std::replace(n.begin(), n.end(), '/', '_');
    return prefix + n;
}

std::string fileName(const std::string& rel) {
    const auto slash = rel.rfind('/');
    return slash == std::string::npos ? rel : rel.substr(slash + 1);
}

std::vector<std::pair<SplitKind, const SplitData*>> splitsOf(const Dataset& ds) {
    return {{SplitKind::Train, &ds.train}, {SplitKind::Val, &ds.val}, {SplitKind::Test, &ds.test}};
}
}  // namespace

void writeDatasetAs(const Dataset& ds, const fs::path& out, DatasetFormat format) {
    std::vector<std::string> folders;
    for (std::size_t c = 0; c < ds.breedNames.size(); ++c)
        folders.push_back(cubFolder(c, ds.breedNames[c]));
    auto relOf = [&](const Sample& s) {
        return folders.at(static_cast<std::size_t>(s.label)) + "/" + fileName(s.relPath);
    };
    if (format == DatasetFormat::Cub) {
        std::string images, labels, split, boxes, classes;
        for (std::size_t c = 0; c < folders.size(); ++c)
            classes += std::to_string(c + 1) + " " + folders[c] + "\n";
        long id = 0;
        for (const auto& [kind, data] : splitsOf(ds))
            for (const Sample& s : data->samples) {
                ++id;
                const std::string rel = relOf(s);
                placeImage(s.imagePath, out / "images" / rel);
                const std::string i = std::to_string(id);
                images += i + " " + rel + "\n";
                labels += i + " " + std::to_string(s.label + 1) + "\n";
                split += i + (kind == SplitKind::Train ? " 1\n" : " 0\n");
                // CUB has one box per image: the first.
                const Box& b = s.boxes.front();
                boxes += i + " " + std::to_string(b.xmin) + ".0 " + std::to_string(b.ymin) + ".0 " +
                         std::to_string(b.xmax - b.xmin + 1) + ".0 " +
                         std::to_string(b.ymax - b.ymin + 1) + ".0\n";
            }
        writeText(out / "images.txt", images);
        writeText(out / "image_class_labels.txt", labels);
        writeText(out / "train_test_split.txt", split);
        writeText(out / "bounding_boxes.txt", boxes);
        writeText(out / "classes.txt", classes);
        return;
    }
    if (format == DatasetFormat::Wsol) {
        for (const auto& [kind, data] : splitsOf(ds)) {
            if (data->samples.empty()) continue;
            std::string ids, labels, loc, sizes;
            for (const Sample& s : data->samples) {
                const std::string rel = relOf(s);
                placeImage(s.imagePath, out / "images" / rel);
                ids += rel + "\n";
                labels += rel + "," + std::to_string(s.label) + "\n";
                for (const Box& b : s.boxes)  // x1, y1: one past the last pixel
                    loc += rel + "," + std::to_string(b.xmin) + "," + std::to_string(b.ymin) + "," +
                           std::to_string(b.xmax + 1) + "," + std::to_string(b.ymax + 1) + "\n";
                sizes +=
                    rel + "," + std::to_string(s.width) + "," + std::to_string(s.height) + "\n";
            }
            const fs::path dir = out / "metadata" / splitName(kind);
            writeText(dir / "image_ids.txt", ids);
            writeText(dir / "class_labels.txt", labels);
            writeText(dir / "localization.txt", loc);
            writeText(dir / "image_sizes.txt", sizes);
        }
        return;
    }
    throw std::invalid_argument(std::string("no writer for the dataset format '") +
                                datasetFormatName(format) + "'");
}

}  // namespace camx
