// Fuzzes the torch.save reader (our zip checks + the pickle reader): any bytes give tensors or a
// WeightsError, within the bounds the reader promises. Input that does not start like a zip file
// is taken as the pickle itself and wrapped in a torch.save zip with a few tensor records, so the
// fuzzer reaches the pickle reader without having to find valid CRCs; zip input has its CRCs
// repaired for the same reason.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <utility>

#include "nn/state_dict_io.h"
#include "nn/torch_zip.h"

namespace {
void le(std::string& s, std::uint64_t v, int n) {
    for (int k = 0; k < n; ++k) s.push_back(static_cast<char>((v >> (8 * k)) & 0xff));
}

// A stored zip as torch.save lays it out ("archive/data.pkl", "archive/data/<key>"), written by
// hand: cheaper per run than LibTorch's writer.
std::string wrap(const std::string& pickle) {
    static const std::string record(256, '\x01');
    const std::pair<const char*, const std::string*> records[] = {{"archive/data.pkl", &pickle},
                                                                  {"archive/data/0", &record},
                                                                  {"archive/data/1", &record},
                                                                  {"archive/data/2", &record},
                                                                  {"archive/data/3", &record}};
    std::string out, cd;
    for (const auto& [name, bytes] : records) {
        const std::uint32_t crc = camx::crc32(bytes->data(), bytes->size());
        const std::size_t n = std::strlen(name);
        const std::uint64_t offset = out.size();
        le(out, 0x04034b50, 4);
        le(out, 20, 2), le(out, 0, 2), le(out, 0, 2), le(out, 0, 2), le(out, 0, 2);
        le(out, crc, 4), le(out, bytes->size(), 4), le(out, bytes->size(), 4);
        le(out, n, 2), le(out, 0, 2);
        out += name;
        out += *bytes;
        le(cd, 0x02014b50, 4);
        le(cd, 20, 2), le(cd, 20, 2), le(cd, 0, 2), le(cd, 0, 2), le(cd, 0, 2), le(cd, 0, 2);
        le(cd, crc, 4), le(cd, bytes->size(), 4), le(cd, bytes->size(), 4);
        le(cd, n, 2), le(cd, 0, 2), le(cd, 0, 2), le(cd, 0, 2), le(cd, 0, 2), le(cd, 0, 4);
        le(cd, offset, 4);
        cd += name;
    }
    const std::uint64_t cdOffset = out.size();
    out += cd;
    le(out, 0x06054b50, 4);
    le(out, 0, 2), le(out, 0, 2), le(out, 5, 2), le(out, 5, 2);
    le(out, cd.size(), 4), le(out, cdOffset, 4), le(out, 0, 2);
    return out;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string bytes(reinterpret_cast<const char*>(data), size);
    if (camx::looksLikeZip(bytes.data(), bytes.size()))
        camx::repairZipCrcs(bytes);
    else
        bytes = wrap(bytes);
    try {
        const camx::NamedTensors t = camx::readTorchStateDict(bytes, "fuzz.pth");
        // Distinct tensors only: one tensor may appear under many names (memo), at no cost.
        std::set<const void*> seen;
        std::uint64_t total = 0;
        for (const auto& [name, tensor] : t)
            if (seen.insert(tensor.data_ptr()).second) total += tensor.nbytes();
        // The promise: tensors never hold more than the file's records (plus 1 MiB).
        if (total > bytes.size() + (1u << 20)) __builtin_trap();
    } catch (const camx::WeightsError&) {
    }
    return 0;
}
