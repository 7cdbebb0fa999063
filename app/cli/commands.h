#pragma once
// Each group of subcommands registers itself on the CLI11 app; the callbacks call core.

#include <CLI/CLI.hpp>

#include "common/job.h"

namespace camx::cli {

// Cancelled by Ctrl-C, so long jobs stop cleanly and leave no partial files.
CancelToken& interruptToken();

// Exit codes: 0 success, 1 the job failed, 2 bad arguments (CLI11's own), 130 interrupted.
constexpr int kExitFailure = 1;
constexpr int kExitInterrupted = 130;

void addInfoCommand(CLI::App& app);
void addDataCommands(CLI::App& app);
void addTrainCommand(CLI::App& app);
void addExplainCommands(CLI::App& app);

}  // namespace camx::cli
