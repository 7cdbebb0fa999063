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

TEST(Checkpoint, AKilledWriterLeavesThePreviousCheckpointIntact) {
    test::TempDir dir;
    at::manual_seed(5);
    CamNet net(Arch::ResNet50, 3, 8);
    saveCheckpoint(dir / "run.ckpt", meta(Arch::ResNet50), net);
    const std::string before = test::slurp(dir / "run.ckpt");
    for (int attempt = 0; attempt < 3; ++attempt) {
        const pid_t pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            // The child rewrites the checkpoint over and over until it is killed mid-write.
            CamNet other(Arch::ResNet50, 3, 8);
            for (;;) saveCheckpoint(dir / "run.ckpt", meta(Arch::ResNet50), other);
        }
        usleep(150000 + attempt * 70000);
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        // Whatever moment the kill hit, the file is a whole checkpoint: the old or a new one.
        EXPECT_NO_THROW(loadCheckpoint(dir / "run.ckpt")) << "attempt " << attempt;
    }
    (void)before;
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
