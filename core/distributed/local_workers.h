#pragma once
// Worker processes on this machine for a multi-process run: the same executable and arguments,
// each with torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR
// = 127.0.0.1, MASTER_PORT) and, unless the caller's environment sets it, OMP_NUM_THREADS = the
// cores shared out, as torchrun does. `cam-explorer-cli … --nproc N` starts every rank this way;
// the training wizard runs rank 0 itself and starts the others.
//
// POSIX only (fork, exec, signals); no Qt.

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace camx::dist {

class LocalWorkers {
public:
    struct Options {
        std::string executable;         // empty: argv[0]; "/proc/self/exe" is this program
        std::vector<std::string> argv;  // argv[0] included
        int worldSize = 1;
        int firstRank = 0;  // ranks firstRank .. worldSize-1 are started here
        int port = 0;       // the master's port on 127.0.0.1
        // Each worker's stdout and stderr go to logDir/rank<r>.log; empty: inherited.
        std::filesystem::path logDir;
    };
    struct Exit {
        int rank = -1;
        int code = 0;      // the exit status, or 128 + signal for a killed worker
        std::string what;  // "exited with status 1", "was killed by signal 9 (Killed)"
    };

    // Starts the workers; throws std::runtime_error naming what failed (and stops the ones
    // already started). Each worker has its own process group (a terminal's Ctrl-C reaches it
    // through us) and ends when this process dies.
    explicit LocalWorkers(const Options& options);
    // Stops workers still running (SIGTERM, then SIGKILL after `grace`) and reaps them all.
    ~LocalWorkers();
    LocalWorkers(const LocalWorkers&) = delete;
    LocalWorkers& operator=(const LocalWorkers&) = delete;

    // A worker that has ended since the last call, without waiting; nothing when none has.
    std::optional<Exit> poll();
    // Sends `signal` to every worker still running.
    void signalAll(int signal);
    int running() const;
    // Where rank r's output goes (empty when inherited).
    std::filesystem::path logFile(int rank) const;

private:
    Options m_options;
    std::vector<pid_t> m_pids;
    std::vector<bool> m_done;
};

}  // namespace camx::dist
