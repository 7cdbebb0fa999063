#pragma once
// PASCAL VOC (2007, 2012) as its authors distribute it:
//   Annotations/<id>.xml         PASCAL VOC XML: <size>, <object>/<name>, <object>/<bndbox>
//   JPEGImages/<id>.jpg
//   ImageSets/Main/train.txt, val.txt, test.txt (one image id per line); trainval.txt is read
//   (as train) only when neither train.txt nor val.txt is there. The per-class lists
//   (aeroplane_train.txt, ...) are not read.
// The folder given may be the one holding these, or one holding VOCdevkit/VOC2012 or
// VOCdevkit/VOC2007 (VOC2012 first).
// Classes: the sorted object names of every listed annotation. An image's label is the class of
// its largest object (box area clipped to the image; ties: the first in the file), and its boxes
// are the boxes of that class's objects (difficult and truncated ones included). Image sizes come
// from <size>, else from the image's header.

#include <filesystem>
#include <optional>

#include "data/dataset.h"

namespace camx {

// Whether `dir` (or a VOCdevkit/VOC20xx inside it) holds Annotations/, JPEGImages/ and
// ImageSets/Main/; returns that folder.
std::optional<std::filesystem::path> findVocRoot(const std::filesystem::path& dir);

// Throws DatasetError naming the folder or the file at fault.
Dataset openVoc(const std::filesystem::path& dir, const OpenOptions& options);

}  // namespace camx
