// The only file that includes c10d. What differs between LibTorch releases:
//  - 1.13 (Debian 12): ProcessGroupGloo and ProcessGroupNCCL derive from c10d::ProcessGroup, their
//    Options from ProcessGroup::Options; ProcessGroupGloo.hpp is empty unless USE_C10D_GLOO is
//    defined (USE_C10D_NCCL for ProcessGroupNCCL.hpp), and the symbols are in libtorch_cpu.
//  - 2.x: they derive from c10d::Backend (a ProcessGroup now dispatches to Backends), their
//    Options from Backend::Options. The collectives called here (broadcast, allreduce,
//    allgather, gather, barrier) keep their signatures on Backend, so we hold the backend itself.
#include "distributed/process_group.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ATen/ATen.h>
#include <torch/version.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#ifdef CAMX_WITH_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif
#ifdef CAMX_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace camx::dist {

namespace {
long parseWhole(const char* name, const char* text, long lo, long hi) {
    const std::string s = text;
    errno = 0;
    char* end = nullptr;
    const long v = s.empty() ? 0 : std::strtol(s.c_str(), &end, 10);
    if (s.empty() || errno != 0 || end == nullptr || *end != '\0' ||
        s.find_first_of(" \t\n") != std::string::npos)
        throw std::invalid_argument(std::string(name) + "='" + s + "' is not a whole number");
    if (v < lo || v > hi)
        throw std::invalid_argument(std::string(name) + "=" + s + " is out of range (" +
                                    std::to_string(lo) + " to " + std::to_string(hi) + ")");
    return v;
}
}  // namespace

std::optional<DistributedConfig> configFromEnvironment(const EnvLookup& lookup) {
    auto get = [&](const char* name) -> const char* {
        const char* v = lookup ? lookup(name) : std::getenv(name);
        return v;
    };
    const char* rank = get("RANK");
    const char* world = get("WORLD_SIZE");
    if (!rank && !world) return std::nullopt;
    if (!world) throw std::invalid_argument("RANK is set but WORLD_SIZE is not");
    if (!rank) throw std::invalid_argument("WORLD_SIZE is set but RANK is not");
    DistributedConfig c;
    c.worldSize = static_cast<int>(parseWhole("WORLD_SIZE", world, 1, 1 << 20));
    c.rank = static_cast<int>(parseWhole("RANK", rank, 0, INT_MAX));
    if (c.rank >= c.worldSize)
        throw std::invalid_argument("RANK=" + std::to_string(c.rank) +
                                    " is out of range: WORLD_SIZE is " +
                                    std::to_string(c.worldSize));
    if (const char* local = get("LOCAL_RANK"))
        c.localRank = static_cast<int>(parseWhole("LOCAL_RANK", local, 0, c.worldSize - 1));
    if (const char* addr = get("MASTER_ADDR")) {
        c.masterAddr = addr;
        if (c.masterAddr.empty()) throw std::invalid_argument("MASTER_ADDR is empty");
    } else if (c.worldSize > 1) {
        throw std::invalid_argument("MASTER_ADDR is not set (WORLD_SIZE is " +
                                    std::to_string(c.worldSize) + ")");
    }
    if (const char* port = get("MASTER_PORT"))
        c.masterPort = static_cast<int>(parseWhole("MASTER_PORT", port, 1, 65535));
    else if (c.worldSize > 1)
        throw std::invalid_argument("MASTER_PORT is not set (WORLD_SIZE is " +
                                    std::to_string(c.worldSize) + ")");
    return c;
}

bool glooAvailable() {
#ifdef CAMX_WITH_GLOO
    return true;
#else
    return false;
#endif
}

bool ncclAvailable() {
#ifdef CAMX_WITH_NCCL
    return true;
#else
    return false;
#endif
}

int freeLocalPort() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        const std::string e = std::strerror(errno);
        ::close(fd);
        throw std::runtime_error("cannot find a free port on 127.0.0.1: " + e);
    }
    ::close(fd);
    return ntohs(a.sin_port);
}

#if defined(CAMX_WITH_GLOO) || defined(CAMX_WITH_NCCL)
#if TORCH_VERSION_MAJOR >= 2
using BackendPtr = c10::intrusive_ptr<c10d::Backend>;
#else
using BackendPtr = c10::intrusive_ptr<c10d::ProcessGroup>;
#endif
#endif

