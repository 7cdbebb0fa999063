#pragma once
// TensorFlow Datasets copies of Stanford Dogs, as tfds.load('stanford_dogs') leaves them under
// ~/tensorflow_datasets/stanford_dogs/<version>/: TFRecord shards
// stanford_dogs-{train,test}.tfrecord-000NN-of-000MM of tf.train.Example records (image,
// image/filename, label, objects/bbox), label.labels.txt (one class per line, in label order) and
// dataset_info.json.
//
// The images stay inside the shards. Opening indexes every shard once (one sequential read,
// both CRCs checked, the small features parsed, each JPEG's header read but nothing decoded) and
// keeps that index in the cache folder, reused while each shard's size and modification time are
// unchanged. A sample's imagePath names its record (tfdsImagePath, data/formats/tfrecord.h);
// image_io reads the JPEG from there when the image is wanted.
//
// Boxes: TFDS stores each as [ymin, xmin, ymax, xmax] divided by the XML's <size> (and clipped to
// at most 1); they become pixels as round(v * side) with the image's own width and height from
// its JPEG header, which gives back the authors' integer coordinates exactly whenever the XML's
// size is the image's size (float32 holds v to 2^-24, far inside the 0.5 that rounding allows
// at any side below 2^22 pixels).
//
// Bad records (a CRC that fails, a record cut short, a shard that is not TFRecord at all, a
// record that is not an image Example) are reported in the split's LoadReport naming the shard
// and the record number; the rest loads.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

#include "data/dataset.h"

namespace camx {

// The TFDS version folder `dir` is (shards in it), or the highest version below it
// (`dir`/<major.minor.patch>/ holding shards). Nothing when it is neither. `note` (when given)
// says which version was chosen when there are several ("stanford_dogs holds versions 0.1.0,
// 0.2.0: reading 0.2.0"); openTfds puts it in Dataset::notes.
std::optional<std::filesystem::path> findTfdsVersionDir(const std::filesystem::path& dir,
                                                        std::string* note = nullptr);

// What opening did with the index cache (for tests and the CLI's info).
struct TfdsIndexStats {
    std::size_t shardsScanned = 0;    // read and indexed now
    std::size_t shardsFromCache = 0;  // taken from the index cache
    std::filesystem::path indexFile;  // where the index is kept
};

// Reads a TFDS copy: `dir` is the version folder or its parent. The index cache lives in
// options.cacheDir (default userCacheDir()/datasets) under tfds-index/. Throws DatasetError naming
// the folder when it holds no shards or no label.labels.txt, or when nothing at all loads;
// camx::Cancelled when cancelled.
Dataset openTfds(const std::filesystem::path& dir, const OpenOptions& options = {},
                 TfdsIndexStats* stats = nullptr);

// A normalised TFDS box coordinate in pixels: round(v * side), v computed in double.
int tfdsCoordinateToPixel(float v, int side);

}  // namespace camx
