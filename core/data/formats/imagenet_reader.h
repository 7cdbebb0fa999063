#pragma once
// ImageNet (ILSVRC 2012) validation with its localisation ground truth, in either layout:
//   * Kaggle's "ImageNet Object Localization Challenge":
//       LOC_val_solution.csv     "ImageId,PredictionString", the prediction string being
//                                "<wnid> <xmin> <ymin> <xmax> <ymax>" groups, space separated
//       LOC_synset_mapping.txt   "<wnid> <names, comma separated>", one per class, in class order
//       ILSVRC/Data/CLS-LOC/val/ILSVRC2012_val_00000001.JPEG
//       ILSVRC/Annotations/CLS-LOC/val/ILSVRC2012_val_00000001.xml
//   * the classic one: the validation images (val/ or ILSVRC2012_img_val/, flat or in wnid
//     subfolders) and the per-image PASCAL VOC XML of ILSVRC2012_bbox_val_v3 (in bbox_val/,
//     ILSVRC2012_bbox_val_v3/val/, ILSVRC2012_bbox_val_v3/, or among the images themselves,
//     named ILSVRC*.xml there); the folder given may also be that folder of both itself.
// Images and annotations are matched by file name without extension, whatever the subfolder.
// An image's XML is preferred (it has the image size, so no image is opened); an image with only
// a CSV row gets its size from its header (read on all cores). Coordinates are taken as written,
// as the Stanford Dogs XML are, and clipped to the image.
// Classes: LOC_synset_mapping.txt's order and names (the text after the wnid up to the first
// comma) when present; else the sorted wnids seen (torchvision's order when all 1000 are there),
// each named by its wnid: the compiled-in ImageNet-1k names live in camx_core, which camx_data
// cannot link.
// Label: the class of the image's objects (one per validation image; when there are several, the
// class of the largest object); the sample's boxes are that class's. Everything is in the test
// split: ImageNet validation is the split CAM methods are evaluated on.

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>

#include "data/dataset.h"

namespace camx {

// Whether `dir` holds ImageNet validation with boxes (per-image XML or LOC_val_solution.csv
// beside a folder of validation images).
bool looksLikeImageNet(const std::filesystem::path& dir);

// Throws DatasetError naming the folder or the file at fault.
Dataset openImageNet(const std::filesystem::path& dir, const OpenOptions& options);

}  // namespace camx
