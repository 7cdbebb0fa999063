#include "nn/keras_file.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <hdf5.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

namespace camx {

namespace {

using json = nlohmann::json;

// Sane bounds on what a file may claim.
constexpr std::size_t kMaxLayers = 100000;
constexpr std::size_t kMaxNameLength = 4096;
constexpr std::size_t kMaxAttributeBytes = std::size_t(64) << 20;
constexpr int kMaxRank = 8;
constexpr int kMaxNesting = 16;
constexpr std::uint64_t kMaxZipEntryBytes = std::uint64_t(4) << 30;

// libhdf5 keeps global state; our own lock keeps the whole read in one thread at a time even if
// the library were built without its thread-safety option.
std::mutex& hdf5Mutex() {
    static std::mutex m;
    return m;
}

// RAII for HDF5 ids.
struct Id {
    hid_t id = -1;
    herr_t (*close)(hid_t) = nullptr;
    Id() = default;
    Id(hid_t i, herr_t (*c)(hid_t)) : id(i), close(c) {}
    Id(const Id&) = delete;
    Id& operator=(const Id&) = delete;
    Id(Id&& o) noexcept : id(o.id), close(o.close) { o.id = -1; }
    ~Id() {
        if (id >= 0 && close) close(id);
    }
    explicit operator bool() const { return id >= 0; }
    operator hid_t() const { return id; }
};

herr_t collectError(unsigned n, const H5E_error2_t* e, void* data) {
    auto* out = static_cast<std::string*>(data);
    if (n < 3 && e && e->desc && *e->desc) {
        if (!out->empty()) *out += "; ";
        *out += e->desc;
    }
    return 0;
}

// The HDF5 error stack of the last failed call, as one line.
std::string hdf5Error() {
    std::string msg;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collectError, &msg);
    H5Eclear2(H5E_DEFAULT);
    return msg.empty() ? "HDF5 error" : msg;
}

struct Reader {
    std::string where;
    hid_t file = -1;
    std::uint64_t budget = 0;  // floats still allowed to be read

    [[noreturn]] void fail(const std::string& what) const {
        throw KerasModelError("'" + where + "': " + what);
    }
    [[noreturn]] void failHdf5(const std::string& what) const {
        fail(what + " (" + hdf5Error() + ")");
    }

    bool exists(hid_t loc, const std::string& path) const {
        // Each component must exist before the next is asked for (H5Lexists' rule).
        std::size_t pos = 0;
        while (true) {
            const std::size_t slash = path.find('/', pos);
            const std::string part = path.substr(0, slash);
            const htri_t r = H5Lexists(loc, part.c_str(), H5P_DEFAULT);
            if (r <= 0) {
                H5Eclear2(H5E_DEFAULT);
                return false;
            }
            // Keras writes hard links only. A soft or external link would lead elsewhere (an
            // external one to another file on this computer): refused, not followed.
            H5L_info_t link;
            if (H5Lget_info(loc, part.c_str(), &link, H5P_DEFAULT) < 0) {
                H5Eclear2(H5E_DEFAULT);
                return false;
            }
            if (link.type != H5L_TYPE_HARD)
                fail("'" + part + "' is " +
                     (link.type == H5L_TYPE_SOFT ? std::string("a soft")
                                                 : std::string("an external")) +
                     " link, which Keras does not write");
            if (slash == std::string::npos) break;
            pos = slash + 1;
        }
        H5O_info_t info;
        if (H5Oget_info_by_name(loc, path.c_str(), &info, H5P_DEFAULT) < 0) {
            H5Eclear2(H5E_DEFAULT);
            return false;
        }
        return true;
    }

    H5O_type_t typeOf(hid_t loc, const std::string& path) const {
        H5O_info_t info;
        if (H5Oget_info_by_name(loc, path.c_str(), &info, H5P_DEFAULT) < 0) {
            H5Eclear2(H5E_DEFAULT);
            return H5O_TYPE_UNKNOWN;
        }
        return info.type;
    }

    bool isGroup(hid_t loc, const std::string& path) const {
        return exists(loc, path) && typeOf(loc, path) == H5O_TYPE_GROUP;
    }

