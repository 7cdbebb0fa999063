#include "nn/torch_zip.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <set>

namespace camx {

namespace {

constexpr std::uint32_t kLocalSig = 0x04034b50;
constexpr std::uint32_t kCentralSig = 0x02014b50;
constexpr std::uint32_t kEndSig = 0x06054b50;
constexpr std::uint32_t kEnd64Sig = 0x06064b50;
constexpr std::uint32_t kLocator64Sig = 0x07064b50;

// Bytes of a file of `size` bytes named `name`. In memory it holds the whole file; read from the
// end of a file (readTorchZipDirectory), only the window [base, size): asking for bytes below it
// throws NeedBytes, and the caller reads more and starts again.
struct NeedBytes {
    std::uint64_t at;
};

class Bytes {
public:
    Bytes(const char* data, std::size_t size, const std::string& name)
        : m_p(reinterpret_cast<const unsigned char*>(data)), m_size(size), m_name(name) {}
    // The window [base, size) of a file of `size` bytes; `data` holds size - base bytes.
    Bytes(const char* data, std::uint64_t base, std::uint64_t size, const std::string& name)
        : m_p(reinterpret_cast<const unsigned char*>(data)),
          m_base(base),
          m_size(size),
          m_name(name) {}
    std::uint64_t size() const { return m_size; }
    [[noreturn]] void fail(const std::string& why) const {
        throw TorchZipError("'" + m_name + "' is not a valid PyTorch zip file: " + why);
    }
    bool has(std::uint64_t at, std::uint64_t n) const { return at <= m_size && n <= m_size - at; }
    void need(std::uint64_t at, std::uint64_t n, const char* what) const {
        if (!has(at, n)) fail(std::string(what) + " lies outside the file");
    }
    std::uint64_t le(std::uint64_t at, unsigned n) const {
        const unsigned char* p = ptr(at, n);
        std::uint64_t v = 0;
        for (unsigned k = 0; k < n; ++k) v |= std::uint64_t(p[k]) << (8 * k);
        return v;
    }
    std::uint16_t u16(std::uint64_t at) const { return static_cast<std::uint16_t>(le(at, 2)); }
    std::uint32_t u32(std::uint64_t at) const { return static_cast<std::uint32_t>(le(at, 4)); }
    std::uint64_t u64(std::uint64_t at) const { return le(at, 8); }
    // The `n` bytes at `at`. Every caller checks the range first; this check backs them up.
    const unsigned char* ptr(std::uint64_t at, std::uint64_t n) const {
        if (!has(at, n)) fail("a read reaches past the end of the file");
        if (at < m_base) throw NeedBytes{at};
        return m_p + (at - m_base);
    }

private:
    const unsigned char* m_p;
    std::uint64_t m_base = 0;
    std::uint64_t m_size;
    const std::string& m_name;
};

const std::array<std::uint32_t, 256>& crcTable() {
    static const std::array<std::uint32_t, 256> table = [] {
        std::array<std::uint32_t, 256> t{};
        for (std::uint32_t i = 0; i < 256; ++i) {
            std::uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[i] = c;
        }
        return t;
    }();
    return table;
}

void checkName(const Bytes& b, const std::string& n, std::size_t maxLength) {
    if (n.empty() || n.size() > maxLength) b.fail("a record has an empty or overlong name");
    for (unsigned char c : n)
        if (c < 0x20 || c == 0x7f || c == '\\') b.fail("a record name holds control characters");
    if (n.front() == '/') b.fail("a record has an absolute name");
    std::size_t start = 0;
    for (;;) {
        const std::size_t slash = n.find('/', start);
        const std::string part =
            n.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
        if (part == "..") b.fail("a record name climbs out of the archive ('..')");
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
}

struct Parsed {
    std::vector<ZipRecord> records;
};

// With `localHeaders` false (readTorchZipDirectory), only the end records and the central directory
// are read: each record's extent is judged from its directory entry (its local extra field, not
// read, counted as empty) and its dataOffset is left 0.
Parsed parse(const Bytes& b, const ZipLimits& limits, bool localHeaders = true) {
    std::uint64_t deflatedTotal = 0;
    const std::uint64_t size = b.size();
    if (size < 22) b.fail("too short for a zip file");
    // End of central directory: the last signature within the final 64 KiB + 22 bytes.
    std::uint64_t eocd = UINT64_MAX;
    const std::uint64_t lowest = size > 22 + 65535 ? size - 22 - 65535 : 0;
    for (std::uint64_t at = size - 22 + 1; at-- > lowest;) {
        if (b.u32(at) == kEndSig && at + 22 + b.u16(at + 20) <= size) {
            eocd = at;
            break;
        }
    }
    if (eocd == UINT64_MAX) b.fail("no end-of-central-directory record (truncated?)");
    std::uint64_t entries = b.u16(eocd + 10);
    std::uint64_t cdSize = b.u32(eocd + 12);
    std::uint64_t cdOffset = b.u32(eocd + 16);
    std::uint64_t cdLimit = eocd;  // the central directory ends before this
    if (b.u16(eocd + 4) != 0 || b.u16(eocd + 6) != 0 || b.u16(eocd + 8) != b.u16(eocd + 10))
        b.fail("multi-disk archives are not supported");
    if (eocd >= 20 && b.u32(eocd - 20) == kLocator64Sig) {
        const std::uint64_t at = b.u64(eocd - 20 + 8);
        if (b.u32(eocd - 20 + 4) != 0 || b.u32(eocd - 20 + 16) > 1)
            b.fail("multi-disk archives are not supported");
        if (at > eocd - 20 || eocd - 20 - at < 56 || b.u32(at) != kEnd64Sig)
            b.fail("the zip64 end-of-central-directory record is missing or misplaced");
        if (b.u32(at + 16) != 0 || b.u32(at + 20) != 0 || b.u64(at + 24) != b.u64(at + 32))
            b.fail("multi-disk archives are not supported");
        entries = b.u64(at + 32);
        cdSize = b.u64(at + 40);
        cdOffset = b.u64(at + 48);
        cdLimit = at;
    } else if (entries == 0xFFFF || cdSize == 0xFFFFFFFF || cdOffset == 0xFFFFFFFF) {
        b.fail("the zip64 end-of-central-directory record is missing");
    }
    if (entries == 0) b.fail("the archive is empty");
    if (entries > limits.maxRecords) b.fail("too many records (" + std::to_string(entries) + ")");
    if (cdOffset > cdLimit || cdSize > cdLimit - cdOffset)
        b.fail("the central directory lies outside the file");
    if (entries > cdSize / 46) b.fail("the central directory is too small for its records");

    Parsed out;
    out.records.reserve(static_cast<std::size_t>(entries));
    std::uint64_t at = cdOffset;
    const std::uint64_t cdEnd = cdOffset + cdSize;
    for (std::uint64_t i = 0; i < entries; ++i) {
        if (at > cdEnd || cdEnd - at < 46 || b.u32(at) != kCentralSig)
            b.fail("central directory record " + std::to_string(i) + " is damaged");
        const unsigned flags = b.u16(at + 8);
        const unsigned method = b.u16(at + 10);
        ZipRecord r;
        r.crc32 = b.u32(at + 16);
        std::uint64_t compSize = b.u32(at + 20);
        std::uint64_t size = b.u32(at + 24);
        const std::uint64_t nameLen = b.u16(at + 28), extraLen = b.u16(at + 30),
                            commentLen = b.u16(at + 32);
        const unsigned disk = b.u16(at + 34);
        std::uint64_t lho = b.u32(at + 42);
        const std::uint64_t total = 46 + nameLen + extraLen + commentLen;
        if (cdEnd - at < total)
            b.fail("central directory record " + std::to_string(i) + " runs past the directory");
        r.name.assign(reinterpret_cast<const char*>(b.ptr(at + 46, nameLen)),
                      static_cast<std::size_t>(nameLen));
        checkName(b, r.name, limits.maxNameLength);
        // Zip64 extended information: the 0xFFFFFFFF fields, in this order.
        {
            std::uint64_t e = at + 46 + nameLen;
            const std::uint64_t eEnd = e + extraLen;
            while (eEnd - e >= 4) {
                const unsigned id = b.u16(e), len = b.u16(e + 2);
                if (eEnd - e - 4 < len) b.fail("record '" + r.name + "' has a damaged extra field");
                if (id == 0x0001) {
                    std::uint64_t f = e + 4;
                    const std::uint64_t fEnd = f + len;
                    auto take = [&](std::uint64_t& v) {
                        if (v != 0xFFFFFFFF) return;
                        if (fEnd - f < 8) b.fail("record '" + r.name + "' has a short zip64 field");
                        v = b.u64(f);
                        f += 8;
                    };
                    take(size);
                    take(compSize);
                    take(lho);
                }
                e += 4 + len;
            }
        }
        if (disk != 0) b.fail("multi-disk archives are not supported");
        if (flags & 0x41) b.fail("record '" + r.name + "' is encrypted");
        // Compressed patched data: no PyTorch writer sets it, and miniz leaks on the error path.
        if (flags & 0x20) b.fail("record '" + r.name + "' holds patched data (zip flag 0x20)");
        if (method == 8 && limits.maxDeflatedRecordBytes > 0) {
            deflatedTotal += std::min<std::uint64_t>(size, UINT64_MAX / 4);
            if (size > limits.maxDeflatedRecordBytes ||
                deflatedTotal > limits.maxDeflatedTotalBytes)
                b.fail("record '" + r.name + "' inflates to " + std::to_string(size) +
                       " bytes, more than a PyTorch archive's compressed records hold");
        } else if (method != 0) {
            b.fail("record '" + r.name + "' is compressed (method " + std::to_string(method) +
                   "); PyTorch writes these records uncompressed");
        } else if (compSize != size) {
            b.fail("record '" + r.name + "' has inconsistent sizes");
        }
        if (!localHeaders) {
            // The least extent the record can have: local header, name, data.
            r.headerOffset = lho;
            r.centralOffset = at;
            r.size = size;
            r.storedSize = compSize;
            r.method = static_cast<std::uint16_t>(method);
            if (!b.has(lho, 30 + nameLen) || !b.has(lho + 30 + nameLen, compSize) ||
                lho + 30 + nameLen + compSize > cdOffset)
                b.fail("record '" + r.name + "' runs past the end of its data area");
            out.records.push_back(std::move(r));
            at += total;
            continue;
        }
        // The local header must agree with the central directory.
        if (!b.has(lho, 30) || b.u32(lho) != kLocalSig)
            b.fail("the local header of record '" + r.name + "' is missing or damaged");
        const std::uint64_t lNameLen = b.u16(lho + 26), lExtraLen = b.u16(lho + 28);
        if (b.u16(lho + 8) != method || lNameLen != nameLen || !b.has(lho + 30, lNameLen) ||
            std::memcmp(b.ptr(lho + 30, r.name.size()), r.name.data(), r.name.size()) != 0)
            b.fail("the local header of record '" + r.name + "' disagrees with the directory");
        r.headerOffset = lho;
        r.centralOffset = at;
        r.dataOffset = lho + 30 + lNameLen + lExtraLen;
        r.size = size;
        r.storedSize = compSize;
        r.method = static_cast<std::uint16_t>(method);
        if (!b.has(r.dataOffset, r.storedSize) || r.dataOffset + r.storedSize > cdOffset)
            b.fail("record '" + r.name + "' runs past the end of its data area");
        out.records.push_back(std::move(r));
        at += total;
    }
    return out;
}

}  // namespace

ZipLimits torchScriptZipLimits() {
    ZipLimits l;
    l.maxDeflatedRecordBytes = 16ull << 20;
    l.maxDeflatedTotalBytes = 64ull << 20;
    return l;
}

const ZipRecord* TorchZip::find(const std::string& name) const {
    const std::string full = prefix + "/" + name;
    for (const auto& r : records)
        if (r.name == full) return &r;
    return nullptr;
}

bool looksLikeZip(const char* data, std::size_t size) {
    return size >= 4 && std::memcmp(data, "PK\x03\x04", 4) == 0;
}

std::uint32_t crc32(const void* data, std::size_t size, std::uint32_t crc) {
    const auto& t = crcTable();
    const auto* p = static_cast<const unsigned char*>(data);
    crc = ~crc;
    for (std::size_t i = 0; i < size; ++i) crc = t[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

namespace {
// The checks across records; with `localHeaders` false (see parse), extents from the directory and
// no CRC (the records were not read).
TorchZip finish(const Bytes& b, Parsed p, const ZipLimits& limits, bool localHeaders) {
    const std::uint64_t size = b.size();
    TorchZip zip;
    // No two records may share bytes (a classic zip-bomb trick), nor a name.
    std::vector<const ZipRecord*> byOffset;
    std::set<std::string> names;
    for (const auto& r : p.records) {
        byOffset.push_back(&r);
        if (!names.insert(r.name).second) b.fail("record '" + r.name + "' appears twice");
    }
    std::sort(byOffset.begin(), byOffset.end(), [](const ZipRecord* x, const ZipRecord* y) {
        return x->headerOffset < y->headerOffset;
    });
    auto end = [&](const ZipRecord& r) {
        return (localHeaders ? r.dataOffset : r.headerOffset + 30 + r.name.size()) + r.storedSize;
    };
    for (std::size_t i = 0; i + 1 < byOffset.size(); ++i)
        if (end(*byOffset[i]) > byOffset[i + 1]->headerOffset)
            b.fail("records '" + byOffset[i]->name + "' and '" + byOffset[i + 1]->name +
                   "' overlap");
    // One shared top folder, as PyTorch writes and reads it.
    const std::string& first = p.records.front().name;
    const std::size_t slash = first.find('/');
    if (slash == std::string::npos || slash == 0) b.fail("records are not under one top folder");
    zip.prefix = first.substr(0, slash);
    for (const auto& r : p.records) {
        if (r.name.compare(0, slash + 1, first, 0, slash + 1) != 0)
            b.fail("record '" + r.name + "' is not under '" + zip.prefix + "/'");
        if (r.method == 0) zip.recordBytes += r.size;
    }
    if (zip.recordBytes > size) b.fail("its records claim more bytes than the file holds");
    if (localHeaders && limits.verifyCrc)
        for (const auto& r : p.records)
            if (r.method == 0 &&
                crc32(b.ptr(r.dataOffset, r.size), static_cast<std::size_t>(r.size)) != r.crc32)
                b.fail("record '" + r.name + "' is corrupt (CRC mismatch)");
    zip.records = std::move(p.records);
    return zip;
}
}  // namespace

TorchZip validateTorchZip(const char* data, std::size_t size, const std::string& name,
                          const ZipLimits& limits) {
    const Bytes b(data, size, name);
    return finish(b, parse(b, limits), limits, true);
}

TorchZip readTorchZipDirectory(const ZipFileReader& read, std::uint64_t fileSize,
                               const std::string& name, const ZipLimits& limits) {
    // The end records lie within the last 64 KiB + 22 bytes (the comment's room), the zip64
    // locator and record just before: read those first, then more from the end as parse asks
    // for it (the zip64 record, the directory), up to the limit.
    constexpr std::uint64_t kEndRoom = 22 + 65535 + 20 + 56;
    const std::uint64_t most = limits.maxDirectoryBytes + kEndRoom;
    std::uint64_t base = fileSize > kEndRoom ? fileSize - kEndRoom : 0;
    std::string window(static_cast<std::size_t>(fileSize - base), '\0');
    if (!window.empty()) read(base, window.size(), window.data());
    for (;;) {
        const Bytes b(window.data(), base, fileSize, name);
        try {
            return finish(b, parse(b, limits, false), limits, false);
        } catch (const NeedBytes& more) {
            if (more.at >= base) b.fail("a read falls outside the file");  // not reached
            if (fileSize - more.at > most)
                b.fail("its central directory takes more than " +
                       std::to_string(limits.maxDirectoryBytes) + " bytes");
            std::string below(static_cast<std::size_t>(base - more.at), '\0');
            read(more.at, below.size(), below.data());
            window.insert(0, below);
            base = more.at;
        }
    }
}

std::string readTorchZipRecord(const ZipFileReader& read, std::uint64_t fileSize,
                               const TorchZip& zip, const ZipRecord& record,
                               const std::string& name, std::uint64_t maxBytes) {
    const std::string window;
    const Bytes b(window.data(), 0, fileSize, name);
    if (record.method != 0)
        b.fail("record '" + record.name + "' is compressed (method " +
               std::to_string(record.method) + ")");
    if (record.size > maxBytes)
        b.fail("record '" + record.name + "' holds " + std::to_string(record.size) +
               " bytes, more than the " + std::to_string(maxBytes) + " it may");
    // Its local header, as validateTorchZip checks it.
    const std::uint64_t lho = record.headerOffset;
    std::string header(30 + record.name.size(), '\0');
    if (!b.has(lho, header.size()))
        b.fail("the local header of record '" + record.name + "' is missing or damaged");
    read(lho, header.size(), header.data());
    const Bytes h(header.data(), header.size(), name);
    if (h.u32(0) != kLocalSig)
        b.fail("the local header of record '" + record.name + "' is missing or damaged");
    if (h.u16(8) != record.method || h.u16(26) != record.name.size() ||
        header.compare(30, std::string::npos, record.name) != 0)
        b.fail("the local header of record '" + record.name + "' disagrees with the directory");
    const std::uint64_t dataOffset = lho + header.size() + h.u16(28);
    // It ends before the next record's header (or the directory, which follows the last).
    std::uint64_t limit = zip.records.empty() ? fileSize : zip.records.front().centralOffset;
    for (const auto& r : zip.records)
        if (r.headerOffset > lho) limit = std::min(limit, r.headerOffset);
    if (!b.has(dataOffset, record.storedSize) || dataOffset + record.storedSize > limit)
        b.fail("record '" + record.name + "' runs past the end of its data area");
    std::string bytes(static_cast<std::size_t>(record.size), '\0');
    if (!bytes.empty()) read(dataOffset, bytes.size(), bytes.data());
    if (crc32(bytes.data(), bytes.size()) != record.crc32)
        b.fail("record '" + record.name + "' is corrupt (CRC mismatch)");
    return bytes;
}

void repairZipCrcs(std::string& bytes) {
    ZipLimits lax = torchScriptZipLimits();
    lax.verifyCrc = false;
    TorchZip zip;
    try {
        zip = validateTorchZip(bytes.data(), bytes.size(), "fuzz", lax);
    } catch (const TorchZipError&) {
        return;
    }
    for (const auto& r : zip.records) {
        if (r.method != 0) continue;
        const std::uint32_t c =
            crc32(bytes.data() + r.dataOffset, static_cast<std::size_t>(r.size));
        for (std::uint64_t at : {r.headerOffset + 14, r.centralOffset + 16})
            for (int k = 0; k < 4; ++k) bytes[at + k] = static_cast<char>((c >> (8 * k)) & 0xff);
    }
}

}  // namespace camx
