#pragma once
// Small file-system helpers that every writer in core shares.

#include <filesystem>
#include <functional>
#include <string>

namespace camx {

// Writes a file atomically: the content goes to a temporary file in the same folder, is flushed
// to disk, and is renamed over the target. A crash at any point leaves either the old file or the
// new one, never a mix. `write` receives the temporary path. Throws std::runtime_error naming the
// target and the cause ("could not write '<file>': No space left on device") when anything fails;
// the temporary file is removed then. Temporaries are named ".<name>.tmp-<pid>-<random>"; those
// of the same target left by processes that no longer exist (killed mid-write) are removed first.
void writeFileAtomically(const std::filesystem::path& target,
                         const std::function<void(const std::filesystem::path& tmp)>& write);

// Convenience for text and binary blobs (POSIX writes: errors carry errno's text).
void writeFileAtomically(const std::filesystem::path& target, const std::string& bytes);

// Reads a whole file; throws std::runtime_error naming the file when it cannot.
std::string readFile(const std::filesystem::path& path);

// The user's cache directory for CAM Explorer ($XDG_CACHE_HOME/cam-explorer or ~/.cache/...).
std::filesystem::path userCacheDir();

}  // namespace camx
