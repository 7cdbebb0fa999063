#include "data/dataset.h"

#include <archive.h>
#include <archive_entry.h>
#include <matio.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <pugixml.hpp>
#include <set>
#include <thread>

#include "common/fs_util.h"
#include "common/hash.h"
#include "common/limits.h"
#include "data/image_header.h"
#include "data/image_io.h"
#include "data/mat_io.h"
#include "data/safe_file.h"

namespace camx {
namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Load report

std::size_t LoadReport::skipped() const {
    return static_cast<std::size_t>(std::count_if(issues.begin(), issues.end(), [](const auto& i) {
        return i.kind == LoadIssue::Kind::Skipped;
    }));
}

std::size_t LoadReport::repaired() const {
    return issues.size() - skipped();
}

void LoadReport::add(LoadIssue::Kind kind, std::string file, std::string message) {
    issues.push_back(LoadIssue{kind, std::move(file), std::move(message)});
}

std::string breedDisplayName(const std::string& folder) {
    auto dash = folder.find('-');
    std::string name = dash == std::string::npos ? folder : folder.substr(dash + 1);
    std::replace(name.begin(), name.end(), '_', ' ');
    return name;
}

// ---------------------------------------------------------------------------------------------
// Annotations (PASCAL VOC XML)

namespace {

int parseCoordinate(const pugi::xml_node& parent, const char* name, const char* where) {
    pugi::xml_node n = parent.child(name);
    if (!n) throw DatasetError(std::string("missing <") + name + "> in <" + where + ">");
    const char* text = n.child_value();
    char* end = nullptr;
    errno = 0;
    double v = std::strtod(text, &end);
    while (end && *end && std::isspace(static_cast<unsigned char>(*end))) ++end;
    if (end == text || (end && *end) || errno != 0 || !std::isfinite(v) || std::fabs(v) > 1e7)
        throw DatasetError(std::string("<") + name + "> in <" + where + "> is not a number: '" +
                           text + "'");
    return static_cast<int>(std::lround(v));
}

}  // namespace

Annotation parseAnnotation(const char* data, std::size_t size) {
    pugi::xml_document doc;
    pugi::xml_parse_result res = doc.load_buffer(data, size);
    if (!res)
        throw DatasetError(std::string("malformed XML: ") + res.description() + " at offset " +
                           std::to_string(res.offset));
    pugi::xml_node root = doc.child("annotation");
    if (!root) throw DatasetError("not a PASCAL VOC annotation: no <annotation> element");
    Annotation a;
    pugi::xml_node sz = root.child("size");
    if (!sz) throw DatasetError("missing <size>");
    a.width = parseCoordinate(sz, "width", "size");
    a.height = parseCoordinate(sz, "height", "size");
    if (sz.child("depth")) a.depth = parseCoordinate(sz, "depth", "size");
    if (a.width <= 0 || a.height <= 0)
        throw DatasetError("<size> is " + std::to_string(a.width) + "x" + std::to_string(a.height) +
                           ", not a positive image size");
    // The declared size sets the resolution of everything computed for the image downstream
    // (heatmaps at photo size), so it is bounded like a decoded image.
    const std::string declared = std::to_string(a.width) + "x" + std::to_string(a.height);
    if (a.width > kMaxImageSide || a.height > kMaxImageSide)
        throw DatasetError("<size> declares " + declared + " pixels; a side over " +
                           std::to_string(kMaxImageSide) +
                           " pixels is over the limit for an image side");
    const std::uint64_t pixels =
        static_cast<std::uint64_t>(a.width) * static_cast<std::uint64_t>(a.height);
    if (pixels > pixelBudget())
        throw DatasetError("<size> declares " + declared + " pixels (" + megapixelText(pixels) +
                           "), over the " + megapixelText(pixelBudget()) +
                           " pixel budget (--max-megapixels)");
    for (pugi::xml_node obj : root.children("object")) {
        pugi::xml_node bb = obj.child("bndbox");
        if (!bb) throw DatasetError("an <object> has no <bndbox>");
        Box b;
        b.xmin = parseCoordinate(bb, "xmin", "bndbox");
        b.ymin = parseCoordinate(bb, "ymin", "bndbox");
        b.xmax = parseCoordinate(bb, "xmax", "bndbox");
        b.ymax = parseCoordinate(bb, "ymax", "bndbox");
        a.boxes.push_back(b);
    }
    if (a.boxes.empty()) throw DatasetError("no <object> element (no bounding box)");
    return a;
}

Annotation readAnnotationFile(const fs::path& path) {
    // A VOC annotation is a few hundred bytes; 16 MB is far beyond any real one.
    constexpr std::uintmax_t kMaxAnnotationBytes = 16u << 20;
    std::string bytes, why;
    if (auto reason = notRegularFileReason(path))
        throw DatasetError(*reason == "does not exist" ? std::string("annotation is missing")
                                                       : "annotation " + *reason);
    if (!readRegularFile(path, kMaxAnnotationBytes, true, bytes, why))
        throw DatasetError("annotation " + why);
    return parseAnnotation(bytes.data(), bytes.size());
}

std::optional<Box> sanitizeBox(const Box& raw, int width, int height, bool* clipped) {
    if (clipped) *clipped = false;
    if (raw.xmax < raw.xmin || raw.ymax < raw.ymin) return std::nullopt;
    if (raw.xmax < 0 || raw.ymax < 0 || raw.xmin >= width || raw.ymin >= height)
        return std::nullopt;
    Box b = raw;
    b.xmin = std::max(0, b.xmin);
    b.ymin = std::max(0, b.ymin);
    b.xmax = std::min(width - 1, b.xmax);
    b.ymax = std::min(height - 1, b.ymax);
    // Stanford Dogs writes some right/bottom edges as `width` (one past the last pixel): that is a
    // convention, not damage, so only edges further out count as repaired.
    if (clipped) *clipped = raw.xmin < 0 || raw.ymin < 0 || raw.xmax > width || raw.ymax > height;
    return b;
}

// ---------------------------------------------------------------------------------------------
// List files (.mat, read with matio)

namespace {

struct MatCloser {
    void operator()(mat_t* m) const {
        if (m) Mat_Close(m);
    }
};
struct VarFree {
    void operator()(matvar_t* v) const {
        if (v) Mat_VarFree(v);
    }
};
using VarPtr = std::unique_ptr<matvar_t, VarFree>;

std::size_t elementCount(const matvar_t* v) {
    std::size_t n = 1;
    for (int i = 0; i < v->rank; ++i) n *= v->dims[i];
    return n;
}

bool isColumnOrRow(const matvar_t* v) {
    if (v->rank != 2) return false;
    return v->dims[0] == 1 || v->dims[1] == 1;
}

std::string shapeText(const matvar_t* v) {
    std::string s;
    for (int i = 0; i < v->rank; ++i) s += (i ? "x" : "") + std::to_string(v->dims[i]);
    return s;
}

std::string charArrayToString(const matvar_t* v) {
    if (v->class_type != MAT_C_CHAR) throw DatasetError("a cell does not hold text");
    if (v->rank != 2 || (v->dims[0] > 1 && v->dims[1] > 1))
        throw DatasetError("a cell holds a text matrix of shape " + shapeText(v) +
                           ", not one line");
    const std::size_t n = elementCount(v);
    if (n == 0) return {};
    if (!v->data) throw DatasetError("a text cell has no data");
    std::string out;
    switch (v->data_type) {
        case MAT_T_UINT8:
        case MAT_T_INT8:
        case MAT_T_UTF8: {
            if (v->nbytes < n) throw DatasetError("a text cell is shorter than its shape");
            out.assign(static_cast<const char*>(v->data), n);
            break;
        }
        case MAT_T_UINT16:
        case MAT_T_INT16:
        case MAT_T_UTF16: {
            if (v->nbytes < 2 * n) throw DatasetError("a text cell is shorter than its shape");
            const auto* u = static_cast<const uint16_t*>(v->data);
            for (std::size_t i = 0; i < n; ++i) {
                if (u[i] > 0x7f) throw DatasetError("a path holds a non-ASCII character");
                out.push_back(static_cast<char>(u[i]));
            }
            break;
        }
        default:
            throw DatasetError("a text cell has an unsupported character type");
    }
    return out;
}

double numberAt(const matvar_t* v, std::size_t i) {
    const std::size_t n = elementCount(v);
    if (i >= n || !v->data) throw DatasetError("index past the end");
    auto need = [&](std::size_t width) {
        if (v->nbytes < n * width) throw DatasetError("numeric data shorter than its shape");
    };
    switch (v->class_type) {
        case MAT_C_DOUBLE:
            need(8);
            return static_cast<const double*>(v->data)[i];
        case MAT_C_SINGLE:
            need(4);
            return static_cast<const float*>(v->data)[i];
        case MAT_C_UINT8:
            need(1);
            return static_cast<const uint8_t*>(v->data)[i];
        case MAT_C_INT8:
            need(1);
            return static_cast<const int8_t*>(v->data)[i];
        case MAT_C_UINT16:
            need(2);
            return static_cast<const uint16_t*>(v->data)[i];
        case MAT_C_INT16:
            need(2);
            return static_cast<const int16_t*>(v->data)[i];
        case MAT_C_UINT32:
            need(4);
            return static_cast<const uint32_t*>(v->data)[i];
        case MAT_C_INT32:
            need(4);
            return static_cast<const int32_t*>(v->data)[i];
        case MAT_C_UINT64:
            need(8);
            return static_cast<double>(static_cast<const uint64_t*>(v->data)[i]);
        case MAT_C_INT64:
            need(8);
            return static_cast<double>(static_cast<const int64_t*>(v->data)[i]);
        default:
            throw DatasetError("not a numeric array");
    }
}

}  // namespace

namespace {
// Walks the data elements of a MATLAB level-5 file (recursing into uncompressed matrices and
// cells) and checks that every element fits inside its parent and that a matrix's dimensions fit
// its bytes, before matio allocates what the file claims: a damaged tag otherwise makes matio ask
// for gigabytes. Only element tags, array flags and dimensions are read here; matio parses the
// rest. Compressed elements are left to matio (their sizes are checked when inflated).
class MatContainerCheck {
public:
    MatContainerCheck(std::string bytes, std::string where)
        : m_b(std::move(bytes)), m_where(std::move(where)) {}

