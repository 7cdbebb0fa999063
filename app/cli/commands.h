#pragma once
// Each group of subcommands registers itself on the CLI11 app; the callbacks call core.

#include <CLI/CLI.hpp>

#include "common/job.h"
#include "explain/heatmap.h"

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
void addExportCommand(CLI::App& app);  // only with the Qt parts built (CAMX_BUILD_UI)

// Shared argument parsing.
std::vector<std::string> splitList(const std::string& commaSeparated);
std::vector<Method> parseMethods(const std::string& commaSeparated);  // throws ValidationError

}  // namespace camx::cli
