#pragma once
// Multi-process runs from the command line: joining a group started by torchrun, srun or a
// hand-written loop (their environment: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT),
// or starting the workers here (--nproc N).

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

#include "distributed/process_group.h"

namespace camx::cli {

// The command line as main() received it (for --nproc's workers).
void setOriginalArguments(int argc, char** argv);
const std::vector<std::string>& originalArguments();

// Thrown by a command to make main() return `code` (after printing nothing more).
struct ExitStatus {
    int code;
};

// `args` without `option` and its value (both "--opt V" and "--opt=V").
std::vector<std::string> withoutOption(const std::vector<std::string>& args,
                                       const std::string& option);

// Starts `nproc` workers of this executable with `args` (argv[0] included) and torchrun's
// environment for ranks 0..nproc-1 on 127.0.0.1 and a free port, each in its own process group.
// Forwards Ctrl-C (SIGINT) and SIGTERM to them; when a worker fails, stops the others and names
// it on stderr. Returns 0 when every worker succeeded, else the first failure's exit status
// (128 + signal for a killed worker, at least 1).
int runLocalWorkers(int nproc, const std::vector<std::string>& args);

// --nproc, --backend and --dist-timeout, as `train` and `eval` share them.
struct DistOptions {
    int nproc = 0;
    std::string backend = "auto";
    double timeoutSeconds = 1800;
};
void addDistributedOptions(CLI::App* cmd, DistOptions& o, const std::string& nprocHelp);
// What a command with those options runs in: with --nproc, starts the workers and throws
// ExitStatus with their status (this process only waits for them); else joins the group the
// environment names, or returns null for a plain single-process run. Bad environment variables
// are reported naming the variable.
std::unique_ptr<dist::ProcessGroupHandle> startOrJoinGroup(const DistOptions& o);

// The process group this command runs in: from the environment (torchrun's variables), with the
// backend ("auto": nccl on CUDA where built with it, else gloo) and the timeout in seconds. Null
// when the environment names no group. Throws std::invalid_argument naming a bad variable.
std::unique_ptr<dist::ProcessGroupHandle> joinGroupFromEnvironment(const std::string& backend,
                                                                   double timeoutSeconds);

}  // namespace camx::cli
