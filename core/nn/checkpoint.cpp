#include "nn/checkpoint.h"

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <cctype>
#include <cstring>
#include <map>
#include <new>

#include "common/fs_util.h"
#include "common/hash.h"
#include "nn/checkpoint_io.h"
#include "nn/pickle_scan.h"
#include "nn/torch_zip.h"

namespace camx {
using nlohmann::json;

namespace {
constexpr const char* kFormat = "cam-explorer-checkpoint";
constexpr int kVersion = 1;

constexpr const char* kXxh3 = "xxh3-64";
constexpr const char* kFnv1a = "fnv1a-64";  // files written before the algorithm was recorded

// A digest over every parameter and buffer, checked on load: it tells weights that do not belong
// to the metadata (or were altered after the zip's CRCs were made) from a good file. XXH3 now;
// byte-wise FNV-1a in files without "weights_digest_algorithm".
std::string weightsDigest(CamNet& net, const std::string& algorithm) {
    std::vector<at::Tensor> tensors;
    for (auto& p : net->named_parameters()) tensors.push_back(p.value());
    for (auto& b : net->named_buffers()) tensors.push_back(b.value());
    if (algorithm == kFnv1a) {
        std::uint64_t h = 1469598103934665603ull;
        for (const auto& t : tensors) {
            const at::Tensor c = t.detach().to(at::kCPU).contiguous();
            const auto* p = static_cast<const unsigned char*>(c.data_ptr());
            for (std::size_t i = 0, n = c.nbytes(); i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
        }
        return toHex(h);
    }
    Hasher h;
    for (const auto& t : tensors) {
        const at::Tensor c = t.detach().to(at::kCPU).contiguous();
        h.update(c.data_ptr(), c.nbytes());
    }
    return h.hex();
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
    m.weightsDigestAlgorithm = j.value("weights_digest_algorithm", kFnv1a);
    if (m.weightsDigestAlgorithm != kXxh3 && m.weightsDigestAlgorithm != kFnv1a)
        throw CheckpointError("'" + where + "' uses an unknown weights digest ('" +
                              m.weightsDigestAlgorithm + "')");
    if (m.classNames.empty() || m.numClasses() > kMaxClasses || m.baseWidth < 1 ||
        m.baseWidth > kMaxBaseWidth || m.inputSize < 16 || m.inputSize > 4096)
        throw CheckpointError("'" + where + "' has inconsistent metadata");
    return m;
}

std::string readWhole(const std::filesystem::path& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        throw CheckpointError("'" + path.string() + "' is a folder, not a checkpoint file");
    if (!std::filesystem::is_regular_file(path, ec))
        throw CheckpointError("checkpoint '" + path.string() + "' does not exist");
    try {
        return readFile(path);
    } catch (const std::bad_alloc&) {
        throw CheckpointError("cannot read checkpoint '" + path.string() + "': out of memory");
    } catch (const std::exception& e) {
        throw CheckpointError(std::string("cannot read checkpoint: ") + e.what());
    }
}

// Our own check of the container first (LibTorch trusts what it reads), then LibTorch.
void openArchive(torch::serialize::InputArchive& archive, const std::string& bytes,
                 const std::string& where) {
    const std::string unreadable =
        "'" + where + "' is not a readable checkpoint (truncated, corrupt or another format)";
    if (!looksLikeZip(bytes.data(), bytes.size())) throw CheckpointError(unreadable);
    TorchZip zip;
    try {
        zip = validateTorchZip(bytes.data(), bytes.size(), where, torchScriptZipLimits());
    } catch (const TorchZipError& e) {
        throw CheckpointError(unreadable + ": " + e.what());
    }
    if (!zip.find("constants.pkl") || !zip.find("data.pkl"))
        throw CheckpointError("'" + where +
                              "' is a PyTorch file but not a CAM Explorer checkpoint (a "
                              "torch.save state dict? open it as weights instead)");
    // LibTorch's unpickler and class importer trust the archive's pickles and code: only what
    // our writer produces gets to them.
    try {
        scanCheckpointRecords(bytes.data(), bytes.size(), zip, where);
    } catch (const PickleScanError& e) {
        throw CheckpointError(e.what());
    }
    try {
        archive.load_from(bytes.data(), bytes.size());
    } catch (const c10::Error& e) {
        throw CheckpointError(unreadable + ": " + e.what_without_backtrace());
    } catch (const std::bad_alloc&) {
        throw CheckpointError(unreadable + ": out of memory");
    } catch (const std::exception& e) {
        throw CheckpointError(unreadable + ": " + e.what());
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
    const std::string bytes = readWhole(path);
    torch::serialize::InputArchive archive;
    openArchive(archive, bytes, path.string());
    return readMeta(archive, path.string());
}

bool looksLikeCheckpoint(const std::filesystem::path& path, const std::string& bytes) {
    std::string ext = path.extension().string();
    for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (ext == ".ckpt") return true;
    // Our metadata key sits uncompressed in the archive's data.pkl; a TorchScript archive (what
    // torch::serialize writes) names a constants.pkl record. Either survives most damage.
    auto contains = [&](const char* needle) {
        return ::memmem(bytes.data(), bytes.size(), needle, std::strlen(needle)) != nullptr;
    };
    return contains("camx_meta") || contains("/constants.pkl");
}

void saveCheckpoint(const std::filesystem::path& path, const CheckpointMeta& meta, CamNet& net,
                    torch::optim::Optimizer* optimizer) {
    std::string bytes;
    try {
        torch::serialize::OutputArchive archive;
        json j = toJson(meta);
        const std::string algorithm = meta.weightsDigestAlgorithm == kFnv1a ? kFnv1a : kXxh3;
        j["weights_digest"] = weightsDigest(net, algorithm);
        if (algorithm != kFnv1a) j["weights_digest_algorithm"] = algorithm;
        archive.write("camx_meta", c10::IValue(j.dump()));
        torch::serialize::OutputArchive model;
        net->save(model);
        archive.write("model", model);
        if (optimizer) {
            torch::serialize::OutputArchive opt;
            optimizer->save(opt);
            archive.write("optimizer", opt);
        }
        // In memory first: LibTorch's file writer aborts the process when the disk fills up
        // (c10::Error thrown from PyTorchStreamWriter's destructor).
        archive.save_to([&](const void* data, std::size_t size) -> std::size_t {
            bytes.append(static_cast<const char*>(data), size);
            return size;
        });
    } catch (const c10::Error& e) {
        throw CheckpointError("could not write '" + path.string() +
                              "': " + e.what_without_backtrace());
    } catch (const std::bad_alloc&) {
        throw CheckpointError("could not write '" + path.string() + "': out of memory");
    }
    try {
        writeFileAtomically(path, bytes);
    } catch (const std::exception& e) {
        throw CheckpointError(e.what());  // "could not write '<file>': No space left on device"
    }
}

namespace {
LoadedCheckpoint loadFromBytes(const std::string& bytes, const std::string& where) {
    torch::serialize::InputArchive archive;
    openArchive(archive, bytes, where);
    LoadedCheckpoint out;
    out.meta = readMeta(archive, where);
    // Before building anything: the network the metadata describes must fit in the file.
    const std::uint64_t params =
        parameterCount(out.meta.arch, out.meta.numClasses(), out.meta.baseWidth);
    if (params > bytes.size() / 2)
        throw CheckpointError("'" + where + "' describes a " + archName(out.meta.arch) +
                              " of width " + std::to_string(out.meta.baseWidth) + " with " +
                              std::to_string(out.meta.numClasses()) + " classes (" +
                              std::to_string(params) + " parameters), more than its " +
                              std::to_string(bytes.size()) + " bytes can hold");
    try {
        out.net = CamNet(out.meta.arch, out.meta.numClasses(), out.meta.baseWidth);
        torch::serialize::InputArchive model;
        if (!archive.try_read("model", model))
            throw CheckpointError("'" + where + "' holds no weights");
        // LibTorch's load replaces each tensor with the file's (Tensor::set_), whatever its shape,
        // and its reader does not check that a tensor's view fits its storage: check both here,
        // before anything reads the weights.
        std::map<std::string, std::pair<std::vector<int64_t>, at::ScalarType>> expected;
        for (auto& p : out.net->named_parameters())
            expected[p.key()] = {p.value().sizes().vec(), p.value().scalar_type()};
        for (auto& b : out.net->named_buffers())
            expected[b.key()] = {b.value().sizes().vec(), b.value().scalar_type()};
        out.net->load(model);
        auto check = [&](const std::string& key, const at::Tensor& t) {
            auto it = expected.find(key);
            if (it == expected.end() || !t.defined() || t.sizes().vec() != it->second.first ||
                t.scalar_type() != it->second.second || t.layout() != at::kStrided ||
                !t.device().is_cpu())
                throw CheckpointError("the weights in '" + where + "' do not match its " +
                                      archName(out.meta.arch) + " description (" + key + ")");
            int64_t last = t.storage_offset();
            bool empty = false;
            for (int64_t d = 0; d < t.dim(); ++d) {
                if (t.size(d) == 0) empty = true;
                if (t.stride(d) < 0)
                    last = INT64_MAX;
                else if (t.size(d) > 0)
                    last += (t.size(d) - 1) * t.stride(d);
            }
            const auto capacity = static_cast<int64_t>(t.storage().nbytes() / t.element_size());
            if (!empty && (t.storage_offset() < 0 || last >= capacity))
                throw CheckpointError("the weights in '" + where + "' are corrupt (" + key +
                                      " reaches past its storage)");
        };
        for (auto& p : out.net->named_parameters()) check(p.key(), p.value());
        for (auto& b : out.net->named_buffers()) check(b.key(), b.value());
    } catch (const c10::Error& e) {
        throw CheckpointError("the weights in '" + where + "' do not match its " +
                              archName(out.meta.arch) +
                              " description: " + e.what_without_backtrace());
    } catch (const std::bad_alloc&) {
        throw CheckpointError("cannot load the weights in '" + where + "': out of memory");
    }
    if (!out.meta.weightsDigest.empty() &&
        weightsDigest(out.net, out.meta.weightsDigestAlgorithm) != out.meta.weightsDigest)
        throw CheckpointError("the weights in '" + where + "' are corrupt (checksum mismatch)");
    return out;
}
}  // namespace

LoadedCheckpoint loadCheckpointFromBytes(const std::string& bytes, const std::string& name) {
    return loadFromBytes(bytes, name);
}

LoadedCheckpoint loadCheckpoint(const std::filesystem::path& path) {
    return loadFromBytes(readWhole(path), path.string());
}

void loadOptimizerState(const std::filesystem::path& path, torch::optim::Optimizer& optimizer) {
    const std::string bytes = readWhole(path);
    torch::serialize::InputArchive archive;
    openArchive(archive, bytes, path.string());
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
