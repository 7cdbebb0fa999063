// cam-explorer-cli: the headless face of CAM Explorer. Parsing and output only; work is in core.
#include <csignal>
#include <cstdio>
#include <exception>

#include "commands.h"
#include "common/job.h"
#include "nn/runtime.h"

namespace camx::cli {
CancelToken& interruptToken() {
    static CancelToken token;
    return token;
}
}  // namespace camx::cli

int main(int argc, char** argv) {
    using namespace camx::cli;
    std::signal(SIGINT, [](int) { interruptToken().cancel(); });
    camx::initTorchRuntime();

    CLI::App app{"CAM Explorer, headless: datasets, training, CAM/Grad-CAM maps, boxes and IoU"};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("cam-explorer-cli ") + CAMX_VERSION);
    addInfoCommand(app);
    addDataCommands(app);
    addTrainCommand(app);
    addExplainCommands(app);
#ifdef CAMX_HAVE_QT
    addExportCommand(app);
#endif
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    } catch (const camx::Cancelled&) {
        std::fprintf(stderr, "\ninterrupted\n");
        return kExitInterrupted;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "\nerror: %s\n", e.what());
        return kExitFailure;
    }
    return 0;
}
