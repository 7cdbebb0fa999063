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
// ImageFolder: `out`/train/, `out`/val/ and `out`/test/ (those with samples), each of class folders
// "001.<name>" (numbered so that their sorted order is the label order) holding the images.
// Voc: `out` becomes a PASCAL VOC folder (Annotations/<id>.xml, JPEGImages/,
// ImageSets/Main/train.txt, val.txt, test.txt); the object names are the class folders when they
// sort in label order, else "001.<name>".
// ImageNet: `out` gets Kaggle's layout of the test split (the val split when the test split is
// empty): LOC_val_solution.csv, LOC_synset_mapping.txt, ILSVRC/Data/CLS-LOC/val/ and
// ILSVRC/Annotations/CLS-LOC/val/<id>.xml. The wnids are the class folders' ("n02085620-...")
// when every class has its own, else n00000001, n00000002, ... in class order.
// Throws DatasetError naming the file that cannot be written, std::invalid_argument for a format
// without a writer.
void writeDatasetAs(const Dataset& ds, const std::filesystem::path& out, DatasetFormat format);

}  // namespace camx
