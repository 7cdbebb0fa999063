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

#include <filesystem>

#include "data/dataset.h"

namespace camx {

// Whether `dir` (or its CUB_200_2011/) holds the authors' files; returns that folder.
std::optional<std::filesystem::path> findCubRoot(const std::filesystem::path& dir);

// Throws DatasetError naming the folder or the file at fault.
Dataset openCub(const std::filesystem::path& dir, const OpenOptions& options);

}  // namespace camx
