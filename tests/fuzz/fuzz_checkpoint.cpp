// Fuzzes the checkpoint loader from bytes: our zip checks, then LibTorch's archive reader, then
// our metadata and weights checks. Any bytes give a loaded checkpoint or a CheckpointError. The
// zip CRCs of the input are repaired first so that mutated records get past the CRC check and
// reach the readers behind it.
#include <cstddef>
#include <cstdint>
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
    return 0;
}