    Id openGroup(hid_t loc, const std::string& path) const {
        Id g(H5Gopen2(loc, path.c_str(), H5P_DEFAULT), H5Gclose);
        if (!g) failHdf5("cannot open group '" + path + "'");
        return g;
    }

    bool hasAttribute(hid_t loc, const std::string& name) const {
        const htri_t r = H5Aexists(loc, name.c_str());
        if (r < 0) H5Eclear2(H5E_DEFAULT);
        return r > 0;
    }

    // A string attribute (scalar or array; fixed or variable length) as its strings.
    std::vector<std::string> stringsAttribute(hid_t loc, const std::string& name) const {
        Id attr(H5Aopen(loc, name.c_str(), H5P_DEFAULT), H5Aclose);
        if (!attr) failHdf5("cannot open attribute '" + name + "'");
        Id type(H5Aget_type(attr), H5Tclose);
        Id space(H5Aget_space(attr), H5Sclose);
        if (!type || !space) failHdf5("cannot read attribute '" + name + "'");
        const hssize_t count = H5Sget_simple_extent_npoints(space);
        if (count < 0 || static_cast<std::size_t>(count) > kMaxLayers)
            fail("attribute '" + name + "' has an unreadable size");
        // Keras 2 writes an empty list as an empty float64 array (np.asarray([])).
        if (count == 0) return {};
        if (H5Tget_class(type) != H5T_STRING) fail("attribute '" + name + "' is not text");
        std::vector<std::string> out;
        const htri_t variable = H5Tis_variable_str(type);
        if (variable < 0) failHdf5("cannot read attribute '" + name + "'");
        if (variable) {
            Id mem(H5Tcopy(H5T_C_S1), H5Tclose);
            H5Tset_size(mem, H5T_VARIABLE);
            H5Tset_cset(mem, H5Tget_cset(type));
            std::vector<char*> ptrs(static_cast<std::size_t>(count), nullptr);
            if (count > 0 && H5Aread(attr, mem, ptrs.data()) < 0)
                failHdf5("cannot read attribute '" + name + "'");
            for (char* p : ptrs) {
                out.emplace_back(p ? std::string(p, strnlen(p, kMaxAttributeBytes)) : "");
            }
            if (count > 0) {
                Id s(H5Screate_simple(1, std::array<hsize_t, 1>{hsize_t(count)}.data(), nullptr),
                     H5Sclose);
                H5Dvlen_reclaim(mem, s, H5P_DEFAULT, ptrs.data());
            }
            return out;
        }
        const std::size_t size = H5Tget_size(type);
        if (size == 0 || size > kMaxAttributeBytes ||
            size * static_cast<std::size_t>(count) > kMaxAttributeBytes)
            fail("attribute '" + name + "' is too large");
        std::vector<char> buf(size * static_cast<std::size_t>(count) + 1, '\0');
        Id mem(H5Tcopy(H5T_C_S1), H5Tclose);
        H5Tset_size(mem, size);
        H5Tset_strpad(mem, H5T_STR_NULLPAD);
        if (count > 0 && H5Aread(attr, mem, buf.data()) < 0)
            failHdf5("cannot read attribute '" + name + "'");
        for (hssize_t i = 0; i < count; ++i) {
            const char* p = buf.data() + static_cast<std::size_t>(i) * size;
            out.emplace_back(p, strnlen(p, size));
        }
        return out;
    }

    std::string stringAttribute(hid_t loc, const std::string& name) const {
        auto v = stringsAttribute(loc, name);
        return v.empty() ? std::string() : v.front();
    }

    // Keras 2 splits attributes over 64 KB into name0, name1, ... (save_attributes_to_hdf5_group).
    std::vector<std::string> chunkedStrings(hid_t loc, const std::string& name) const {
        if (hasAttribute(loc, name)) return stringsAttribute(loc, name);
        std::vector<std::string> out;
        for (int i = 0; hasAttribute(loc, name + std::to_string(i)); ++i) {
            auto part = stringsAttribute(loc, name + std::to_string(i));
            out.insert(out.end(), part.begin(), part.end());
            if (out.size() > kMaxLayers) fail("attribute '" + name + "' is too large");
        }
        return out;
    }