    void run() {
        if (m_b.size() < 128) fail("is too short to be a MATLAB file");
        m_swapped = m_b[126] == 'M' && m_b[127] == 'I';
        elements(128, m_b.size(), 0);
    }

private:
    [[noreturn]] void fail(const std::string& why) const {
        throw DatasetError("list file " + m_where + " " + why);
    }
    uint32_t u32(std::size_t at) const {
        const auto* p = reinterpret_cast<const unsigned char*>(m_b.data() + at);
        return m_swapped
                   ? (uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3])
                   : (uint32_t(p[3]) << 24 | uint32_t(p[2]) << 16 | uint32_t(p[1]) << 8 | p[0]);
    }

    // One element at `pos` inside [.., end): returns its type, payload range, and the next
    // position.
    struct Element {
        uint32_t type;
        std::size_t data, size, next;
    };
    Element element(std::size_t pos, std::size_t end) const {
        if (pos + 8 > end) fail("is damaged: an element tag is cut short");
        const uint32_t w0 = u32(pos);
        if (w0 >> 16) {  // small data element: type and size share the first word, data inline
            const uint32_t bytes = w0 >> 16;
            if (bytes > 4)
                fail("is damaged: a small element claims " + std::to_string(bytes) + " bytes");
            return {w0 & 0xffffu, pos + 4, bytes, pos + 8};
        }
        const uint64_t bytes = u32(pos + 4);
        if (pos + 8 + bytes > end)
            fail("is damaged: an element claims " + std::to_string(bytes) +
                 " bytes past the end of its parent");
        const std::size_t next = pos + 8 + ((bytes + 7) & ~uint64_t(7));
        return {w0, pos + 8, static_cast<std::size_t>(bytes), std::min<std::size_t>(next, end)};
    }

