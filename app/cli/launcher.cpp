#include "launcher.h"

#include "commands.h"
#include "distributed/local_workers.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace camx::cli {

namespace {
std::vector<std::string>& arguments() {
    static std::vector<std::string> a;
    return a;
}
volatile sig_atomic_t g_signal = 0;
void remember(int sig) {
    g_signal = sig;
}
}  // namespace

void setOriginalArguments(int argc, char** argv) {
    arguments().assign(argv, argv + argc);
}
const std::vector<std::string>& originalArguments() {
    return arguments();
}

std::vector<std::string> withoutOption(const std::vector<std::string>& args,
                                       const std::string& option) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == option) {
            ++i;  // and its value
            continue;
        }
        if (args[i].rfind(option + "=", 0) == 0) continue;
        out.push_back(args[i]);
    }
    return out;
}

int runLocalWorkers(int nproc, const std::vector<std::string>& args) {
    if (nproc < 1) throw std::invalid_argument("--nproc must be at least 1");
    dist::LocalWorkers::Options o;
    o.executable = "/proc/self/exe";
    o.argv = args;
    o.worldSize = nproc;
    o.port = dist::freeLocalPort();
    // Our Ctrl-C handler would cancel the (idle) job here; we forward signals instead.
    struct sigaction sa {
    }, oldInt{}, oldTerm{};
    sa.sa_handler = remember;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &oldInt);
    sigaction(SIGTERM, &sa, &oldTerm);
    g_signal = 0;
    int status = 0;
    bool interrupted = false;
    {
        dist::LocalWorkers workers(o);
        std::fprintf(stderr, "started %d workers (127.0.0.1:%d)\n", nproc, o.port);
        bool failed = false;
        while (workers.running() > 0) {
            if (g_signal) {
                const int sig = g_signal;
                g_signal = 0;
                interrupted = interrupted || sig == SIGINT;
                workers.signalAll(sig);
            }
            const auto exit = workers.poll();
            if (!exit) {
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
                continue;
            }
            if (exit->code != 0 && !failed) {
                failed = true;
                status = exit->code;
                if (!interrupted)
                    std::fprintf(stderr, "error: worker rank %d of %d %s; stopping the others\n",
                                 exit->rank, nproc, exit->what.c_str());
                workers.signalAll(SIGTERM);
            }
        }
    }
    sigaction(SIGINT, &oldInt, nullptr);
    sigaction(SIGTERM, &oldTerm, nullptr);
    // Interrupted: the workers kept their progress; say so as one process would.
    if (interrupted && status != 0) return 130;
    return status;
}

void addDistributedOptions(CLI::App* cmd, DistOptions& o, const std::string& nprocHelp) {
    cmd->add_option("--nproc", o.nproc,
                    nprocHelp +
                        "; under torchrun or srun, set RANK, WORLD_SIZE, LOCAL_RANK, "
                        "MASTER_ADDR and MASTER_PORT instead")
        ->check(CLI::Range(1, 1024));
    cmd->add_option("--backend", o.backend,
                    "the process group's backend: gloo (CPU), nccl (CUDA builds), or auto")
        ->check(CLI::IsMember({"auto", "gloo", "nccl"}))
        ->capture_default_str();
    cmd->add_option("--dist-timeout", o.timeoutSeconds,
                    "seconds a process waits for the others (joining, each exchange) before it "
                    "stops with an error")
        ->check(FiniteNumber & CLI::Range(1.0, 1e6))
        ->capture_default_str();
}

std::unique_ptr<dist::ProcessGroupHandle> startOrJoinGroup(const DistOptions& o) {
    if (o.nproc > 0) {
        if (dist::configFromEnvironment())
            throw CLI::ValidationError(
                "--nproc", "starts its own workers; RANK and WORLD_SIZE are set already");
        throw ExitStatus{runLocalWorkers(o.nproc, withoutOption(originalArguments(), "--nproc"))};
    }
    try {
        return joinGroupFromEnvironment(o.backend, o.timeoutSeconds);
    } catch (const std::invalid_argument& e) {
        throw std::runtime_error(std::string("bad process group environment: ") + e.what());
    }
}

std::unique_ptr<dist::ProcessGroupHandle> joinGroupFromEnvironment(const std::string& backend,
                                                                   double timeoutSeconds) {
    auto config = dist::configFromEnvironment();
    if (!config) return nullptr;
    config->backend = backend == "auto" ? (dist::ncclAvailable() ? "nccl" : "gloo") : backend;
    config->timeout = std::chrono::milliseconds(static_cast<long long>(timeoutSeconds * 1000));
    return std::make_unique<dist::ProcessGroupHandle>(*config);
}

}  // namespace camx::cli
