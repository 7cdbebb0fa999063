#pragma once
// A check of every pickle and code record in a checkpoint (a TorchScript archive) before LibTorch
// reads it. torch::jit::load treats its input as trusted (pytorch/pytorch#77573): its unpickler
// sizes buffers and memo tables from lengths and indices in the file, and the classes a pickle
// names are compiled from the archive's code records, whose importer crashes on statements our
// writer never emits. So only what TorchScript's pickler writes for our checkpoints gets through:
// its opcodes, its GLOBALs, sequential memo entries, storages that match their tensor records,
// and code records of the attribute-only form C++ modules are exported as.

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "nn/torch_zip.h"

namespace camx {

// The message names the file, the record and the fault; checkpoint.cpp turns it into a
// CheckpointError (this library cannot see that type).
class PickleScanError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct PickleScanLimits {
    // Per record. One opcode makes at most one value of the scan (~80 bytes); a ResNet-152 with
    // AdamW state holds some tens of thousands.
    std::size_t maxOpcodes = 2'000'000;
    std::size_t maxMemo = 1'000'000;           // memo entries per record
    std::size_t maxStack = 1'000'000;          // stack entries plus marks
    std::uint64_t maxStringBytes = 64u << 20;  // one BINUNICODE (the metadata JSON is the longest)
    std::size_t maxGlobalLength = 256;         // "module\nname\n"
    std::uint64_t maxCodeBytes = 1u << 20;     // one code record, inflated
};

// Scans archive/data.pkl, archive/constants.pkl, every other *.pkl and every code/**.py.debug_pkl
// record, and every code/**.py record, of the archive `zip` that validateTorchZip made of `data`.
// torch::jit::load reads the .debug_pkl records with their code and keeps them for unpickling
// later (source ranges for some error reports); a load failing in the code did not unpickle them
// in our tests with LibTorch 1.13, but they are scanned all the same: they are small and a later
// LibTorch may read them eagerly. Pickle records must be stored, not deflated. Throws
// PickleScanError naming `where`.
void scanCheckpointRecords(const char* data, std::size_t size, const TorchZip& zip,
                           const std::string& where, const PickleScanLimits& limits = {});

// One pickle record's bytes, as above: `record` names the record in messages. Exposed for tests.
void scanTorchScriptPickle(const char* data, std::size_t size, const TorchZip& zip,
                           const std::string& where, const std::string& record,
                           const PickleScanLimits& limits = {});

}  // namespace camx