    void elements(std::size_t pos, std::size_t end, int depth) {
        if (depth > 16) fail("nests arrays too deeply");
        while (pos + 8 <= end) {
            const Element e = element(pos, end);
            if (e.type == 14) matrix(e.data, e.data + e.size, depth);
            pos = e.next;
        }
    }

    void matrix(std::size_t pos, std::size_t end, int depth) {
        if (pos == end) return;  // an empty matrix
        const Element flags = element(pos, end);
        if (flags.size < 8) fail("is damaged: array flags are too short");
        const uint32_t cls = u32(flags.data) & 0xffu;
        const Element dims = element(flags.next, end);
        if (dims.size < 8 || dims.size % 4) fail("is damaged: array dimensions are malformed");
        uint64_t count = 1;
        for (std::size_t d = 0; d < dims.size; d += 4) {
            count *= u32(dims.data + d);
            if (count > (uint64_t(1) << 32)) fail("is damaged: an array claims too many elements");
        }
        const Element name = element(dims.next, end);
        const std::size_t rest = end - name.next;
        if (cls == 1) {  // cell: every cell is at least an 8-byte tag
            if (count * 8 > rest) fail("is damaged: a cell array claims more cells than it holds");
            elements(name.next, end, depth + 1);
        } else {
            if (cls != 2 && cls != 3 && cls != 5 &&
                count > rest)  // numeric and text: >= 1 byte each
                fail("is damaged: an array claims more values than it holds");
            for (std::size_t at = name.next; at + 8 <= end;)
                at = element(at, end).next;  // its data
        }
    }

