#pragma once
// CUB-200-2011 as its authors distribute it (CUB_200_2011.tgz unpacked):
//   images.txt              "<image id> <class folder>/<file>.jpg"
//   image_class_labels.txt  "<image id> <class id, 1-based>"
//   train_test_split.txt    "<image id> <1 train | 0 test>"
//   bounding_boxes.txt      "<image id> <x> <y> <width> <height>" (pixels, floats)
//   classes.txt             "<class id> <class folder>"
//   images/<class folder>/<file>.jpg
// The folder given may be the one holding these files or its parent (CUB_200_2011/ inside).
// A box (x, y, w, h) becomes the inclusive pixel box [x, y, x + w - 1, y + h - 1] (coordinates
// rounded to the nearest pixel): wsolevaluation's metadata writes the same box as
// x0,y0,x1,y1 = x, y, x + w, y + h, one past the last pixel. Image sizes come from the image
// headers. CUB has no validation split.
//
// The archive as downloaded, CUB_200_2011.tgz (a gzip'ed tar of CUB_200_2011/...), is read too:
// given a folder holding it (and no unpacked CUB_200_2011/ beside it), or the .tgz file itself,
// it is unpacked once into OpenOptions::cacheDir (default userCacheDir()/datasets) by
// unpackArchivesToCache (data/archive_cache.h: no path leaves the folder, bounded size, a
// .complete marker written last) under "cub-200-2011-<hash of the archive's path, size and
// modification time>", and reused while the archive is unchanged. A damaged or truncated archive
// throws DatasetError naming it; nothing half-unpacked is kept.

#include <filesystem>
#include <optional>
#include <string>

#include "data/dataset.h"

namespace camx {

// Whether `dir` (or its CUB_200_2011/) holds the authors' files; returns that folder.
std::optional<std::filesystem::path> findCubRoot(const std::filesystem::path& dir);

// The authors' archive: `path` itself when it is a regular file named *.tgz or *.tar.gz, else
// CUB_200_2011.tgz (or CUB_200_2011.tar.gz) in the folder `path`.
std::optional<std::filesystem::path> findCubArchive(const std::filesystem::path& path);

// The cache folder name for `archive`: "cub-200-2011-" and 16 hex digits of an XXH3 hash of its
// canonical path, size and modification time.
std::string cubArchiveCacheName(const std::filesystem::path& archive);

// `dir` (a CUB folder, its parent, a folder holding CUB_200_2011.tgz, or the .tgz itself).
// Throws DatasetError naming the folder or the file at fault, camx::Cancelled when cancelled.
Dataset openCub(const std::filesystem::path& dir, const OpenOptions& options);

}  // namespace camx
