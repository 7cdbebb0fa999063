#include "nn/checkpoint.h"

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>
#include <new>
#include <optional>

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
            {"norm_bgr", m.norm.bgr},
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
    m.norm.bgr = j.value("norm_bgr", false);
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

void checkIsFile(const std::filesystem::path& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        throw CheckpointError("'" + path.string() + "' is a folder, not a checkpoint file");
    if (!std::filesystem::is_regular_file(path, ec))
        throw CheckpointError("checkpoint '" + path.string() + "' does not exist");
}

std::string readWhole(const std::filesystem::path& path) {
    checkIsFile(path);
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

CheckpointMeta metaFromJson(const std::string& text, const std::string& where) {
    try {
        return fromJson(json::parse(text), where);
    } catch (const json::exception& e) {
        throw CheckpointError("'" + where + "' has unreadable metadata: " + e.what());
    }
}

[[noreturn]] void notOurs(const std::string& where) {
    throw CheckpointError("'" + where + "' is a PyTorch archive but not a CAM Explorer checkpoint");
}

CheckpointMeta readMeta(torch::serialize::InputArchive& archive, const std::string& where) {
    c10::IValue v;
    if (!archive.try_read("camx_meta", v) || !v.isString()) notOurs(where);
    return metaFromJson(v.toStringRef(), where);
}

// ---- The metadata alone ------------------------------------------------------------------------
// readCheckpointMeta reads the archive's directory from the end of the file and its data.pkl
// record, never the tensor records, and never runs LibTorch's reader.

// The most data.pkl may hold for readCheckpointMeta: the metadata JSON (a long training history
// at most some megabytes) and one small entry per tensor.
constexpr std::uint64_t kMaxMetaRecordBytes = 64ull << 20;

// A file opened for reads at offsets; its size is taken once, at opening.
class CheckpointFile {
public:
    explicit CheckpointFile(const std::filesystem::path& path) : m_where(path.string()) {
        // O_NONBLOCK: a FIFO swapped in after the caller's check does not block the open.
        m_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (m_fd < 0) fail(errno);
        struct stat st {};
        if (::fstat(m_fd, &st) != 0) {
            const int err = errno;
            ::close(m_fd);
            fail(err);
        }
        if (!S_ISREG(st.st_mode)) {
            ::close(m_fd);
            throw CheckpointError("checkpoint '" + m_where + "' is not a regular file");
        }
        m_size = static_cast<std::uint64_t>(st.st_size);
    }
    ~CheckpointFile() { ::close(m_fd); }
    CheckpointFile(const CheckpointFile&) = delete;
    CheckpointFile& operator=(const CheckpointFile&) = delete;

    std::uint64_t size() const { return m_size; }
    // All of [offset, offset + n), or a CheckpointError (a file cut short since it was opened).
    void read(std::uint64_t offset, std::size_t n, char* out) const {
        while (n > 0) {
            const ssize_t got = ::pread(m_fd, out, n, static_cast<off_t>(offset));
            if (got < 0) {
                if (errno == EINTR) continue;
                fail(errno);
            }
            if (got == 0)
                throw CheckpointError("cannot read checkpoint '" + m_where +
                                      "': it ends early (changed while being read?)");
            out += got;
            offset += static_cast<std::uint64_t>(got);
            n -= static_cast<std::size_t>(got);
        }
    }

private:
    [[noreturn]] void fail(int err) const {
        throw CheckpointError("cannot read checkpoint '" + m_where + "': " + std::strerror(err));
    }
    std::string m_where;
    int m_fd = -1;
    std::uint64_t m_size = 0;
};

// The string attribute `key` of the object that a TorchScript archive's data.pkl pickles (the
// archive's root module: GLOBAL, NEWOBJ, then BUILD with a dict of its attributes), or nullopt
// when it has none or not a string. Runs on a record scanTorchScriptPickle has accepted, so it
// meets only the opcodes that scan allows; every bound is checked here all the same.
std::optional<std::string> rootStringAttribute(const std::string& pkl, const std::string& key,
                                               const std::string& where) {
    enum class Kind { Other, Str, Dict, Object };
    struct Value {
        Kind kind = Kind::Other;
        std::size_t at = 0, size = 0;                            // Str: its bytes in `pkl`
        std::vector<std::pair<std::size_t, std::size_t>> items;  // Dict: key, value
        std::size_t state = SIZE_MAX;                            // Object: its BUILD state
    };
    std::vector<Value> values;
    std::vector<std::size_t> stack, marks, memo;
    std::size_t pos = 0;
    auto fail = [&](const char* why) -> void {
        throw CheckpointError("'" + where + "' has unreadable metadata: archive/data.pkl " + why);
    };
    auto take = [&](std::size_t n) {
        if (n > pkl.size() - pos) fail("ends early");
        std::uint64_t v = 0;
        for (std::size_t k = 0; k < n && k < 8; ++k)
            v |= std::uint64_t(static_cast<unsigned char>(pkl[pos + k])) << (8 * k);
        pos += n;
        return v;
    };
    auto push = [&](Value v) {
        values.push_back(std::move(v));
        stack.push_back(values.size() - 1);
    };
    auto of = [](Kind kind) {
        Value v;
        v.kind = kind;
        return v;
    };
    auto pop = [&]() {
        if (stack.size() <= (marks.empty() ? 0 : marks.back())) fail("pops an empty stack");
        const std::size_t v = stack.back();
        stack.pop_back();
        return v;
    };
    auto popToMark = [&]() {
        if (marks.empty()) fail("has no MARK");
        std::vector<std::size_t> items(stack.begin() + static_cast<std::ptrdiff_t>(marks.back()),
                                       stack.end());
        stack.resize(marks.back());
        marks.pop_back();
        return items;
    };
    auto put = [&](std::uint64_t id) {
        if (id != memo.size() || stack.empty()) fail("puts a memo entry out of order");
        memo.push_back(stack.back());
    };
    auto get = [&](std::uint64_t id) {
        if (id >= memo.size()) fail("gets a memo entry never put");
        stack.push_back(memo[id]);
    };
    for (;;) {
        if (pos >= pkl.size()) fail("ends without STOP");
        const unsigned char op = static_cast<unsigned char>(pkl[pos++]);
        switch (op) {
            case 0x80:  // PROTO
                take(1);
                break;
            case '(':  // MARK
                marks.push_back(stack.size());
                break;
            case 'N':   // NONE
            case 0x88:  // NEWTRUE
            case 0x89:  // NEWFALSE
            case ')':   // EMPTY_TUPLE
            case ']':   // EMPTY_LIST
                push({});
                break;
            case 'K':  // BININT1
            case 'M':  // BININT2
            case 'J':  // BININT
            case 'G':  // BINFLOAT
                take(op == 'K' ? 1 : op == 'M' ? 2 : op == 'J' ? 4 : 8);
                push({});
                break;
            case 0x8a:  // LONG1
                take(static_cast<std::size_t>(take(1)));
                push({});
                break;
            case 'X': {  // BINUNICODE
                const std::uint64_t n = take(4);
                if (n > pkl.size() - pos) fail("has a string past its end");
                Value v = of(Kind::Str);
                v.at = pos;
                v.size = static_cast<std::size_t>(n);
                pos += v.size;
                push(std::move(v));
                break;
            }
            case 'c':  // GLOBAL: module and name, a line each
                for (int line = 0; line < 2; ++line) {
                    const std::size_t nl = pkl.find('\n', pos);
                    if (nl == std::string::npos) fail("has an unterminated GLOBAL");
                    pos = nl + 1;
                }
                push({});
                break;
            case '}':  // EMPTY_DICT
                push(of(Kind::Dict));
                break;
            case 0x85:  // TUPLE1
            case 0x86:  // TUPLE2
            case 0x87:  // TUPLE3
                for (int k = op - 0x84; k > 0; --k) pop();
                push({});
                break;
            case 't':  // TUPLE
                popToMark();
                push({});
                break;
            case 'e':  // APPENDS
                popToMark();
                break;
            case 'u': {  // SETITEMS
                const std::vector<std::size_t> items = popToMark();
                if (items.size() % 2 || stack.empty()) fail("has a broken SETITEMS");
                Value& d = values[stack.back()];
                if (d.kind == Kind::Dict)
                    for (std::size_t i = 0; i < items.size(); i += 2)
                        d.items.emplace_back(items[i], items[i + 1]);
                break;
            }
            case 'q':  // BINPUT
                put(take(1));
                break;
            case 'r':  // LONG_BINPUT
                put(take(4));
                break;
            case 'h':  // BINGET
                get(take(1));
                break;
            case 'j':  // LONG_BINGET
                get(take(4));
                break;
            case 0x81:  // NEWOBJ: class, arguments
                pop();
                pop();
                push(of(Kind::Object));
                break;
            case 'R':  // REDUCE: callable, arguments
                pop();
                pop();
                push({});
                break;
            case 'Q':  // BINPERSID
                pop();
                push({});
                break;
            case 'b': {  // BUILD
                const std::size_t state = pop();
                if (stack.empty()) fail("has a BUILD without an object");
                values[stack.back()].state = state;
                break;
            }
            case '.': {  // STOP
                if (stack.size() != 1 || !marks.empty()) fail("ends with a broken stack");
                const Value& root = values[stack.back()];
                if (root.kind != Kind::Object || root.state >= values.size() ||
                    values[root.state].kind != Kind::Dict)
                    return std::nullopt;
                std::optional<std::string> found;
                for (const auto& [k, v] : values[root.state].items) {
                    const Value& name = values[k];
                    if (name.kind == Kind::Str && pkl.compare(name.at, name.size, key) == 0)
                        found = values[v].kind == Kind::Str
                                    ? std::optional<std::string>(
                                          pkl.substr(values[v].at, values[v].size))
                                    : std::nullopt;  // the last one counts, as in LibTorch
                }
                return found;
            }
            default:
                fail("holds an unexpected opcode");
        }
    }
}
}  // namespace