    std::string m_b;
    std::string m_where;
    bool m_swapped = false;
};

void checkMatContainer(const fs::path& path, const std::string& where) {
    std::string bytes, why;
    if (!readRegularFile(path, 64u << 20, true, bytes, why))
        throw DatasetError(
            "list file " + where + " " +
            (why.rfind("is too large", 0) == 0 ? why + ": too large for a list" : why));
    MatContainerCheck(std::move(bytes), where).run();
}
}  // namespace

ListFile readListFile(const fs::path& path) {
    initMatio();
    const std::string where = "'" + path.string() + "'";
    if (auto reason = notRegularFileReason(path))
        throw DatasetError("list file " + where + " " +
                           (*reason == "does not exist" ? std::string("is missing") : *reason));
    checkMatContainer(path, where);
    std::unique_ptr<mat_t, MatCloser> mat(Mat_Open(path.c_str(), MAT_ACC_RDONLY));
    if (!mat) throw DatasetError("list file " + where + " is not a MATLAB file matio can read");
    ListFile out;
    VarPtr files(Mat_VarRead(mat.get(), "file_list"));
    if (!files) throw DatasetError("list file " + where + " has no readable variable 'file_list'");
    if (files->class_type != MAT_C_CELL)
        throw DatasetError("list file " + where + ": 'file_list' is not a cell array");
    if (!isColumnOrRow(files.get()))
        throw DatasetError("list file " + where + ": 'file_list' has shape " +
                           shapeText(files.get()) + ", expected N x 1");
    const std::size_t n = elementCount(files.get());
    out.files.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        matvar_t* cell = Mat_VarGetCell(files.get(), static_cast<int>(i));
        if (!cell)
            throw DatasetError("list file " + where + ": 'file_list' entry " +
                               std::to_string(i + 1) + " is empty");
        try {
            out.files.push_back(charArrayToString(cell));
        } catch (const DatasetError& e) {
            throw DatasetError("list file " + where + ": 'file_list' entry " +
                               std::to_string(i + 1) + ": " + e.what());
        }
    }
    VarPtr labels(Mat_VarRead(mat.get(), "labels"));
    if (!labels) throw DatasetError("list file " + where + " has no readable variable 'labels'");
    if (!isColumnOrRow(labels.get()) || elementCount(labels.get()) != n)
        throw DatasetError("list file " + where + ": 'labels' has shape " +
                           shapeText(labels.get()) + ", expected " + std::to_string(n) +
                           " x 1 to match 'file_list'");
    out.labels.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        double v;
        try {
            v = numberAt(labels.get(), i);
        } catch (const DatasetError& e) {
            throw DatasetError("list file " + where + ": 'labels': " + e.what());
        }
        if (!std::isfinite(v) || v < 1 || v > 100000 || v != std::floor(v))
            throw DatasetError("list file " + where + ": label " + std::to_string(i + 1) +
                               " is not a positive whole number");
        out.labels.push_back(static_cast<int>(v));
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Image probing

