#pragma once
// Several processes working as one: LibTorch's c10d process groups (Gloo on the CPU, NCCL on
// CUDA) behind one small class, so that nothing else includes c10d. The API differences between
// LibTorch 1.13 (Debian's: ProcessGroupGloo derives from ProcessGroup) and 2.x (it derives from
// Backend) stay in process_group.cpp.
//
// Rendezvous is c10d's TCPStore: rank 0 serves it at masterAddr:masterPort, the others connect.
// The store and the process group both get `timeout`, so a peer that never joins, or dies, makes
// the others throw a std::runtime_error that names the rank, the operation and the timeout,
// instead of waiting forever.
//
// Every collective must be called by every rank, in the same order (c10d's rule).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace at {
class Tensor;
}

namespace camx::dist {

struct DistributedConfig {
    int rank = 0;
    int worldSize = 1;
    int localRank = 0;  // the rank among this machine's processes (picks the GPU under NCCL)
    std::string masterAddr = "127.0.0.1";
    int masterPort = 29500;
    std::string backend = "gloo";  // "gloo" or "nccl"
    std::chrono::milliseconds timeout = std::chrono::minutes(30);
};

// torchrun's environment: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT. Empty when
// neither RANK nor WORLD_SIZE is set (a plain single-process run). Throws std::invalid_argument
// naming the variable for a value that is not a whole number or out of range ("WORLD_SIZE='abc'
// is not a whole number"), or when one of RANK and WORLD_SIZE is set without the other.
// `getenv` is replaceable for tests. The backend and timeout stay at their defaults.
using EnvLookup = std::function<const char*(const char*)>;
std::optional<DistributedConfig> configFromEnvironment(const EnvLookup& getenv = {});

// Which backends this build has: Gloo where LibTorch and Gloo's headers were found, NCCL only
// where LibTorch has CUDA and NCCL.
bool glooAvailable();
bool ncclAvailable();

// A TCP port on 127.0.0.1 that was free a moment ago (for local runs and tests).
int freeLocalPort();

// An all-reduce under way (ProcessGroupHandle::allReduceSumAsync). wait() blocks until it is
// done and leaves the sum in the tensor given; it throws like the synchronous calls. Waiting
// again does nothing.
class PendingReduce {
public:
    virtual ~PendingReduce() = default;
    virtual void wait() = 0;
};

class ProcessGroupHandle {
public:
    // Joins the group: blocks until every rank has joined, or throws after config.timeout.
    explicit ProcessGroupHandle(const DistributedConfig& config);
    ~ProcessGroupHandle();
    ProcessGroupHandle(const ProcessGroupHandle&) = delete;
    ProcessGroupHandle& operator=(const ProcessGroupHandle&) = delete;

    int rank() const;
    int worldSize() const;
    const DistributedConfig& config() const;

    void barrier();
    // Sums over the ranks, in place. The tensor overload takes any dense tensor on the backend's
    // device (CPU for Gloo); float buffers are copied as needed.
    void allReduceSum(std::vector<float>& values);
    void allReduceSum(std::vector<double>& values);
    void allReduceSum(at::Tensor& tensor);
    void allReduceMax(std::vector<std::int64_t>& values);
    // Starts summing `tensor` over the ranks and returns at once (the backend works on it in the
    // background; do not touch the tensor until wait()). Operations complete in the order they
    // were started, and every rank must start them in the same order.
    std::unique_ptr<PendingReduce> allReduceSumAsync(const at::Tensor& tensor);
    // Rank `root`'s tensor or bytes to every rank.
    void broadcast(at::Tensor& tensor, int root = 0);
    void broadcast(std::string& bytes, int root = 0);
    // Every rank's bytes, indexed by rank, on every rank (any lengths).
    std::vector<std::string> allGather(const std::string& bytes);
    // Every rank's bytes on `root` only (indexed by rank); other ranks get an empty list.
    std::vector<std::string> gather(const std::string& bytes, int root = 0);

    struct Impl;  // c10d's objects; defined in process_group.cpp only

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace camx::dist
