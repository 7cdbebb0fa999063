#pragma once
// The Stanford Dogs archives (images.tar, annotation.tar, lists.tar), unpacked once into the
// user's cache with libarchive: entries that would leave the folder are refused, a stable key names
// the folder, and an interrupted unpack leaves nothing that looks complete.

#include <cstdint>
#include <filesystem>
#include <string>

#include "data/dataset.h"

namespace camx {

// The folder name under the cache into which the three archives in `canonicalDir` are unpacked:
// "stanford-dogs-" and 16 hex digits of an XXH3 hash of the folder's canonical path and the three
// archive sizes. Stable across machines, toolchains and runs.
std::string archiveCacheName(const std::filesystem::path& canonicalDir, std::uint64_t imagesTarSize,
                             std::uint64_t annotationTarSize, std::uint64_t listsTarSize);

// Unpacks the three archives in `dir` into options.cacheDir (default userCacheDir()/datasets),
// unless a complete unpack is there already, and returns that folder. Reports progress and stops
// when cancelled (camx::Cancelled; the partial folder is removed). Throws DatasetError naming the
// archive when one is damaged or holds an unsafe path.
std::filesystem::path unpackArchives(const std::filesystem::path& dir, const OpenOptions& options);

}  // namespace camx
