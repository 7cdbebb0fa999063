// The pre-scan of a checkpoint's pickles and code records (nn/pickle_scan.h): real checkpoints,
// with and without optimizer state, pass and load; the inputs fuzz_checkpoint found crashing or
// exhausting memory inside LibTorch, and small edits of the same kind, give a CheckpointError
// naming the file. The user-model profile: real traced and scripted models (fixtures written by
// tests/fixtures/torchscript_scan/make_torchscript_scan_fixtures.py) pass and load, the
// checkpoint profile still refuses them, and edited copies are refused naming record and fault.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <caffe2/serialize/in_memory_adapter.h>
#include <caffe2/serialize/inline_container.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>
#include <torch/script.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <filesystem>
#include <functional>
#include <sstream>

#include "../test_support.h"
#include "nn/checkpoint_io.h"
#include "nn/pickle_scan.h"
#include "nn/torch_zip.h"
#include "torch_save_builder.h"

namespace camx {
namespace {

// One optimizer step, so that the optimizer has per-parameter state to save.
void stepOnce(CamNet& net, torch::optim::Optimizer& opt) {
    for (auto& p : net->parameters()) p.mutable_grad() = at::ones_like(p);
    opt.step();
}

struct Saved {
    test::TempDir dir;
    std::filesystem::path plain, sgd, adamw;
};

const Saved& saved() {
    static const Saved* s = [] {
        auto* out = new Saved;
        at::manual_seed(5);
        CamNet net(Arch::ResNet18, 3, 2);
        out->plain = out->dir / "plain.ckpt";
        saveCheckpoint(out->plain, test::tinyCheckpointMeta(), net);
        torch::optim::SGD sgd(net->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
        stepOnce(net, sgd);
        out->sgd = out->dir / "sgd.ckpt";
        saveCheckpoint(out->sgd, test::tinyCheckpointMeta(), net, &sgd);
        torch::optim::AdamW adamw(net->parameters(), torch::optim::AdamWOptions(0.002));
        stepOnce(net, adamw);
        out->adamw = out->dir / "adamw.ckpt";
        saveCheckpoint(out->adamw, test::tinyCheckpointMeta(), net, &adamw);
        return out;
    }();
    return *s;
}

// Expects a CheckpointError whose message names `name` (and holds `part`, when given).
template <class Fn>
void expectCheckpointError(Fn fn, const std::string& name, const std::string& part = "") {
    try {
        fn();
        ADD_FAILURE() << name << ": no error";
    } catch (const CheckpointError& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("'" + name + "'"), std::string::npos) << msg;
        if (!part.empty()) {
            EXPECT_NE(msg.find(part), std::string::npos) << msg;
        }
    } catch (const std::exception& e) {
        ADD_FAILURE() << name << ": unexpected " << typeid(e).name() << ": " << e.what();
    }
}

TEST(PickleScan, RealCheckpointsPassAndLoad) {
    const Saved& s = saved();
    for (const auto& f : {s.plain, s.sgd, s.adamw}) {
        const std::string bytes = test::slurp(f);
        const TorchZip zip =
            validateTorchZip(bytes.data(), bytes.size(), f.string(), torchScriptZipLimits());
        EXPECT_NO_THROW(scanCheckpointRecords(bytes.data(), bytes.size(), zip, f.string())) << f;
        EXPECT_NO_THROW(readCheckpointMeta(f)) << f;
        EXPECT_NO_THROW(loadCheckpoint(f)) << f;
    }
    at::manual_seed(5);
    CamNet net(Arch::ResNet18, 3, 2);
    torch::optim::SGD sgd(net->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
    EXPECT_NO_THROW(loadOptimizerState(s.sgd, sgd));
    torch::optim::AdamW adamw(net->parameters(), torch::optim::AdamWOptions(0.002));
    EXPECT_NO_THROW(loadOptimizerState(s.adamw, adamw));
}

// What the trainer writes (best.ckpt, and last.ckpt with the optimizer's state) passes too.
TEST(PickleScan, TrainerCheckpointsPass) {
    test::TempDir dir;
    test::makeSmallDemo(dir / "d");
    test::trainTinyModel(dir / "d", dir / "m");
    int checked = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir / "m")) {
        if (e.path().extension() != ".ckpt") continue;
        const std::string bytes = test::slurp(e.path());
        const TorchZip zip =
            validateTorchZip(bytes.data(), bytes.size(), "t", torchScriptZipLimits());
        EXPECT_NO_THROW(scanCheckpointRecords(bytes.data(), bytes.size(), zip, "t")) << e.path();
        EXPECT_NO_THROW(loadCheckpoint(e.path())) << e.path();
        ++checked;
    }
    EXPECT_GE(checked, 2);
}

// A real checkpoint with `from` replaced by `to` (same length) inside record `record`, its zip
// CRCs repaired as the fuzzer does so that the edit reaches the scan.
std::string edited(const std::filesystem::path& f, const std::string& record,
                   const std::string& from, const std::string& to) {
    EXPECT_EQ(from.size(), to.size());
    std::string bytes = test::slurp(f);
    const TorchZip zip = validateTorchZip(bytes.data(), bytes.size(), "x", torchScriptZipLimits());
    const ZipRecord* r = zip.find(record);
    if (!r) {
        ADD_FAILURE() << "no record " << record;
        return bytes;
    }
    EXPECT_EQ(r->method, 0) << record;
    const std::size_t at = bytes.find(from, r->dataOffset);
    if (at == std::string::npos || at + from.size() > r->dataOffset + r->size) {
        ADD_FAILURE() << "'" << from << "' is not in " << record;
        return bytes;
    }
    bytes.replace(at, from.size(), to);
    repairZipCrcs(bytes);
    return bytes;
}

std::string le32(std::uint32_t v) {
    return {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
            static_cast<char>(v >> 24)};
}

TEST(PickleScan, EditedPicklesAreRefusedWithTheFileAndRecordNamed) {
    const auto& f = saved().adamw;
    struct Case {
        const char* name;
        std::string record, from, to, part;
    };
    const Case cases[] = {
        // A GLOBAL naming a class outside the whitelist, or one whose code record is missing.
        {"global.ckpt", "data.pkl", "collections\nOrderedDict\n", "collections\nOrderedDicx\n",
         "collections OrderedDicx"},
        {"module.ckpt", "data.pkl", "___torch_mangle_0\nModule\n", "___torch_mangle_0\nModulx\n",
         "names a global"},
        {"mangle.ckpt", "data.pkl", "___torch_mangle_0\nModule\n", "___torch_mangle_X\nModule\n",
         "names a global"},
        {"storage.ckpt", "data.pkl", "torch\nFloatStorage\n", "torch\nFloatStoragx\n",
         "FloatStoragx"},
        // A BINUNICODE length that runs past the record (LibTorch reserves it first).
        {"length.ckpt", "data.pkl", std::string("X") + le32(9) + "camx_meta",
         std::string("X") + le32(1u << 20) + "camx_meta", "past the record's end"},
        // A memo index far ahead (LibTorch grows its memo table to it: tens of gigabytes).
        {"memo.ckpt", "data.pkl", std::string("r\x00\x01\x00\x00", 5),
         std::string("r\x00\x00\x00\x70", 5), "memo entry"},
        // A BINPERSID naming a tensor record that is not there.
        {"tensor.ckpt", "data.pkl",
         std::string("X\x01\x00\x00\x00"
                     "0q",
                     7),
         std::string("X\x01\x00\x00\x00"
                     "Zq",
                     7),
         "tensor record"},
        // No version record: LibTorch's reader throws from its constructor and leaks.
        {"version.ckpt", "version", "3\n", "x\n", "holds no supported version"},
        // A code record statement LibTorch's importer crashes on (parseClassConstant).
        {"code.ckpt", "code/__torch__.py", "  __buffers__ = []", "  _u_febfrs__ = []",
         "code record 'archive/code/__torch__.py' has a statement"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        const std::string bytes = edited(f, c.record, c.from, c.to);
        expectCheckpointError([&] { loadCheckpointFromBytes(bytes, c.name); }, c.name, c.part);
        if (c.record != "code/__torch__.py")
            expectCheckpointError([&] { loadCheckpointFromBytes(bytes, c.name); }, c.name,
                                  "archive/" + c.record);
    }
}

TEST(PickleScan, UnknownOpcodesAndTruncationAreRefused) {
    const TorchZip none;
    auto scan = [&](const std::string& p) {
        scanTorchScriptPickle(p.data(), p.size(), none, "f.ckpt", "archive/data.pkl");
    };
    EXPECT_NO_THROW(scan(std::string("\x80\x02).", 4)));
    const std::string bad[] = {
        std::string("\x80\x02)", 3),    // no STOP
        std::string("\x80\x02).x", 5),  // bytes after STOP
        std::string("\x80\x02"
                    "cos\nsystem\n.",
                    13),  // a global outside the whitelist
        std::string("\x80\x02"
                    "S'a'\n.",
                    8),  // STRING: not written by TorchScript
        std::string("\x80\x02"
                    "X\x05\x00\x00\x00"
                    "ab.",
                    10),                    // a string past the end
        std::string("\x80\x02)h\x00.", 6),  // a memo entry never put
        std::string("\x80\x02t.", 4),       // TUPLE without MARK
        std::string("\x80\x02\x85.", 4),    // TUPLE1 on an empty stack
        std::string("\x80\x02))).", 6),     // three values left
        std::string("\x80\x03).", 4),       // protocol 3
    };
    for (const auto& p : bad) {
        try {
            scan(p);
            ADD_FAILURE() << "accepted " << testing::PrintToString(p);
        } catch (const PickleScanError& e) {
            EXPECT_NE(std::string(e.what()).find("'f.ckpt'"), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find("archive/data.pkl"), std::string::npos);
        }
    }
    PickleScanLimits tight;
    tight.maxOpcodes = 3;
    EXPECT_THROW(scanTorchScriptPickle("\x80\x02)0.", 5, none, "f", "r", tight), PickleScanError);
}

// The inputs fuzz_checkpoint found crashing (SIGSEGV in ScriptTypeParser::parseClassConstant,
// reached from Unpickler::readGlobal through the class importer) or allocating tens of gigabytes
// (Unpickler::readBytes, the memo table) inside LibTorch. CRCs repaired as the fuzzer does.
// What stops each: the SEGV file also has an opcode 0x0b in data.pkl, refused first (its code
// record alone is the "code.ckpt" case above); the memo file puts entry 0x705f5f04 (the 30 GB
// table); the string file declares a 4 GB BINUNICODE; the last renames a code record's types.
TEST(PickleScan, FuzzerReproducersGiveCheckpointErrors) {
    const std::pair<const char*, const char*> files[] = {
        {"ckpt_class_constant_segv.ckpt", "opcode 0x0b"},
        {"ckpt_memo_index_oom.ckpt", "puts memo entry 1885298436"},
        {"ckpt_string_length_oom.ckpt", "declares a string of 4278190083 bytes"},
        {"ckpt_code_type_names.ckpt", "code record"}};
    for (const auto& file : files) {
        const std::string f = file.first, part = file.second;
        SCOPED_TRACE(f);
        std::string bytes = test::slurp(test::fixture(std::string("hostile/") + f));
        ASSERT_FALSE(bytes.empty());
        repairZipCrcs(bytes);
        expectCheckpointError([&] { loadCheckpointFromBytes(bytes, f); }, f, part);
    }
}

// A tensor's elements must lie inside its storage (4 floats in data/0): LibTorch sets sizes,
// strides and offset as the file says.
TEST(PickleScan, TensorsMustLieInsideTheirStorage) {
    struct Case {
        std::int64_t offset;
        std::vector<std::int64_t> size, stride;
        bool ok;
    };
    const Case cases[] = {{0, {4}, {1}, true},
                          {0, {2, 2}, {2, 1}, true},
                          {3, {1}, {1}, true},
                          {4, {0}, {1}, true},
                          {0, {}, {}, true},
                          {0, {5}, {1}, false},
                          {1, {4}, {1}, false},
                          {0, {2, 2}, {3, 1}, false},
                          {5, {0}, {1}, false},
                          {-1, {1}, {1}, false},
                          {0, {2}, {-1}, false},
                          {0, {-1}, {1}, false},
                          {0, {2}, {INT64_MAX}, false},
                          {4, {}, {}, false},
                          {0, {2, 2}, {1}, false},
                          {0, {3, 2}, {INT64_MAX / 2 + 1, 1}, false}};
    for (const Case& c : cases) {
        SCOPED_TRACE(testing::PrintToString(c.offset) + " " + testing::PrintToString(c.size) + " " +
                     testing::PrintToString(c.stride));
        test::Pickle p;
        p.tensor([](test::Pickle& q) { q.storage("0", 4); }, c.offset, c.size, c.stride).raw(".");
        const std::string file = test::torchZip(p.bytes(), {{"0", std::string(16, '\0')}});
        const TorchZip zip = validateTorchZip(file.data(), file.size(), "t.pt");
        auto scan = [&] {
            scanTorchScriptPickle(p.bytes().data(), p.bytes().size(), zip, "t.pt",
                                  "archive/data.pkl");
        };
        if (c.ok) {
            EXPECT_NO_THROW(scan());
        } else {
            try {
                scan();
                ADD_FAILURE() << "accepted";
            } catch (const PickleScanError& e) {
                EXPECT_NE(std::string(e.what()).find("tensor"), std::string::npos) << e.what();
            }
        }
    }
}

// ---- User TorchScript models -------------------------------------------------------------------

// A TorchScript archive as a list of records, to edit and write back.
struct Record {
    std::string name;  // without the archive's folder: "data.pkl", "code/__torch__.py"
    std::string bytes;
    bool deflate = false;
};
struct Archive {
    std::string prefix;
    std::vector<Record> records;
};

Archive readArchive(const std::string& bytes) {
    const TorchZip zip = validateTorchZip(bytes.data(), bytes.size(), "x", torchScriptZipLimits());
    caffe2::serialize::PyTorchStreamReader reader(
        std::make_shared<caffe2::serialize::MemoryReadAdapter>(bytes.data(),
                                                               static_cast<off_t>(bytes.size())));
    Archive a;
    a.prefix = zip.prefix;
    for (const ZipRecord& r : zip.records) {
        const std::string name = r.name.substr(zip.prefix.size() + 1);
        auto [ptr, n] = reader.getRecord(name);
        a.records.push_back(
            {name, std::string(static_cast<const char*>(ptr.get()), n), r.method != 0});
    }
    return a;
}

void le(std::string& out, std::uint64_t v, int n) {
    for (int k = 0; k < n; ++k) out.push_back(static_cast<char>((v >> (8 * k)) & 0xff));
}

// A plain zip of the records: stored, or (deflate) deflated as stored deflate blocks, which is
// what a compressed record looks like to the reader without needing a compressor here.
std::string writeArchive(const Archive& a) {
    std::string out, central;
    for (const Record& r : a.records) {
        std::string data;
        if (r.deflate) {
            std::size_t at = 0;
            do {
                const std::size_t n = std::min<std::size_t>(r.bytes.size() - at, 65535);
                data.push_back(at + n == r.bytes.size() ? 1 : 0);
                le(data, n, 2);
                le(data, ~n & 0xffff, 2);
                data.append(r.bytes, at, n);
                at += n;
            } while (at < r.bytes.size());
        } else {
            data = r.bytes;
        }
        const std::string name = a.prefix + "/" + r.name;
        const std::uint32_t crc = crc32(r.bytes.data(), r.bytes.size());
        const std::uint16_t method = r.deflate ? 8 : 0;
        const std::uint64_t offset = out.size();
        le(out, 0x04034b50, 4);
        le(out, 20, 2);
        le(out, 0, 2);
        le(out, method, 2);
        le(out, 0, 2);
        le(out, 0x21, 2);
        le(out, crc, 4);
        le(out, data.size(), 4);
        le(out, r.bytes.size(), 4);
        le(out, name.size(), 2);
        le(out, 0, 2);
        out += name + data;
        le(central, 0x02014b50, 4);
        le(central, 20, 2);
        le(central, 20, 2);
        le(central, 0, 2);
        le(central, method, 2);
        le(central, 0, 2);
        le(central, 0x21, 2);
        le(central, crc, 4);
        le(central, data.size(), 4);
        le(central, r.bytes.size(), 4);
        le(central, name.size(), 2);
        le(central, 0, 8);  // extra and comment lengths, disk, internal attributes
        le(central, 0, 4);  // external attributes
        le(central, offset, 4);
        central += name;
    }
    const std::uint64_t cd = out.size();
    out += central;
    le(out, 0x06054b50, 4);
    le(out, 0, 4);
    le(out, a.records.size(), 2);
    le(out, a.records.size(), 2);
    le(out, central.size(), 4);
    le(out, cd, 4);
    le(out, 0, 2);
    return out;
}

Record* findRecord(Archive& a, const std::string& name) {
    for (Record& r : a.records)
        if (r.name == name) return &r;
    ADD_FAILURE() << "no record " << name;
    return nullptr;
}
void replaceIn(Archive& a, const std::string& record, const std::string& from,
               const std::string& to) {
    Record* r = findRecord(a, record);
    if (!r) return;
    const std::size_t at = r->bytes.find(from);
    if (at == std::string::npos) {
        ADD_FAILURE() << "'" << from << "' is not in " << record;
        return;
    }
    r->bytes.replace(at, from.size(), to);
}
void drop(Archive& a, const std::string& record) {
    const std::size_t before = a.records.size();
    a.records.erase(std::remove_if(a.records.begin(), a.records.end(),
                                   [&](const Record& r) { return r.name == record; }),
                    a.records.end());
    EXPECT_NE(before, a.records.size()) << "no record " << record;
}

const std::filesystem::path& tracedFixture() {
    static const auto p = test::fixture("torchscript_scan/seq.traced.pt");
    return p;
}
const std::filesystem::path& scriptedFixture() {
    static const auto p = test::fixture("torchscript_scan/nested.scripted.pt");
    return p;
}

void scanUser(const std::string& bytes, const std::string& name,
              const PickleScanLimits& limits = {}) {
    const TorchZip zip = validateTorchZip(bytes.data(), bytes.size(), name, torchScriptZipLimits());
    scanUserTorchScriptRecords(bytes.data(), bytes.size(), zip, name, limits);
}

at::Tensor runModel(const std::string& bytes) {
    std::istringstream in(bytes);
    torch::jit::Module m = torch::jit::load(in);
    return m.forward({torch::ones({1, 3, 8, 8})}).toTensor();
}

// LibTorch reads ".data/version" before "version": in a checkpoint it must hold a supported
// version too (else LibTorch's reader throws from its constructor, leaking).
TEST(PickleScan, CheckpointDataVersionIsCheckedToo) {
    Archive a = readArchive(test::slurp(saved().plain));
    a.records.push_back({".data/version", "3\n"});
    EXPECT_NO_THROW(loadCheckpointFromBytes(writeArchive(a), "ok.ckpt"));
    a.records.back().bytes = "99\n";
    expectCheckpointError([&] { loadCheckpointFromBytes(writeArchive(a), "bad.ckpt"); }, "bad.ckpt",
                          "archive/.data/version' holds no supported version");
}

// A traced nn.Sequential (classes of torch.nn, one mangled, one from __main__, a traced tensor
// constant in constants/, "version", an extra file) and a scripted model with a class from a
// nested package, typed list attributes and ".data/version": both pass and load, also as
// rewritten by the helpers (all records stored), and with a version record in each place.
TEST(UserTorchScriptScan, RealTracedAndScriptedModelsPassAndLoad) {
    const std::pair<std::filesystem::path, std::vector<std::int64_t>> models[] = {
        {tracedFixture(), {1, 2, 4, 4}}, {scriptedFixture(), {1, 2}}};
    for (const auto& [f, shape] : models) {
        SCOPED_TRACE(f.string());
        const std::string bytes = test::slurp(f);
        ASSERT_FALSE(bytes.empty());
        EXPECT_NO_THROW(scanUser(bytes, f.string()));
        EXPECT_EQ(runModel(bytes).sizes().vec(), shape);
        Archive a = readArchive(bytes);
        for (Record& r : a.records) r.deflate = false;
        const std::string stored = writeArchive(a);
        EXPECT_NO_THROW(scanUser(stored, "stored.pt"));
        EXPECT_EQ(runModel(stored).sizes().vec(), shape);
        // Both version records (LibTorch 1.13 reads .data/version), and a pickle among the extra
        // files, which LibTorch does not read unless asked.
        const bool hasVersion = std::any_of(a.records.begin(), a.records.end(),
                                            [](const Record& r) { return r.name == "version"; });
        a.records.push_back({hasVersion ? ".data/version" : "version", "3\n"});
        a.records.push_back({"extra/notes.pkl", "not a pickle"});
        const std::string both = writeArchive(a);
        EXPECT_NO_THROW(scanUser(both, "both.pt"));
        EXPECT_EQ(runModel(both).sizes().vec(), shape);
    }
}

TEST(UserTorchScriptScan, CheckpointProfileStillRefusesUserModels) {
    for (const auto& f : {tracedFixture(), scriptedFixture()}) {
        const std::string bytes = test::slurp(f);
        const TorchZip zip =
            validateTorchZip(bytes.data(), bytes.size(), "m.pt", torchScriptZipLimits());
        try {
            scanCheckpointRecords(bytes.data(), bytes.size(), zip, "m.pt");
            ADD_FAILURE() << f << ": accepted as a checkpoint";
        } catch (const PickleScanError& e) {
            EXPECT_NE(std::string(e.what()).find("'m.pt' is not a readable checkpoint"),
                      std::string::npos)
                << e.what();
        }
        expectCheckpointError([&] { loadCheckpointFromBytes(bytes, "m.pt"); }, "m.pt");
    }
}

TEST(UserTorchScriptScan, EditedModelsAreRefusedWithTheRecordAndFaultNamed) {
    const std::string traced = test::slurp(tracedFixture());
    const std::string scripted = test::slurp(scriptedFixture());
    const std::string blocks = "code/__torch__/tinynet/blocks.py";
    const std::string forward = "    return torch.mul(_1, scales[0])";
    struct Case {
        const char* name;
        const std::string* file;
        std::function<void(Archive&)> edit;
        std::string record, part;  // the record named (after the archive's folder) and the fault
    };
    const Case cases[] = {
        // A class GLOBAL whose code record is missing, or does not define it as a Module.
        {"no_code.pt", &scripted,
         [&](Archive& a) {
             drop(a, blocks);
             drop(a, blocks + ".debug_pkl");
         },
         "data.pkl", "names class '__torch__.tinynet.blocks Block' without its " + blocks},
        {"undefined.pt", &scripted,
         [](Archive& a) {
             replaceIn(a, "data.pkl", "__torch__.tinynet.blocks\nBlock\n",
                       "__torch__.tinynet.blocks\nBlocks\n");
         },
         "data.pkl", "names class '__torch__.tinynet.blocks Blocks', which"},
        {"not_module.pt", &scripted,
         [&](Archive& a) { replaceIn(a, blocks, "class Block(Module):", "class Block(Enum):"); },
         blocks, "defines a class that is neither a Module nor a NamedTuple"},
        {"tuple_statement.pt", &scripted,
         [&](Archive& a) { replaceIn(a, blocks, "  main : Tensor\n", "  main = Tensor\n"); },
         blocks, "has a class line"},
        {"tuple_method.pt", &scripted,
         [&](Archive& a) {
             replaceIn(a, blocks, "  main : Tensor\n",
                       "  main : Tensor\n  def f(self) -> int:\n    return 1\n");
         },
         blocks, "has a class line"},
        // Classes outside __torch__, and qualifiers outside its grammar.
        {"os_system.pt", &traced,
         [](Archive& a) {
             replaceIn(a, "data.pkl", "__torch__.torch.nn.modules.activation\nReLU\n",
                       "os\nsystem\n");
         },
         "data.pkl", "names a global TorchScript models do not hold ('os system')"},
        {"builtins_eval.pt", &traced,
         [](Archive& a) {
             replaceIn(a, "data.pkl", "__torch__.torch.nn.modules.activation\nReLU\n",
                       "builtins\neval\n");
         },
         "data.pkl", "('builtins eval')"},
        {"popen.pt", &traced,
         [](Archive& a) {
             replaceIn(a, "data.pkl", "__torch__.torch.nn.modules.activation\nReLU\n",
                       "subprocess\nPopen\n");
         },
         "data.pkl", "('subprocess Popen')"},
        {"torch_like.pt", &traced,
         [](Archive& a) {
             replaceIn(a, "data.pkl", "__torch__.torch.nn.modules.activation\nReLU\n",
                       "__torch__x.nn\nReLU\n");
         },
         "data.pkl", "('__torch__x.nn ReLU')"},
        {"bad_qualifier.pt", &traced,
         [](Archive& a) {
             replaceIn(a, "data.pkl", "__torch__.torch.nn.modules.activation\nReLU\n",
                       "__torch__.torch..activation\nReLU\n");
         },
         "data.pkl", "('__torch__.torch..activation ReLU')"},
        {"torchbind.pt", &traced,
         [](Archive& a) {
             replaceIn(a, "data.pkl", "__torch__.torch.nn.modules.activation\nReLU\n",
                       "__torch__.torch.classes.quantized\nConv2dPackedParamsBase\n");
         },
         "data.pkl", "without its code/__torch__/torch/classes/quantized.py"},
        // Versions outside LibTorch 1.13's 1..10, in either place; the one it reads counts.
        {"version_11.pt", &traced, [](Archive& a) { replaceIn(a, "version", "3\n", "11\n"); },
         "version", "holds no supported version"},
        {"version_0.pt", &traced, [](Archive& a) { replaceIn(a, "version", "3\n", "0\n"); },
         "version", "holds no supported version"},
        {"version_text.pt", &traced, [](Archive& a) { replaceIn(a, "version", "3\n", "3 \n"); },
         "version", "holds no supported version"},
        {"no_version.pt", &traced, [](Archive& a) { drop(a, "version"); }, ".data/version",
         "is missing"},
        {"data_version_11.pt", &scripted,
         [](Archive& a) { replaceIn(a, ".data/version", "10\n", "11\n"); }, ".data/version",
         "holds no supported version"},
        {"data_version_0.pt", &scripted,
         [](Archive& a) { replaceIn(a, ".data/version", "10\n", "0\n"); }, ".data/version",
         "holds no supported version"},
        {"data_version_read_first.pt", &scripted,
         [](Archive& a) {
             replaceIn(a, ".data/version", "10\n", "99\n");
             a.records.push_back({"version", "3\n"});
         },
         ".data/version", "holds no supported version"},
        {"stored_version_only.pt", &scripted,
         [](Archive& a) { findRecord(a, ".data/version")->deflate = true; }, ".data/version",
         "holds no supported version"},
        // Compressed data and constants pickles (source-range pickles may be deflated).
        {"deflated_data.pt", &traced, [](Archive& a) { findRecord(a, "data.pkl")->deflate = true; },
         "data.pkl", "pickle record '"},
        {"deflated_constants.pt", &traced,
         [](Archive& a) { findRecord(a, "constants.pkl")->deflate = true; }, "constants.pkl",
         "is compressed"},
        // LibTorch reads constants.pkl's tensors from constants/.
        {"no_constant.pt", &traced, [](Archive& a) { drop(a, "constants/0"); }, "constants.pkl",
         "refers to tensor record 'constants/0', which the archive lacks"},
        // A type tag that does not match the list it tags.
        {"type_tag.pt", &scripted,
         [](Archive& a) { replaceIn(a, "data.pkl", "List[str]", "List[int]"); }, "data.pkl",
         "an element of a typed container is a string, not an int"},
        // Code: a class constant without Final (LibTorch's parseClassConstant crashed on one),
        // an import, a comment, too deep an expression, a function the archive does not define.
        {"class_constant.pt", &scripted,
         [&](Archive& a) {
             replaceIn(a, blocks, "  __buffers__ = []\n",
                       "  __buffers__ = []\n  _u_febfrs__ = []\n");
         },
         blocks, "has a class line TorchScript's printer does not write"},
        {"class_statement.pt", &scripted,
         [&](Archive& a) { replaceIn(a, blocks, "  training : bool\n", "  training = bool\n"); },
         blocks, "has a class line"},
        {"import.pt", &scripted,
         [&](Archive& a) {
             replaceIn(a, blocks, "class Block(Module):", "import os\nclass Block(Module):");
         },
         blocks, "uses 'import'"},
        {"comment.pt", &scripted,
         [&](Archive& a) { replaceIn(a, blocks, forward, forward + "  # hi"); }, blocks,
         "has a character TorchScript's printer does not write ('#')"},
        {"semicolon.pt", &scripted,
         [&](Archive& a) { replaceIn(a, blocks, forward, forward + "; pass"); }, blocks, "(';')"},
        {"nesting.pt", &scripted,
         [&](Archive& a) {
             replaceIn(a, blocks, forward,
                       "    return " + std::string(100, '(') + "_1" + std::string(100, ')'));
         },
         blocks, "nests an expression more than 64 deep"},
        {"unary_chain.pt", &scripted,
         [&](Archive& a) {
             replaceIn(a, blocks, forward, "    return " + std::string(80, '-') + "_1");
         },
         blocks, "nests an expression more than 64 deep"},
        {"nested_def.pt", &scripted,
         [&](Archive& a) {
             replaceIn(a, blocks, forward, "    def f(x: int) -> int:\n      return x\n" + forward);
         },
         blocks, "defines a class or function inside a function"},
        {"undefined_function.pt", &scripted,
         [&](Archive& a) {
             replaceIn(a, blocks, forward, "    return __torch__.tinynet.blocks.helper(_1)");
         },
         blocks, "names '__torch__.tinynet.blocks.helper', which"},
        {"missing_module.pt", &scripted,
         [&](Archive& a) {
             replaceIn(a, blocks, forward, "    return __torch__.tinynet.other.helper(_1)");
         },
         blocks, "without its code/__torch__/tinynet/other.py"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        Archive a = readArchive(*c.file);
        c.edit(a);
        const std::string bytes = writeArchive(a);
        try {
            scanUser(bytes, c.name);
            ADD_FAILURE() << "accepted";
        } catch (const PickleScanError& e) {
            const std::string msg = e.what();
            EXPECT_NE(msg.find("'" + std::string(c.name) + "' is not a readable TorchScript model"),
                      std::string::npos)
                << msg;
            EXPECT_NE(msg.find("'" + a.prefix + "/" + c.record + "'"), std::string::npos) << msg;
            EXPECT_NE(msg.find(c.part), std::string::npos) << msg;
        }
    }
}

TEST(UserTorchScriptScan, CodeRecordsHaveTheirOwnSizeLimit) {
    const std::string bytes = test::slurp(scriptedFixture());
    PickleScanLimits tight;
    tight.maxUserCodeBytes = 400;  // blocks.py inflates to 521 bytes
    try {
        scanUser(bytes, "m.pt", tight);
        ADD_FAILURE() << "accepted";
    } catch (const PickleScanError& e) {
        EXPECT_NE(std::string(e.what()).find("is too large"), std::string::npos) << e.what();
    }
    // The checkpoint profile's 1 MB limit does not apply to user models.
    PickleScanLimits checkpointOnly;
    checkpointOnly.maxCodeBytes = 10;
    EXPECT_NO_THROW(scanUser(bytes, "m.pt", checkpointOnly));
}

}  // namespace
}  // namespace camx