namespace {
// The cheap check of an image file; on success also gives the size its header declares.
std::optional<std::string> probeImage(const fs::path& path, ImageHeader* headerOut) {
    std::string why;
    const auto size = regularFileSize(path, why);
    if (!size)
        return why == "does not exist" ? std::string("image file is missing") : "image file " + why;
    if (*size == 0) return "empty file";
    std::string head;
    if (!readRegularFile(path, 64u << 10, false, head, why)) return "image file " + why;
    const auto* bytes = reinterpret_cast<const unsigned char*>(head.data());
    const ImageFormat format = sniffImageFormat(bytes, head.size());
    if (format != ImageFormat::Jpeg && format != ImageFormat::Png)
        return "not a JPEG or PNG image (unrecognised header)";
    // The declared size, checked against the pixel budget before anything decodes the file.
    std::optional<ImageHeader> header = parseImageHeader(bytes, head.size(), why);
    if (!header && format == ImageFormat::Jpeg) {  // the frame header may follow large metadata
        if (auto wh = imageHeaderSize(path, &why))
            header = ImageHeader{format, wh->first, wh->second};
    }
    if (!header) return "image file " + why;
    if (auto problem = pixelBudgetProblem(header->width, header->height, path.string()))
        return *problem;
    if (headerOut) *headerOut = *header;
    if (format == ImageFormat::Png) return std::nullopt;
    // A JPEG ends with the EOI marker FF D9, possibly followed by padding. Without it the file
    // was cut short (an interrupted download), and decoders return grey for the lost part.
    const std::uintmax_t tail = std::min<std::uintmax_t>(*size, 256);
    std::string buf;
    if (!readRegularFileAt(path, *size - tail, tail, buf, why)) return "image file " + why;
    for (std::size_t i = buf.size(); i-- > 1;)
        if (static_cast<unsigned char>(buf[i - 1]) == 0xff &&
            static_cast<unsigned char>(buf[i]) == 0xd9)
            return std::nullopt;
    return "truncated JPEG: no end-of-image marker";
}

// Whether an annotation's <size> is far from the image's real size: a side off by more than a
// factor of two, also when width and height are swapped (EXIF rotation).
bool sizesDisagreeWildly(int aw, int ah, int iw, int ih) {
    auto close = [](int a, int b) { return a <= 2 * b && b <= 2 * a; };
    return !(close(aw, iw) && close(ah, ih)) && !(close(aw, ih) && close(ah, iw));
}
}  // namespace

std::optional<std::string> probeImageFile(const fs::path& path) {
    return probeImage(path, nullptr);
}

// ---------------------------------------------------------------------------------------------
// Archives

namespace {

struct ArchiveFree {
    void operator()(archive* a) const {
        if (a) archive_read_free(a);
    }
};
struct WriterFree {
    void operator()(archive* a) const {
        if (a) archive_write_free(a);
    }
};

bool safeRelativePath(const std::string& rel) {
    if (rel.empty() || rel.front() == '/') return false;
    for (const auto& part : fs::path(rel))
        if (part == "..") return false;
    return true;
}

void extractTar(const fs::path& tar, const fs::path& dest, const JobContext& job,
                std::uintmax_t doneBefore, std::uintmax_t totalBytes) {
    std::unique_ptr<archive, ArchiveFree> in(archive_read_new());
    archive_read_support_format_tar(in.get());
    archive_read_support_filter_all(in.get());
    if (archive_read_open_filename(in.get(), tar.c_str(), 1 << 16) != ARCHIVE_OK)
        throw DatasetError("cannot open archive '" + tar.string() +
                           "': " + archive_error_string(in.get()));
    std::unique_ptr<archive, WriterFree> out(archive_write_disk_new());
    archive_write_disk_set_options(out.get(), ARCHIVE_EXTRACT_TIME |
                                                  ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                                  ARCHIVE_EXTRACT_SECURE_SYMLINKS);
    archive_entry* entry = nullptr;
    std::size_t count = 0;
    for (;;) {
        int r = archive_read_next_header(in.get(), &entry);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN)
            throw DatasetError("archive '" + tar.string() +
                               "' is damaged: " + archive_error_string(in.get()));
        const char* name = archive_entry_pathname(entry);
        if (!name || !safeRelativePath(name))
            throw DatasetError("archive '" + tar.string() + "' holds an unsafe path '" +
                               (name ? name : "") + "'");
        const fs::path target = dest / name;
        archive_entry_set_pathname(entry, target.c_str());
        if (archive_write_header(out.get(), entry) < ARCHIVE_WARN)
            throw DatasetError("cannot unpack '" + tar.string() + "' into '" + dest.string() +
                               "': " + archive_error_string(out.get()));
        const void* buf;
        size_t size;
        la_int64_t offset;
        while ((r = archive_read_data_block(in.get(), &buf, &size, &offset)) == ARCHIVE_OK) {
            if (archive_write_data_block(out.get(), buf, size, offset) < ARCHIVE_WARN)
                throw DatasetError("cannot write while unpacking '" + tar.string() +
                                   "': " + archive_error_string(out.get()));
        }
        if (r < ARCHIVE_WARN)
            throw DatasetError("archive '" + tar.string() +
                               "' is damaged or truncated: " + archive_error_string(in.get()));
        archive_write_finish_entry(out.get());
        if (++count % 64 == 0) {
            job.throwIfCancelled();
            job.report(doneBefore + static_cast<std::uintmax_t>(archive_filter_bytes(in.get(), -1)),
                       totalBytes, "Unpacking " + tar.filename().string());
        }
    }
}

