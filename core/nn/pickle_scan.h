#pragma once
// A check of every pickle and code record in a checkpoint (a TorchScript archive) before LibTorch
// reads it. torch::jit::load treats its input as trusted (pytorch/pytorch#77573): its unpickler
// sizes buffers and memo tables from lengths and indices in the file, and the classes a pickle
// names are compiled from the archive's code records, whose importer crashes on statements our
// writer never emits. So only what TorchScript's pickler writes for our checkpoints gets through:
// its opcodes, its GLOBALs, sequential memo entries, storages that match their tensor records
// (data/ for data.pkl, constants/ for constants.pkl, as LibTorch reads them), tensors that lie
// inside their storages, typed lists whose items have that type, and code records of the
// attribute-only form C++ modules are exported as.
//
// Users' own TorchScript models (torch.jit.trace / torch.jit.script, saved by Python) get a
// profile of their own, scanUserTorchScriptRecords: the same opcodes and memo rules, the GLOBALs
// torch.jit.save writes for modules of any class (each defined in the archive's code), and code
// records that are whole TorchScript programs, checked for the form TorchScript's printer writes.

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
    // User TorchScript models only (scanUserTorchScriptRecords).
    std::uint64_t maxUserCodeBytes = 16u << 20;  // one code record, inflated
    // How deep one statement's expression tree can grow (brackets, calls, subscripts, attribute
    // dots and operators on one path), and how far statements are indented: LibTorch's parser
    // and compiler recurse on both. TorchScript's printer splits expressions into statements;
    // torchvision's models reach 9 and 32.
    std::size_t maxCodeNesting = 64;
    std::size_t maxCodeIndent = 128;  // columns (two per block)
};

// Scans archive/data.pkl, archive/constants.pkl, every other *.pkl and every code/**.py.debug_pkl
// record, and every code/**.py record, of the archive `zip` that validateTorchZip made of `data`.
// The version record "version" must be there, and a ".data/version" (which LibTorch would read
// instead) must hold a supported version too.
// torch::jit::load reads the .debug_pkl records with their code and keeps them for unpickling
// later (source ranges for some error reports); a load failing in the code did not unpickle them
// in our tests with LibTorch 1.13, but they are scanned all the same: they are small and a later
// LibTorch may read them eagerly. Pickle records must be stored, not deflated. Throws
// PickleScanError naming `where`.
void scanCheckpointRecords(const char* data, std::size_t size, const TorchZip& zip,
                           const std::string& where, const PickleScanLimits& limits = {});

// The same for a user's TorchScript model (torch.jit.trace or torch.jit.script, e.g. a torchvision
// model): the version in ".data/version" or "version" (each present one must hold a version
// LibTorch reads, 1 to 10 for 1.13, which reads ".data/version" first); every *.pkl record
// stored, .debug_pkl ones also deflated; GLOBALs: storages, _rebuild_tensor_v2, OrderedDict,
// torch.jit._pickle's build_intlist/doublelist/boollist/tensorlist (on lists of that kind) and
// restore_type_tag (List/Dict of plain types), torch.device ("cpu", "cuda[:N]"), and classes
// "__torch__[.<identifier>]* <identifier>", each defined by a "class <name>(Module):" in its code
// record code/__torch__/<...>.py, which must be there. Code records: printable ASCII in the form
// TorchScript's printer writes (Module classes with their attribute, parameter and Final constant
// lines and methods, NamedTuple classes of fields, functions), no imports or nested definitions,
// bounded nesting, and every __torch__ name they use defined in the archive. Records under extra/
// are not read by LibTorch unless asked for and are left alone. Messages say "is not a readable
// TorchScript model". Throws PickleScanError naming `where`.
void scanUserTorchScriptRecords(const char* data, std::size_t size, const TorchZip& zip,
                                const std::string& where, const PickleScanLimits& limits = {});

// One pickle record's bytes, as scanCheckpointRecords checks them: `record` names the record in
// messages and picks the folder of its tensors ("archive/constants.pkl": constants/). Exposed
// for tests.
void scanTorchScriptPickle(const char* data, std::size_t size, const TorchZip& zip,
                           const std::string& where, const std::string& record,
                           const PickleScanLimits& limits = {});

}  // namespace camx
