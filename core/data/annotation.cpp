// Annotations: PASCAL VOC XML (pugixml, entities never expanded), with the declared image size
// bounded before anything downstream sizes its work by it; and clipping boxes to the image.
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <pugixml.hpp>

#include "common/limits.h"
#include "data/dataset.h"
#include "data/image_io.h"
#include "data/safe_file.h"

namespace camx {
namespace fs = std::filesystem;

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

Annotation parseAnnotation(const char* data, std::size_t size, bool sizeRequired) {
    pugi::xml_document doc;
    pugi::xml_parse_result res = doc.load_buffer(data, size);
    if (!res)
        throw DatasetError(std::string("malformed XML: ") + res.description() + " at offset " +
                           std::to_string(res.offset));
    pugi::xml_node root = doc.child("annotation");
    if (!root) throw DatasetError("not a PASCAL VOC annotation: no <annotation> element");
    Annotation a;
    pugi::xml_node sz = root.child("size");
    if (!sz && sizeRequired) throw DatasetError("missing <size>");
    if (sz) {
        a.width = parseCoordinate(sz, "width", "size");
        a.height = parseCoordinate(sz, "height", "size");
        if (sz.child("depth")) a.depth = parseCoordinate(sz, "depth", "size");
    }
    // Without a size (allowed), the caller reads it from the image.
    const bool sizeless = !sizeRequired && a.width == 0 && a.height == 0;
    if (!sizeless && (a.width <= 0 || a.height <= 0))
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
        std::string name = obj.child("name").child_value();
        const auto first = name.find_first_not_of(" \t\r\n");
        name = first == std::string::npos
                   ? std::string()
                   : name.substr(first, name.find_last_not_of(" \t\r\n") - first + 1);
        a.names.push_back(std::move(name));
    }
    if (a.boxes.empty()) throw DatasetError("no <object> element (no bounding box)");
    return a;
}

Annotation readAnnotationFile(const fs::path& path, bool sizeRequired) {
    // A VOC annotation is a few hundred bytes; 16 MB is far beyond any real one.
    constexpr std::uintmax_t kMaxAnnotationBytes = 16u << 20;
    std::string bytes, why;
    if (auto reason = notRegularFileReason(path))
        throw DatasetError(*reason == "does not exist" ? std::string("annotation is missing")
                                                       : "annotation " + *reason);
    if (!readRegularFile(path, kMaxAnnotationBytes, true, bytes, why))
        throw DatasetError("annotation " + why);
    return parseAnnotation(bytes.data(), bytes.size(), sizeRequired);
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

}  // namespace camx