bool hasArchives(const fs::path& dir) {
    return fs::is_regular_file(dir / "images.tar") && fs::is_regular_file(dir / "annotation.tar") &&
           fs::is_regular_file(dir / "lists.tar");
}

fs::path findList(const fs::path& root, const char* name) {
    for (const fs::path& p : {root / "lists" / name, root / name})
        if (fs::is_regular_file(p)) return p;
    return root / "lists" / name;
}

bool looksLikeAuthorsLayout(const fs::path& dir) {
    return fs::is_directory(dir / "Images") &&
           (fs::is_regular_file(findList(dir, "train_list.mat")) ||
            fs::is_regular_file(findList(dir, "test_list.mat")));
}

}  // namespace

std::string archiveCacheName(const fs::path& canonicalDir, std::uint64_t imagesTarSize,
                             std::uint64_t annotationTarSize, std::uint64_t listsTarSize) {
    // XXH3 over fixed-width fields: the same on every machine and toolchain, unlike std::hash, so
    // a rebuild never unpacks 750 MB again.
    Hasher h;
    const std::string dir = canonicalDir.string();
    h.updateNumber(dir.size()).update(dir);
    h.updateNumber(imagesTarSize).updateNumber(annotationTarSize).updateNumber(listsTarSize);
    return "stanford-dogs-" + h.hex();
}

