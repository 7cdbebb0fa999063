#include "train/demo_build.h"

#include "data/dataset.h"
#include "data/demo_generator.h"

namespace camx {

namespace {
namespace fs = std::filesystem;

fs::path datasetDirOf(const DemoBuildOptions& o) {
    return o.datasetDir.empty() ? demoDatasetDir() : o.datasetDir;
}
fs::path modelDirOf(const DemoBuildOptions& o) {
    return o.modelDir.empty() ? demoModelFile().parent_path() : o.modelDir;
}
bool isFile(const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec);
}
// The generator writes the lists last (and renames the folder into place), so the test list
// marks a finished dataset.
bool datasetReady(const fs::path& dir) {
    return isFile(dir / "test_list.mat");
}

TrainConfig demoConfig() {
    TrainConfig config;
    applyTrainPreset("demo", config);
    return config;
}

// best.ckpt is written after the first epoch already: the model is finished when last.ckpt
// holds every epoch of the recipe (or when only a best.ckpt was put there by hand).
bool modelReady(const fs::path& dir) {
    if (!isFile(dir / "best.ckpt")) return false;
    if (!isFile(dir / "last.ckpt")) return true;
    try {
        return readCheckpointMeta(dir / "last.ckpt").epoch >= demoConfig().epochs;
    } catch (const std::exception&) {
        return false;  // damaged: training again replaces it
    }
}
}  // namespace

bool demoIsReady(const DemoBuildOptions& options) {
    return datasetReady(datasetDirOf(options)) && modelReady(modelDirOf(options));
}

DemoBuild buildDemo(const DemoBuildOptions& options) {
    DemoBuild out;
    out.dataset = datasetDirOf(options);
    const fs::path modelDir = modelDirOf(options);
    out.model = modelDir / "best.ckpt";
    const JobContext& job = options.job;
    if (!datasetReady(out.dataset)) {
        DemoOptions d;
        d.overwrite = true;  // a folder left by an interrupted generation
        d.job = job;
        generateDemoDataset(out.dataset, d);
        out.generated = true;
    }
    job.throwIfCancelled();
    if (options.onDatasetReady) options.onDatasetReady(out.dataset);
    if (modelReady(modelDir)) return out;

    OpenOptions open;
    open.job = job;
    const Dataset dataset = openStanfordDogs(out.dataset, open);
    const TrainConfig config = demoConfig();
    // A cancelled earlier attempt left the checkpoint of its last finished epoch: go on from it.
    std::optional<fs::path> resume;
    if (isFile(modelDir / "last.ckpt")) {
        try {
            if (readCheckpointMeta(modelDir / "last.ckpt").epoch > 0)
                resume = modelDir / "last.ckpt";
        } catch (const std::exception&) {
            // damaged: start over (trainModel replaces it atomically)
        }
    }
    trainModel(dataset, config, modelDir, options.train, job, resume);
    out.trained = true;
    return out;
}

}  // namespace camx
