#pragma once
// Several ranks in one test process: one thread each, each with its own process group over a
// TCPStore on 127.0.0.1 (Gloo on loopback).

#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <functional>
#include <thread>
#include <vector>

#include "distributed/process_group.h"

namespace camx::dist {

inline DistributedConfig localConfig(int rank, int world, int port, int timeoutMs = 20000) {
    DistributedConfig c;
    c.rank = rank;
    c.worldSize = world;
    c.masterAddr = "127.0.0.1";
    c.masterPort = port;
    c.timeout = std::chrono::milliseconds(timeoutMs);
    return c;
}

// Runs f(rank) on `world` threads, each with its own process group; rethrows the first error.
inline void onRanks(int world, const std::function<void(ProcessGroupHandle&)>& f) {
    const int port = freeLocalPort();
    std::vector<std::exception_ptr> errors(static_cast<std::size_t>(world));
    std::vector<std::thread> threads;
    for (int r = 0; r < world; ++r)
        threads.emplace_back([&, r] {
            try {
                ProcessGroupHandle pg(localConfig(r, world, port));
                f(pg);
            } catch (...) {
                errors[static_cast<std::size_t>(r)] = std::current_exception();
            }
        });
    for (auto& t : threads) t.join();
    for (auto& e : errors)
        if (e) std::rethrow_exception(e);
}

// Configured with -DCAMX_GLOO=OFF, the build has no multi-process runs to test; otherwise Gloo
// must be there (configure fails without it), so nothing is skipped.
#if CAMX_GLOO_BUILT
#define CAMX_NEEDS_GLOO() ASSERT_TRUE(glooAvailable())
#else
#define CAMX_NEEDS_GLOO() GTEST_SKIP() << "configured with CAMX_GLOO=OFF"
#endif

}  // namespace camx::dist
