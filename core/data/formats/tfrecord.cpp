#include "data/formats/tfrecord.h"

#include <boost/crc.hpp>
#include <cstdio>

#include "data/safe_file.h"
#include "example.pb.h"

namespace camx {
namespace fs = std::filesystem;

std::uint32_t crc32c(const void* data, std::size_t size) {
    // Castagnoli polynomial, reflected, initial and final XOR all ones: the CRC-32C of RFC 3720.
    boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> crc;
    crc.process_bytes(data, size);
    return crc.checksum();
}

std::uint32_t maskedCrc32c(const void* data, std::size_t size) {
    const std::uint32_t crc = crc32c(data, size);
    return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

namespace {

std::uint64_t le64(const unsigned char* p) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

std::uint32_t le32(const unsigned char* p) {
    return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
           static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

std::string hex32(std::uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08x", v);
    return buf;
}

enum class Framing { Ok, BadData, Fatal };

// Reads the record at `offset`: its data into `data` and the offset of the next record into
// `next`. BadData: the framing holds (next is valid) but the data CRC does not; Fatal: nothing
// further can be located.
Framing readRecord(std::uint64_t size, const ByteReader& read, std::uint64_t offset,
                   std::string& data, std::uint64_t& next, std::string& why) {
    const std::uint64_t left = size - offset;
    std::string head;
    if (left < 12) {
        why = "truncated record: " + std::to_string(left) +
              " bytes where a 12-byte header was expected";
        return Framing::Fatal;
    }
    if (!read(offset, 12, head, why) || head.size() != 12) {
        if (why.empty()) why = "the file shrank while it was read";
        return Framing::Fatal;
    }
    const auto* h = reinterpret_cast<const unsigned char*>(head.data());
    const std::uint64_t length = le64(h);
    const std::uint32_t lengthCrc = le32(h + 8);
    if (maskedCrc32c(h, 8) != lengthCrc) {
        why = "bad length CRC (stored " + hex32(lengthCrc) + ", computed " +
              hex32(maskedCrc32c(h, 8)) + "): the length field is damaged";
        return Framing::Fatal;
    }
    if (length > kMaxTfRecordBytes) {
        why = "declares " + std::to_string(length) + " bytes, over the " +
              std::to_string(kMaxTfRecordBytes >> 20) + " MB limit on one record";
        return Framing::Fatal;
    }
    if (left - 12 < length + 4) {
        why = "truncated record: it declares " + std::to_string(length) +
              " data bytes and a CRC, only " + std::to_string(left - 12) + " bytes follow";
        return Framing::Fatal;
    }
    std::string body;
    if (!read(offset + 12, static_cast<std::size_t>(length + 4), body, why) ||
        body.size() != length + 4) {
        if (why.empty()) why = "the file shrank while it was read";
        return Framing::Fatal;
    }
    next = offset + 12 + length + 4;
    const std::uint32_t dataCrc = le32(reinterpret_cast<const unsigned char*>(body.data()) +
                                       static_cast<std::size_t>(length));
    body.resize(static_cast<std::size_t>(length));
    const std::uint32_t computed = maskedCrc32c(body.data(), body.size());
    if (computed != dataCrc) {
        why = "bad data CRC (stored " + hex32(dataCrc) + ", computed " + hex32(computed) +
              "): the record's bytes are damaged";
        return Framing::BadData;
    }
    data = std::move(body);
    return Framing::Ok;
}

}  // namespace

std::size_t scanTfRecords(
    std::uint64_t size, const ByteReader& read,
    const std::function<void(std::size_t, std::uint64_t, const std::string&)>& onRecord,
    const std::function<void(const TfRecordProblem&)>& onProblem,
    const std::function<bool()>& cancelled) {
    std::uint64_t offset = 0;
    std::size_t record = 0;
    std::string data, why;
    while (offset < size) {
        if (cancelled && cancelled()) break;
        ++record;
        std::uint64_t next = 0;
        why.clear();
        switch (readRecord(size, read, offset, data, next, why)) {
            case Framing::Ok:
                onRecord(record, offset, data);
                break;
            case Framing::BadData:
                onProblem({record, offset, why + "; record skipped"});
                break;
            case Framing::Fatal:
                onProblem({record, offset,
                           why + "; the rest of the shard (" + std::to_string(size - offset) +
                               " bytes) cannot be read"});
                return record;
        }
        offset = next;
    }
    return record;
}

bool readTfRecordAt(std::uint64_t size, const ByteReader& read, std::uint64_t offset,
                    std::string& data, std::string& why) {
    if (offset >= size) {
        why = "no record at byte " + std::to_string(offset) + ": the file has " +
              std::to_string(size) + " bytes";
        return false;
    }
    std::uint64_t next = 0;
    return readRecord(size, read, offset, data, next, why) == Framing::Ok;
}

std::optional<TfdsExample> parseTfdsExample(const std::string& data, bool withImage,
                                            std::string& why) {
    tensorflow::Example example;
    if (!example.ParseFromString(data)) {
        why = "not a tf.train.Example (protobuf parse failed)";
        return std::nullopt;
    }
    const auto& features = example.features().feature();
    TfdsExample out;
    auto one = [&](const char* key) -> const tensorflow::Feature* {
        const auto it = features.find(key);
        return it == features.end() ? nullptr : &it->second;
    };
    const tensorflow::Feature* image = one("image");
    if (!image || image->kind_case() != tensorflow::Feature::kBytesList ||
        image->bytes_list().value_size() != 1) {
        why = image ? "feature 'image' is not one encoded image (bytes)"
                    : "no feature 'image' (the encoded image)";
        return std::nullopt;
    }
    if (withImage) out.image = image->bytes_list().value(0);
    if (const auto* f = one("image/filename")) {
        if (f->kind_case() != tensorflow::Feature::kBytesList ||
            f->bytes_list().value_size() != 1) {
            why = "feature 'image/filename' is not one text value";
            return std::nullopt;
        }
        out.filename = f->bytes_list().value(0);
    }
    if (const auto* f = one("label")) {
        if (f->kind_case() != tensorflow::Feature::kInt64List ||
            f->int64_list().value_size() != 1) {
            why = "feature 'label' is not one int64 value";
            return std::nullopt;
        }
        out.label = f->int64_list().value(0);
    }
    if (const auto* f = one("objects/bbox")) {
        // An image without objects may have the feature with no values, or of no kind at all.
        if (f->kind_case() == tensorflow::Feature::kFloatList) {
            const auto& v = f->float_list().value();
            if (v.size() % 4 != 0) {
                why = "feature 'objects/bbox' holds " + std::to_string(v.size()) +
                      " values, not 4 per box";
                return std::nullopt;
            }
            out.bbox.assign(v.begin(), v.end());
        } else if (f->kind_case() != tensorflow::Feature::KIND_NOT_SET) {
            why = "feature 'objects/bbox' is not a float list";
            return std::nullopt;
        }
    }
    return out;
}

fs::path tfdsImagePath(const fs::path& shard, std::uint64_t offset, const std::string& fileName) {
    std::string name = fs::path(fileName).filename().string();
    if (name.empty() || name == "." || name == "..") name = "image.jpg";
    return shard / std::to_string(offset) / name;
}

bool parseTfdsImagePath(const fs::path& path, fs::path* shard, std::uint64_t* offset) {
    const fs::path dir = path.parent_path();
    const std::string digits = dir.filename().string();
    if (digits.empty() || digits.size() > 19 ||
        digits.find_first_not_of("0123456789") != std::string::npos)
        return false;
    const fs::path file = dir.parent_path();
    if (file.filename().string().find(".tfrecord") == std::string::npos) return false;
    if (shard) *shard = file;
    if (offset) *offset = std::stoull(digits);
    return true;
}

bool readTfdsImage(const fs::path& path, std::string& bytes, std::string& why) {
    fs::path shard;
    std::uint64_t offset = 0;
    if (!parseTfdsImagePath(path, &shard, &offset)) {
        why = "'" + path.string() + "' names no record of a TFRecord shard";
        return false;
    }
    auto fail = [&](const std::string& what) {
        why = "shard '" + shard.string() + "', record at byte " + std::to_string(offset) + ": " +
              what;
        return false;
    };
    RegularFileReader file;
    std::string ioWhy;
    if (!file.open(shard, ioWhy)) return fail("the shard " + ioWhy);
    const ByteReader read = [&file](std::uint64_t off, std::size_t n, std::string& out,
                                    std::string& w) { return file.readAt(off, n, out, w); };
    std::string data;
    if (!readTfRecordAt(file.size(), read, offset, data, ioWhy)) return fail(ioWhy);
    auto example = parseTfdsExample(data, true, ioWhy);
    if (!example) return fail(ioWhy);
    bytes = std::move(example->image);
    return true;
}

}  // namespace camx
