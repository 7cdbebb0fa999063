#include "data/image_header.h"

#include <turbojpeg.h>

#include <cctype>
#include <cstring>
#include <memory>

namespace camx {

namespace {

std::uint32_t be32(const unsigned char* p) {
    return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | p[3];
}
std::uint32_t le32(const unsigned char* p) {
    return std::uint32_t(p[3]) << 24 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[1]) << 8 | p[0];
}
std::uint32_t le16(const unsigned char* p) {
    return std::uint32_t(p[1]) << 8 | p[0];
}
std::uint32_t le24(const unsigned char* p) {
    return std::uint32_t(p[2]) << 16 | std::uint32_t(p[1]) << 8 | p[0];
}

const unsigned char kPng[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};

struct TjFree {
    void operator()(void* h) const {
        if (h) tjDestroy(h);
    }
};

std::optional<ImageHeader> sized(ImageFormat f, std::uint64_t w, std::uint64_t h,
                                 std::string& why) {
    if (w == 0 || h == 0 || w > 0x7fffffff || h > 0x7fffffff) {
        why = std::string("its ") + imageFormatName(f) + " header declares an impossible size " +
              std::to_string(w) + "x" + std::to_string(h);
        return std::nullopt;
    }
    return ImageHeader{f, static_cast<int>(w), static_cast<int>(h)};
}

std::optional<ImageHeader> jpegHeader(const unsigned char* data, std::size_t size, std::string& why,
                                      bool* needMore) {
    std::unique_ptr<void, TjFree> tj(tjInitDecompress());
    if (!tj) {
        why = "libturbojpeg cannot be initialised";
        return std::nullopt;
    }
    int w = 0, h = 0, subsamp = 0, colorspace = 0;
    if (tjDecompressHeader3(tj.get(), data, static_cast<unsigned long>(size), &w, &h, &subsamp,
                            &colorspace) != 0) {
        // The frame header (SOF) may lie past the bytes given, after large EXIF/ICC blocks.
        if (needMore) *needMore = true;
        why = std::string("its JPEG header cannot be read: ") + tjGetErrorStr2(tj.get());
        return std::nullopt;
    }
    if (w <= 0 || h <= 0) {
        // libturbojpeg reads a stream that ends before its frame header as "tables only" and
        // returns 0 x 0: the header lies further on, or nowhere.
        if (needMore) *needMore = true;
        why = "its JPEG data holds no frame header (no image size)";
        return std::nullopt;
    }
    return sized(ImageFormat::Jpeg, static_cast<std::uint64_t>(w), static_cast<std::uint64_t>(h),
                 why);
}

std::optional<ImageHeader> tiffHeader(const unsigned char* d, std::size_t n, std::string& why,
                                      bool* needMore) {
    const bool le = d[0] == 'I';
    auto u16 = [&](std::size_t at) -> std::uint32_t {
        return le ? le16(d + at) : (std::uint32_t(d[at]) << 8 | d[at + 1]);
    };
    auto u32 = [&](std::size_t at) -> std::uint32_t { return le ? le32(d + at) : be32(d + at); };
    const std::uint32_t ifd = u32(4);
    if (ifd < 8 || std::uint64_t(ifd) + 2 > n) {
        if (needMore && ifd >= 8) *needMore = true;
        why = "its TIFF directory lies past the bytes read";
        return std::nullopt;
    }
    const std::uint32_t count = u16(ifd);
    if (std::uint64_t(ifd) + 2 + std::uint64_t(count) * 12 > n) {
        if (needMore) *needMore = true;
        why = "its TIFF directory is truncated";
        return std::nullopt;
    }
    std::uint64_t w = 0, h = 0;
    for (std::uint32_t i = 0; i < count; ++i) {
        const std::size_t e = ifd + 2 + std::size_t(i) * 12;
        const std::uint32_t tag = u16(e), type = u16(e + 2);
        if (tag != 256 && tag != 257) continue;
        std::uint64_t v = 0;
        if (type == 3)
            v = u16(e + 8);  // SHORT, left-justified in the value field
        else if (type == 4)
            v = u32(e + 8);  // LONG
        else
            continue;
        (tag == 256 ? w : h) = v;
    }
    if (w == 0 || h == 0) {
        why = "its TIFF directory has no image width and length";
        return std::nullopt;
    }
    return sized(ImageFormat::Tiff, w, h, why);
}

std::optional<ImageHeader> webpHeader(const unsigned char* d, std::size_t n, std::string& why) {
    if (n >= 30 && std::memcmp(d + 12, "VP8 ", 4) == 0 && d[23] == 0x9d && d[24] == 0x01 &&
        d[25] == 0x2a)
        return sized(ImageFormat::WebP, le16(d + 26) & 0x3fff, le16(d + 28) & 0x3fff, why);
    if (n >= 25 && std::memcmp(d + 12, "VP8L", 4) == 0 && d[20] == 0x2f) {
        const std::uint32_t bits = le32(d + 21);
        return sized(ImageFormat::WebP, (bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1, why);
    }
    if (n >= 30 && std::memcmp(d + 12, "VP8X", 4) == 0)
        return sized(ImageFormat::WebP, std::uint64_t(le24(d + 24)) + 1,
                     std::uint64_t(le24(d + 27)) + 1, why);
    why = "its WebP header is damaged or of an unknown kind";
    return std::nullopt;
}

std::optional<ImageHeader> pnmHeader(const unsigned char* d, std::size_t n, std::string& why) {
    // "P1".."P6", then width and height as decimal text, separated by white space and comments.
    std::size_t i = 2;
    std::uint64_t v[2] = {0, 0};
    for (int k = 0; k < 2; ++k) {
        for (;;) {
            while (i < n && std::isspace(d[i])) ++i;
            if (i < n && d[i] == '#') {
                while (i < n && d[i] != '\n' && d[i] != '\r') ++i;
                continue;
            }
            break;
        }
        std::size_t digits = 0;
        while (i < n && std::isdigit(d[i]) && digits < 11) {
            v[k] = v[k] * 10 + (d[i] - '0');
            ++i;
            ++digits;
        }
        if (digits == 0 || digits >= 11) {
            why = "its PNM header has no readable width and height";
            return std::nullopt;
        }
    }
    return sized(ImageFormat::Pnm, v[0], v[1], why);
}

}  // namespace

const char* imageFormatName(ImageFormat f) {
    switch (f) {
        case ImageFormat::Jpeg:
            return "JPEG";
        case ImageFormat::Png:
            return "PNG";
        case ImageFormat::Bmp:
            return "BMP";
        case ImageFormat::Tiff:
            return "TIFF";
        case ImageFormat::WebP:
            return "WebP";
        case ImageFormat::Pnm:
            return "PNM";
        case ImageFormat::Unknown:
            break;
    }
    return "unknown";
}

ImageFormat sniffImageFormat(const unsigned char* d, std::size_t n) {
    if (n >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff) return ImageFormat::Jpeg;
    if (n >= 8 && std::memcmp(d, kPng, 8) == 0) return ImageFormat::Png;
    if (n >= 2 && d[0] == 'B' && d[1] == 'M') return ImageFormat::Bmp;
    if (n >= 4 && ((d[0] == 'I' && d[1] == 'I' && d[2] == 42 && d[3] == 0) ||
                   (d[0] == 'M' && d[1] == 'M' && d[2] == 0 && d[3] == 42)))
        return ImageFormat::Tiff;
    if (n >= 12 && std::memcmp(d, "RIFF", 4) == 0 && std::memcmp(d + 8, "WEBP", 4) == 0)
        return ImageFormat::WebP;
    if (n >= 3 && d[0] == 'P' && d[1] >= '1' && d[1] <= '6' && std::isspace(d[2]))
        return ImageFormat::Pnm;
    return ImageFormat::Unknown;
}

std::optional<ImageHeader> parseImageHeader(const unsigned char* d, std::size_t n, std::string& why,
                                            bool* needMore) {
    if (needMore) *needMore = false;
    const ImageFormat f = sniffImageFormat(d, n);
    switch (f) {
        case ImageFormat::Jpeg:
            return jpegHeader(d, n, why, needMore);
        case ImageFormat::Png:
            // The IHDR chunk comes first: length (4), "IHDR" (4), width and height (4 + 4, big
            // endian) at offsets 16..23.
            if (n < 24 || std::memcmp(d + 12, "IHDR", 4) != 0) {
                why = "its PNG header has no IHDR chunk where the PNG specification puts it";
                return std::nullopt;
            }
            return sized(f, be32(d + 16), be32(d + 20), why);
        case ImageFormat::Bmp: {
            if (n < 26) {
                why = "its BMP header is truncated";
                return std::nullopt;
            }
            const std::uint32_t info = le32(d + 14);
            if (info == 12) return sized(f, le16(d + 18), le16(d + 20), why);  // OS/2 core header
            const auto w = static_cast<std::int32_t>(le32(d + 18));
            const auto h = static_cast<std::int32_t>(le32(d + 22));  // negative: top-down
            return sized(f, static_cast<std::uint64_t>(w < 0 ? -std::int64_t(w) : w),
                         static_cast<std::uint64_t>(h < 0 ? -std::int64_t(h) : h), why);
        }
        case ImageFormat::Tiff:
            return tiffHeader(d, n, why, needMore);
        case ImageFormat::WebP:
            return webpHeader(d, n, why);
        case ImageFormat::Pnm:
            return pnmHeader(d, n, why);
        case ImageFormat::Unknown:
            break;
    }
    why = "not a JPEG, PNG, BMP, TIFF, WebP or PNM image (unrecognised header)";
    return std::nullopt;
}

}  // namespace camx
