#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <signal.h>
#include <sys/wait.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <thread>

#include "../test_support.h"
#include "common/fs_util.h"
#include "nn/checkpoint_io.h"
#include "nn/torch_zip.h"

namespace camx {
namespace {

CheckpointMeta meta(Arch arch = Arch::ResNet18) {
    CheckpointMeta m;
    m.arch = arch;
    m.baseWidth = 4;
    m.classNames = {"Alpha", "Beta", "Gamma"};
    m.classFolders = {"n1-Alpha", "n2-Beta", "n3-Gamma"};
    m.inputSize = 64;
    m.epoch = 2;
    m.history = {EpochRecord{1, 1.5, 0.3, 1.4, 0.35, 0.9, 0.01, 3.0, 10.0},
                 EpochRecord{2, 1.0, 0.6, 1.1, 0.5, 1.0, 0.005, 3.0, 11.0}};
    m.bestValTop1 = 0.5;
    return m;
}

TEST(Checkpoint, RoundTripsWeightsAndMetadata) {
    test::TempDir dir;
    at::manual_seed(4);
    CamNet net(Arch::ResNet18, 3, 4);
    saveCheckpoint(dir / "a.ckpt", meta(), net);
    LoadedCheckpoint l = loadCheckpoint(dir / "a.ckpt");
    EXPECT_EQ(l.meta.arch, Arch::ResNet18);
    EXPECT_EQ(l.meta.classNames, meta().classNames);
    EXPECT_EQ(l.meta.classFolders, meta().classFolders);
    EXPECT_EQ(l.meta.inputSize, 64);
    ASSERT_EQ(l.meta.history.size(), 2u);
    EXPECT_DOUBLE_EQ(l.meta.history[1].valTop1, 0.5);
    auto a = net->named_parameters(), b = l.net->named_parameters();
    for (auto& p : a) EXPECT_TRUE(at::equal(p.value(), b[p.key()])) << p.key();
    EXPECT_EQ(readCheckpointMeta(dir / "a.ckpt").epoch, 2);
}

TEST(Checkpoint, CorruptTruncatedForeignAndMismatchedFilesGiveClearErrors) {
    test::TempDir dir;
    CamNet net(Arch::ResNet18, 3, 4);
    saveCheckpoint(dir / "good.ckpt", meta(), net);
    const std::string good = test::slurp(dir / "good.ckpt");
    test::spit(dir / "truncated.ckpt", good.substr(0, good.size() * 2 / 3));
    std::string flipped = good;
    for (std::size_t i = good.size() / 2; i < good.size() / 2 + 64; ++i)
        flipped[i] = static_cast<char>(~flipped[i]);
    test::spit(dir / "corrupt.ckpt", flipped);
    test::spit(dir / "text.ckpt", "not a checkpoint");
    // A torchvision state dict is a PyTorch file, but not a checkpoint of ours.
    std::filesystem::copy_file(test::fixture("weights/resnet18_w4_c10.pth"), dir / "foreign.ckpt");
    // Metadata that says ResNet-50 over ResNet-18 weights.
    saveCheckpoint(dir / "mismatch.ckpt", meta(Arch::ResNet50), net);
    for (const char* f : {"truncated.ckpt", "corrupt.ckpt", "text.ckpt", "foreign.ckpt",
                          "mismatch.ckpt", "absent.ckpt"}) {
        try {
            loadCheckpoint(dir / f);
            ADD_FAILURE() << f << " loaded";
        } catch (const CheckpointError& e) {
            EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << e.what();
        } catch (const std::exception& e) {
            ADD_FAILURE() << f << ": unexpected " << e.what();
        }
    }
}

// The child rewrites the checkpoint over and over and reports each completed save through a
// pipe; the parent waits for one, then kills the child while a temporary of the next write is on
// disk. The temporary still there after the kill proves the write was interrupted; the file must
// then be whole, and the next write removes the dead writer's temporary.
TEST(Checkpoint, AKilledWriterLeavesThePreviousCheckpointIntact) {
    test::TempDir dir;
    at::manual_seed(5);
    CamNet net(Arch::ResNet50, 3, 8);
    CheckpointMeta m50 = meta(Arch::ResNet50);
    m50.baseWidth = 8;  // as the network: LibTorch's load would take any shape (now refused)
    saveCheckpoint(dir / "run.ckpt", m50, net);
    auto temporaries = [&](pid_t owner) {
        std::vector<std::filesystem::path> v;
        const std::string prefix = ".run.ckpt.tmp-" + std::to_string(owner) + "-";
        for (auto& e : std::filesystem::directory_iterator(dir.path()))
            if (e.path().filename().string().rfind(prefix, 0) == 0) v.push_back(e.path());
        return v;
    };
    int interrupted = 0;
    for (int attempt = 0; attempt < 20 && interrupted < 2; ++attempt) {
        int fds[2];
        ASSERT_EQ(pipe(fds), 0);
        const pid_t pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            close(fds[0]);
            CamNet other(Arch::ResNet50, 3, 8);
            for (;;) {
                saveCheckpoint(dir / "run.ckpt", m50, other);
                if (write(fds[1], "s", 1) != 1) _exit(1);
            }
        }
        close(fds[1]);
        char c = 0;
        ASSERT_EQ(read(fds[0], &c, 1), 1) << "the child never completed a save";
        // Kill it as soon as its next write has a temporary on disk.
        bool seen = false;
        for (long polls = 0; polls < 50'000'000 && !seen; ++polls) seen = !temporaries(pid).empty();
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        close(fds[0]);
        ASSERT_TRUE(WIFSIGNALED(status));
        const auto left = temporaries(pid);
        if (seen && !left.empty()) ++interrupted;  // killed between writing and renaming
        // Whatever moment the kill hit, the file is a whole checkpoint: the old or a new one.
        EXPECT_NO_THROW(loadCheckpoint(dir / "run.ckpt")) << "attempt " << attempt;
        if (!left.empty()) {
            // The dead writer's temporary is cleaned up by the next write.
            saveCheckpoint(dir / "run.ckpt", m50, net);
            for (const auto& t : left) EXPECT_FALSE(std::filesystem::exists(t)) << t;
        }
    }
    EXPECT_GE(interrupted, 1) << "no write was caught mid-way";
}

// ---- readCheckpointMeta: the metadata record alone (issue 12) --------------------------------

// Metadata with every field set to something other than its default.
CheckpointMeta richMeta() {
    CheckpointMeta m = meta();
    m.norm.mean = {0.5f, 0.25f, 0.125f};
    m.norm.std = {0.3f, 0.2f, 0.1f};
    m.trainConfigJson = R"({"epochs":2,"learning_rate":0.01,"preset":"test \"quoted\" é"})";
    m.bestValTop1 = 0.625;
    m.createdBy = "checkpoint_test";
    return m;
}

