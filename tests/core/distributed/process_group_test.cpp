// The c10d shim: torchrun's environment, and two ranks in one process (two threads, each with its
// own process group over a TCPStore on 127.0.0.1): collectives, and a peer that never comes or
// leaves early.
#include "distributed/process_group.h"

#include "ranks.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <exception>
#include <functional>
#include <map>
#include <string>
#include <thread>

namespace camx::dist {
namespace {

EnvLookup envOf(std::map<std::string, std::string> vars) {
    auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
    return [shared](const char* name) -> const char* {
        auto it = shared->find(name);
        return it == shared->end() ? nullptr : it->second.c_str();
    };
}

std::string errorOf(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return {};
}

TEST(DistributedEnv, NoVariablesMeansOneProcess) {
    EXPECT_FALSE(configFromEnvironment(envOf({})).has_value());
}

TEST(DistributedEnv, ReadsTorchrunVariables) {
    const auto c = configFromEnvironment(envOf({{"RANK", "3"},
                                                {"WORLD_SIZE", "8"},
                                                {"LOCAL_RANK", "1"},
                                                {"MASTER_ADDR", "node-a"},
                                                {"MASTER_PORT", "29511"}}));
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->rank, 3);
    EXPECT_EQ(c->worldSize, 8);
    EXPECT_EQ(c->localRank, 1);
    EXPECT_EQ(c->masterAddr, "node-a");
    EXPECT_EQ(c->masterPort, 29511);
    EXPECT_EQ(c->backend, "gloo");
    // One process needs no master.
    const auto one = configFromEnvironment(envOf({{"RANK", "0"}, {"WORLD_SIZE", "1"}}));
    ASSERT_TRUE(one.has_value());
    EXPECT_EQ(one->worldSize, 1);
}

TEST(DistributedEnv, BadValuesNameTheVariable) {
    const std::map<std::string, std::string> good = {
        {"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", "1234"}};
    auto with = [&](const std::string& k, const std::string& v) {
        auto m = good;
        if (v == "<unset>")
            m.erase(k);
        else
            m[k] = v;
        return errorOf([&] { configFromEnvironment(envOf(m)); });
    };
    EXPECT_EQ(with("WORLD_SIZE", "abc"), "WORLD_SIZE='abc' is not a whole number");
    EXPECT_EQ(with("WORLD_SIZE", "2x"), "WORLD_SIZE='2x' is not a whole number");
    EXPECT_EQ(with("WORLD_SIZE", ""), "WORLD_SIZE='' is not a whole number");
    EXPECT_NE(with("WORLD_SIZE", "0").find("WORLD_SIZE=0 is out of range"), std::string::npos);
    EXPECT_NE(with("RANK", "-1").find("RANK=-1 is out of range"), std::string::npos);
    EXPECT_NE(with("RANK", "2").find("RANK=2 is out of range: WORLD_SIZE is 2"), std::string::npos);
    EXPECT_NE(with("LOCAL_RANK", "x").find("LOCAL_RANK='x'"), std::string::npos);
    EXPECT_NE(with("MASTER_PORT", "70000").find("MASTER_PORT=70000 is out of range"),
              std::string::npos);
    EXPECT_NE(with("MASTER_PORT", "<unset>").find("MASTER_PORT is not set"), std::string::npos);
    EXPECT_NE(with("MASTER_ADDR", "<unset>").find("MASTER_ADDR is not set"), std::string::npos);
    EXPECT_EQ(with("RANK", "<unset>"), "WORLD_SIZE is set but RANK is not");
    EXPECT_EQ(with("WORLD_SIZE", "<unset>"), "RANK is set but WORLD_SIZE is not");
    EXPECT_EQ(with("RANK", "1"), "");
}

TEST(ProcessGroup, TwoRanksReduceGatherAndBroadcast) {
    CAMX_NEEDS_GLOO();
    std::vector<std::vector<float>> sums(2);
    std::vector<std::vector<std::string>> gathered(2), atRoot(2);
    std::vector<std::string> broadcasts(2);
    std::vector<at::Tensor> tensors(2);
    onRanks(2, [&](ProcessGroupHandle& pg) {
        const auto r = static_cast<std::size_t>(pg.rank());
        EXPECT_EQ(pg.worldSize(), 2);
        pg.barrier();
        std::vector<float> v = {1.5f + static_cast<float>(r), 10.f * static_cast<float>(r)};
        pg.allReduceSum(v);
        sums[r] = v;
        at::Tensor t = at::full({3}, static_cast<double>(r + 1), at::kFloat);
        pg.allReduceSum(t);
        tensors[r] = t;
        // Different lengths, one empty.
        gathered[r] = pg.allGather(r == 0 ? std::string("rank zero\n") : std::string());
        atRoot[r] = pg.gather(std::string(r + 3, static_cast<char>('a' + r)));
        std::string b = r == 1 ? std::string("from one", 8) + std::string(1, '\0') : "ignored";
        pg.broadcast(b, 1);
        broadcasts[r] = b;
        pg.barrier();
    });
    for (std::size_t r = 0; r < 2; ++r) {
        EXPECT_EQ(sums[r], (std::vector<float>{4.f, 10.f}));
        EXPECT_TRUE(at::equal(tensors[r], at::full({3}, 3.0, at::kFloat)));
        EXPECT_EQ(gathered[r], (std::vector<std::string>{"rank zero\n", ""}));
        EXPECT_EQ(broadcasts[r], std::string("from one", 8) + std::string(1, '\0'));
    }
    EXPECT_EQ(atRoot[0], (std::vector<std::string>{"aaa", "bbbb"}));
    EXPECT_TRUE(atRoot[1].empty());
}

TEST(ProcessGroup, OneRankIsAGroupToo) {
    CAMX_NEEDS_GLOO();
    onRanks(1, [](ProcessGroupHandle& pg) {
        pg.barrier();
        std::vector<float> v = {2.f};
        pg.allReduceSum(v);
        EXPECT_EQ(v[0], 2.f);
        EXPECT_EQ(pg.allGather("x"), std::vector<std::string>{"x"});
    });
}

TEST(ProcessGroup, APeerThatNeverJoinsIsAnErrorNamingTheTimeout) {
    CAMX_NEEDS_GLOO();
    // Rank 1 of 2 never comes: rank 0 gives up after its timeout with a clear error.
    const std::string e =
        errorOf([] { ProcessGroupHandle pg(localConfig(0, 2, freeLocalPort(), 1500)); });
    EXPECT_NE(e.find("rank 0 of 2: joining the group at 127.0.0.1:"), std::string::npos) << e;
    EXPECT_NE(e.find("timeout 1500 ms"), std::string::npos) << e;
}

TEST(ProcessGroup, ARankWithoutMasterIsAnErrorNamingTheTimeout) {
    CAMX_NEEDS_GLOO();
    // Nobody serves the store: rank 1 gives up after its timeout.
    const std::string e =
        errorOf([] { ProcessGroupHandle pg(localConfig(1, 2, freeLocalPort(), 1500)); });
    EXPECT_NE(e.find("rank 1 of 2: joining the group"), std::string::npos) << e;
    EXPECT_NE(e.find("timeout 1500 ms"), std::string::npos) << e;
}

TEST(ProcessGroup, APeerThatLeavesEarlyIsAnError) {
    CAMX_NEEDS_GLOO();
    // Both join; rank 1 leaves (its group destroyed, as when its process exits) while rank 0
    // waits at a barrier: rank 0 gets an error naming the barrier, not a hang.
    const int port = freeLocalPort();
    std::string error0;
    std::thread one([&] {
        ProcessGroupHandle pg(localConfig(1, 2, port, 3000));
        pg.barrier();
    });
    {
        ProcessGroupHandle pg(localConfig(0, 2, port, 3000));
        pg.barrier();
        one.join();  // rank 1 is gone
        error0 = errorOf([&] {
            pg.barrier();
            pg.barrier();
        });
    }
    EXPECT_NE(error0.find("rank 0 of 2: barrier failed"), std::string::npos) << error0;
    EXPECT_NE(error0.find("timeout 3 s"), std::string::npos) << error0;
}

}  // namespace
}  // namespace camx::dist
