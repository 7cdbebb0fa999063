#include "launcher.h"

#include "commands.h"

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

extern char** environ;

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
    const int port = dist::freeLocalPort();
    // Everything the children need is built before fork: after it, only exec.
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<std::string> base;
    for (char** e = environ; *e; ++e) {
        const std::string v = *e;
        bool ours = false;
        for (const char* k : {"RANK=", "WORLD_SIZE=", "LOCAL_RANK=", "MASTER_ADDR=", "MASTER_PORT=",
                              "LOCAL_WORLD_SIZE="})
            ours = ours || v.rfind(k, 0) == 0;
        if (!ours) base.push_back(v);
    }
    // The machine's cores shared out, as torchrun does, unless the user chose.
    if (!std::getenv("OMP_NUM_THREADS"))
        base.push_back("OMP_NUM_THREADS=" +
                       std::to_string(std::max(1u, std::thread::hardware_concurrency() /
                                                       static_cast<unsigned>(nproc))));
    std::vector<std::vector<std::string>> envs(static_cast<std::size_t>(nproc));
    std::vector<std::vector<char*>> envps(static_cast<std::size_t>(nproc));
    for (int r = 0; r < nproc; ++r) {
        auto& env = envs[static_cast<std::size_t>(r)];
        env = base;
        env.push_back("RANK=" + std::to_string(r));
        env.push_back("LOCAL_RANK=" + std::to_string(r));
        env.push_back("WORLD_SIZE=" + std::to_string(nproc));
        env.push_back("LOCAL_WORLD_SIZE=" + std::to_string(nproc));
        env.push_back("MASTER_ADDR=127.0.0.1");
        env.push_back("MASTER_PORT=" + std::to_string(port));
        for (auto& v : env) envps[static_cast<std::size_t>(r)].push_back(v.data());
        envps[static_cast<std::size_t>(r)].push_back(nullptr);
    }
    // Our Ctrl-C handler would cancel the (idle) job here; we forward signals instead.
    struct sigaction sa {
    }, oldInt{}, oldTerm{};
    sa.sa_handler = remember;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &oldInt);
    sigaction(SIGTERM, &sa, &oldTerm);
    g_signal = 0;

    std::vector<pid_t> pids;
    for (int r = 0; r < nproc; ++r) {
        const pid_t pid = ::fork();
        if (pid < 0) {
            for (pid_t p : pids) ::kill(p, SIGTERM);
            throw std::runtime_error(std::string("cannot start a worker: ") + std::strerror(errno));
        }
        if (pid == 0) {
            // Its own process group, so the terminal's Ctrl-C reaches it once, through us; and
            // it ends if we die.
            ::setpgid(0, 0);
            ::prctl(PR_SET_PDEATHSIG, SIGTERM);
            ::signal(SIGINT, SIG_DFL);
            ::signal(SIGTERM, SIG_DFL);
            ::execve("/proc/self/exe", argv.data(), envps[static_cast<std::size_t>(r)].data());
            ::_exit(127);
        }
        pids.push_back(pid);
    }
    std::fprintf(stderr, "started %d workers (127.0.0.1:%d)\n", nproc, port);
    int status = 0, failed = -1;
    bool interrupted = false;
    std::size_t running = pids.size();
    std::vector<bool> done(pids.size(), false);
    while (running > 0) {
        if (g_signal) {
            const int sig = g_signal;
            g_signal = 0;
            interrupted = interrupted || sig == SIGINT;
            for (std::size_t r = 0; r < pids.size(); ++r)
                if (!done[r]) ::kill(pids[r], sig);
        }
        int st = 0;
        const pid_t pid = ::waitpid(-1, &st, WNOHANG);
        if (pid <= 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            continue;
        }
        for (std::size_t r = 0; r < pids.size(); ++r) {
            if (pids[r] != pid || done[r]) continue;
            done[r] = true;
            --running;
            int code = 0;
            std::string what;
            if (WIFEXITED(st)) {
                code = WEXITSTATUS(st);
                what = "exited with status " + std::to_string(code);
            } else if (WIFSIGNALED(st)) {
                code = 128 + WTERMSIG(st);
                what = std::string("was killed by signal ") + std::to_string(WTERMSIG(st)) + " (" +
                       strsignal(WTERMSIG(st)) + ")";
            }
            if (code != 0 && failed < 0) {
                failed = static_cast<int>(r);
                status = code;
                if (!interrupted)
                    std::fprintf(stderr, "error: worker rank %zu of %d %s; stopping the others\n",
                                 r, nproc, what.c_str());
                for (std::size_t o = 0; o < pids.size(); ++o)
                    if (!done[o]) ::kill(pids[o], SIGTERM);
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
