#pragma once
// Each group of subcommands registers itself on the CLI11 app; the callbacks call core.

#include <CLI/CLI.hpp>

#include "common/job.h"
#include "explain/heatmap.h"

#include <memory>
#include <string>
#include <vector>

namespace camx {
class ModelSession;
struct Dataset;
struct OpenOptions;
}  // namespace camx

namespace camx::cli {

// Cancelled by the first Ctrl-C, so long jobs stop at their next batch, block or file boundary
// and leave no partial files (an evaluation keeps its resumable progress). A second Ctrl-C exits
// with status 130 at once.
CancelToken& interruptToken();

// Exit codes: 0 success, 1 the job failed, 2 bad arguments, 130 interrupted.
constexpr int kExitFailure = 1;
constexpr int kExitBadArguments = 2;
constexpr int kExitInterrupted = 130;

void addInfoCommand(CLI::App& app);
void addModelCommand(CLI::App& app);  // `model`: a model's classes, input, CAM head and layers
void addDataCommands(CLI::App& app);
void addTrainCommand(CLI::App& app);
void addExplainCommands(CLI::App& app);
void addExportCommand(CLI::App& app);  // only with the Qt parts built (CAMX_BUILD_UI)

// Shared argument parsing.
// Comma-separated items; throws CLI::ValidationError naming `option` when no item is given
// (for example ",").
std::vector<std::string> splitList(const std::string& commaSeparated,
                                   const std::string& option = {});
std::vector<Method> parseMethods(const std::string& commaSeparated);  // throws ValidationError

// Validators: a number that is finite (NaN and infinities are refused; CLI::Range lets NaN
// through), and a path that is a regular file (a FIFO would block the reader forever, a folder
// is not a file).
extern const CLI::Validator FiniteNumber;
extern const CLI::Validator RegularFile;

// The options every model-reading subcommand shares.
struct ModelOptions {
    std::string file;
    std::string arch;    // for a .pth: the architecture it must hold
    int numClasses = 0;  // for a .pth: the class count it must have; 0: any
    bool quiet = false;  // no progress bar
    // For a TorchScript model: what its own metadata (camx.json) says, or says instead.
    int inputSize = 0;
    std::string mean, std, layout, patchGrid, classNamesFile;
    int prefixTokens = -1;
    // For a Keras model (.h5 / .keras): "caffe" or "unit" (nn/keras_preprocess.h).
    std::string kerasPreprocess;
};
void addModelOptions(CLI::App* cmd, ModelOptions& o);
// Opens the model (interruptible with Ctrl-C), checks --arch/--num-classes against it and prints
// what the user should know about it (notes) on stderr.
std::unique_ptr<ModelSession> openModel(const ModelOptions& o);
// The methods asked for, for this model: CAM needs a GAP + linear head. Asked for explicitly on a
// model without one, it is an error naming the reason; in the default set, it is left out with a
// note on stderr.
std::vector<Method> methodsForModel(std::vector<Method> methods, const ModelSession& model,
                                    bool explicitlyAsked);

// The options every dataset-reading subcommand shares: the folder, its format and (wsol) its
// metadata folder.
struct DataOptions {
    std::string dir;
    std::string format = "auto";
    std::string metadata;
};
// --data (required unless `positional`), --format, --metadata.
void addDataOptions(CLI::App* cmd, DataOptions& o, bool positional = false);
// --split train|val|test (default test).
void addSplitOption(CLI::App* cmd, std::string& split);
// Opens the dataset the options name; `options` carries the progress and cancellation.
Dataset openData(const DataOptions& d, OpenOptions options);

}  // namespace camx::cli
