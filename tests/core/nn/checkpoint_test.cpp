#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../test_support.h"
#include "common/fs_util.h"
#include "nn/checkpoint_io.h"

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
