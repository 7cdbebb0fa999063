// Hostile and damaged model files: each case here once crashed, hung, exhausted memory or gave a
// misleading message. Every one must now give a clear error naming the file, quickly.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "../test_support.h"
#include "common/fs_util.h"
#include "explain/model_session.h"
#include "nn/checkpoint_io.h"
#include "nn/state_dict_io.h"
#include "nn/torch_zip.h"
#include "nn/weights.h"
#include "torch_save_builder.h"

namespace camx {
namespace {
using test::Pickle;

std::string floats(std::size_t n, float v = 0.5f) {
    std::vector<float> f(n, v);
    return std::string(reinterpret_cast<const char*>(f.data()), n * sizeof(float));
}

// Expects `fn` to throw E whose message names `name` (and holds `part`, when given).
template <class E, class Fn>
void expectError(Fn fn, const std::string& name, const std::string& part = "") {
    try {
        fn();
        ADD_FAILURE() << name << ": no error";
    } catch (const E& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find(name), std::string::npos) << msg;
        if (!part.empty()) {
            EXPECT_NE(msg.find(part), std::string::npos) << msg;
        }
    } catch (const std::exception& e) {
        ADD_FAILURE() << name << ": unexpected " << typeid(e).name() << ": " << e.what();
    }
}

// Issue 1: a TUPLE1 chain nests 200,000 deep on a flat stack; destroying it recursively used to
// overflow the C++ stack (SIGSEGV).
TEST(HostileWeights, DeeplyNestedTuplesAreRefusedWithoutCrashing) {
    Pickle p;
    p.op('}').str("w").op('N').raw(std::string(200000, '\x85')).raw("s.");
    const std::string file = test::torchZip(p.bytes(), {});
    expectError<WeightsError>([&] { readTorchStateDict(file, "deep.pth"); }, "deep.pth",
                              "nested too deeply");
}

// A list appended to itself through the memo: a cycle, harmless in the arena.
TEST(HostileWeights, CyclesAreHarmless) {
    Pickle p;
    p.op('}').str("w").op(']').put(0).get(0).op('a').raw("s.");
    expectError<WeightsError>(
        [&] { readTorchStateDict(test::torchZip(p.bytes(), {}), "cycle.pth"); }, "cycle.pth",
        "no tensors");
}

// Eight levels of dicts, each of 100 keys pointing at the level below through the memo: 100^8
// visits. Used to hang beyond Ctrl+C's reach.
std::string sharedDicts(int levels, int keys) {
    Pickle p;
    p.op('}').op('(').str("w").tensor([](Pickle& q) { q.storage("0", 4); }, 0, {4}, {1});
    p.op('u').put(0);
    for (int l = 1; l <= levels; ++l) {
        p.op('}').op('(');
        for (int k = 0; k < keys; ++k)
            p.str("k" + std::to_string(k)).get(static_cast<std::uint32_t>(l - 1));
        p.op('u').put(static_cast<std::uint32_t>(l));
    }
    p.op('.');
    return test::torchZip(p.bytes(), {{"0", floats(4)}});
}

TEST(HostileWeights, SharedSubDictionariesAreVisitedABoundedNumberOfTimes) {
    const std::string file = sharedDicts(8, 100);
    EXPECT_LT(file.size(), 20000u);
    expectError<WeightsError>([&] { readTorchStateDict(file, "fanout.pth"); }, "fanout.pth",
                              "too many");
    StateDictLimits fewVisits;
    fewVisits.maxVisits = 5000;
    expectError<WeightsError>([&] { readTorchStateDict(file, "fanout.pth", {}, fewVisits); },
                              "fanout.pth", "too many dictionary entries");
    // Two levels are an ordinary nested state dict.
    EXPECT_EQ(readTorchStateDict(sharedDicts(2, 3), "small.pth").size(), 9u);
}

TEST(HostileWeights, ReadingStopsWhenCancelled) {
    // ~130k pickle operations: more than one cancellation check.
    Pickle p;
    p.op(']');
    for (int i = 0; i < 65000; ++i) p.op('N').op('a');
    p.op('.');
    const std::string file = test::torchZip(p.bytes(), {});
    CancelToken token;
    token.cancel();
    EXPECT_THROW(readTorchStateDict(file, "slow.pth", JobContext{{}, &token}), Cancelled);
    EXPECT_THROW(readTorchStateDict(sharedDicts(8, 100), "fanout.pth", JobContext{{}, &token}),
                 Cancelled);
    test::TempDir dir;
    test::spit(dir / "slow.pth", file);
    EXPECT_THROW(ModelSession::open(dir / "slow.pth", {}, JobContext{{}, &token}), Cancelled);
}

// Issue 3a: zero strides make a 1-element storage look like 2^30 elements (4 GB cloned).
TEST(HostileWeights, ZeroStridesCannotInflateATensor) {
    Pickle p;
    p.op('}').str("w").tensor([](Pickle& q) { q.storage("0", 1); }, 0, {1 << 20, 1 << 10}, {0, 0});
    p.raw("s.");
    const std::string file = test::torchZip(p.bytes(), {{"0", floats(1)}});
    EXPECT_LT(file.size(), 1024u);
    expectError<WeightsError>([&] { readTorchStateDict(file, "strides.pth"); }, "strides.pth",
                              "more elements than its storage");
    // Sizes whose product overflows 64 bits.
    Pickle q;
    q.op('}').str("w").tensor([](Pickle& r) { r.storage("0", 1); }, 0,
                              {int64_t(1) << 40, int64_t(1) << 40, 16}, {0, 0, 0});
    q.raw("s.");
    expectError<WeightsError>(
        [&] {
            readTorchStateDict(test::torchZip(q.bytes(), {{"0", floats(1)}}), "overflow.pth");
        },
        "overflow.pth", "storage");
}

// Issue 3b: many tensors over one memoised storage, each cloned in full.
TEST(HostileWeights, ManyTensorsOverOneStorageCannotExceedTheFile) {
    const int n = 16384;  // 64 KB floats
    Pickle p;
    p.op('}').op('(');
    p.storage("0", n).put(0).op('0');  // memoise the storage, drop it from the stack
    for (int i = 0; i < 2000; ++i)
        p.str("t" + std::to_string(i)).tensor([](Pickle& q) { q.get(0); }, 0, {n}, {1});
    p.raw("u.");
    const std::string file = test::torchZip(p.bytes(), {{"0", floats(n)}});
    expectError<WeightsError>([&] { readTorchStateDict(file, "fan.pth"); }, "fan.pth",
                              "claim more bytes");
}

// Issue 3c: a deflated data.pkl (a zip bomb: 96 KB of "Na" inflated to gigabytes). PyTorch writes
// records uncompressed; compressed ones are refused before anything is inflated.
TEST(HostileWeights, CompressedRecordsAreRefused) {
    Pickle p;
    p.op('}').str("w").tensor([](Pickle& q) { q.storage("0", 4); }, 0, {4}, {1}).raw("s.");
    std::string file = test::torchZip(p.bytes(), {{"0", floats(4)}});
    // Mark every record as deflated (method 8) in the local and central headers.
    for (std::size_t at = 0; at + 4 <= file.size(); ++at) {
        if (file.compare(at, 4, "PK\x03\x04") == 0) file[at + 8] = 8;
        if (file.compare(at, 4, "PK\x01\x02") == 0) file[at + 10] = 8;
    }
    expectError<WeightsError>([&] { readTorchStateDict(file, "bomb.pth"); }, "bomb.pth",
                              "compressed");
}

TEST(HostileWeights, PickleSizeAndValueCountAreBounded) {
    Pickle p;
    p.op(']');
    for (int i = 0; i < 5000; ++i) p.op('N').op('a');
    p.op('.');
    const std::string file = test::torchZip(p.bytes(), {});
    StateDictLimits small;
    small.maxPickleBytes = 1000;
    expectError<WeightsError>([&] { readTorchStateDict(file, "big.pth", {}, small); }, "big.pth",
                              "pickle of");
    StateDictLimits few;
    few.maxValues = 1000;
    expectError<WeightsError>([&] { readTorchStateDict(file, "many.pth", {}, few); }, "many.pth",
                              "too many pickle values");
}

// A pickle that asks for os.system('touch ...'): nothing is ever called.
TEST(HostileWeights, PickledCallsAreNeverExecuted) {
    test::TempDir dir;
    const std::string marker = (dir / "pwned").string();
    Pickle p;
    p.op('}').op('(').str("w").tensor([](Pickle& q) { q.storage("0", 4); }, 0, {4}, {1});
    p.str("evil").global("os", "system").op('(').str("touch " + marker).op('t').op('R');
    p.raw("u.");
    const NamedTensors t =
        readTorchStateDict(test::torchZip(p.bytes(), {{"0", floats(4)}}), "x.pth");
    ASSERT_EQ(t.size(), 1u);
    EXPECT_EQ(t[0].first, "w");
    EXPECT_FALSE(std::filesystem::exists(marker));
    // As the whole pickle: a clear error.
    Pickle q;
    q.global("os", "system").op('(').str("touch " + marker).op('t').op('R').op('.');
    expectError<WeightsError>([&] { readTorchStateDict(test::torchZip(q.bytes(), {}), "y.pth"); },
                              "y.pth", "not a dict");
    EXPECT_FALSE(std::filesystem::exists(marker));
}

// The torch.save builder writes what the real fixtures hold.
TEST(HostileWeights, BuiltFilesReadLikeRealOnes) {
    const NamedTensors real = readTorchStateDict(test::fixture("weights/resnet18_w4_c10.pth"));
    const NamedTensors again = readTorchStateDict(test::torchSave(real), "again.pth");
    ASSERT_EQ(real.size(), again.size());
    for (std::size_t i = 0; i < real.size(); ++i) {
        EXPECT_EQ(real[i].first, again[i].first);
        EXPECT_TRUE(at::equal(real[i].second, again[i].second)) << real[i].first;
    }
}

// Issue 4: conv1.weight with 1024 rows made inferModel build an 11 GB network from a small file.
TEST(HostileWeights, AWideNetworkIsRefusedBeforeItIsBuilt) {
    NamedTensors t;
    t.emplace_back("conv1.weight", at::zeros({1024, 3, 7, 7}));
    t.emplace_back("fc.weight", at::zeros({10, 8192}));
    t.emplace_back("layer3.0.conv1.weight", at::zeros({1}));
    t.emplace_back("layer3.1.conv1.weight", at::zeros({1}));
    expectError<WeightsError>([&] { inferModel(t, "wide.pth"); }, "wide.pth", "holds only");
    test::TempDir dir;
    test::spit(dir / "wide.pth", test::torchSave(t));
    expectError<WeightsError>([&] { ModelSession::open(dir / "wide.pth"); }, "wide.pth",
                              "holds only");
    t[0].second = at::zeros({5000, 3, 7, 7});
    expectError<WeightsError>([&] { inferModel(t, "wider.pth"); }, "wider.pth", "width 5000");
}

TEST(HostileWeights, ParameterCountMatchesTheNetwork) {
    for (Arch a : {Arch::ResNet18, Arch::ResNet34, Arch::ResNet50, Arch::ResNet101})
        for (int64_t w : {1, 4}) {
            CamNet net(a, 7, w);
            std::uint64_t n = 0;
            for (const auto& p : net->parameters()) n += static_cast<std::uint64_t>(p.numel());
            EXPECT_EQ(parameterCount(a, 7, w), n) << archName(a) << " width " << w;
        }
    EXPECT_EQ(parameterCount(Arch::ResNet50, 1000, 64), 25557032u);  // torchvision's resnet50
    EXPECT_EQ(parameterCount(Arch::ResNet18, 1000, 64), 11689512u);
    EXPECT_EQ(parameterCount(Arch::ResNet101, INT64_MAX, INT64_MAX), UINT64_MAX);
}

// Our own zip checks run before LibTorch sees the bytes.
TEST(TorchZip, DamagedContainersAreRefusedWithTheFileNamed) {
    Pickle p;
    p.op('}').str("w").tensor([](Pickle& q) { q.storage("0", 4); }, 0, {4}, {1}).raw("s.");
    const std::string good = test::torchZip(p.bytes(), {{"0", floats(4)}});
    const TorchZip zip = validateTorchZip(good.data(), good.size(), "good.pth");
    ASSERT_TRUE(zip.find("data.pkl"));
    ASSERT_TRUE(zip.find("data/0"));
    EXPECT_LE(zip.recordBytes, good.size());

    std::string flipped = good;
    flipped[zip.find("data/0")->dataOffset] ^= 0x40;
    expectError<TorchZipError>([&] { validateTorchZip(flipped.data(), flipped.size(), "crc.pth"); },
                               "crc.pth", "CRC");
    std::string repaired = flipped;
    repairZipCrcs(repaired);
    EXPECT_NO_THROW(validateTorchZip(repaired.data(), repaired.size(), "repaired.pth"));

    // A central directory entry pointing its local header at another record's.
    std::string overlap = good;
    const ZipRecord* a = zip.find("data.pkl");
    const ZipRecord* b = zip.find("data/0");
    std::string name0 = b->name;
    for (int k = 0; k < 4; ++k)
        overlap[b->centralOffset + 42 + k] = static_cast<char>((a->headerOffset >> (8 * k)) & 0xff);
    expectError<TorchZipError>([&] { validateTorchZip(overlap.data(), overlap.size(), "ov.pth"); },
                               "ov.pth");
    // Offsets past the end, a truncated directory, garbage.
    std::string far = good;
    for (int k = 0; k < 4; ++k) far[b->centralOffset + 42 + k] = '\x7f';
    expectError<TorchZipError>([&] { validateTorchZip(far.data(), far.size(), "far.pth"); },
                               "far.pth");
    // Encrypted or "compressed patched data" records (flag bits 0, 6 and 5 of the directory).
    for (const char bit : {'\x01', '\x40', '\x20'}) {
        std::string flagged = good;
        flagged[b->centralOffset + 8] = static_cast<char>(flagged[b->centralOffset + 8] | bit);
        expectError<TorchZipError>(
            [&] { validateTorchZip(flagged.data(), flagged.size(), "flag.pth"); }, "flag.pth",
            "data/0");
    }
    for (std::size_t cut : {good.size() - 1, good.size() - 30, good.size() / 2, std::size_t(10)})
        expectError<TorchZipError>([&] { validateTorchZip(good.data(), cut, "cut.pth"); },
                                   "cut.pth");
}

// Issue 13: a damaged .ckpt reported the .pth reader's "unsupported pickle opcode".
TEST(HostileWeights, ADamagedCheckpointReportsACheckpointError) {
    test::TempDir dir;
    CheckpointMeta m;
    m.arch = Arch::ResNet18;
    m.baseWidth = 2;
    m.classNames = {"a", "b"};
    m.inputSize = 32;
    CamNet net(Arch::ResNet18, 2, 2);
    saveCheckpoint(dir / "good.ckpt", m, net);
    const std::string good = test::slurp(dir / "good.ckpt");
    test::spit(dir / "damaged.ckpt", good.substr(0, good.size() - 100));
    std::string flipped = good;
    for (std::size_t i = good.size() / 3; i < good.size() / 3 + 32; ++i) flipped[i] ^= 0x5a;
    test::spit(dir / "flipped.ckpt", flipped);
    test::spit(dir / "renamed.pth", flipped);  // our checkpoint under another name
    test::spit(dir / "renamed-good.pth", good);
    for (const char* f : {"damaged.ckpt", "flipped.ckpt", "renamed.pth"}) {
        try {
            ModelSession::open(dir / f);
            ADD_FAILURE() << f << " opened";
        } catch (const CheckpointError& e) {
            const std::string msg = e.what();
            EXPECT_NE(msg.find(f), std::string::npos) << msg;
            EXPECT_EQ(msg.find("pickle opcode"), std::string::npos) << msg;
        } catch (const std::exception& e) {
            ADD_FAILURE() << f << ": " << typeid(e).name() << ": " << e.what();
        }
    }
    EXPECT_TRUE(ModelSession::open(dir / "renamed-good.pth")->info().fromCheckpoint);
    EXPECT_TRUE(ModelSession::open(dir / "good.ckpt")->info().fromCheckpoint);
    // A .pth state dict still opens as weights, and a .ckpt that is one says what it is.
    EXPECT_FALSE(
        ModelSession::open(test::fixture("weights/resnet18_w4_c10.pth"))->info().fromCheckpoint);
    std::filesystem::copy_file(test::fixture("weights/resnet18_w4_c10.pth"), dir / "sd.ckpt");
    expectError<CheckpointError>([&] { ModelSession::open(dir / "sd.ckpt"); }, "sd.ckpt",
                                 "not a CAM Explorer checkpoint");
}

// Issue 14: a folder said "does not exist".
TEST(HostileWeights, AFolderIsNotAModelFile) {
    test::TempDir dir;
    std::filesystem::create_directories(dir / "model.ckpt");
    expectError<CheckpointError>([&] { ModelSession::open(dir / "model.ckpt"); }, "model.ckpt",
                                 "is a folder");
    expectError<CheckpointError>([&] { loadCheckpoint(dir / "model.ckpt"); }, "model.ckpt",
                                 "is a folder");
    expectError<WeightsError>([&] { readTorchStateDict(dir / "model.ckpt"); }, "model.ckpt",
                              "is a folder");
    expectError<CheckpointError>([&] { ModelSession::open(dir / "absent.pth"); }, "absent.pth",
                                 "does not exist");
}

// The digest is XXH3 now; files with an FNV-1a digest (no algorithm recorded) still open, and
// both catch weights altered behind a repaired zip CRC.
TEST(CheckpointDigest, Xxh3AndLegacyFnv1aAreBothChecked) {
    test::TempDir dir;
    at::manual_seed(3);
    CamNet net(Arch::ResNet18, 3, 2);
    CheckpointMeta fnv = test::tinyCheckpointMeta();
    fnv.weightsDigestAlgorithm = "fnv1a-64";
    saveCheckpoint(dir / "new.ckpt", test::tinyCheckpointMeta(), net);
    saveCheckpoint(dir / "old.ckpt", fnv, net);
    EXPECT_EQ(readCheckpointMeta(dir / "new.ckpt").weightsDigestAlgorithm, "xxh3-64");
    EXPECT_EQ(readCheckpointMeta(dir / "old.ckpt").weightsDigestAlgorithm, "fnv1a-64");
    EXPECT_NE(test::slurp(dir / "new.ckpt").find("weights_digest_algorithm"), std::string::npos);
    EXPECT_EQ(test::slurp(dir / "old.ckpt").find("weights_digest_algorithm"), std::string::npos);
    EXPECT_NE(readCheckpointMeta(dir / "new.ckpt").weightsDigest,
              readCheckpointMeta(dir / "old.ckpt").weightsDigest);
    for (const char* f : {"new.ckpt", "old.ckpt"}) {
        EXPECT_NO_THROW(loadCheckpoint(dir / f)) << f;
        // Alter one weight (fc's bias: the last tensor record), then repair the zip's CRCs so
        // that only the digest can tell.
        std::string bytes = test::slurp(dir / f);
        const TorchZip zip =
            validateTorchZip(bytes.data(), bytes.size(), f, torchScriptZipLimits());
        const ZipRecord* fcBias = nullptr;
        for (const auto& r : zip.records)
            if (r.name.find("/data/") != std::string::npos && r.size == 3 * sizeof(float))
                fcBias = &r;
        ASSERT_TRUE(fcBias) << f;
        bytes[fcBias->dataOffset] ^= 0x01;
        repairZipCrcs(bytes);
        expectError<CheckpointError>([&] { loadCheckpointFromBytes(bytes, f); }, f,
                                     "checksum mismatch");
    }
}

// Issue 5: a writer that fails for lack of space leaves no temporary and the old file whole.
TEST(AtomicWrite, DiskFullLeavesNoTemporaryAndTheOldFile) {
    test::TempDir dir;
    writeFileAtomically(dir / "f.bin", std::string("old"));
    try {
        writeFileAtomically(dir / "f.bin", [](const std::filesystem::path& tmp) {
            test::spit(tmp, "half");
            throw std::system_error(ENOSPC, std::generic_category());
        });
        ADD_FAILURE() << "no error";
    } catch (const std::runtime_error& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("could not write '" + (dir / "f.bin").string() + "'"), std::string::npos)
            << msg;
        EXPECT_NE(msg.find("No space left on device"), std::string::npos) << msg;
    }
    EXPECT_EQ(test::slurp(dir / "f.bin"), "old");
    std::size_t entries = 0;
    for (auto& e : std::filesystem::directory_iterator(dir.path())) (void)e, ++entries;
    EXPECT_EQ(entries, 1u);
}