struct ProcessGroupHandle::Impl {
    DistributedConfig config;
#if defined(CAMX_WITH_GLOO) || defined(CAMX_WITH_NCCL)
    c10::intrusive_ptr<c10d::Store> store;
    BackendPtr backend;
#endif
    at::Device device{at::kCPU};

    std::string where(const std::string& op) const {
        return "rank " + std::to_string(config.rank) + " of " + std::to_string(config.worldSize) +
               ": " + op;
    }
    std::string timeoutText() const {
        const auto ms = config.timeout.count();
        return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
    }
    // Runs a c10d call, turning its errors into ours: which rank, what, the timeout.
    template <class F>
    void run(const std::string& op, F&& f) const {
        try {
            f();
        } catch (const std::exception& e) {
            std::string msg = e.what();
            // c10::Error appends a C++ backtrace after the first line.
            const auto nl = msg.find('\n');
            if (nl != std::string::npos) msg.resize(nl);
            throw std::runtime_error(where(op) + " failed (a peer may have stopped; timeout " +
                                     timeoutText() + "): " + msg);
        }
    }
    at::Tensor onDevice(const at::Tensor& t) const {
        return device.is_cpu() ? t : t.to(device);
    }
};

ProcessGroupHandle::ProcessGroupHandle(const DistributedConfig& config)
    : impl_(std::make_unique<Impl>()) {
    Impl& d = *impl_;
    d.config = config;
    if (config.worldSize < 1 || config.rank < 0 || config.rank >= config.worldSize)
        throw std::invalid_argument("rank " + std::to_string(config.rank) +
                                    " is out of range for world size " +
                                    std::to_string(config.worldSize));
    if (config.masterPort < 1 || config.masterPort > 65535)
        throw std::invalid_argument("master port " + std::to_string(config.masterPort) +
                                    " is out of range");
    if (config.backend != "gloo" && config.backend != "nccl")
        throw std::invalid_argument("unknown backend '" + config.backend +
                                    "' (expected gloo or nccl)");
    if (config.backend == "gloo" && !glooAvailable())
        throw std::runtime_error("this build has no Gloo backend (needs libgloo-dev)");
    if (config.backend == "nccl" && !ncclAvailable())
        throw std::runtime_error(
            "this build has no NCCL backend (needs a LibTorch with CUDA and NCCL); use gloo");
#if defined(CAMX_WITH_GLOO) || defined(CAMX_WITH_NCCL)
    d.run(
        "joining the group at " + config.masterAddr + ":" + std::to_string(config.masterPort), [&] {
            c10d::TCPStoreOptions so;
            so.port = static_cast<std::uint16_t>(config.masterPort);
            so.isServer = config.rank == 0;
            so.numWorkers = static_cast<std::size_t>(config.worldSize);
            so.waitWorkers = true;
            so.timeout = config.timeout;
            auto store = c10::make_intrusive<c10d::TCPStore>(config.masterAddr, so);
            store->setTimeout(config.timeout);
            d.store = store;
#ifdef CAMX_WITH_NCCL
            if (config.backend == "nccl") {
                d.device = at::Device(at::kCUDA, static_cast<at::DeviceIndex>(config.localRank));
                auto options = c10d::ProcessGroupNCCL::Options::create();
                options->timeout = config.timeout;
                d.backend = c10::make_intrusive<c10d::ProcessGroupNCCL>(d.store, config.rank,
                                                                        config.worldSize, options);
                return;
            }
#endif
#ifdef CAMX_WITH_GLOO
            auto options = c10d::ProcessGroupGloo::Options::create(config.timeout);
            // Loopback when every rank is here; else the interface that reaches the master.
            const bool local = config.masterAddr == "127.0.0.1" || config.masterAddr == "localhost";
            options->devices.push_back(
                local ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                      : c10d::ProcessGroupGloo::createDefaultDevice());
            options->threads = 2;
            d.backend = c10::make_intrusive<c10d::ProcessGroupGloo>(d.store, config.rank,
                                                                    config.worldSize, options);
#endif
        });
#endif
}

ProcessGroupHandle::~ProcessGroupHandle() = default;

int ProcessGroupHandle::rank() const {
    return impl_->config.rank;
}
int ProcessGroupHandle::worldSize() const {
    return impl_->config.worldSize;
}
const DistributedConfig& ProcessGroupHandle::config() const {
    return impl_->config;
}