CheckpointMeta readCheckpointMeta(const std::filesystem::path& path) {
    const std::string where = path.string();
    const std::string unreadable =
        "'" + where + "' is not a readable checkpoint (truncated, corrupt or another format)";
    checkIsFile(path);
    try {
        const CheckpointFile file(path);
        const ZipFileReader read = [&](std::uint64_t offset, std::size_t n, char* out) {
            file.read(offset, n, out);
        };
        char head[4] = {};
        if (file.size() < sizeof head) throw CheckpointError(unreadable);
        read(0, sizeof head, head);
        if (!looksLikeZip(head, sizeof head)) throw CheckpointError(unreadable);
        TorchZip zip;
        std::string pkl;
        const ZipRecord* data = nullptr;
        try {
            zip = readTorchZipDirectory(read, file.size(), where, torchScriptZipLimits());
            data = zip.find("data.pkl");
            if (!zip.find("constants.pkl") || !data)
                throw CheckpointError("'" + where +
                                      "' is a PyTorch file but not a CAM Explorer checkpoint (a "
                                      "torch.save state dict? open it as weights instead)");
            pkl = readTorchZipRecord(read, file.size(), zip, *data, where, kMaxMetaRecordBytes);
        } catch (const TorchZipError& e) {
            throw CheckpointError(unreadable + ": " + e.what());
        }
        try {
            scanTorchScriptPickle(pkl.data(), pkl.size(), zip, where, data->name);
        } catch (const PickleScanError& e) {
            throw CheckpointError(e.what());
        }
        const std::optional<std::string> text = rootStringAttribute(pkl, "camx_meta", where);
        if (!text) notOurs(where);
        return metaFromJson(*text, where);
    } catch (const std::bad_alloc&) {
        throw CheckpointError("cannot read checkpoint '" + where + "': out of memory");
    }
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