TEST(AtomicWrite, StaleTemporariesOfDeadWritersAreRemoved) {
    test::TempDir dir;
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) _exit(0);
    waitpid(child, nullptr, 0);  // now a pid that no longer exists
    const auto dead = dir / (".f.bin.tmp-" + std::to_string(child) + "-1a2b");
    const auto live = dir / (".f.bin.tmp-" + std::to_string(getppid()) + "-3c4d");
    const auto other = dir / (".g.bin.tmp-" + std::to_string(child) + "-5e6f");
    for (const auto& p : {dead, live, other}) test::spit(p, "partial");
    writeFileAtomically(dir / "f.bin", std::string("new"));
    EXPECT_FALSE(std::filesystem::exists(dead));
    EXPECT_TRUE(std::filesystem::exists(live));   // its writer may still be at work
    EXPECT_TRUE(std::filesystem::exists(other));  // another file's
    EXPECT_EQ(test::slurp(dir / "f.bin"), "new");
}

// With a real full disk: a 1 MB tmpfs (needs root; skipped elsewhere). Used to abort the
// process from PyTorchStreamWriter's destructor and leave the temporary behind.
TEST(AtomicWrite, ACheckpointOnAFullDiskGivesAClearError) {
    test::TempDir dir;
    const auto mnt = dir / "small";
    std::filesystem::create_directories(mnt);
    if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=1m") != 0)
        GTEST_SKIP() << "cannot mount a small tmpfs here (not root?)";
    struct Unmount {
        std::filesystem::path p;
        ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
    } unmount{mnt};
    CamNet small(Arch::ResNet18, 3, 2);
    saveCheckpoint(mnt / "last.ckpt", test::tinyCheckpointMeta(), small);
    const std::string before = test::slurp(mnt / "last.ckpt");
    CheckpointMeta big = test::tinyCheckpointMeta();
    big.baseWidth = 16;  // ~3 MB
    CamNet net(Arch::ResNet18, 3, 16);
    expectError<CheckpointError>([&] { saveCheckpoint(mnt / "last.ckpt", big, net); },
                                 (mnt / "last.ckpt").string(), "No space left on device");
    EXPECT_EQ(test::slurp(mnt / "last.ckpt"), before);
    std::size_t entries = 0;
    for (auto& e : std::filesystem::directory_iterator(mnt)) (void)e, ++entries;
    EXPECT_EQ(entries, 1u);
}