namespace {

fs::path unpackArchives(const fs::path& dir, const OpenOptions& options) {
    const fs::path cacheRoot =
        options.cacheDir.empty() ? userCacheDir() / "datasets" : options.cacheDir;
    const auto imagesSize = fs::file_size(dir / "images.tar");
    const auto annotationSize = fs::file_size(dir / "annotation.tar");
    const auto listsSize = fs::file_size(dir / "lists.tar");
    const std::uintmax_t total = imagesSize + annotationSize + listsSize;
    const std::string name =
        archiveCacheName(fs::weakly_canonical(dir), imagesSize, annotationSize, listsSize);
    const fs::path target = cacheRoot / name;
    if (fs::is_regular_file(target / ".complete")) return target;

    const fs::path partial = cacheRoot / (std::string(name) + ".partial");
    std::error_code ec;
    fs::remove_all(partial, ec);
    fs::create_directories(partial, ec);
    if (!fs::is_directory(partial))
        throw DatasetError("cannot create the unpack folder '" + partial.string() + "'");
    try {
        std::uintmax_t done = 0;
        for (const char* a : {"lists.tar", "annotation.tar", "images.tar"}) {
            extractTar(dir / a, partial, options.job, done, total);
            done += fs::file_size(dir / a);
        }
        std::ofstream(partial / ".complete") << "unpacked from " << dir.string() << "\n";
        fs::remove_all(target, ec);
        fs::rename(partial, target);
    } catch (...) {
        fs::remove_all(partial, ec);
        throw;
    }
    return target;
}

std::string stripExtension(const std::string& rel) {
    auto slash = rel.rfind('/');
    auto dot = rel.rfind('.');
    if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return rel;
    return rel.substr(0, dot);
}

std::string folderOf(const std::string& rel) {
    auto slash = rel.find('/');
    return slash == std::string::npos ? std::string() : rel.substr(0, slash);
}

SplitData loadSplit(const fs::path& root, const fs::path& listPath,
                    const std::optional<ListFile>& list,
                    const std::map<std::string, int>& breedIndex, const OpenOptions& options,
                    std::size_t& progressDone, std::size_t progressTotal) {
    SplitData split;
    if (!list) return split;
    split.report.listed = list->files.size();
    const std::string listName = listPath.filename().string();
    for (std::size_t i = 0; i < list->files.size(); ++i) {
        if (i % 256 == 0) {
            options.job.throwIfCancelled();
            options.job.report(progressDone, progressTotal, "Reading " + listName);
        }
        ++progressDone;
        const std::string& rel = list->files[i];
        if (!safeRelativePath(rel) || folderOf(rel).empty()) {
            split.report.add(LoadIssue::Kind::Skipped, listPath.string(),
                             "entry " + std::to_string(i + 1) + " '" + rel +
                                 "' is not a <breed folder>/<image> path");
            continue;
        }
        Sample s;
        s.relPath = rel;
        s.imagePath = root / "Images" / rel;
        s.label = breedIndex.at(folderOf(rel));
        if (s.label != list->labels[i] - 1)
            split.report.add(LoadIssue::Kind::Repaired, listPath.string(),
                             "entry " + std::to_string(i + 1) + " has label " +
                                 std::to_string(list->labels[i]) + " but lies in folder '" +
                                 folderOf(rel) + "'; the folder's breed is used");
        ImageHeader header;
        if (auto err = probeImage(s.imagePath, &header)) {
            split.report.add(LoadIssue::Kind::Skipped, s.imagePath.string(), *err);
            continue;
        }
        const fs::path annPath = root / "Annotation" / stripExtension(rel);
        Annotation ann;
        try {
            ann = readAnnotationFile(annPath);
        } catch (const DatasetError& e) {
            split.report.add(LoadIssue::Kind::Skipped, annPath.string(), e.what());
            continue;
        }
        // Boxes and scores stay in the annotation's coordinates (which parseAnnotation bounded by
        // the pixel budget); a size far from the image's own is worth telling the user, as the
        // annotation may belong to another image.
        if (sizesDisagreeWildly(ann.width, ann.height, header.width, header.height))
            split.report.add(LoadIssue::Kind::Repaired, annPath.string(),
                             "<size> says " + std::to_string(ann.width) + "x" +
                                 std::to_string(ann.height) + " but the image '" +
                                 s.imagePath.string() + "' is " + std::to_string(header.width) +
                                 "x" + std::to_string(header.height) +
                                 " by its header; the annotation may not fit its image (its "
                                 "boxes are kept in its own coordinates)");
        s.width = ann.width;
        s.height = ann.height;
        for (std::size_t b = 0; b < ann.boxes.size(); ++b) {
            bool clipped = false;
            const Box& raw = ann.boxes[b];
            auto box = sanitizeBox(raw, ann.width, ann.height, &clipped);
            const std::string boxText = "box " + std::to_string(b + 1) + " [" +
                                        std::to_string(raw.xmin) + "," + std::to_string(raw.ymin) +
                                        "," + std::to_string(raw.xmax) + "," +
                                        std::to_string(raw.ymax) + "]";
            if (!box) {
                const bool inverted = raw.xmax < raw.xmin || raw.ymax < raw.ymin;
                split.report.add(LoadIssue::Kind::Repaired, annPath.string(),
                                 boxText + (inverted ? " is inverted" : " lies outside the image") +
                                     "; dropped");
                continue;
            }
            if (clipped)
                split.report.add(LoadIssue::Kind::Repaired, annPath.string(),
                                 boxText + " passes the image border " + std::to_string(ann.width) +
                                     "x" + std::to_string(ann.height) + "; clipped");
            s.boxes.push_back(*box);
        }
        if (s.boxes.empty()) {
            split.report.add(LoadIssue::Kind::Skipped, annPath.string(),
                             "no usable bounding box remains");
            continue;
        }
        split.samples.push_back(std::move(s));
    }
    return split;
}

// Decodes every sample at reduced scale on all cores; drops and reports those that fail.
void verifyImages(SplitData& split, const JobContext& job, const std::string& stage) {
    const std::size_t n = split.samples.size();
    std::vector<std::string> errors(n);
    std::atomic<std::size_t> next{0}, done{0};
    std::atomic<bool> stop{false};
    auto worker = [&] {
        for (std::size_t i; !stop && (i = next++) < n;) {
            try {
                readReduced(split.samples[i].imagePath);
            } catch (const ImageError& e) {
                errors[i] = e.what();
            }
            ++done;
        }
    };
    const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) pool.emplace_back(worker);
    while (done < n && !stop) {
        if (job.cancelled()) stop = true;
        job.report(done, n, stage);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    for (auto& t : pool) t.join();
    job.throwIfCancelled();
    std::vector<Sample> kept;
    kept.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        if (errors[i].empty())
            kept.push_back(std::move(split.samples[i]));
        else
            split.report.add(LoadIssue::Kind::Skipped, split.samples[i].imagePath.string(),
                             errors[i]);
    }
    split.samples = std::move(kept);
}

}  // namespace

