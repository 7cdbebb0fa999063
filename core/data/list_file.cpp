// List files: train_list.mat / test_list.mat read with matio, after our own walk of the level-5
// container has checked every element size a damaged file could make matio allocate.
#include <matio.h>

#include <cmath>
#include <cstring>
#include <memory>

#include "data/dataset.h"
#include "data/mat_io.h"
#include "data/safe_file.h"

namespace camx {
namespace fs = std::filesystem;

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
        // Level 5 only (what the authors and SciPy write): the endian mark "IM" or "MI" and
        // version 0x0100. Without them matio reads the file as level 4, whose header sizes it
        // allocates before any check (1.6 GB for a 129-byte file, found by fuzzing).
        const bool im = m_b[126] == 'I' && m_b[127] == 'M', mi = m_b[126] == 'M' && m_b[127] == 'I';
        if (!im && !mi) fail("is not a MATLAB level 5 file (no endian mark at byte 126)");
        m_swapped = mi;
        if (u16(124) != 0x0100) fail("is not a MATLAB level 5 file (version is not 0x0100)");
        elements(128, m_b.size(), 0);
    }

private:
    [[noreturn]] void fail(const std::string& why) const {
        throw DatasetError("list file " + m_where + " " + why);
    }
    uint16_t u16(std::size_t at) const {
        const auto* p = reinterpret_cast<const unsigned char*>(m_b.data() + at);
        return m_swapped ? uint16_t(p[0] << 8 | p[1]) : uint16_t(p[1] << 8 | p[0]);
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

}  // namespace camx