// Writes the fuzz seed corpora when CAMX_WRITE_FUZZ_CORPUS names the tests/fuzz/corpus folder.
TEST(FuzzCorpus, Write) {
    const char* out = std::getenv("CAMX_WRITE_FUZZ_CORPUS");
    if (!out) GTEST_SKIP() << "set CAMX_WRITE_FUZZ_CORPUS=<repo>/tests/fuzz/corpus to write it";
    const std::filesystem::path root(out);
    std::filesystem::create_directories(root / "pickle");
    std::filesystem::create_directories(root / "checkpoint");
    auto put = [&](const std::string& sub, const std::string& name, const std::string& bytes) {
        ASSERT_LT(bytes.size(), 200000u) << name;
        test::spit(root / sub / name, bytes);
    };
    // Real torch.save files (Python's), and a width-1 ResNet-18 state dict in the same format.
    put("pickle", "resnet18_w4_expected.pt",
        test::slurp(test::fixture("weights/resnet18_w4_c10_expected.pt")));
    put("pickle", "resnet50_w4_expected.pt",
        test::slurp(test::fixture("weights/resnet50_w4_c10_expected.pt")));
    {
        const std::string real = test::slurp(test::fixture("weights/resnet18_w4_c10.pth"));
        const TorchZip zip = validateTorchZip(real.data(), real.size(), "fixture");
        const ZipRecord* pkl = zip.find("data.pkl");
        put("pickle", "resnet18_w4_data.pkl", real.substr(pkl->dataOffset, pkl->size));
    }
    CamNet w1(Arch::ResNet18, 3, 1);
    NamedTensors sd;
    for (auto& p : w1->named_parameters()) sd.emplace_back(p.key(), p.value());
    for (auto& b : w1->named_buffers()) sd.emplace_back(b.key(), b.value());
    put("pickle", "resnet18_w1.pth", test::torchSave(sd));
    // The hostile cases, small.
    {
        Pickle p;
        p.op('}').str("w").op('N').raw(std::string(20000, '\x85')).raw("s.");
        put("pickle", "deep_tuple1.pth", test::torchZip(p.bytes(), {}));
    }
    put("pickle", "shared_dicts.pth", sharedDicts(8, 20));
    {
        Pickle p;
        p.op('}').str("w").tensor([](Pickle& q) { q.storage("0", 1); }, 0, {1 << 20, 1 << 10},
                                  {0, 0});
        p.raw("s.");
        put("pickle", "zero_strides.pth", test::torchZip(p.bytes(), {{"0", floats(1)}}));
    }
    {
        Pickle p;
        p.op('}').op('(').storage("0", 256).put(0).op('0');
        for (int i = 0; i < 50; ++i)
            p.str("t" + std::to_string(i)).tensor([](Pickle& q) { q.get(0); }, 0, {256}, {1});
        p.raw("u.");
        put("pickle", "storage_fanout.pth", test::torchZip(p.bytes(), {{"0", floats(256)}}));
    }
    {
        Pickle p;
        p.op('}').op('(').str("w").tensor([](Pickle& q) { q.storage("0", 4); }, 0, {4}, {1});
        p.str("evil").global("os", "system").op('(').str("true").op('t').op('R').raw("u.");
        put("pickle", "os_system.pth", test::torchZip(p.bytes(), {{"0", floats(4)}}));
    }
    // Checkpoints: a width-1 ResNet-18, with and without optimizer state.
    test::TempDir dir;
    CheckpointMeta m = test::tinyCheckpointMeta();
    m.baseWidth = 1;
    saveCheckpoint(dir / "a.ckpt", m, w1);
    put("checkpoint", "resnet18_w1.ckpt", test::slurp(dir / "a.ckpt"));
    CheckpointMeta fnv = m;
    fnv.weightsDigestAlgorithm = "fnv1a-64";
    saveCheckpoint(dir / "b.ckpt", fnv, w1);
    put("checkpoint", "resnet18_w1_fnv.ckpt", test::slurp(dir / "b.ckpt"));
    put("checkpoint", "state_dict.pth", test::torchSave(sd));
}

}  // namespace
}  // namespace camx

namespace camx {
namespace {
// Found by fuzz_checkpoint: a checkpoint whose tensor view reaches past its storage (LibTorch's
// reader does not check) made the digest read past a heap buffer. Its zip CRCs are repaired as
// the fuzzer does, so the damage reaches the weights.
TEST(HostileWeights, ACheckpointTensorPastItsStorageIsRefused) {
    std::string bytes = test::slurp(test::fixture("hostile/ckpt_view_past_storage.ckpt"));
    repairZipCrcs(bytes);
    expectError<CheckpointError>([&] { loadCheckpointFromBytes(bytes, "past.ckpt"); }, "past.ckpt");
}
}  // namespace
}  // namespace camx
