#pragma once
// TFRecord files, as TensorFlow Datasets writes its shards, and the tf.train.Example records in
// them (internal to camx_data; the TFDS reader and image_io use it, and the evaluation's
// splitDigest recognises in-shard image paths with parseTfdsImagePath).
//
// Framing of each record: uint64 little-endian length, its masked CRC-32C (uint32 LE), `length`
// data bytes, the data's masked CRC-32C. Masked = ((crc >> 15) | (crc << 17)) + 0xa282ead8.
// Both CRCs are checked. CRC-32C (Castagnoli) comes from Boost.CRC (header-only, libboost-dev):
// Debian 12 packages no standalone CRC-32C library for C++.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace camx {

std::uint32_t crc32c(const void* data, std::size_t size);
std::uint32_t maskedCrc32c(const void* data, std::size_t size);

// Largest record read into memory: far above any photo (a Stanford Dogs record is < 1 MB), and
// what a damaged length field can make us allocate.
inline constexpr std::uint64_t kMaxTfRecordBytes = 256ull << 20;

// Reads up to `n` bytes at `offset` into `out` (fewer at the end); false and `why` on an I/O
// error. A shard file (RegularFileReader) or memory (the fuzzer).
using ByteReader =
    std::function<bool(std::uint64_t offset, std::size_t n, std::string& out, std::string& why)>;

// A problem with one record of a shard. `record` is 1-based, `offset` the byte where it starts.
struct TfRecordProblem {
    std::size_t record = 0;
    std::uint64_t offset = 0;
    std::string message;  // "bad data CRC (...); record skipped"
};

// Walks the records of `size` bytes read through `read`, in order. onRecord(record, offset,
// data) gets each record whose CRCs check (record 1-based). A record with a bad data CRC is
// reported and skipped; the framing problems after which nothing further can be located (a bad
// length CRC, a length over kMaxTfRecordBytes, a record cut short, an I/O error) are reported and
// end the walk. `cancelled` (may be empty) is polled between records; the walk returns early
// when it says so. Returns the number of records walked (good or skipped).
std::size_t scanTfRecords(std::uint64_t size, const ByteReader& read,
                          const std::function<void(std::size_t record, std::uint64_t offset,
                                                   const std::string& data)>& onRecord,
                          const std::function<void(const TfRecordProblem&)>& onProblem,
                          const std::function<bool()>& cancelled = {});

// Reads the one record that starts at `offset`, checking both CRCs. False and `why` (without
// the file name) otherwise.
bool readTfRecordAt(std::uint64_t size, const ByteReader& read, std::uint64_t offset,
                    std::string& data, std::string& why);

// The features of one TFDS image example: "image" (encoded bytes), "image/filename", "label"
// (int64) and "objects/bbox" (float list, 4 per box: ymin, xmin, ymax, xmax, normalised).
struct TfdsExample {
    std::string image;
    std::string filename;
    std::optional<std::int64_t> label;
    std::vector<float> bbox;  // n * 4 values
};

// Parses a serialised tf.train.Example with protobuf. Nothing and `why` when the bytes are not
// an Example, or a feature above has the wrong type or count ("image" missing, "objects/bbox"
// not a multiple of 4). With `withImage` false, `image` is left empty.
std::optional<TfdsExample> parseTfdsExample(const std::string& data, bool withImage,
                                            std::string& why);

// Images inside shards are named by a path below the shard file, which no real file can have:
// <shard>/<byte offset of the record>/<image file name>. image_io reads such a path from the
// record (readTfdsImageAt); the rest of the program treats it as any image path.
std::filesystem::path tfdsImagePath(const std::filesystem::path& shard, std::uint64_t offset,
                                    const std::string& fileName);
// Whether `path` has that form (the shard named .tfrecord-*, the offset digits); sets the parts.
bool parseTfdsImagePath(const std::filesystem::path& path, std::filesystem::path* shard,
                        std::uint64_t* offset);
// The image bytes of the record `path` names; false and `why` (naming the shard and the byte
// offset) when the path is not one, the record fails its CRCs, or it holds no image.
bool readTfdsImage(const std::filesystem::path& path, std::string& bytes, std::string& why);

}  // namespace camx
