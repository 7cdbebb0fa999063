#include "data/formats/dataset_writer.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <pugixml.hpp>
#include <set>
#include <sstream>
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
    std::string prefix = std::to_string(index + 1);
    if (prefix.size() < 3) prefix.insert(0, 3 - prefix.size(), '0');
    prefix += '.';
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

// An image's id (file name without extension) and extension, made unique among `used`.
std::pair<std::string, std::string> uniqueId(const Sample& s, std::set<std::string>& used) {
    const fs::path name = fileName(s.relPath);
    const std::string stem = name.stem().string(), ext = name.extension().string();
    std::string id = stem;
    for (int k = 2; !used.insert(id).second; ++k) id = stem + "_" + std::to_string(k);
    return {id, ext.empty() ? std::string(".jpg") : ext};
}

// A PASCAL VOC annotation of one image, every box named `className`.
std::string vocXml(const std::string& folder, const std::string& file, const std::string& database,
                   const Sample& s, const std::string& className) {
    pugi::xml_document doc;
    pugi::xml_node a = doc.append_child("annotation");
    a.append_child("folder").text().set(folder.c_str());
    a.append_child("filename").text().set(file.c_str());
    a.append_child("source").append_child("database").text().set(database.c_str());
    pugi::xml_node size = a.append_child("size");
    size.append_child("width").text().set(s.width);
    size.append_child("height").text().set(s.height);
    size.append_child("depth").text().set(3);
    a.append_child("segmented").text().set(0);
    for (const Box& b : s.boxes) {
        pugi::xml_node o = a.append_child("object");
        o.append_child("name").text().set(className.c_str());
        o.append_child("pose").text().set("Unspecified");
        o.append_child("truncated").text().set(0);
        o.append_child("difficult").text().set(0);
        pugi::xml_node bb = o.append_child("bndbox");
        bb.append_child("xmin").text().set(b.xmin);
        bb.append_child("ymin").text().set(b.ymin);
        bb.append_child("xmax").text().set(b.xmax);
        bb.append_child("ymax").text().set(b.ymax);
    }
    std::ostringstream out;
    doc.save(out, "  ");
    return out.str();
}

// VOC: the classes' folder names when they sort in label order (the reader sorts the object
// names), else "001.<name>" numbered to the number of classes.
std::vector<std::string> vocClassNames(const Dataset& ds) {
    bool usable =
        ds.breedFolders.size() == ds.breedNames.size() &&
        std::is_sorted(ds.breedFolders.begin(), ds.breedFolders.end()) &&
        std::adjacent_find(ds.breedFolders.begin(), ds.breedFolders.end()) == ds.breedFolders.end();
    for (const auto& f : ds.breedFolders)
        usable = usable && !f.empty() && f.find_first_of(" \t\r\n<>&") == std::string::npos;
    if (usable) return ds.breedFolders;
    const std::size_t width = std::max<std::size_t>(3, std::to_string(ds.numClasses()).size());
    std::vector<std::string> names;
    for (std::size_t c = 0; c < ds.breedNames.size(); ++c) {
        const std::string number = std::to_string(c + 1);
        std::string n = ds.breedNames[c];
        std::replace(n.begin(), n.end(), ' ', '_');
        names.push_back(std::string(width - number.size(), '0') + number + "." + n);
    }
    return names;
}

void writeVoc(const Dataset& ds, const fs::path& out) {
    const std::vector<std::string> classes = vocClassNames(ds);
    std::set<std::string> used;
    for (const auto& [kind, data] : splitsOf(ds)) {
        if (data->samples.empty()) continue;
        std::string list;
        for (const Sample& s : data->samples) {
            const auto [id, ext] = uniqueId(s, used);
            placeImage(s.imagePath, out / "JPEGImages" / (id + ext));
            writeText(out / "Annotations" / (id + ".xml"),
                      vocXml("VOC", id + ext, "CAM Explorer", s,
                             classes.at(static_cast<std::size_t>(s.label))));
            list += id + "\n";
        }
        writeText(out / "ImageSets" / "Main" / (std::string(splitName(kind)) + ".txt"), list);
    }
}