#if defined(CAMX_WITH_GLOO) || defined(CAMX_WITH_NCCL)

void ProcessGroupHandle::barrier() {
    impl_->run("barrier", [&] {
        c10d::BarrierOptions o;
        o.timeout = impl_->config.timeout;
        if (!impl_->device.is_cpu()) o.device_ids = {impl_->device.index()};
        impl_->backend->barrier(o)->wait();
    });
}

void ProcessGroupHandle::allReduceSum(at::Tensor& tensor) {
    impl_->run("all-reduce", [&] {
        std::vector<at::Tensor> list{impl_->onDevice(tensor)};
        c10d::AllreduceOptions o;
        o.reduceOp = c10d::ReduceOp::SUM;
        o.timeout = impl_->config.timeout;
        impl_->backend->allreduce(list, o)->wait();
        if (!list[0].is_same(tensor)) tensor.copy_(list[0]);
    });
}

void ProcessGroupHandle::allReduceSum(std::vector<float>& values) {
    at::Tensor t = at::from_blob(values.data(), {static_cast<std::int64_t>(values.size())},
                                 at::TensorOptions().dtype(at::kFloat));
    allReduceSum(t);
}

void ProcessGroupHandle::allReduceSum(std::vector<double>& values) {
    at::Tensor t = at::from_blob(values.data(), {static_cast<std::int64_t>(values.size())},
                                 at::TensorOptions().dtype(at::kDouble));
    allReduceSum(t);
}

namespace {
class GroupReduce : public PendingReduce {
public:
    GroupReduce(const ProcessGroupHandle::Impl* group, at::Tensor target)
        : m_group(group), m_target(std::move(target)) {}
    void start() {
        m_group->run("all-reduce", [&] {
            m_list = {m_group->onDevice(m_target)};
            c10d::AllreduceOptions o;
            o.reduceOp = c10d::ReduceOp::SUM;
            o.timeout = m_group->config.timeout;
            m_work = m_group->backend->allreduce(m_list, o);
        });
    }
    void wait() override {
        if (!m_work) return;
        auto work = std::move(m_work);
        m_work.reset();
        m_group->run("all-reduce", [&] {
            work->wait(m_group->config.timeout);
            if (!m_list[0].is_same(m_target)) m_target.copy_(m_list[0]);
        });
    }

private:
    const ProcessGroupHandle::Impl* m_group;
    at::Tensor m_target;
    std::vector<at::Tensor> m_list;
    c10::intrusive_ptr<c10d::Work> m_work;
};
}  // namespace

std::unique_ptr<PendingReduce> ProcessGroupHandle::allReduceSumAsync(const at::Tensor& tensor) {
    auto pending = std::make_unique<GroupReduce>(impl_.get(), tensor);
    pending->start();
    return pending;
}

void ProcessGroupHandle::allReduceMax(std::vector<std::int64_t>& values) {
    at::Tensor t = at::from_blob(values.data(), {static_cast<std::int64_t>(values.size())},
                                 at::TensorOptions().dtype(at::kLong));
    impl_->run("all-reduce", [&] {
        std::vector<at::Tensor> list{impl_->onDevice(t)};
        c10d::AllreduceOptions o;
        o.reduceOp = c10d::ReduceOp::MAX;
        o.timeout = impl_->config.timeout;
        impl_->backend->allreduce(list, o)->wait();
        if (!list[0].is_same(t)) t.copy_(list[0]);
    });
}

void ProcessGroupHandle::broadcast(at::Tensor& tensor, int root) {
    impl_->run("broadcast", [&] {
        std::vector<at::Tensor> list{impl_->onDevice(tensor)};
        c10d::BroadcastOptions o;
        o.rootRank = root;
        o.timeout = impl_->config.timeout;
        impl_->backend->broadcast(list, o)->wait();
        if (!list[0].is_same(tensor)) tensor.copy_(list[0]);
    });
}

namespace {
at::Tensor bytesTensor(const std::string& bytes, std::int64_t size) {
    at::Tensor t = at::zeros({std::max<std::int64_t>(size, 1)}, at::kByte);
    if (!bytes.empty()) std::memcpy(t.data_ptr<std::uint8_t>(), bytes.data(), bytes.size());
    return t;
}
std::string tensorBytes(const at::Tensor& t, std::int64_t size) {
    const at::Tensor c = t.to(at::kCPU).contiguous();
    return std::string(reinterpret_cast<const char*>(c.data_ptr<std::uint8_t>()),
                       static_cast<std::size_t>(size));
}
}  // namespace

