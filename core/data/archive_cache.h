#pragma once
// The Stanford Dogs archives (images.tar, annotation.tar, lists.tar), unpacked once into the
// user's cache with libarchive: entries that would leave the folder are refused, a stable key names
// the folder, and an interrupted unpack leaves nothing that looks complete.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

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

// Bounds on one unpack, so that a hostile or damaged archive (a gzip bomb) cannot fill the disk:
// at most this many bytes written in all, and never more than the cache's free space at the start;
// at most this many entries.
inline constexpr std::uint64_t kMaxUnpackedBytes = 64ull << 30;
inline constexpr std::uint64_t kMaxUnpackedEntries = 4'000'000;

// The general form (CUB_200_2011.tgz goes through it too): unpacks `archives` (tar files, plain or
// compressed with gzip, bzip2 or xz), in order, into options.cacheDir (default
// userCacheDir()/datasets) / `name`, unless a complete unpack is there already, and returns that
// folder. Only folders and regular files are written (links, devices and FIFOs are left out); an
// entry with an unsafe path, or an unpack over the bounds above, stops it with a DatasetError
// naming the archive. The folder is built as `name`.partial and renamed when complete, with a
// .complete marker; cancelled or failed, the partial folder is removed.
std::filesystem::path unpackArchivesToCache(const std::vector<std::filesystem::path>& archives,
                                            const std::string& name, const OpenOptions& options);

}  // namespace camx