    KerasArray readArray(hid_t loc, const std::string& path) const {
        Id ds(H5Dopen2(loc, path.c_str(), H5P_DEFAULT), H5Dclose);
        if (!ds) failHdf5("cannot open weight '" + path + "'");
        Id type(H5Dget_type(ds), H5Tclose);
        Id space(H5Dget_space(ds), H5Sclose);
        if (!type || !space) failHdf5("cannot read weight '" + path + "'");
        const H5T_class_t cls = H5Tget_class(type);
        if (cls != H5T_FLOAT && cls != H5T_INTEGER)
            fail("weight '" + path + "' is not a numeric array");
        // Its values must be in this file: external raw data and virtual datasets read other
        // files on this computer.
        Id dcpl(H5Dget_create_plist(ds), H5Pclose);
        if (!dcpl) failHdf5("cannot read weight '" + path + "'");
        const H5D_layout_t layout = H5Pget_layout(dcpl);
        const int external = H5Pget_external_count(dcpl);
        if (layout < 0 || external < 0) failHdf5("cannot read weight '" + path + "'");
        if (layout == H5D_VIRTUAL || external > 0)
            fail("weight '" + path + "' keeps its values in other files, which Keras does not do");
        const int rank = H5Sget_simple_extent_ndims(space);
        if (rank < 0 || rank > kMaxRank) fail("weight '" + path + "' has an unreadable shape");
        hsize_t dims[kMaxRank] = {};
        if (rank > 0 && H5Sget_simple_extent_dims(space, dims, nullptr) < 0)
            failHdf5("cannot read the shape of weight '" + path + "'");
        KerasArray a;
        std::uint64_t n = 1;
        for (int i = 0; i < rank; ++i) {
            if (dims[i] > (std::uint64_t(1) << 40)) fail("weight '" + path + "' is too large");
            n *= dims[i];
            if (n > budget) break;
            a.shape.push_back(static_cast<int64_t>(dims[i]));
        }
        // A dataset's declared size is not bounded by the file (fill values, compression): what
        // may be allocated is.
        if (n > budget) fail("weight '" + path + "' declares more values than the file can hold");
        a.values.resize(static_cast<std::size_t>(n));
        if (n > 0 &&
            H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, a.values.data()) < 0)
            failHdf5("cannot read weight '" + path + "'");
        const_cast<Reader*>(this)->budget -= n;
        return a;
    }
};

std::string stripSuffix(std::string var) {
    // TF variables are named "kernel:0"; Keras 3's legacy files write "kernel".
    static const std::regex suffix(":[0-9]+$");
    return std::regex_replace(var, suffix, "");
}

void addVar(std::vector<KerasLayer>& layers, std::map<std::string, std::size_t>& index,
            const std::string& layer, const std::string& className, const std::string& var,
            KerasArray a, const std::string& where) {
    auto it = index.find(layer);
    if (it == index.end()) {
        if (layers.size() >= kMaxLayers) throw KerasModelError("'" + where + "': too many layers");
        it = index.emplace(layer, layers.size()).first;
        layers.push_back({layer, className, {}});
    }
    KerasLayer& l = layers[it->second];
    if (!l.vars.emplace(var, std::move(a)).second)
        throw KerasModelError("'" + where + "': layer '" + layer + "' holds weight '" + var +
                              "' twice");
}

std::string keras2Version(Reader& r, hid_t group) {
    if (r.hasAttribute(group, "keras_version")) return r.stringAttribute(group, "keras_version");
    return {};
}