// ImageNet: each class's wnid, from its folder ("n02085620-Chihuahua") where every class has a
// distinct one, else made up in class order ("n00000001", ...).
std::vector<std::string> imageNetWnids(const Dataset& ds) {
    std::vector<std::string> wnids;
    std::set<std::string> seen;
    for (const auto& f : ds.breedFolders) {
        const bool isWnid =
            f.size() >= 9 && f[0] == 'n' &&
            std::all_of(f.begin() + 1, f.begin() + 9,
                        [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) &&
            (f.size() == 9 || f[9] == '-');
        if (!isWnid || !seen.insert(f.substr(0, 9)).second) break;
        wnids.push_back(f.substr(0, 9));
    }
    if (wnids.size() == ds.numClasses()) return wnids;
    wnids.clear();
    for (std::size_t c = 0; c < ds.numClasses(); ++c) {
        const std::string number = std::to_string(c + 1);
        wnids.push_back("n" + std::string(8 - std::min<std::size_t>(8, number.size()), '0') +
                        number);
    }
    return wnids;
}

void writeImageNet(const Dataset& ds, const fs::path& out) {
    const std::vector<std::string> wnids = imageNetWnids(ds);
    std::string mapping;
    for (std::size_t c = 0; c < wnids.size(); ++c)
        mapping += wnids[c] + " " + ds.breedNames.at(c) + "\n";
    const SplitData& split = ds.test.samples.empty() ? ds.val : ds.test;
    const fs::path images = out / "ILSVRC" / "Data" / "CLS-LOC" / "val";
    const fs::path annotations = out / "ILSVRC" / "Annotations" / "CLS-LOC" / "val";
    std::set<std::string> used;
    std::string solution = "ImageId,PredictionString\n";
    for (const Sample& s : split.samples) {
        const auto [id, ext] = uniqueId(s, used);
        const std::string& wnid = wnids.at(static_cast<std::size_t>(s.label));
        placeImage(s.imagePath, images / (id + ext));
        writeText(annotations / (id + ".xml"), vocXml("val", id, "ILSVRC_2012", s, wnid));
        solution += id + ",";
        for (const Box& b : s.boxes)  // as Kaggle's file: every group followed by a space
            solution += wnid + " " + std::to_string(b.xmin) + " " + std::to_string(b.ymin) + " " +
                        std::to_string(b.xmax) + " " + std::to_string(b.ymax) + " ";
        solution += "\n";
    }
    writeText(out / "LOC_synset_mapping.txt", mapping);
    writeText(out / "LOC_val_solution.csv", solution);
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
    if (format == DatasetFormat::ImageFolder) {
        // "001.Name": zero-padded to the number of classes, so that the sorted folder names (the
        // reader's label order) keep the labels; classDisplayName() gives the name back.
        const std::size_t width = std::max<std::size_t>(3, std::to_string(folders.size()).size());
        std::vector<std::string> classDirs;
        for (std::size_t c = 0; c < ds.breedNames.size(); ++c) {
            std::string prefix = std::to_string(c + 1);
            prefix = std::string(width - std::min(width, prefix.size()), '0') + prefix + ".";
            std::string name = ds.breedNames[c];
            std::replace(name.begin(), name.end(), ' ', '_');
            std::replace(name.begin(), name.end(), '/', '_');
            classDirs.push_back(prefix + name);
        }
        for (const auto& [kind, data] : splitsOf(ds)) {
            std::set<std::string> used;
            for (const Sample& s : data->samples) {
                std::string rel =
                    classDirs.at(static_cast<std::size_t>(s.label)) + "/" + fileName(s.relPath);
                // Two images of one class with the same name (from different folders) both stay.
                auto dot = rel.rfind('.');
                if (dot == std::string::npos || dot < rel.rfind('/')) dot = rel.size();
                const std::string stem = rel.substr(0, dot), ext = rel.substr(dot);
                for (int k = 2; !used.insert(rel).second; ++k)
                    rel = stem + "_" + std::to_string(k) + ext;
                placeImage(s.imagePath, out / splitName(kind) / rel);
            }
        }
        return;
    }
    if (format == DatasetFormat::Voc) return writeVoc(ds, out);
    if (format == DatasetFormat::ImageNet) return writeImageNet(ds, out);
    throw std::invalid_argument(std::string("no writer for the dataset format '") +
                                datasetFormatName(format) + "'");
}

}  // namespace camx