void expectSameMeta(const CheckpointMeta& a, const CheckpointMeta& b, const std::string& what) {
    SCOPED_TRACE(what);
    EXPECT_EQ(a.arch, b.arch);
    EXPECT_EQ(a.baseWidth, b.baseWidth);
    EXPECT_EQ(a.classNames, b.classNames);
    EXPECT_EQ(a.classFolders, b.classFolders);
    EXPECT_EQ(a.inputSize, b.inputSize);
    EXPECT_EQ(a.norm.mean, b.norm.mean);
    EXPECT_EQ(a.norm.std, b.norm.std);
    EXPECT_EQ(a.trainConfigJson, b.trainConfigJson);
    ASSERT_EQ(a.history.size(), b.history.size());
    for (std::size_t i = 0; i < a.history.size(); ++i) {
        const EpochRecord &x = a.history[i], &y = b.history[i];
        EXPECT_EQ(x.epoch, y.epoch);
        EXPECT_EQ(x.trainLoss, y.trainLoss);
        EXPECT_EQ(x.trainTop1, y.trainTop1);
        EXPECT_EQ(x.valLoss, y.valLoss);
        EXPECT_EQ(x.valTop1, y.valTop1);
        EXPECT_EQ(x.valTop5, y.valTop5);
        EXPECT_EQ(x.learningRate, y.learningRate);
        EXPECT_EQ(x.seconds, y.seconds);
        EXPECT_EQ(x.imagesPerSecond, y.imagesPerSecond);
    }
    EXPECT_EQ(a.epoch, b.epoch);
    EXPECT_EQ(a.bestValTop1, b.bestValTop1);
    EXPECT_EQ(a.createdBy, b.createdBy);
    EXPECT_EQ(a.weightsDigest, b.weightsDigest);
    EXPECT_EQ(a.weightsDigestAlgorithm, b.weightsDigestAlgorithm);
}

