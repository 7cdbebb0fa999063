#pragma once
// wsolevaluation's metadata (Choe et al., CVPR 2020; github.com/clovaai/wsolevaluation), the
// official splits of its CUB, ILSVRC and OpenImages benchmarks. The metadata folder (its
// metadata/CUB, metadata/ILSVRC or metadata/OpenImages) holds train/, val/ and test/, each with
//   image_ids.txt      "<image id>", the id being the image's path under the data folder
//   class_labels.txt   "<image id>,<class, 0-based>"
//   localization.txt   "<image id>,<x0>,<y0>,<x1>,<y1>" per box, several lines per image
//                      (x1, y1 one past the last pixel), or, for OpenImages,
//                      "<image id>,<mask png>,<ignore png or empty>" per mask
//   image_sizes.txt    "<image id>,<width>,<height>"
// as data_loaders.py reads them. Boxes become inclusive pixel boxes [x0, y0, x1 - 1, y1 - 1];
// Sample::listedBoxes keeps them as listed for the WSOL protocol. Masks (OpenImages) are paths
// under the data folder (their mask_root is the data root's OpenImages/, the same folder), kept in
// Sample::maskPaths / ignoreMaskPath and read only when scored; such images have no boxes.
// Dataset::benchmark is the metadata folder's name when it is CUB, ILSVRC (or ImageNet) or
// OpenImages. Class names: the folder that holds each class's images where it is one per class
// ("001.Black_footed_Albatross"), else "class N". Sizes come from image_sizes.txt where it lists
// the image, else from the image header.

#include <filesystem>

#include "data/dataset.h"

namespace camx {

// Whether `dir` looks like such a metadata folder (a split folder with image_ids.txt).
bool looksLikeWsolMetadata(const std::filesystem::path& dir);

// Whether `dir` holds both halves side by side, as `make-demo --format wsol` writes them: images/
// (the data folder) and metadata/ (its metadata). Then `dir` alone opens as that pair.
bool isWsolPairFolder(const std::filesystem::path& dir);

// Reads the images under `dataDir` named by the metadata in `metadataDir`. Throws DatasetError
// naming the folder or file at fault.
Dataset openWsol(const std::filesystem::path& dataDir, const std::filesystem::path& metadataDir,
                 const OpenOptions& options);

}  // namespace camx
