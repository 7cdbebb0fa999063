// Fuzzes the Keras model reader from bytes: the .keras zip (libarchive), the HDF5 image (libhdf5,
// opened from memory), our walk of Keras's layouts and config.json, then the importer's
// architecture and shape checks and, when they pass, the network built from the weights. Any bytes
// give a KerasImport or a KerasModelError. libhdf5 and libarchive are linked as they are (not
// instrumented): ASan sees their crashes and their reads through intercepted functions only. The
// reader runs in this process here (readKerasFileInProcess): the application's readKerasFile
// runs libhdf5 in a child process, where the fuzzer would not see what goes wrong.
// Seeds: tests/fixtures/keras/*.h5 and *.keras.
#include <cstddef>
#include <cstdint>
#include <string>

#include "nn/keras_file.h"
#include "nn/keras_import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    const bool keras = camx::looksLikeKerasFile("fuzz.keras", bytes);
    try {
        const camx::KerasFile file = camx::readKerasFileInProcess(bytes, "fuzz.keras");
        if (!keras) __builtin_trap();  // read what the sniffer would not have passed on
        const camx::KerasImport k = camx::importKerasModel(file, "fuzz.keras");
        if (!k.net || k.numClasses < 1) __builtin_trap();
    } catch (const camx::KerasModelError&) {
    }
    return 0;
}
