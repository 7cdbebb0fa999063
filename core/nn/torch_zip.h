#pragma once
// Our own check of the zip container that torch.save and torch::serialize write, done before
// LibTorch sees a byte: LibTorch's reader treats its input as trusted (pytorch/pytorch#77573,
// "won't fix"), so every offset, size and name in an untrusted file is checked here first. No torch
// types: plain bytes in, a table of records out.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace camx {

// The container is not a well-formed PyTorch zip file. The message names the file and the fault.
class TorchZipError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct ZipRecord {
    std::string name;                // full name, e.g. "archive/data.pkl"
    std::uint64_t headerOffset = 0;  // of the local header
    std::uint64_t dataOffset = 0;    // of the (stored) bytes
    std::uint64_t size = 0;          // uncompressed size
    std::uint64_t storedSize = 0;    // bytes in the file (== size when stored)
    std::uint16_t method = 0;        // 0 stored, 8 deflated (only where the limits allow it)
    std::uint32_t crc32 = 0;
    std::uint64_t centralOffset = 0;  // of the central directory header
};

struct ZipLimits {
    std::size_t maxRecords = 200000;
    std::size_t maxNameLength = 1024;
    bool verifyCrc = true;  // the zip format's own check: a flipped byte in a record is refused
    // Deflated records: torch.save writes none (refused by default); TorchScript archives (our
    // checkpoints) deflate their small code/ and debug records. Bounded by declared size, since
    // that is what an inflater allocates; their CRC is left to the inflater.
    std::uint64_t maxDeflatedRecordBytes = 0;
    std::uint64_t maxDeflatedTotalBytes = 0;
    // readTorchZipDirectory: the most it reads from the file's end for the central directory
    // (and zip64 end record), besides the last 64 KiB that hold the end record.
    std::uint64_t maxDirectoryBytes = 32ull << 20;
};

// The limits for TorchScript archives (checkpoints): some small deflated records allowed.
ZipLimits torchScriptZipLimits();

struct TorchZip {
    std::vector<ZipRecord> records;  // in central directory order
    std::string prefix;              // the shared top folder ("archive"), without '/'
    std::uint64_t recordBytes = 0;   // sum of all stored record sizes (<= the file's size)

    // The record "<prefix>/<name>", or nullptr.
    const ZipRecord* find(const std::string& name) const;
};

// True when the bytes start like a zip file ("PK\3\4").
bool looksLikeZip(const char* data, std::size_t size);

// Parses and checks the end-of-central-directory record (zip64 included), the central directory
// and every local header: a bounded number of records, offsets and sizes inside the file, no
// overlapping records, sane and unique names under one top folder, stored (uncompressed) records
// only unless `limits` allow small deflated ones, and (by default) each stored record's CRC-32.
// Throws TorchZipError naming `name`.
TorchZip validateTorchZip(const char* data, std::size_t size, const std::string& name,
                          const ZipLimits& limits = {});

// Reads `size` bytes at `offset` of a file into `out`, all of them, or throws.
using ZipFileReader = std::function<void(std::uint64_t offset, std::size_t size, char* out)>;

// The container of a file of `fileSize` bytes, read through `read` from its end without reading
// its records: the end-of-central-directory record (zip64 included) and the central directory get
// validateTorchZip's checks, in at most three reads of the file's last 64 KiB + the directory
// (itself at most limits.maxDirectoryBytes). Local headers are not read, so each record's extent is
// judged from its directory entry, dataOffset is left 0 and no CRC is checked: readTorchZipRecord
// reads one record with those checks. Throws TorchZipError naming `name`; what `read` throws
// passes through.
TorchZip readTorchZipDirectory(const ZipFileReader& read, std::uint64_t fileSize,
                               const std::string& name, const ZipLimits& limits = {});

// The bytes of one stored record of `zip` (from readTorchZipDirectory of the same file): its local
// header is read and checked against the directory, its data must end before the next record (or
// the directory), hold at most `maxBytes` and match its CRC-32. Throws TorchZipError naming `name`.
std::string readTorchZipRecord(const ZipFileReader& read, std::uint64_t fileSize,
                               const TorchZip& zip, const ZipRecord& record,
                               const std::string& name, std::uint64_t maxBytes);

std::uint32_t crc32(const void* data, std::size_t size, std::uint32_t crc = 0);

// For fuzzing only: rewrites every record's CRC-32 (local and central headers) so that mutated
// record content reaches the readers behind the CRC check. Leaves unparseable input alone.
void repairZipCrcs(std::string& bytes);

}  // namespace camx
