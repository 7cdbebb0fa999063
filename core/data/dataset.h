#pragma once
// Datasets read into plain values: one Dataset of splits of Samples, whatever the format.
// openDataset() detects the format (or is told it) and calls its reader:
//   * Stanford Dogs (below);
//   * CUB-200-2011 as its authors distribute it (data/formats/cub_reader.h);
//   * wsolevaluation's metadata for CUB, ImageNet and OpenImages (data/formats/wsol_reader.h);
//   * ImageNet (ILSVRC) validation: per-image XML or LOC_val_solution.csv
//     (data/formats/imagenet_reader.h);
//   * PASCAL VOC (data/formats/voc_reader.h);
//   * a plain folder of class subfolders without boxes, torchvision's ImageFolder
//     (data/formats/imagefolder_reader.h);
//   * a TensorFlow Datasets copy of Stanford Dogs: TFRecord shards, label.labels.txt
//     (data/formats/tfds_reader.h).
//
// Stanford Dogs layouts read by openStanfordDogs():
//   * the authors' layout: Images/<wnid>-<Breed>/*.jpg, Annotation/<wnid>-<Breed>/<name> (PASCAL
//     VOC XML without extension) and train_list.mat / test_list.mat in lists/ or at the root;
//   * a folder holding images.tar, annotation.tar and lists.tar, unpacked once into a cache.
//
// Bad items never stop the load: each is skipped (or repaired, for boxes that pass the border)
// and recorded in the split's LoadReport with the file and what is wrong. Only a folder from which
// nothing at all can be loaded throws DatasetError.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/box.h"
#include "common/job.h"

namespace camx {

struct Sample {
    // Absolute path of the JPEG; for an image inside a TFRecord shard, a path below the shard
    // that image_io reads from the record (data/formats/tfrecord.h).
    std::filesystem::path imagePath;
    std::string relPath;        // as listed: "n02085620-Chihuahua/n02085620_10074.jpg"
    int label = -1;             // 0-based class index
    int width = 0, height = 0;  // from the annotation's <size>, else the image's header
    std::vector<Box> boxes;     // every object, clipped to the image; none where the dataset has no
                                // boxes (an image folder): then nothing is scored by IoU
    // The boxes exactly as the metadata lists them, before clipping, where a protocol scores
    // against those (wsolevaluation's localization.txt: x1 may equal the width). Empty: `boxes`.
    std::vector<Box> listedBoxes;
    // Segmentation masks (OpenImages in wsolevaluation's layout): one file per instance, and the
    // one `ignore` mask of the image (empty when it has none). Paths are absolute.
    std::vector<std::filesystem::path> maskPaths;
    std::filesystem::path ignoreMaskPath;

    bool hasBoxes() const { return !boxes.empty(); }
    bool hasMasks() const { return !maskPaths.empty(); }
};

struct LoadIssue {
    enum class Kind { Skipped, Repaired };
    Kind kind = Kind::Skipped;
    std::string file;     // the file at fault
    std::string message;  // what is wrong with it
};

struct LoadReport {
    std::size_t listed = 0;  // entries named by the list file
    std::size_t loaded = 0;  // entries that made it into the split
    std::vector<LoadIssue> issues;

    std::size_t skipped() const;
    std::size_t repaired() const;
    void add(LoadIssue::Kind kind, std::string file, std::string message);
};

struct SplitData {
    std::vector<Sample> samples;
    LoadReport report;
};

enum class SplitKind { Train, Val, Test };
// "train", "val", "test".
const char* splitName(SplitKind k);
std::optional<SplitKind> parseSplitName(const std::string& name);

enum class DatasetFormat { Auto, StanfordDogs, Cub, Wsol, ImageNet, Voc, ImageFolder, Tfds };
// "stanford-dogs", "cub", "wsol", "imagenet", "voc", "imagefolder", "tfds" ("auto" for Auto):
// the names --format takes.
const char* datasetFormatName(DatasetFormat f);
std::optional<DatasetFormat> parseDatasetFormat(const std::string& name);

struct Dataset {
    std::filesystem::path root;  // the folder the images are under
    DatasetFormat format = DatasetFormat::StanfordDogs;
    // One per class, in label order. The folder (or id) names the class in the files
    // ("n02085620-Chihuahua", "001.Black_footed_Albatross"); the name is for people ("Chihuahua").
    std::vector<std::string> breedFolders;
    std::vector<std::string> breedNames;
    // Where an image's single class label comes from when that is not obvious, for the UI and
    // the load report (VOC: "the class of the image's largest object"). Empty otherwise.
    std::string labelRule;
    // The WSOL benchmark this dataset is, where it is one ("CUB", "ILSVRC", "OpenImages"): the
    // dashboard puts the published figures for it beside the user's. Empty otherwise.
    std::string benchmark;
    // What the user should know about how the folder was read, beside the per-file issues (a
    // TFDS copy holding several versions: which one was read). Shown in the load report and by
    // `check-data`.
    std::vector<std::string> notes;
    SplitData train;
    SplitData val;  // empty where the dataset has no validation split
    SplitData test;