void readKeras2(Reader& r, hid_t group, KerasFile& out) {
    const std::vector<std::string> names = r.chunkedStrings(group, "layer_names");
    std::map<std::string, std::size_t> index;
    std::set<std::string> containers;
    for (const std::string& groupName : names) {
        if (groupName.empty() || groupName.size() > kMaxNameLength ||
            groupName.find('/') != std::string::npos || groupName == "." || groupName == "..")
            r.fail("layer_names lists an invalid layer name");
        if (!r.isGroup(group, groupName))
            r.fail("layer '" + groupName + "' is listed in layer_names but its group is missing");
        Id g = r.openGroup(group, groupName);
        const std::vector<std::string> weights = r.chunkedStrings(g, "weight_names");
        for (const std::string& w : weights) {
            if (w.empty() || w.size() > kMaxNameLength || w.front() == '/')
                r.fail("layer '" + groupName + "' lists an invalid weight name");
            if (!r.exists(g, w) || r.typeOf(g, w) != H5O_TYPE_DATASET)
                r.fail("weight '" + groupName + "/" + w + "' is listed but missing");
            // "conv1_conv/kernel:0" (flat and nested alike), or "kernel:0" for a layer group
            // holding its own variables directly.
            std::vector<std::string> parts;
            std::size_t pos = 0;
            while (true) {
                const std::size_t slash = w.find('/', pos);
                parts.push_back(w.substr(pos, slash - pos));
                if (slash == std::string::npos) break;
                pos = slash + 1;
            }
            const std::string var = stripSuffix(parts.back());
            const std::string layer = parts.size() >= 2 ? parts[parts.size() - 2] : groupName;
            if (layer != groupName) containers.insert(groupName);
            addVar(out.layers, index, layer, "", var, r.readArray(g, w), r.where);
        }
    }
    out.containers.assign(containers.begin(), containers.end());
}

// Keras 3: walk the config as saving_lib walks the model, giving each layer its weights path.
struct Keras3Layer {
    std::string path, name, className;
    json config;
};