void ProcessGroupHandle::broadcast(std::string& bytes, int root) {
    at::Tensor size = at::full({1}, static_cast<std::int64_t>(bytes.size()), at::kLong);
    broadcast(size, root);
    const std::int64_t n = size.item<std::int64_t>();
    at::Tensor data = bytesTensor(rank() == root ? bytes : std::string(), n);
    broadcast(data, root);
    bytes = tensorBytes(data, n);
}

std::vector<std::string> ProcessGroupHandle::allGather(const std::string& bytes) {
    const int w = worldSize();
    std::vector<std::int64_t> sizes(static_cast<std::size_t>(w), 0);
    sizes[static_cast<std::size_t>(rank())] = static_cast<std::int64_t>(bytes.size());
    allReduceMax(sizes);  // each rank filled its own slot
    const std::int64_t most = *std::max_element(sizes.begin(), sizes.end());
    std::vector<std::string> out(static_cast<std::size_t>(w));
    impl_->run("all-gather", [&] {
        std::vector<at::Tensor> input{impl_->onDevice(bytesTensor(bytes, most))};
        std::vector<std::vector<at::Tensor>> output(1);
        for (int r = 0; r < w; ++r)
            output[0].push_back(
                impl_->onDevice(at::zeros({std::max<std::int64_t>(most, 1)}, at::kByte)));
        c10d::AllgatherOptions o;
        o.timeout = impl_->config.timeout;
        impl_->backend->allgather(output, input, o)->wait();
        for (int r = 0; r < w; ++r)
            out[static_cast<std::size_t>(r)] = tensorBytes(output[0][static_cast<std::size_t>(r)],
                                                           sizes[static_cast<std::size_t>(r)]);
    });
    return out;
}

std::vector<std::string> ProcessGroupHandle::gather(const std::string& bytes, int root) {
    const int w = worldSize();
    std::vector<std::int64_t> sizes(static_cast<std::size_t>(w), 0);
    sizes[static_cast<std::size_t>(rank())] = static_cast<std::int64_t>(bytes.size());
    allReduceMax(sizes);
    const std::int64_t most = *std::max_element(sizes.begin(), sizes.end());
    std::vector<std::string> out;
    if (impl_->config.backend == "nccl") {
        // NCCL has no gather in c10d 1.13: gather through an all-gather.
        auto all = allGather(bytes);
        if (rank() == root) out = std::move(all);
        return out;
    }
    impl_->run("gather", [&] {
        std::vector<at::Tensor> input{bytesTensor(bytes, most)};
        std::vector<std::vector<at::Tensor>> output;
        if (rank() == root) {
            output.resize(1);
            for (int r = 0; r < w; ++r)
                output[0].push_back(at::zeros({std::max<std::int64_t>(most, 1)}, at::kByte));
        }
        c10d::GatherOptions o;
        o.rootRank = root;
        o.timeout = impl_->config.timeout;
        impl_->backend->gather(output, input, o)->wait();
        if (rank() == root)
            for (int r = 0; r < w; ++r)
                out.push_back(tensorBytes(output[0][static_cast<std::size_t>(r)],
                                          sizes[static_cast<std::size_t>(r)]));
    });
    return out;
}

#else  // no backend compiled: the constructor already refused

void ProcessGroupHandle::barrier() {}
void ProcessGroupHandle::allReduceSum(at::Tensor&) {}
void ProcessGroupHandle::allReduceSum(std::vector<float>&) {}
void ProcessGroupHandle::allReduceSum(std::vector<double>&) {}
void ProcessGroupHandle::allReduceMax(std::vector<std::int64_t>&) {}
std::unique_ptr<PendingReduce> ProcessGroupHandle::allReduceSumAsync(const at::Tensor&) {
    return nullptr;
}
void ProcessGroupHandle::broadcast(at::Tensor&, int) {}
void ProcessGroupHandle::broadcast(std::string&, int) {}
std::vector<std::string> ProcessGroupHandle::allGather(const std::string& bytes) {
    return {bytes};
}
std::vector<std::string> ProcessGroupHandle::gather(const std::string& bytes, int) {
    return {bytes};
}

#endif

}  // namespace camx::dist
