// Fuzzes the PASCAL VOC annotation parser: any bytes give an Annotation or a DatasetError.
#include <cstddef>
#include <cstdint>

#include "data/dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        camx::Annotation a = camx::parseAnnotation(reinterpret_cast<const char*>(data), size);
        for (const camx::Box& b : a.boxes) {
            bool clipped = false;
            (void)camx::sanitizeBox(b, a.width, a.height, &clipped);
        }
    } catch (const camx::DatasetError&) {
    }
    return 0;
}
