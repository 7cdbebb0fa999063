#pragma once
// Reading an image's declared size from its header, without decoding it: the pixel budget is
// checked against this before any decoder allocates (a 27 KB JPEG can claim 30,000 x 30,000
// pixels). JPEG headers are read with libturbojpeg, PNG from its IHDR chunk, and BMP, TIFF, WebP
// and PNM from their fixed headers. Anything else is not decoded at all, since its size cannot be
// checked first.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace camx {

enum class ImageFormat { Unknown, Jpeg, Png, Bmp, Tiff, WebP, Pnm };

const char* imageFormatName(ImageFormat f);

// The format from the first bytes (signature), Unknown when none matches.
ImageFormat sniffImageFormat(const unsigned char* data, std::size_t size);

struct ImageHeader {
    ImageFormat format = ImageFormat::Unknown;
    int width = 0, height = 0;
};

// The declared size from the bytes at the start of a file. Returns nothing and sets `why` when the
// format is unknown or its header is damaged or lies further than `size` bytes (then
// `*needMore` is set when more bytes of the file may help: JPEG headers can follow large EXIF
// blocks).
std::optional<ImageHeader> parseImageHeader(const unsigned char* data, std::size_t size,
                                            std::string& why, bool* needMore = nullptr);

}  // namespace camx