// Expects a CheckpointError whose message names `name` and holds `part`; returns the message.
template <class Fn>
std::string expectCheckpointError(Fn fn, const std::string& name, const std::string& part = "") {
    try {
        fn();
        ADD_FAILURE() << name << ": no error";
    } catch (const CheckpointError& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("'"), std::string::npos) << msg;
        EXPECT_NE(msg.find(name), std::string::npos) << msg;
        EXPECT_NE(msg.find(part), std::string::npos) << msg;
        return msg;
    } catch (const std::exception& e) {
        ADD_FAILURE() << name << ": unexpected " << e.what();
    }
    return {};
}

// The record `name` ("archive/data.pkl") of a checkpoint's bytes.
ZipRecord recordOf(const std::string& bytes, const std::string& name) {
    const TorchZip zip = validateTorchZip(bytes.data(), bytes.size(), "t", torchScriptZipLimits());
    for (const auto& r : zip.records)
        if (r.name == name) return r;
    ADD_FAILURE() << "no record " << name;
    return {};
}

// (a) The light reader gives what the full load (LibTorch's reader) gives, field by field: with
// and without optimizer state, with the current and the legacy digest.
TEST(Checkpoint, MetadataReadAloneEqualsTheFullLoad) {
    test::TempDir dir;
    at::manual_seed(6);
    CamNet net(Arch::ResNet18, 3, 4);
    torch::optim::SGD sgd(net->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
    for (auto& p : net->parameters()) p.mutable_grad() = at::ones_like(p);
    sgd.step();
    CheckpointMeta legacy = richMeta();
    legacy.weightsDigestAlgorithm = "fnv1a-64";
    saveCheckpoint(dir / "plain.ckpt", richMeta(), net);
    saveCheckpoint(dir / "sgd.ckpt", richMeta(), net, &sgd);
    saveCheckpoint(dir / "legacy.ckpt", legacy, net, &sgd);
    for (const char* f : {"plain.ckpt", "sgd.ckpt", "legacy.ckpt"}) {
        const CheckpointMeta light = readCheckpointMeta(dir / f);
        expectSameMeta(light, loadCheckpoint(dir / f).meta, f);
        // And what was saved (the digest is computed by saveCheckpoint).
        CheckpointMeta saved = std::string(f) == "legacy.ckpt" ? legacy : richMeta();
        saved.trainConfigJson = light.trainConfigJson;
        saved.weightsDigest = light.weightsDigest;
        expectSameMeta(light, saved, std::string(f) + " as saved");
        EXPECT_EQ(light.trainConfigJson,
                  R"({"epochs":2,"learning_rate":0.01,"preset":"test \"quoted\" é"})");
        EXPECT_EQ(light.weightsDigest.size(), 16u);
    }
}

// (b) Tensor records damaged (CRCs left as they were): the metadata still reads, because those
// records are never read for it; the model does not load, and says why.
TEST(Checkpoint, MetadataIsReadWithoutTheWeights) {
    test::TempDir dir;
    at::manual_seed(7);
    CamNet net(Arch::ResNet18, 3, 4);
    torch::optim::AdamW adamw(net->parameters(), torch::optim::AdamWOptions(0.002));
    for (auto& p : net->parameters()) p.mutable_grad() = at::ones_like(p);
    adamw.step();
    saveCheckpoint(dir / "good.ckpt", richMeta(), net, &adamw);
    std::string bytes = test::slurp(dir / "good.ckpt");
    const TorchZip zip = validateTorchZip(bytes.data(), bytes.size(), "t", torchScriptZipLimits());
    int damaged = 0;
    for (const auto& r : zip.records) {
        if (r.name.compare(0, zip.prefix.size() + 6, zip.prefix + "/data/") != 0 || r.size == 0)
            continue;
        for (std::uint64_t i = r.size / 4; i < std::min<std::uint64_t>(r.size, r.size / 4 + 8); ++i)
            bytes[r.dataOffset + i] = static_cast<char>(~bytes[r.dataOffset + i]);
        ++damaged;
    }
    ASSERT_GT(damaged, 100);
    test::spit(dir / "damaged.ckpt", bytes);
    expectSameMeta(readCheckpointMeta(dir / "damaged.ckpt"), readCheckpointMeta(dir / "good.ckpt"),
                   "damaged weights");
    expectCheckpointError([&] { loadCheckpoint(dir / "damaged.ckpt"); }, "damaged.ckpt",
                          "CRC mismatch");
    expectCheckpointError([&] { loadCheckpointFromBytes(bytes, "damaged.ckpt"); }, "damaged.ckpt",
                          "CRC mismatch");
}