std::string snakeCase(const std::string& name) {
    // keras.src.utils.naming.to_snake_case
    std::string s = std::regex_replace(name, std::regex("[^A-Za-z0-9_]+"), "");
    s = std::regex_replace(s, std::regex("(.)([A-Z][a-z]+)"), "$1_$2");
    s = std::regex_replace(s, std::regex("([a-z])([A-Z])"), "$1_$2");
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

bool isContainer(const std::string& className) {
    return className == "Functional" || className == "Sequential" || className == "Model";
}

void walkConfig(const json& model, const std::string& prefix, int depth,
                std::vector<Keras3Layer>& out, std::vector<std::string>& containers,
                const std::string& where) {
    if (depth > kMaxNesting) throw KerasModelError("'" + where + "': models nested too deep");
    const json* cfg = model.contains("config") ? &model["config"] : nullptr;
    if (!cfg || !cfg->is_object() || !cfg->contains("layers") || !(*cfg)["layers"].is_array())
        return;
    std::map<std::string, int> used;
    for (const json& layer : (*cfg)["layers"]) {
        if (!layer.is_object()) continue;
        const std::string cls = layer.value("class_name", std::string());
        std::string name;
        if (layer.contains("config") && layer["config"].is_object())
            name = layer["config"].value("name", std::string());
        std::string snake = snakeCase(cls);
        auto it = used.find(snake);
        if (it == used.end())
            used[snake] = 0;
        else
            snake += "_" + std::to_string(++it->second);
        const std::string path = prefix + "layers/" + snake;
        if (isContainer(cls)) {
            containers.push_back(name);
            walkConfig(layer, path + "/", depth + 1, out, containers, where);
        } else {
            out.push_back({path, name, cls, layer.value("config", json::object())});
        }
        if (out.size() > kMaxLayers) throw KerasModelError("'" + where + "': too many layers");
    }
}

// Keras 3 layers save their variables in creation order (Layer.save_own_variables).
std::vector<std::string> keras3VarNames(const Keras3Layer& l, std::size_t count) {
    auto flag = [&](const char* key) { return !l.config.is_object() || l.config.value(key, true); };
    std::vector<std::string> names;
    if (l.className == "Conv2D" || l.className == "Dense") {
        names.push_back("kernel");
        if (flag("use_bias")) names.push_back("bias");
    } else if (l.className == "BatchNormalization") {
        if (flag("scale")) names.push_back("gamma");
        if (flag("center")) names.push_back("beta");
        names.push_back("moving_mean");
        names.push_back("moving_variance");
    }
    if (!names.empty()) return names;
    // Anything else keeps its numbers: the importer refuses layers it does not know.
    for (std::size_t i = 0; i < count; ++i) names.push_back(std::to_string(i));
    return names;
}

void readKeras3(Reader& r, const std::string& configText, KerasFile& out) {
    json config;
    try {
        config = json::parse(configText);
    } catch (const json::exception& e) {
        r.fail(std::string("config.json is not valid JSON: ") + e.what());
    }
    if (!config.is_object()) r.fail("config.json does not describe a model");
    std::vector<Keras3Layer> layers;
    try {
        walkConfig(config, "", 0, layers, out.containers, r.where);
    } catch (const json::exception& e) {
        r.fail(std::string("config.json is not a Keras model config: ") + e.what());
    }
    if (layers.empty()) r.fail("config.json lists no layers");
    std::map<std::string, std::size_t> index;
    for (const Keras3Layer& l : layers) {
        const std::string vars = l.path + "/vars";
        if (!r.isGroup(r.file, vars)) continue;  // a layer without weights
        Id g = r.openGroup(r.file, vars);
        std::size_t count = 0;
        while (count < 64 && r.exists(g, std::to_string(count))) ++count;
        if (count == 0) continue;  // newer Keras 3 writes a group for every layer
        const std::vector<std::string> names = keras3VarNames(l, count);
        if (names.size() != count)
            r.fail("layer '" + l.name + "' (" + l.className + ") holds " + std::to_string(count) +
                   " variables where " + std::to_string(names.size()) + " were expected");
        if (l.name.empty() || l.name.size() > kMaxNameLength)
            r.fail("config.json has a layer without a name");
        for (std::size_t i = 0; i < count; ++i)
            addVar(out.layers, index, l.name, l.className, names[i],
                   r.readArray(g, std::to_string(i)), r.where);
    }
}

struct ArchiveFree {
    void operator()(archive* a) const {
        if (a) archive_read_free(a);
    }
};

// libarchive's message for the last failure; it may have none (a null pointer).
std::string archiveError(archive* a) {
    const char* e = archive_error_string(a);
    return e && *e ? e : "unknown libarchive error";
}

// The config.json and model.weights.h5 records of a .keras zip.
void unzipKeras(const std::string& bytes, const std::string& where, std::string& config,
                std::string& weights) {
    std::unique_ptr<archive, ArchiveFree> a(archive_read_new());
    archive_read_support_format_zip(a.get());
    if (archive_read_open_memory(a.get(), bytes.data(), bytes.size()) != ARCHIVE_OK)
        throw KerasModelError("'" + where +
                              "' is not a readable .keras archive: " + archiveError(a.get()));
    bool haveConfig = false, haveWeights = false;
    archive_entry* e = nullptr;
    int r;
    while ((r = archive_read_next_header(a.get(), &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
        const char* p = archive_entry_pathname(e);
        const std::string name = p ? p : "";
        std::string* dst = name == "config.json"        ? &config
                           : name == "model.weights.h5" ? &weights
                                                        : nullptr;
        if (!dst) {
            archive_read_data_skip(a.get());
            continue;
        }
        // The declared size is a claim; reading stops at the limit whatever it says.
        const la_int64_t declared = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
        if (declared < 0 || static_cast<std::uint64_t>(declared) > kMaxZipEntryBytes)
            throw KerasModelError("'" + where + "': " + name + " in the archive is too large");
        dst->clear();
        dst->reserve(static_cast<std::size_t>(
            std::min<std::uint64_t>(static_cast<std::uint64_t>(declared), bytes.size() * 4ull)));
        char buf[1 << 16];
        la_ssize_t n;
        while ((n = archive_read_data(a.get(), buf, sizeof buf)) > 0) {
            if (dst->size() + static_cast<std::size_t>(n) > kMaxZipEntryBytes)
                throw KerasModelError("'" + where + "': " + name + " in the archive is too large");
            dst->append(buf, static_cast<std::size_t>(n));
        }
        if (n < 0)
            throw KerasModelError("'" + where + "': cannot read " + name +
                                  " from the archive: " + archiveError(a.get()));
        (name == "config.json" ? haveConfig : haveWeights) = true;
    }
    if (r != ARCHIVE_EOF)
        throw KerasModelError("'" + where +
                              "' is not a readable .keras archive: " + archiveError(a.get()));
    if (!haveConfig || !haveWeights)
        throw KerasModelError("'" + where + "' is a zip but not a Keras 3 model: it lacks " +
                              std::string(!haveConfig ? "config.json" : "model.weights.h5") +
                              (haveConfig && !haveWeights
                                   ? " (weights saved in another form, e.g. .npz, are not read)"
                                   : ""));
}

bool hdf5Signature(const std::string& bytes) {
    static const char sig[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};
    // The superblock sits at 0, 512, 1024, 2048, ... (a user block may precede it).
    for (std::size_t at = 0; at + 8 <= bytes.size() && at <= (std::size_t(1) << 20);
         at = at == 0 ? 512 : at * 2)
        if (std::memcmp(bytes.data() + at, sig, 8) == 0) return true;
    return false;
}

void readHdf5(const std::string& image, const std::string& where, const std::string& keras3Config,
              KerasFile& out) {
    std::lock_guard<std::mutex> lock(hdf5Mutex());
    static const bool silenced = [] {
        H5open();
        H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
        return true;
    }();
    (void)silenced;
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // per thread in a thread-safe build
    if (!hdf5Signature(image))
        throw KerasModelError("'" + where + "' is not an HDF5 file" +
                              (keras3Config.empty() ? "" : " (model.weights.h5 in the archive)"));
    Id fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    if (!fapl || H5Pset_fapl_core(fapl, 1 << 20, 0) < 0 ||
        H5Pset_file_image(fapl, const_cast<char*>(image.data()), image.size()) < 0)
        throw KerasModelError("'" + where + "': cannot set up HDF5 (" + hdf5Error() + ")");
    Id file(H5Fopen("camx-keras-image.h5", H5F_ACC_RDONLY, fapl), H5Fclose);
    if (!file)
        throw KerasModelError("'" + where + "' is not a readable HDF5 file: " + hdf5Error() +
                              " (truncated or damaged?)");
    Reader r{where, file, 0};
    // Floats read may not exceed what the file could hold uncompressed, with room for HDF5's
    // float64/float16 storage: 2 floats per stored byte.
    r.budget = std::uint64_t(image.size()) * 2 + 1024;
    if (!keras3Config.empty()) {
        out.format = KerasFile::Format::Keras3Archive;
        readKeras3(r, keras3Config, out);
        return;
    }
    if (r.hasAttribute(file, "layer_names")) {
        out.format = KerasFile::Format::Keras2Weights;
        out.kerasVersion = keras2Version(r, file);
        readKeras2(r, file, out);
        return;
    }
    if (r.isGroup(file, "model_weights")) {
        Id mw = r.openGroup(file, "model_weights");
        if (!r.hasAttribute(mw, "layer_names"))
            r.fail("model_weights has no layer_names attribute: not a Keras 2 model file");
        out.format = KerasFile::Format::Keras2Model;
        out.kerasVersion = keras2Version(r, mw);
        if (r.hasAttribute(file, "model_config"))
            out.modelConfig = r.stringAttribute(file, "model_config");
        readKeras2(r, mw, out);
        return;
    }
    if (r.isGroup(file, "layers") || r.isGroup(file, "vars") ||
        r.isGroup(file, "_layer_checkpoint_dependencies"))
        r.fail(
            "this is a Keras 3 weights file (.weights.h5), which holds no architecture: open the "
            ".keras file saved with model.save, or a Keras 2 .h5");
    r.fail("an HDF5 file, but not a Keras model (no model_weights group or layer_names attribute)");
}

}  // namespace

const KerasLayer* KerasFile::find(const std::string& name) const {
    for (const auto& l : layers)
        if (l.name == name) return &l;
    return nullptr;
}

std::string kerasFormatName(KerasFile::Format f) {
    switch (f) {
        case KerasFile::Format::Keras2Model:
            return "Keras 2 HDF5 model";
        case KerasFile::Format::Keras2Weights:
            return "Keras 2 HDF5 weights";
        case KerasFile::Format::Keras3Archive:
            return "Keras 3 .keras archive";
    }
    return "Keras";
}

bool looksLikeKerasFile(const std::filesystem::path& path, const std::string& bytes) {
    if (hdf5Signature(bytes)) return true;
    const bool zip = bytes.size() >= 4 && bytes.compare(0, 4, "PK\x03\x04") == 0;
    if (!zip) return false;
    if (path.extension() == ".keras") return true;
    // A .keras archive renamed: its first records are metadata.json / config.json.
    const std::string head = bytes.substr(0, std::min<std::size_t>(bytes.size(), 4096));
    return head.find("config.json") != std::string::npos &&
           head.find("archive/") == std::string::npos;
}

namespace {

// ---- libhdf5 in a child process ------------------------------------------------------------
// libhdf5 1.10 crashes and hangs on some damaged files (README "Keras models"). The HDF5 part of
// a read runs in a forked child that sends the result back through a pipe: a crash or a hang
// there becomes a KerasModelError here. The child runs libhdf5, our reader and the C++ library
// only, never Qt or LibTorch, and ends with _exit.

constexpr rlim_t kChildCpuSeconds = 120;  // a full-size ResNet-50 file takes a second or two

void putBytes(std::string& out, const void* p, std::size_t n) {
    out.append(static_cast<const char*>(p), n);
}
void putU64(std::string& out, std::uint64_t v) {
    putBytes(out, &v, sizeof v);
}
void putString(std::string& out, const std::string& s) {
    putU64(out, s.size());
    out += s;
}

std::string serialize(const KerasFile& f) {
    std::string out;
    putU64(out, static_cast<std::uint64_t>(f.format));
    putString(out, f.kerasVersion);
    putString(out, f.modelConfig);
    putU64(out, f.containers.size());
    for (const auto& c : f.containers) putString(out, c);
    putU64(out, f.layers.size());
    for (const auto& l : f.layers) {
        putString(out, l.name);
        putString(out, l.className);
        putU64(out, l.vars.size());
        for (const auto& [name, a] : l.vars) {
            putString(out, name);
            putU64(out, a.shape.size());
            for (int64_t d : a.shape) putU64(out, static_cast<std::uint64_t>(d));
            putU64(out, a.values.size());
            putBytes(out, a.values.data(), a.values.size() * sizeof(float));
        }
    }
    return out;
}

struct Unpacker {
    const std::string& in;
    std::size_t at = 0;
    void take(void* p, std::size_t n) {
        if (n > in.size() - at) throw std::runtime_error("short");
        std::memcpy(p, in.data() + at, n);
        at += n;
    }
    std::uint64_t u64() {
        std::uint64_t v;
        take(&v, sizeof v);
        return v;
    }
    std::size_t count(std::size_t each) {  // a count of items of at least `each` bytes
        const std::uint64_t n = u64();
        if (n > (in.size() - at) / std::max<std::size_t>(each, 1))
            throw std::runtime_error("count");
        return static_cast<std::size_t>(n);
    }
    std::string str() {
        std::string s(count(1), '\0');
        take(s.data(), s.size());
        return s;
    }
};

KerasFile deserialize(const std::string& in) {
    Unpacker u{in};
    KerasFile f;
    const std::uint64_t format = u.u64();
    if (format > static_cast<std::uint64_t>(KerasFile::Format::Keras3Archive))
        throw std::runtime_error("format");
    f.format = static_cast<KerasFile::Format>(format);
    f.kerasVersion = u.str();
    f.modelConfig = u.str();
    f.containers.resize(u.count(8));
    for (auto& c : f.containers) c = u.str();
    f.layers.resize(u.count(24));
    for (auto& l : f.layers) {
        l.name = u.str();
        l.className = u.str();
        const std::size_t vars = u.count(24);
        for (std::size_t v = 0; v < vars; ++v) {
            const std::string name = u.str();
            KerasArray a;
            a.shape.resize(u.count(8));
            for (auto& d : a.shape) d = static_cast<int64_t>(u.u64());
            a.values.resize(u.count(sizeof(float)));
            u.take(a.values.data(), a.values.size() * sizeof(float));
            l.vars.emplace(name, std::move(a));
        }
    }
    if (u.at != in.size()) throw std::runtime_error("trailing");
    return f;
}

bool writeAll(int fd, const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

[[noreturn]] void childRead(int fd, const std::string& image, const std::string& where,
                            const std::string& keras3Config) {
    const rlimit cpu{kChildCpuSeconds, kChildCpuSeconds};
    ::setrlimit(RLIMIT_CPU, &cpu);
    const rlimit core{0, 0};  // no core file from a crash in libhdf5
    ::setrlimit(RLIMIT_CORE, &core);
    std::string reply;
    try {
        KerasFile f;
        readHdf5(image, where, keras3Config, f);
        reply = "K" + serialize(f);
    } catch (const KerasModelError& e) {
        reply = std::string("E") + e.what();
    } catch (const std::bad_alloc&) {
        reply = "E'" + where + "': out of memory while reading it";
    } catch (const std::exception& e) {
        reply = "E'" + where + "': " + e.what();
    }
    ::_exit(writeAll(fd, reply) ? 0 : 3);
}

void readHdf5InChild(const std::string& image, const std::string& where,
                     const std::string& keras3Config, KerasFile& out) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        throw KerasModelError("'" + where + "': cannot start its reader: " + std::strerror(errno));
    const pid_t pid = ::fork();
    if (pid < 0) {
        const int e = errno;
        ::close(fds[0]);
        ::close(fds[1]);
        throw KerasModelError("'" + where + "': cannot start its reader: " + std::strerror(e));
    }
    if (pid == 0) {
        ::close(fds[0]);
        childRead(fds[1], image, where, keras3Config);
    }
    ::close(fds[1]);
    std::string reply;
    char buf[1 << 16];
    while (true) {
        const ssize_t n = ::read(fds[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        reply.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(status)) {
        const int sig = WTERMSIG(status);
        if (sig == SIGXCPU || sig == SIGKILL)
            throw KerasModelError(
                "'" + where + "': libhdf5 did not finish reading it (stopped after " +
                std::to_string(kChildCpuSeconds) + " s of CPU time): the file is damaged");
        throw KerasModelError("'" + where + "': libhdf5 crashed reading it (signal " +
                              std::to_string(sig) + ", " + strsignal(sig) +
                              "): the file is damaged");
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || reply.empty())
        throw KerasModelError("'" + where + "': reading it failed inside libhdf5 (exit status " +
                              std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
                              "): the file is damaged");
    if (reply[0] == 'E') throw KerasModelError(reply.substr(1));
    try {
        out = deserialize(reply.substr(1));
    } catch (const std::exception&) {
        throw KerasModelError("'" + where + "': its reader sent back an unreadable result");
    }
}

KerasFile readKeras(const std::string& bytes, const std::string& where, bool isolated) {
    KerasFile out;
    auto hdf5 = [&](const std::string& image, const std::string& config) {
        if (isolated)
            readHdf5InChild(image, where, config, out);
        else
            readHdf5(image, where, config, out);
    };
    if (bytes.size() >= 4 && bytes.compare(0, 4, "PK\x03\x04") == 0) {
        std::string config, weights;
        unzipKeras(bytes, where, config, weights);
        try {
            const json meta = json::parse(config);
            (void)meta;
        } catch (const json::exception& e) {
            throw KerasModelError("'" + where + "': config.json is not valid JSON: " + e.what());
        }
        hdf5(weights, config);
        out.modelConfig = config;
        return out;
    }
    hdf5(bytes, "");
    return out;
}

}  // namespace

KerasFile readKerasFile(const std::string& bytes, const std::string& where) {
    return readKeras(bytes, where, true);
}

KerasFile readKerasFileInProcess(const std::string& bytes, const std::string& where) {
    return readKeras(bytes, where, false);
}

}  // namespace camx
