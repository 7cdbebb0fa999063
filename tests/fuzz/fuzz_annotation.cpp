// Fuzzes the PASCAL VOC annotation parser: any bytes give an Annotation or a DatasetError, and an
// Annotation never declares a size beyond the pixel budget or the per-side limit (the size sets
// the resolution of heatmaps downstream).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "common/limits.h"
#include "data/dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        camx::Annotation a = camx::parseAnnotation(reinterpret_cast<const char*>(data), size);
        if (a.width <= 0 || a.height <= 0 || a.width > camx::kMaxImageSide ||
            a.height > camx::kMaxImageSide ||
            static_cast<std::uint64_t>(a.width) * static_cast<std::uint64_t>(a.height) >
                camx::pixelBudget())
            std::abort();
        for (const camx::Box& b : a.boxes) {
            bool clipped = false;
            (void)camx::sanitizeBox(b, a.width, a.height, &clipped);
        }
    } catch (const camx::DatasetError&) {
    }
    return 0;
}