// What the light reader reads of a file: its end (directory) and the metadata record's header and
// bytes, in a handful of reads, none of them inside a tensor record. A ResNet-50 with AdamW state
// has a directory larger than the first read from the end, so the reader has to read more.
TEST(Checkpoint, MetadataReadTouchesOnlyTheDirectoryAndTheMetadataRecord) {
    test::TempDir dir;
    at::manual_seed(8);
    CamNet net(Arch::ResNet50, 3, 8);
    torch::optim::AdamW adamw(net->parameters(), torch::optim::AdamWOptions(0.002));
    for (auto& p : net->parameters()) p.mutable_grad() = at::ones_like(p);
    adamw.step();
    CheckpointMeta m = richMeta();
    m.arch = Arch::ResNet50;
    m.baseWidth = 8;
    saveCheckpoint(dir / "big.ckpt", m, net, &adamw);
    const std::string bytes = test::slurp(dir / "big.ckpt");
    const TorchZip full =
        validateTorchZip(bytes.data(), bytes.size(), "big.ckpt", torchScriptZipLimits());

    std::vector<std::pair<std::uint64_t, std::size_t>> reads;
    const ZipFileReader read = [&](std::uint64_t at, std::size_t n, char* out) {
        ASSERT_LE(at + n, bytes.size());
        reads.emplace_back(at, n);
        std::memcpy(out, bytes.data() + at, n);
    };
    const TorchZip light =
        readTorchZipDirectory(read, bytes.size(), "big.ckpt", torchScriptZipLimits());
    EXPECT_GE(reads.size(), 2u) << "the directory fits the first read: make the test bigger";
    EXPECT_LE(reads.size(), 3u);
    ASSERT_EQ(light.records.size(), full.records.size());
    EXPECT_EQ(light.prefix, full.prefix);
    EXPECT_EQ(light.recordBytes, full.recordBytes);
    for (std::size_t i = 0; i < full.records.size(); ++i) {
        const ZipRecord &a = light.records[i], &b = full.records[i];
        EXPECT_EQ(a.name, b.name);
        EXPECT_EQ(a.headerOffset, b.headerOffset);
        EXPECT_EQ(a.size, b.size);
        EXPECT_EQ(a.storedSize, b.storedSize);
        EXPECT_EQ(a.method, b.method);
        EXPECT_EQ(a.crc32, b.crc32);
        EXPECT_EQ(a.centralOffset, b.centralOffset);
    }
    const ZipRecord* data = light.find("data.pkl");
    ASSERT_TRUE(data);
    const std::string pkl =
        readTorchZipRecord(read, bytes.size(), light, *data, "big.ckpt", 64u << 20);
    const ZipRecord* fullData = full.find("data.pkl");
    EXPECT_EQ(pkl, bytes.substr(fullData->dataOffset, fullData->size));
    EXPECT_LE(reads.size(), 5u);

    std::uint64_t total = 0;
    for (const auto& [at, n] : reads) {
        total += n;
        for (const auto& r : full.records) {
            if (r.name.find("/data/") == std::string::npos || r.size == 0) continue;
            EXPECT_TRUE(at + n <= r.dataOffset || at >= r.dataOffset + r.size)
                << "read [" << at << ", " << at + n << ") reaches into " << r.name;
        }
    }
    const std::uint64_t directory = bytes.size() - full.records.front().centralOffset;
    EXPECT_LE(total, directory + fullData->size + 70000) << "of " << bytes.size();
    EXPECT_LT(total * 10, bytes.size());

    // A limit on the directory's size is kept.
    ZipLimits small = torchScriptZipLimits();
    small.maxDirectoryBytes = 1000;
    try {
        readTorchZipDirectory(read, bytes.size(), "big.ckpt", small);
        ADD_FAILURE() << "no error";
    } catch (const TorchZipError& e) {
        EXPECT_NE(std::string(e.what()).find("'big.ckpt'"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("central directory"), std::string::npos) << e.what();
    }
    // And one on the record's.
    try {
        readTorchZipRecord(read, bytes.size(), light, *data, "big.ckpt", data->size - 1);
        ADD_FAILURE() << "no error";
    } catch (const TorchZipError& e) {
        EXPECT_NE(std::string(e.what()).find("data.pkl"), std::string::npos) << e.what();
    }
    // The whole reader, on the file.
    expectSameMeta(readCheckpointMeta(dir / "big.ckpt"), loadCheckpoint(dir / "big.ckpt").meta,
                   "big.ckpt");
}

// (c) A truncated file, and a damaged metadata record (its bytes, its CRC repaired or not, its
// local header, its directory entry), give a CheckpointError naming the file.
TEST(Checkpoint, TruncatedFilesAndDamagedMetadataGiveClearErrors) {
    test::TempDir dir;
    CamNet net(Arch::ResNet18, 3, 4);
    saveCheckpoint(dir / "good.ckpt", richMeta(), net);
    const std::string good = test::slurp(dir / "good.ckpt");
    for (std::size_t cut :
         {std::size_t{0}, std::size_t{3}, std::size_t{21}, std::size_t{100}, good.size() / 3,
          good.size() * 2 / 3, good.size() - 22, good.size() - 1}) {
        const std::string name = "cut-" + std::to_string(cut) + ".ckpt";
        test::spit(dir / name, good.substr(0, cut));
        expectCheckpointError([&] { readCheckpointMeta(dir / name); }, name,
                              "is not a readable checkpoint");
    }
    const ZipRecord data = recordOf(good, "archive/data.pkl");
    const std::string pkl = good.substr(data.dataOffset, data.size);
    const std::size_t json = pkl.find("{\"arch\"");
    ASSERT_NE(json, std::string::npos);

    std::string flipped = good;
    flipped[data.dataOffset + json] = '[';  // no longer JSON
    test::spit(dir / "crc.ckpt", flipped);
    expectCheckpointError([&] { readCheckpointMeta(dir / "crc.ckpt"); }, "crc.ckpt",
                          "record 'archive/data.pkl' is corrupt (CRC mismatch)");
    repairZipCrcs(flipped);
    test::spit(dir / "json.ckpt", flipped);
    expectCheckpointError([&] { readCheckpointMeta(dir / "json.ckpt"); }, "json.ckpt",
                          "has unreadable metadata");

    // The pickle around it: a string length past the record's end, CRC repaired.
    std::string longer = good;
    longer[data.dataOffset + json - 1] = '\x7f';  // BINUNICODE's length, high byte
    repairZipCrcs(longer);
    test::spit(dir / "pickle.ckpt", longer);
    expectCheckpointError([&] { readCheckpointMeta(dir / "pickle.ckpt"); }, "pickle.ckpt",
                          "archive/data.pkl");

    std::string header = good;
    header[data.headerOffset + 30] = 'X';  // the name in its local header
    test::spit(dir / "header.ckpt", header);
    expectCheckpointError([&] { readCheckpointMeta(dir / "header.ckpt"); }, "header.ckpt",
                          "local header of record 'archive/data.pkl'");

    std::string past = good;
    for (int k = 0; k < 4; ++k) past[data.centralOffset + 24 + k] = '\x7f';  // its size
    test::spit(dir / "size.ckpt", past);
    expectCheckpointError([&] { readCheckpointMeta(dir / "size.ckpt"); }, "size.ckpt",
                          "is not a readable checkpoint");

    std::string renamed = good;
    const std::size_t key = pkl.find("camx_meta");
    ASSERT_NE(key, std::string::npos);
    renamed[data.dataOffset + key] = 'k';  // "kamx_meta": an archive, but not ours
    repairZipCrcs(renamed);
    test::spit(dir / "key.ckpt", renamed);
    expectCheckpointError([&] { readCheckpointMeta(dir / "key.ckpt"); }, "key.ckpt",
                          "not a CAM Explorer checkpoint");
}

// (d) Files that are no checkpoint give the errors they gave before (the full reader's, word for
// word).
TEST(Checkpoint, ForeignFilesGiveTheSameErrorsAsAFullLoad) {
    test::TempDir dir;
    test::spit(dir / "text.ckpt", "not a checkpoint");
    test::spit(dir / "empty.ckpt", "");
    test::spit(dir / "pk.ckpt", std::string("PK\x03\x04", 4));
    std::filesystem::copy_file(test::fixture("weights/resnet18_w4_c10.pth"), dir / "sd.ckpt");
    std::filesystem::create_directories(dir / "folder.ckpt");
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"text.ckpt", "is not a readable checkpoint"},
        {"empty.ckpt", "is not a readable checkpoint"},
        {"pk.ckpt", "is not a readable checkpoint"},
        {"sd.ckpt", "is a PyTorch file but not a CAM Explorer checkpoint"},
        {"folder.ckpt", "is a folder"},
        {"absent.ckpt", "does not exist"}};
    for (const auto& [f, part] : cases) {
        const std::string light =
            expectCheckpointError([&] { readCheckpointMeta(dir / f); }, f, part);
        const std::string full = expectCheckpointError([&] { loadCheckpoint(dir / f); }, f, part);
        EXPECT_EQ(light, full);
    }
}

