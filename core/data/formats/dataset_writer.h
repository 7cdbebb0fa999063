#pragma once
// Writes a loaded dataset in another layout (make-demo --format): the images are linked (or
// copied where links cannot be made) and the metadata files written as each format's readers
// expect them, so that the same samples read back from any layout.

#include <filesystem>

#include "data/dataset.h"

namespace camx {

// Cub: `out` becomes a CUB_200_2011 folder (images.txt, image_class_labels.txt,
// train_test_split.txt, bounding_boxes.txt, classes.txt, images/). The validation split, which
// CUB lacks, is written as test.
// Wsol: `out`/images holds the images and `out`/metadata the train/, val/, test/ metadata
// (open it with openDataset(out/"images", {.metadataDir = out/"metadata"})).
// Throws DatasetError naming the file that cannot be written, std::invalid_argument for a format
// without a writer.
void writeDatasetAs(const Dataset& ds, const std::filesystem::path& out, DatasetFormat format);

}  // namespace camx
