// openDataset(): which reader a folder needs.
#include <system_error>

#include "data/archive_cache.h"
#include "data/dataset.h"
#include "data/formats/cub_reader.h"
#include "data/formats/imagefolder_reader.h"
#include "data/formats/imagenet_reader.h"
#include "data/formats/tfds_reader.h"
#include "data/formats/voc_reader.h"
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
        case DatasetFormat::ImageNet:
            return "imagenet";
        case DatasetFormat::Voc:
            return "voc";
        case DatasetFormat::ImageFolder:
            return "imagefolder";
        case DatasetFormat::Tfds:
            return "tfds";
        case DatasetFormat::Auto:
            break;
    }
    return "auto";
}

std::optional<DatasetFormat> parseDatasetFormat(const std::string& name) {
    for (DatasetFormat f : {DatasetFormat::Auto, DatasetFormat::StanfordDogs, DatasetFormat::Cub,
                            DatasetFormat::Wsol, DatasetFormat::ImageNet, DatasetFormat::Voc,
                            DatasetFormat::ImageFolder, DatasetFormat::Tfds})
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
    if (findTfdsVersionDir(dir)) return DatasetFormat::Tfds;
    if (findCubRoot(dir) || findCubArchive(dir)) return DatasetFormat::Cub;
    if (findVocRoot(dir)) return DatasetFormat::Voc;
    if (looksLikeImageNet(dir)) return DatasetFormat::ImageNet;
    if (isWsolPairFolder(dir)) return DatasetFormat::Wsol;
    if (looksLikeWsolMetadata(dir)) {
        if (why)
            *why =
                "it holds wsolevaluation metadata: give it as the metadata folder (--metadata) "
                "and the image folder as the data";
        return DatasetFormat::Auto;
    }
    // Last: any folder of class subfolders with images would pass.
    if (looksLikeImageFolder(dir)) return DatasetFormat::ImageFolder;
    if (why)
        *why =
            "expected Stanford Dogs (Images/, Annotation/ and train_list.mat or test_list.mat, "
            "or images.tar, annotation.tar and lists.tar), CUB-200-2011 (images.txt, "
            "image_class_labels.txt, train_test_split.txt, bounding_boxes.txt, classes.txt "
            "and images/, or the archive CUB_200_2011.tgz), PASCAL VOC (Annotations/, "
            "JPEGImages/ and ImageSets/Main/, or VOCdevkit/VOC2012 holding them), ImageNet "
            "validation (LOC_val_solution.csv and ILSVRC/Data/CLS-LOC/val/, or val/ with "
            "its per-image XML in bbox_val/ or ILSVRC2012_bbox_val_v3/val/), class "
            "subfolders holding images "
            "(torchvision's ImageFolder: <class>/<image>.jpg, optionally under train/, val/ and "
            "test/), or an image folder with wsolevaluation metadata (given as its metadata "
            "folder: --metadata on the command line, or beside it as images/ and metadata/), or "
            "a TensorFlow Datasets copy (~/tensorflow_datasets/stanford_dogs/ or its version "
            "folder 0.2.0/, holding stanford_dogs-train.tfrecord-00000-of-000NN shards)";
    return DatasetFormat::Auto;
}

Dataset openDataset(const fs::path& dir, const OpenOptions& options) {
    std::error_code ec;
    if (!fs::exists(dir, ec)) throw DatasetError("folder '" + dir.string() + "' does not exist");
    // CUB_200_2011.tgz as downloaded, given itself.
    if (!fs::is_directory(dir, ec) && options.metadataDir.empty() &&
        (options.format == DatasetFormat::Auto || options.format == DatasetFormat::Cub) &&
        findCubArchive(dir))
        return openCub(dir, options);
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
            if (options.metadataDir.empty() && isWsolPairFolder(dir))
                return openWsol(dir / "images", dir / "metadata", options);
            if (options.metadataDir.empty())
                throw DatasetError("'" + dir.string() +
                                   "': the wsol format needs its metadata folder (--metadata, for "
                                   "example metadata/CUB)");
            return openWsol(dir, options.metadataDir, options);
        case DatasetFormat::ImageNet:
            return openImageNet(dir, options);
        case DatasetFormat::Voc:
            return openVoc(dir, options);
        case DatasetFormat::ImageFolder:
            return openImageFolder(dir, options);
        case DatasetFormat::Tfds:
            return openTfds(dir, options);
        case DatasetFormat::Auto:
            break;
    }
    throw DatasetError("'" + dir.string() + "' is not a dataset CAM Explorer reads: " + why);
}

}  // namespace camx