    const SplitData& split(SplitKind k) const {
        return k == SplitKind::Train ? train : k == SplitKind::Val ? val : test;
    }
    std::size_t numClasses() const { return breedFolders.size(); }
};

class DatasetError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct OpenOptions {
    // Auto: detected from the folder (detectDatasetFormat).
    DatasetFormat format = DatasetFormat::Auto;
    // wsolevaluation's metadata folder for the dataset (metadata/CUB: train/, val/, test/ with
    // image_ids.txt, class_labels.txt, localization.txt, image_sizes.txt). Given, it means Wsol.
    std::filesystem::path metadataDir;
    // Decode every image (at reduced scale) instead of checking headers and end markers only.
    bool verifyImages = false;
    // Where archives are unpacked; empty means userCacheDir()/datasets.
    std::filesystem::path cacheDir;
    JobContext job;
};

// Reads a dataset in any format: options.format, else Wsol when options.metadataDir is given, else
// what detectDatasetFormat() finds. Throws DatasetError naming the folder when it is none of
// them or holds no loadable split, camx::Cancelled when cancelled.
Dataset openDataset(const std::filesystem::path& dir, const OpenOptions& options = {});
// The format a folder holds by its files (Auto when none is recognised; `why` then says what each
// format would need).
DatasetFormat detectDatasetFormat(const std::filesystem::path& dir, std::string* why = nullptr);

// Reads a Stanford Dogs folder in either layout. Throws DatasetError naming the folder when it
// holds no loadable split (empty, wrong folder, or every list unreadable), camx::Cancelled when
// cancelled.
Dataset openStanfordDogs(const std::filesystem::path& dir, const OpenOptions& options = {});

// A class folder as people read it: "n02116738-African_hunting_dog" -> "African hunting dog",
// "001.Black_footed_Albatross" -> "Black footed Albatross".
std::string classDisplayName(const std::string& folder);

// "n02116738-African_hunting_dog" -> "African hunting dog".
std::string breedDisplayName(const std::string& folder);

// The annotation of one image, parsed from PASCAL VOC XML.
struct Annotation {
    int width = 0, height = 0, depth = 0;
    std::vector<Box> boxes;  // raw, as written (may be inverted or pass the border)
    // Each object's <name> (trimmed; empty when it has none), in the order of `boxes`: the class
    // in ImageNet ("n01751748") and PASCAL VOC ("dog") annotations.
    std::vector<std::string> names;
};

// Parses annotation XML held in memory. Throws DatasetError with a message (without the file
// name, which the caller adds) when the XML is malformed or lacks <size> or <object>/<bndbox>, or
// when <size> declares more than camx::pixelBudget() pixels or a side over kMaxImageSide (the size
// sets the resolution of what is computed for the image downstream). Entities are not expanded.
// With `sizeRequired` false, a missing <size> or one of 0x0 gives width = height = 0 (the caller
// then reads the image's header) instead of an error.
Annotation parseAnnotation(const char* data, std::size_t size, bool sizeRequired = true);
// The same from a file; refuses anything that is not a regular file (a FIFO would block) before
// opening it, and files over 16 MB. Messages do not name the file either.
Annotation readAnnotationFile(const std::filesystem::path& path, bool sizeRequired = true);

// One list file (train_list.mat / test_list.mat): the relative image paths and 1-based labels.
struct ListFile {
    std::vector<std::string> files;  // "n02085620-Chihuahua/n02085620_10074.jpg"
    std::vector<int> labels;         // 1-based, as stored
};

// Reads a MATLAB level-5 list with matio. Throws DatasetError naming the file and the variable
// when a variable is missing or has an unexpected type or shape.
ListFile readListFile(const std::filesystem::path& path);

// Checks an image file cheaply (a regular file, known signature, declared size within
// camx::pixelBudget(), JPEG end marker) without decoding it. Returns an error message, or nothing
// when it looks fine. PNG data under a .jpg name is fine.
std::optional<std::string> probeImageFile(const std::filesystem::path& path);

// Clips a raw box to a width x height image. Returns nothing when the box is inverted or lies
// wholly outside; sets *clipped when it had to move an edge.
std::optional<Box> sanitizeBox(const Box& raw, int width, int height, bool* clipped);

}  // namespace camx
