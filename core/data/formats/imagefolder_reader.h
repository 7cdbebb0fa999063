#pragma once
// A plain folder of class subfolders without boxes, as torchvision's ImageFolder reads it:
//   <class>/<image>, images also in nested folders below a class (<class>/a/b/<image>)
// and, where the folder holds train/, val/ and/or test/ made of such class subfolders, those are
// the splits; otherwise the whole folder is the test split.
//
// As torchvision (datasets/folder.py):
//   * classes are the class folders' names sorted byte-wise (Python's sorted() of the names, so
//     "Zebra" < "apple" < "b"); labels are indices into that list. With splits, the list is the
//     union of every split's classes, sorted, so a label means the same class in each split;
//   * images are the files below a class folder whose names end (case-insensitively) in one of
//     IMG_EXTENSIONS (.jpg .jpeg .png .ppm .bmp .pgm .tif .tiff .webp), found with symbolic links
//     followed, in torchvision's order (folders by path, files by name within each);
//   * a folder below the root holding no such file is no class.
// Unlike torchvision: folders whose names start with a dot (.ipynb_checkpoints) are no classes and
// no splits; a folder reached twice through symbolic links (a loop) is read once and reported; an
// image CAM Explorer cannot read (anything but JPEG and PNG, a damaged header, a truncated JPEG)
// and any other file in a class folder are reported skipped with the reason, never dropped
// silently. Samples have no boxes (nothing is scored by IoU); sizes come from the image headers,
// read on all cores; images are decoded only with OpenOptions::verifyImages. relPath is the
// image's path below its split folder ("cat/a/1.jpg").

#include <filesystem>

#include "data/dataset.h"

namespace camx {

// Whether `dir` looks like class subfolders holding images: a subfolder of it, or of its train/,
// val/ or test/, holds an image file (by extension) directly. Cheap: each folder is listed only
// until its first image, no image is opened.
bool looksLikeImageFolder(const std::filesystem::path& dir);

// Reads the folder (layout above). Throws DatasetError naming the folder when it is missing, holds
// no class folder with images, or no image in it can be read (then naming the first problem),
// camx::Cancelled when cancelled.
Dataset openImageFolder(const std::filesystem::path& dir, const OpenOptions& options);

}  // namespace camx
