// Fuzzes the checks a user's TorchScript model passes before LibTorch's loader sees it: the zip
// container (validateTorchZip with TorchScript's limits) and the pre-scan of its pickles and code
// records (scanUserTorchScriptRecords). Any bytes give a clean pass or a TorchZipError /
// PickleScanError. The zip CRCs of the input are repaired first so that mutated records get past
// the CRC check and reach the scanner. LibTorch's own loader is not run: what passes the pre-scan
// is user code that it compiles, and its crashes on crafted input are recorded in the README.
// Seeds: tests/fixtures/torchscript_scan and tests/fixtures/torchscript_odd (small traced and
// scripted models).
#include <cstddef>
#include <cstdint>
#include <string>

#include "nn/pickle_scan.h"
#include "nn/torch_zip.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string bytes(reinterpret_cast<const char*>(data), size);
    camx::repairZipCrcs(bytes);
    try {
        const camx::TorchZip zip = camx::validateTorchZip(bytes.data(), bytes.size(), "fuzz.pt",
                                                          camx::torchScriptZipLimits());
        camx::scanUserTorchScriptRecords(bytes.data(), bytes.size(), zip, "fuzz.pt");
    } catch (const camx::TorchZipError&) {
    } catch (const camx::PickleScanError&) {
    }
    return 0;
}
