#include "train/local_parallel.h"

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "common/fs_util.h"
#include "distributed/local_workers.h"
#include "distributed/process_group.h"

namespace camx {
namespace fs = std::filesystem;

namespace {

std::string lastLines(const fs::path& file, std::size_t lines) {
    std::string text;
    try {
        text = readFile(file);
    } catch (const std::exception&) {
        return "(no log)";
    }
    std::vector<std::string> all;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) all.push_back(line);
    if (all.empty()) return "(its log is empty)";
    std::string out;
    for (std::size_t k = all.size() > lines ? all.size() - lines : 0; k < all.size(); ++k)
        out += (out.empty() ? "" : "\n") + all[k];
    return out;
}

}  // namespace

TrainResult trainWithLocalProcesses(const Dataset& dataset, const TrainConfig& config,
                                    const fs::path& outDir, const TrainCallbacks& callbacks,
                                    const JobContext& job,
                                    const std::optional<fs::path>& resumeFrom,
                                    const LocalParallelOptions& options) {
    if (options.processes < 2)
        throw std::invalid_argument("a multi-process run needs at least 2 processes");
    if (options.workerExecutable.empty() || ::access(options.workerExecutable.c_str(), X_OK) != 0)
        throw std::invalid_argument("the worker program '" + options.workerExecutable.string() +
                                    "' is not there or cannot be run (cam-explorer-cli is "
                                    "installed next to the application)");
    config.validate();
    const fs::path workDir = outDir / "workers";
    fs::create_directories(workDir);
    const fs::path configFile = workDir / "config.json";
    writeFileAtomically(configFile, config.toJson());

    dist::LocalWorkers::Options wo;
    wo.argv = {options.workerExecutable.string(),
               "train",
               "--quiet",
               "--data",
               options.datasetDir.string(),
               "--format",
               datasetFormatName(options.datasetFormat),
               "--out",
               outDir.string(),
               "--config",
               configFile.string(),
               "--backend",
               options.backend,
               "--dist-timeout",
               std::to_string(options.timeoutSeconds)};
    if (resumeFrom) {
        wo.argv.push_back("--resume");
        wo.argv.push_back(resumeFrom->string());
    }
    wo.worldSize = options.processes;
    wo.firstRank = 1;
    wo.port = dist::freeLocalPort();
    wo.logDir = workDir;

    dist::DistributedConfig dc;
    dc.rank = 0;
    dc.worldSize = options.processes;
    dc.localRank = 0;
    dc.masterPort = wo.port;
    dc.backend = options.backend;
    dc.timeout = std::chrono::milliseconds(static_cast<long long>(options.timeoutSeconds * 1000));

    dist::LocalWorkers workers(wo);
    std::optional<dist::LocalWorkers::Exit> failed;
    auto describe = [&](const dist::LocalWorkers::Exit& e) {
        return "worker rank " + std::to_string(e.rank) + " " + e.what + "; the end of its log:\n" +
               lastLines(workers.logFile(e.rank), 6);
    };
    // What a failed worker left: how it ended and the end of its log.
    auto workerFailure = [&]() -> std::string {
        if (failed) return describe(*failed);
        // A worker that failed exits within moments of the failure that stopped us.
        for (int i = 0; i < 100 && workers.running() > 0; ++i) {
            while (auto e = workers.poll())
                if (e->code != 0 && e->code != 130) return describe(*e);
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return {};
    };

    // Joining blocks until every worker has joined: it runs in a thread of its own, so that a
    // worker that dies first, or a cancel, is reported at once instead of after the timeout (the
    // thread then ends by itself when the join times out).
    struct Join {
        std::mutex mutex;
        std::condition_variable cv;
        bool done = false;
        std::unique_ptr<dist::ProcessGroupHandle> group;
        std::exception_ptr error;
    };
    auto join = std::make_shared<Join>();
    std::thread([join, dc] {
        std::unique_ptr<dist::ProcessGroupHandle> group;
        std::exception_ptr error;
        try {
            group = std::make_unique<dist::ProcessGroupHandle>(dc);
        } catch (...) {
            error = std::current_exception();
        }
        std::lock_guard<std::mutex> lock(join->mutex);
        join->group = std::move(group);
        join->error = error;
        join->done = true;
        join->cv.notify_all();
    }).detach();
    std::unique_ptr<dist::ProcessGroupHandle> group;
    for (;;) {
        {
            std::unique_lock<std::mutex> lock(join->mutex);
            if (join->cv.wait_for(lock, std::chrono::milliseconds(100),
                                  [&] { return join->done; })) {
                if (join->error) {
                    lock.unlock();
                    try {
                        std::rethrow_exception(join->error);
                    } catch (const std::exception& e) {
                        const std::string worker = workerFailure();
                        throw std::runtime_error(worker.empty()
                                                     ? std::string(e.what())
                                                     : std::string(e.what()) + "\n" + worker);
                    }
                }
                group = std::move(join->group);
                break;
            }
        }
        job.throwIfCancelled();
        if (auto e = workers.poll())
            if (e->code != 0) {
                failed = e;
                throw std::runtime_error("a worker stopped before the processes had joined: " +
                                         describe(*e));
            }
    }
    if (callbacks.onLog)
        callbacks.onLog("Started " + std::to_string(options.processes - 1) + " worker process" +
                        (options.processes == 2 ? "" : "es") + " (logs in '" + workDir.string() +
                        "')");
    try {
        DataParallel parallel;
        parallel.group = group.get();
        return trainModel(dataset, config, outDir, callbacks, job, resumeFrom, parallel);
    } catch (const Cancelled&) {
        throw;
    } catch (const std::exception& e) {
        const std::string worker = workerFailure();
        if (worker.empty()) throw;
        throw std::runtime_error(std::string(e.what()) + "\n" + worker);
    }
}

}  // namespace camx
