// cam-explorer-cli: the headless face of CAM Explorer. Parsing and output only; work is in core.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <exception>
#include <new>

#include "commands.h"
#include "common/job.h"
#include "common/limits.h"
#include "data/image_io.h"
#include "launcher.h"
#include "nn/runtime.h"

namespace camx::cli {
CancelToken& interruptToken() {
    static CancelToken token;
    return token;
}

namespace {
std::atomic<int> g_interrupts{0};

// The first Ctrl+C asks every job to stop at its next batch, block or file boundary (partial
// outputs are removed or kept resumable); a second one leaves at once.
void onInterrupt(int) {
    if (g_interrupts.fetch_add(1) == 0) {
        interruptToken().cancel();
        static const char msg[] = "\nstopping at the next step (Ctrl+C again to quit at once)\n";
        [[maybe_unused]] auto n = ::write(STDERR_FILENO, msg, sizeof msg - 1);
        return;
    }
    static const char msg[] = "\ninterrupted\n";
    [[maybe_unused]] auto n = ::write(STDERR_FILENO, msg, sizeof msg - 1);
    ::_exit(kExitInterrupted);
}
}  // namespace

int exitCodeFor(const CLI::ParseError& e) {
    // --help and --version are successes; every other parse or validation error is a bad
    // argument, which commands.h promises as exit status 2 (CLI11 uses 100+ codes of its own).
    return e.get_exit_code() == 0 ? 0 : kExitBadArguments;
}
}  // namespace camx::cli

int main(int argc, char** argv) {
    using namespace camx::cli;
    struct sigaction sa {};
    sa.sa_handler = onInterrupt;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    camx::initTorchRuntime();
    setOriginalArguments(argc, argv);

    CLI::App app{"CAM Explorer, headless: datasets, training, CAM/Grad-CAM maps, boxes and IoU"};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("cam-explorer-cli ") + CAMX_VERSION);
    double maxMegapixels = static_cast<double>(camx::kDefaultPixelBudget) / 1e6;
    app.add_option("--max-megapixels", maxMegapixels,
                   "largest image decoded, checked from its header before decoding (also bounds "
                   "the image size an annotation may declare)")
        ->check(CLI::Range(0.001, 10000.0))
        ->capture_default_str();
    app.parse_complete_callback([&] {
        camx::setPixelBudget(static_cast<std::uint64_t>(maxMegapixels * 1e6));
        camx::applyDecoderLimits();
    });
    addInfoCommand(app);
    addModelCommand(app);
    addDataCommands(app);
    addTrainCommand(app);
    addExplainCommands(app);
#ifdef CAMX_HAVE_QT
    addExportCommand(app);
#endif
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return exitCodeFor(e);
    } catch (const ExitStatus& e) {
        return e.code;
    } catch (const camx::Cancelled&) {
        std::fprintf(stderr, "\ninterrupted\n");
        return kExitInterrupted;
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "\nerror: out of memory\n");
        return kExitFailure;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "\nerror: %s\n", e.what());
        return kExitFailure;
    }
    return 0;
}