// The fixtures that once crashed LibTorch's reader: the metadata reads, or a clear error.
TEST(Checkpoint, HostileFixturesGiveMetadataOrAClearError) {
    int files = 0;
    for (const auto& e : std::filesystem::directory_iterator(test::fixture("hostile"))) {
        if (e.path().extension() != ".ckpt") continue;
        ++files;
        try {
            const CheckpointMeta m = readCheckpointMeta(e.path());
            EXPECT_GT(m.numClasses(), 0) << e.path();
        } catch (const CheckpointError& err) {
            EXPECT_NE(std::string(err.what()).find(e.path().filename().string()), std::string::npos)
                << err.what();
        } catch (const std::exception& err) {
            ADD_FAILURE() << e.path() << ": unexpected " << err.what();
        }
    }
    EXPECT_GE(files, 5);
}

// No shared state: threads reading the same file at once all get its metadata.
TEST(Checkpoint, MetadataReadsFromManyThreadsAgree) {
    test::TempDir dir;
    CamNet net(Arch::ResNet18, 3, 4);
    saveCheckpoint(dir / "a.ckpt", richMeta(), net);
    const CheckpointMeta expected = readCheckpointMeta(dir / "a.ckpt");
    std::vector<std::thread> threads;
    std::vector<int> agreed(8, 0);
    for (std::size_t t = 0; t < agreed.size(); ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 20; ++i) {
                const CheckpointMeta m = readCheckpointMeta(dir / "a.ckpt");
                agreed[t] += m.weightsDigest == expected.weightsDigest &&
                             m.history.size() == expected.history.size() &&
                             m.trainConfigJson == expected.trainConfigJson;
            }
        });
    for (auto& t : threads) t.join();
    for (int a : agreed) EXPECT_EQ(a, 20);
}

TEST(AtomicWrite, AFailedWriteKeepsTheOldFileAndLeavesNoTemporary) {
    test::TempDir dir;
    writeFileAtomically(dir / "f.txt", std::string("old"));
    EXPECT_THROW(writeFileAtomically(dir / "f.txt",
                                     [](const std::filesystem::path& tmp) {
                                         test::spit(tmp, "half of the ne");
                                         throw std::runtime_error("disk full");
                                     }),
                 std::runtime_error);
    EXPECT_EQ(test::slurp(dir / "f.txt"), "old");
    std::size_t files = 0;
    for (auto& e : std::filesystem::directory_iterator(dir.path())) files += e.is_regular_file();
    EXPECT_EQ(files, 1u);
}

}  // namespace
}  // namespace camx
