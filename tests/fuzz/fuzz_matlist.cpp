// Fuzzes the .mat list reader (matio): any bytes give a ListFile or a DatasetError.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "data/dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // matio reads from files only.
    static const std::string path = "/tmp/camx-fuzz-matlist-" + std::to_string(getpid()) + ".mat";
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return 0;
    std::fwrite(data, 1, size, f);
    std::fclose(f);
    try {
        camx::ListFile l = camx::readListFile(path);
        if (l.files.size() != l.labels.size()) __builtin_trap();
    } catch (const camx::DatasetError&) {
    }
    return 0;
}
