#include "distributed/local_workers.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace camx::dist {

LocalWorkers::LocalWorkers(const Options& options) : m_options(options) {
    const int world = options.worldSize;
    if (world < 1 || options.firstRank < 0 || options.firstRank > world)
        throw std::invalid_argument("bad worker ranks " + std::to_string(options.firstRank) + ".." +
                                    std::to_string(world - 1));
    if (options.argv.empty()) throw std::invalid_argument("no executable for the workers");
    // Everything the children need is built before fork: after it, only exec.
    const std::string exe = options.executable.empty() ? options.argv[0] : options.executable;
    std::vector<char*> argv;
    for (const auto& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
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
    if (!std::getenv("OMP_NUM_THREADS"))
        base.push_back("OMP_NUM_THREADS=" +
                       std::to_string(std::max(1u, std::thread::hardware_concurrency() /
                                                       static_cast<unsigned>(world))));
    std::vector<std::vector<std::string>> envs;
    std::vector<std::vector<char*>> envps;
    std::vector<std::string> logs;
    for (int r = options.firstRank; r < world; ++r) {
        auto env = base;
        env.push_back("RANK=" + std::to_string(r));
        env.push_back("LOCAL_RANK=" + std::to_string(r));
        env.push_back("WORLD_SIZE=" + std::to_string(world));
        env.push_back("LOCAL_WORLD_SIZE=" + std::to_string(world));
        env.push_back("MASTER_ADDR=127.0.0.1");
        env.push_back("MASTER_PORT=" + std::to_string(options.port));
        envs.push_back(std::move(env));
        logs.push_back(options.logDir.empty() ? std::string() : logFile(r).string());
    }
    for (auto& env : envs) {
        envps.emplace_back();
        for (auto& v : env) envps.back().push_back(v.data());
        envps.back().push_back(nullptr);
    }
    if (!options.logDir.empty()) std::filesystem::create_directories(options.logDir);
    // A failure half-way stops and reaps the workers already started.
    auto fail = [this](const std::string& message) {
        signalAll(SIGTERM);
        for (pid_t pid : m_pids) ::waitpid(pid, nullptr, 0);
        throw std::runtime_error(message);
    };
    for (std::size_t k = 0; k < envs.size(); ++k) {
        int logFd = -1;
        if (!logs[k].empty()) {
            logFd = ::open(logs[k].c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (logFd < 0) fail("cannot write '" + logs[k] + "': " + std::strerror(errno));
        }
        const pid_t pid = ::fork();
        if (pid < 0) {
            const std::string e = std::strerror(errno);
            if (logFd >= 0) ::close(logFd);
            fail("cannot start a worker: " + e);
        }
        if (pid == 0) {
            ::setpgid(0, 0);
            ::prctl(PR_SET_PDEATHSIG, SIGTERM);
            ::signal(SIGINT, SIG_DFL);
            ::signal(SIGTERM, SIG_DFL);
            if (logFd >= 0) {
                ::dup2(logFd, STDOUT_FILENO);
                ::dup2(logFd, STDERR_FILENO);
            }
            ::execve(exe.c_str(), argv.data(), envps[k].data());
            ::_exit(127);
        }
        if (logFd >= 0) ::close(logFd);
        m_pids.push_back(pid);
        m_done.push_back(false);
    }
}

LocalWorkers::~LocalWorkers() {
    if (running() == 0) return;
    signalAll(SIGTERM);
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (running() > 0) {
        if (!poll()) {
            if (std::chrono::steady_clock::now() > until) signalAll(SIGKILL);
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
}

std::optional<LocalWorkers::Exit> LocalWorkers::poll() {
    for (std::size_t k = 0; k < m_pids.size(); ++k) {
        if (m_done[k]) continue;
        int st = 0;
        const pid_t pid = ::waitpid(m_pids[k], &st, WNOHANG);
        if (pid != m_pids[k]) continue;
        m_done[k] = true;
        Exit e;
        e.rank = m_options.firstRank + static_cast<int>(k);
        if (WIFEXITED(st)) {
            e.code = WEXITSTATUS(st);
            e.what = "exited with status " + std::to_string(e.code);
        } else if (WIFSIGNALED(st)) {
            e.code = 128 + WTERMSIG(st);
            e.what = "was killed by signal " + std::to_string(WTERMSIG(st)) + " (" +
                     strsignal(WTERMSIG(st)) + ")";
        }
        return e;
    }
    return std::nullopt;
}

void LocalWorkers::signalAll(int signal) {
    for (std::size_t k = 0; k < m_pids.size(); ++k)
        if (!m_done[k]) ::kill(m_pids[k], signal);
}

int LocalWorkers::running() const {
    int n = 0;
    for (bool d : m_done) n += d ? 0 : 1;
    return n;
}

std::filesystem::path LocalWorkers::logFile(int rank) const {
    if (m_options.logDir.empty()) return {};
    return m_options.logDir / ("rank" + std::to_string(rank) + ".log");
}

}  // namespace camx::dist
