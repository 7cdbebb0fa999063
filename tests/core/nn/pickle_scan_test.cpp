// The pre-scan of a checkpoint's pickles and code records (nn/pickle_scan.h): real checkpoints,
// with and without optimizer state, pass and load; the inputs fuzz_checkpoint found crashing or
// exhausting memory inside LibTorch, and small edits of the same kind, give a CheckpointError
// naming the file.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include <cstring>
#include <filesystem>

#include "../test_support.h"
#include "nn/checkpoint_io.h"
#include "nn/pickle_scan.h"
#include "nn/torch_zip.h"

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

}  // namespace
}  // namespace camx
