// Fuzzes the TFDS shard reader's entry points: any bytes, taken as a shard, are walked record by
// record (both CRCs checked) and each record that passes is parsed as a tf.train.Example; the
// same bytes are also parsed as one Example directly, since a CRC rarely passes by chance. Each
// call returns or reports a problem: no crash, no allocation past kMaxTfRecordBytes, no hang.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "data/formats/tfrecord.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    const camx::ByteReader read = [&bytes](std::uint64_t off, std::size_t n, std::string& out,
                                           std::string&) {
        out = off < bytes.size() ? bytes.substr(static_cast<std::size_t>(off), n) : std::string();
        return true;
    };
    std::size_t seen = 0;
    const std::size_t walked = camx::scanTfRecords(
        bytes.size(), read,
        [&](std::size_t record, std::uint64_t offset, const std::string& rec) {
            if (record == 0 || offset >= bytes.size() || rec.size() > camx::kMaxTfRecordBytes)
                std::abort();
            ++seen;
            std::string why;
            auto ex = camx::parseTfdsExample(rec, true, why);
            if (ex && ex->bbox.size() % 4 != 0) std::abort();
            if (!ex && why.empty()) std::abort();
        },
        [&](const camx::TfRecordProblem& p) {
            if (p.record == 0 || p.message.empty()) std::abort();
            ++seen;
        });
    if (seen != walked) std::abort();
    std::string why;
    auto ex = camx::parseTfdsExample(bytes, false, why);
    if (ex && (!ex->image.empty() || ex->bbox.size() % 4 != 0)) std::abort();
    return 0;
}
