#pragma once
// Reading untrusted files without hanging: every reader in core/data goes through these instead of
// opening a path directly. A FIFO, socket or device named as an image, annotation or list would
// otherwise block the reader forever (or read an endless device), so anything that is not a
// regular file (after following symlinks) is refused before it is opened.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace camx {

// Why `path` cannot be read as a regular file, checked with stat() (symlinks followed) and without
// opening it: "does not exist", "is a FIFO (named pipe), not a regular file", "is a folder, not a
// regular file", ... Nothing when it is a regular file. The text does not name the file; callers
// add it.
std::optional<std::string> notRegularFileReason(const std::filesystem::path& path);

// Reads at most `maxBytes` bytes from the start of a regular file into `out` (fewer when the file
// is shorter). Refuses non-regular files before opening them, and opens without blocking and checks
// again on the open descriptor, so a file swapped for a FIFO in between cannot hang the reader.
// With `wholeFile`, a file longer than maxBytes is refused instead of cut. Returns false and sets
// `why` (without the file name) when it cannot.
bool readRegularFile(const std::filesystem::path& path, std::uintmax_t maxBytes, bool wholeFile,
                     std::string& out, std::string& why);

// Reads up to `maxBytes` bytes at `offset` of a regular file (same checks as above).
bool readRegularFileAt(const std::filesystem::path& path, std::uintmax_t offset,
                       std::uintmax_t maxBytes, std::string& out, std::string& why);

// A regular file opened once, with the checks above, for many reads at offsets (a TFRecord shard
// scanned record by record). Not copyable; closes the file when destroyed.
class RegularFileReader {
public:
    RegularFileReader() = default;
    ~RegularFileReader();
    RegularFileReader(const RegularFileReader&) = delete;
    RegularFileReader& operator=(const RegularFileReader&) = delete;

    // Opens `path`; false and `why` (without the file name) when it is not a readable regular file.
    bool open(const std::filesystem::path& path, std::string& why);
    // The size when opened.
    std::uintmax_t size() const { return m_size; }
    // Reads up to `maxBytes` at `offset` into `out` (fewer at the end of the file). False and
    // `why` on a read error.
    bool readAt(std::uintmax_t offset, std::uintmax_t maxBytes, std::string& out,
                std::string& why) const;

private:
    int m_fd = -1;
    std::uintmax_t m_size = 0;
};

// The size of a regular file, or nothing (and `why`) when it is not one or cannot be read.
std::optional<std::uintmax_t> regularFileSize(const std::filesystem::path& path, std::string& why);

// Whether a relative path from a list or an archive stays below its folder: not empty, not
// absolute, no ".." component.
bool isSafeRelativePath(const std::string& rel);

}  // namespace camx
