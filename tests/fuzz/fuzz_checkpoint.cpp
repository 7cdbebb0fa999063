// Fuzzes the checkpoint loader from bytes: our zip checks, then LibTorch's archive reader, then
// our metadata and weights checks; and the light metadata reader (readCheckpointMeta: the zip
// directory and one record, read from a file). Any bytes give a loaded checkpoint (metadata) or a
// CheckpointError. The
// zip CRCs of the input are repaired first so that mutated records get past the CRC check and
// reach the readers behind it.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "nn/checkpoint_io.h"
#include "nn/torch_zip.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string bytes(reinterpret_cast<const char*>(data), size);
    camx::repairZipCrcs(bytes);
    try {
        camx::LoadedCheckpoint l = camx::loadCheckpointFromBytes(bytes, "fuzz.ckpt");
        if (l.meta.classNames.empty()) __builtin_trap();
    } catch (const camx::CheckpointError&) {
    }
    // The same bytes through the light reader, which reads the file itself.
    static const std::filesystem::path file =
        std::filesystem::temp_directory_path() /
        ("camx-fuzz-meta-" + std::to_string(::getpid()) + ".ckpt");
    {
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
    try {
        (void)camx::readCheckpointMeta(file);
    } catch (const camx::CheckpointError&) {
    }
    return 0;
}
