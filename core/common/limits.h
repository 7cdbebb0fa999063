#pragma once
// Bounds on what untrusted files may make CAM Explorer do. Every reader checks the sizes a file
// declares against these before it allocates or decodes, and names the file and the limit when it
// refuses. The values are process-wide; the CLI and the GUI set them at start-up.

#include <cstdint>

namespace camx {

// Largest image (width x height, in pixels) that is decoded, checked from the file's header
// before decoding. Also bounds the <size> an annotation may declare. Default 100 megapixels.
std::uint64_t pixelBudget();
void setPixelBudget(std::uint64_t pixels);
inline constexpr std::uint64_t kDefaultPixelBudget = 100'000'000;

// Largest width or height an annotation may declare for its image (JPEG's own limit), whatever the
// pixel budget: a 1 x 100,000,000 "image" fits the budget but no sane heatmap.
inline constexpr int kMaxImageSide = 65'535;

// Largest map written at photo resolution (width x height); larger photos get maps scaled down to
// fit, and say so. Default 16 megapixels (a 4,000 x 4,000 float map is 64 MB).
std::uint64_t fullMapPixelCap();
void setFullMapPixelCap(std::uint64_t pixels);
inline constexpr std::uint64_t kDefaultFullMapPixelCap = 16'000'000;

}  // namespace camx