Dataset openStanfordDogs(const fs::path& dirIn, const OpenOptions& options) {
    std::error_code ec;
    if (!fs::exists(dirIn, ec))
        throw DatasetError("folder '" + dirIn.string() + "' does not exist");
    if (!fs::is_directory(dirIn, ec))
        throw DatasetError("'" + dirIn.string() + "' is not a folder");
    fs::path root = fs::absolute(dirIn);
    if (!looksLikeAuthorsLayout(root)) {
        if (hasArchives(root))
            root = unpackArchives(root, options);
        else
            throw DatasetError(
                "'" + dirIn.string() +
                "' is not a Stanford Dogs folder: expected Images/ and Annotation/ with "
                "train_list.mat or test_list.mat (in lists/ or at the top), or the three archives "
                "images.tar, annotation.tar and lists.tar");
    }

    Dataset ds;
    ds.root = root;
    const fs::path trainPath = findList(root, "train_list.mat");
    const fs::path testPath = findList(root, "test_list.mat");
    std::optional<ListFile> trainList, testList;
    std::vector<std::string> listErrors;
    for (auto [path, slot] : {std::pair{trainPath, &trainList}, std::pair{testPath, &testList}}) {
        try {
            *slot = readListFile(path);
        } catch (const DatasetError& e) {
            listErrors.push_back(e.what());
        }
    }

    // Breeds: sorted folder names (wnid order), as the authors' 1-based labels follow.
    std::set<std::string> folders;
    for (const auto* l : {&trainList, &testList})
        if (*l)
            for (const auto& f : (*l)->files)
                if (!folderOf(f).empty()) folders.insert(folderOf(f));
    ds.breedFolders.assign(folders.begin(), folders.end());
    std::map<std::string, int> breedIndex;
    for (std::size_t i = 0; i < ds.breedFolders.size(); ++i) {
        breedIndex[ds.breedFolders[i]] = static_cast<int>(i);
        ds.breedNames.push_back(breedDisplayName(ds.breedFolders[i]));
    }

    std::size_t done = 0;
    const std::size_t total =
        (trainList ? trainList->files.size() : 0) + (testList ? testList->files.size() : 0);
    ds.train = loadSplit(root, trainPath, trainList, breedIndex, options, done, total);
    ds.test = loadSplit(root, testPath, testList, breedIndex, options, done, total);
    if (!trainList)
        ds.train.report.add(LoadIssue::Kind::Skipped, trainPath.string(), listErrors.front());
    if (!testList)
        ds.test.report.add(LoadIssue::Kind::Skipped, testPath.string(), listErrors.back());
    if (options.verifyImages) {
        verifyImages(ds.train, options.job, "Decoding train images");
        verifyImages(ds.test, options.job, "Decoding test images");
    }
    ds.train.report.loaded = ds.train.samples.size();
    ds.test.report.loaded = ds.test.samples.size();
    options.job.report(total, total, "Loaded");

    if (ds.train.samples.empty() && ds.test.samples.empty()) {
        std::string why;
        for (const auto* r : {&ds.train.report, &ds.test.report})
            for (const auto& i : r->issues) {
                why = i.file + ": " + i.message;
                break;
            }
        throw DatasetError(
            "nothing could be loaded from '" + dirIn.string() + "'" +
            (why.empty() ? std::string(": the lists name no images") : "; first problem: " + why));
    }
    return ds;
}

}  // namespace camx
