// openDataset(): which reader a folder needs.
#include <system_error>

#include "data/archive_cache.h"
#include "data/dataset.h"
#include "data/formats/cub_reader.h"
#include "data/formats/wsol_reader.h"

namespace camx {
namespace fs = std::filesystem;

const char* splitName(SplitKind k) {
    switch (k) {
        case SplitKind::Train:
            return "train";
        case SplitKind::Val:
            return "val";
        case SplitKind::Test:
            break;
    }
    return "test";
}

std::optional<SplitKind> parseSplitName(const std::string& name) {
    for (SplitKind k : {SplitKind::Train, SplitKind::Val, SplitKind::Test})
        if (name == splitName(k)) return k;
    return std::nullopt;
}

const char* datasetFormatName(DatasetFormat f) {
    switch (f) {
        case DatasetFormat::StanfordDogs:
            return "stanford-dogs";
        case DatasetFormat::Cub:
            return "cub";
        case DatasetFormat::Wsol:
            return "wsol";
        case DatasetFormat::Auto:
            break;
    }
    return "auto";
}

std::optional<DatasetFormat> parseDatasetFormat(const std::string& name) {
    for (DatasetFormat f : {DatasetFormat::Auto, DatasetFormat::StanfordDogs, DatasetFormat::Cub,
                            DatasetFormat::Wsol})
        if (name == datasetFormatName(f)) return f;
    return std::nullopt;
}

DatasetFormat detectDatasetFormat(const fs::path& dir, std::string* why) {
    std::error_code ec;
    auto has = [&](const fs::path& p) { return fs::exists(p, ec); };
    const bool dogsLists = has(dir / "lists" / "train_list.mat") ||
                           has(dir / "lists" / "test_list.mat") || has(dir / "train_list.mat") ||
                           has(dir / "test_list.mat");
    if ((fs::is_directory(dir / "Images", ec) && dogsLists) ||
        (has(dir / "images.tar") && has(dir / "annotation.tar") && has(dir / "lists.tar")))
        return DatasetFormat::StanfordDogs;
    if (findCubRoot(dir)) return DatasetFormat::Cub;
    if (looksLikeWsolMetadata(dir)) {
        if (why)
            *why =
                "it holds wsolevaluation metadata: give it as the metadata folder (--metadata) "
                "and the image folder as the data";
        return DatasetFormat::Auto;
    }
    if (why)
        *why =
            "expected Stanford Dogs (Images/, Annotation/ and train_list.mat or test_list.mat, "
            "or images.tar, annotation.tar and lists.tar), CUB-200-2011 (images.txt, "
            "image_class_labels.txt, train_test_split.txt, bounding_boxes.txt, classes.txt "
            "and images/), or an image folder with wsolevaluation metadata (given as its metadata "
            "folder: --metadata on the command line)";
    return DatasetFormat::Auto;
}

Dataset openDataset(const fs::path& dir, const OpenOptions& options) {
    std::error_code ec;
    if (!fs::exists(dir, ec)) throw DatasetError("folder '" + dir.string() + "' does not exist");
    if (!fs::is_directory(dir, ec)) throw DatasetError("'" + dir.string() + "' is not a folder");
    DatasetFormat format = options.format;
    if (format == DatasetFormat::Auto && !options.metadataDir.empty()) format = DatasetFormat::Wsol;
    std::string why;
    if (format == DatasetFormat::Auto) format = detectDatasetFormat(dir, &why);
    switch (format) {
        case DatasetFormat::StanfordDogs:
            return openStanfordDogs(dir, options);
        case DatasetFormat::Cub:
            return openCub(dir, options);
        case DatasetFormat::Wsol:
            if (options.metadataDir.empty())
                throw DatasetError("'" + dir.string() +
                                   "': the wsol format needs its metadata folder (--metadata, for "
                                   "example metadata/CUB)");
            return openWsol(dir, options.metadataDir, options);
        case DatasetFormat::Auto:
            break;
    }
    throw DatasetError("'" + dir.string() + "' is not a dataset CAM Explorer reads: " + why);
}

}  // namespace camx
