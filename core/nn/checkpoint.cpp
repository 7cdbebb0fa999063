#include "nn/checkpoint.h"

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "common/fs_util.h"
#include "nn/checkpoint_io.h"

namespace camx {
using nlohmann::json;

namespace {
constexpr const char* kFormat = "cam-explorer-checkpoint";
constexpr int kVersion = 1;

// FNV-1a over every parameter and buffer: the zip container does not check its records, so this
// is what tells a flipped byte in the weights from a good file.
std::string weightsDigest(CamNet& net) {
    std::uint64_t h = 1469598103934665603ull;
    auto mix = [&](const at::Tensor& t) {
        const at::Tensor c = t.detach().to(at::kCPU).contiguous();
        const auto* p = static_cast<const unsigned char*>(c.data_ptr());
        for (std::size_t i = 0, n = c.nbytes(); i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
    };
    for (auto& p : net->named_parameters()) mix(p.value());
    for (auto& b : net->named_buffers()) mix(b.value());
    char buf[24];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
}

json toJson(const CheckpointMeta& m) {
    json h = json::array();
    for (const auto& e : m.history)
        h.push_back({{"epoch", e.epoch},
                     {"train_loss", e.trainLoss},
                     {"train_top1", e.trainTop1},
                     {"val_loss", e.valLoss},
                     {"val_top1", e.valTop1},
                     {"val_top5", e.valTop5},
                     {"lr", e.learningRate},
                     {"seconds", e.seconds},
                     {"images_per_second", e.imagesPerSecond}});
    return {{"format", kFormat},
            {"version", kVersion},
            {"arch", archName(m.arch)},
            {"base_width", m.baseWidth},
            {"class_names", m.classNames},
            {"class_folders", m.classFolders},
            {"input_size", m.inputSize},
            {"norm_mean", m.norm.mean},
            {"norm_std", m.norm.std},
            {"train_config", json::parse(m.trainConfigJson.empty() ? "{}" : m.trainConfigJson)},
            {"history", h},
            {"epoch", m.epoch},
            {"best_val_top1", m.bestValTop1},
            {"created_by", m.createdBy}};
}

CheckpointMeta fromJson(const json& j, const std::string& where) {
    if (!j.is_object() || j.value("format", "") != kFormat)
        throw CheckpointError("'" + where + "' is not a CAM Explorer checkpoint");
    if (j.value("version", 0) > kVersion)
        throw CheckpointError("'" + where +
                              "' was written by a newer CAM Explorer (format version " +
                              std::to_string(j.value("version", 0)) + ")");
    CheckpointMeta m;
    auto arch = parseArch(j.at("arch").get<std::string>());
    if (!arch) throw CheckpointError("'" + where + "' names an unknown architecture");
    m.arch = *arch;
    m.baseWidth = j.at("base_width").get<int64_t>();
    m.classNames = j.at("class_names").get<std::vector<std::string>>();
    m.classFolders = j.value("class_folders", std::vector<std::string>{});
    m.inputSize = j.at("input_size").get<int>();
    m.norm.mean = j.at("norm_mean").get<std::array<float, 3>>();
    m.norm.std = j.at("norm_std").get<std::array<float, 3>>();
    m.trainConfigJson = j.value("train_config", json::object()).dump();
    for (const auto& e : j.value("history", json::array())) {
        EpochRecord r;
        r.epoch = e.value("epoch", 0);
        r.trainLoss = e.value("train_loss", 0.0);
        r.trainTop1 = e.value("train_top1", 0.0);
        r.valLoss = e.value("val_loss", 0.0);
        r.valTop1 = e.value("val_top1", 0.0);
        r.valTop5 = e.value("val_top5", 0.0);
        r.learningRate = e.value("lr", 0.0);
        r.seconds = e.value("seconds", 0.0);
        r.imagesPerSecond = e.value("images_per_second", 0.0);
        m.history.push_back(r);
    }
    m.epoch = j.value("epoch", 0);
    m.bestValTop1 = j.value("best_val_top1", 0.0);
    m.createdBy = j.value("created_by", "");
    m.weightsDigest = j.value("weights_digest", "");
    if (m.classNames.empty() || m.baseWidth < 1 || m.baseWidth > 1024 || m.inputSize < 16 ||
        m.inputSize > 4096)
        throw CheckpointError("'" + where + "' has inconsistent metadata");
    return m;
}

void openArchive(torch::serialize::InputArchive& archive, const std::filesystem::path& path) {
    if (!std::filesystem::is_regular_file(path))
        throw CheckpointError("checkpoint '" + path.string() + "' does not exist");
    try {
        archive.load_from(path.string());
    } catch (const std::exception& e) {
        throw CheckpointError(
            "'" + path.string() +
            "' is not a readable checkpoint (truncated, corrupt or another format)");
    }
}

CheckpointMeta readMeta(torch::serialize::InputArchive& archive, const std::string& where) {
    c10::IValue v;
    if (!archive.try_read("camx_meta", v) || !v.isString())
        throw CheckpointError("'" + where +
                              "' is a PyTorch archive but not a CAM Explorer checkpoint");
    try {
        return fromJson(json::parse(v.toStringRef()), where);
    } catch (const json::exception& e) {
        throw CheckpointError("'" + where + "' has unreadable metadata: " + e.what());
    }
}
}  // namespace

CheckpointMeta readCheckpointMeta(const std::filesystem::path& path) {
    torch::serialize::InputArchive archive;
    openArchive(archive, path);
    return readMeta(archive, path.string());
}

void saveCheckpoint(const std::filesystem::path& path, const CheckpointMeta& meta, CamNet& net,
                    torch::optim::Optimizer* optimizer) {
    torch::serialize::OutputArchive archive;
    json j = toJson(meta);
    j["weights_digest"] = weightsDigest(net);
    archive.write("camx_meta", c10::IValue(j.dump()));
    torch::serialize::OutputArchive model;
    net->save(model);
    archive.write("model", model);
    if (optimizer) {
        torch::serialize::OutputArchive opt;
        optimizer->save(opt);
        archive.write("optimizer", opt);
    }
    writeFileAtomically(path,
                        [&](const std::filesystem::path& tmp) { archive.save_to(tmp.string()); });
}

LoadedCheckpoint loadCheckpoint(const std::filesystem::path& path) {
    torch::serialize::InputArchive archive;
    openArchive(archive, path);
    LoadedCheckpoint out;
    out.meta = readMeta(archive, path.string());
    out.net = CamNet(out.meta.arch, out.meta.numClasses(), out.meta.baseWidth);
    try {
        torch::serialize::InputArchive model;
        if (!archive.try_read("model", model))
            throw CheckpointError("'" + path.string() + "' holds no weights");
        out.net->load(model);
    } catch (const c10::Error& e) {
        throw CheckpointError("the weights in '" + path.string() + "' do not match its " +
                              archName(out.meta.arch) +
                              " description: " + e.what_without_backtrace());
    }
    if (!out.meta.weightsDigest.empty() && weightsDigest(out.net) != out.meta.weightsDigest)
        throw CheckpointError("the weights in '" + path.string() +
                              "' are corrupt (checksum mismatch)");
    return out;
}

void loadOptimizerState(const std::filesystem::path& path, torch::optim::Optimizer& optimizer) {
    torch::serialize::InputArchive archive;
    openArchive(archive, path);
    torch::serialize::InputArchive opt;
    if (!archive.try_read("optimizer", opt))
        throw CheckpointError("'" + path.string() + "' holds no optimizer state to resume from");
    try {
        optimizer.load(opt);
    } catch (const c10::Error& e) {
        throw CheckpointError("the optimizer state in '" + path.string() +
                              "' does not fit this run: " + e.what_without_backtrace());
    }
}

}  // namespace camx
