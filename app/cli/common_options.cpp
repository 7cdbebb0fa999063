// Argument parsing shared by the subcommands: lists, validators and the model options.
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "commands.h"
#include "data/dataset.h"
#include "explain/model_session.h"
#include "nn/arch.h"
#include "nn/keras_preprocess.h"

namespace camx::cli {

std::vector<std::string> splitList(const std::string& s, const std::string& option) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    for (std::string item; std::getline(ss, item, ',');)
        if (!item.empty()) out.push_back(item);
    if (out.empty() && !option.empty())
        throw CLI::ValidationError(option, "'" + s + "' names nothing");
    return out;
}

std::vector<Method> parseMethods(const std::string& list) {
    std::vector<Method> out;
    for (const auto& id : splitList(list, "--methods")) {
        Method m;
        if (!parseMethod(id, &m) || methodIsBaseline(m)) {
            std::string known;
            for (Method k : allMethods()) known += (known.empty() ? "" : ", ") + methodId(k);
            throw CLI::ValidationError("--methods",
                                       "unknown method '" + id + "' (known: " + known + ")");
        }
        out.push_back(m);
    }
    return out;
}

const CLI::Validator FiniteNumber(
    [](std::string& text) -> std::string {
        char* end = nullptr;
        errno = 0;
        const double v = std::strtod(text.c_str(), &end);
        if (end == text.c_str() || *end || !std::isfinite(v))
            return "'" + text + "' is not a finite number";
        return {};
    },
    "FINITE");

const CLI::Validator RegularFile(
    [](std::string& path) -> std::string {
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0) return "'" + path + "': " + std::strerror(errno);
        if (S_ISDIR(st.st_mode)) return "'" + path + "' is a folder, not a file";
        if (!S_ISREG(st.st_mode))
            return "'" + path + "' is not a regular file (" +
                   (S_ISFIFO(st.st_mode)                         ? "a FIFO"
                    : S_ISSOCK(st.st_mode)                       ? "a socket"
                    : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                                                                 : "a special file") +
                   ")";
        return {};
    },
    "FILE");

void addModelOptions(CLI::App* cmd, ModelOptions& o) {
    cmd->add_option("--model", o.file,
                    "checkpoint (.ckpt), torchvision state dict (.pth), TorchScript model (.pt) "
                    "or Keras model (.h5, .keras)")
        ->required()
        ->check(RegularFile);
    const std::string ts = "TorchScript model";
    cmd->add_option("--input-size", o.inputSize,
                    "input side in pixels (default: its metadata, else 224)")
        ->check(CLI::Range(8, 4096))
        ->group(ts);
    cmd->add_option("--mean", o.mean, "normalisation mean R,G,B on 0..1 values (default ImageNet)")
        ->group(ts);
    cmd->add_option("--std", o.std, "normalisation std R,G,B (default ImageNet)")->group(ts);
    cmd->add_option("--class-names", o.classNamesFile, "a text file, one class name per line")
        ->check(RegularFile)
        ->group(ts);
    cmd->add_option("--layout", o.layout, "4-D layer outputs: auto, nchw or nhwc (Swin)")
        ->check(CLI::IsMember({"auto", "nchw", "nhwc"}))
        ->group(ts);
    cmd->add_option("--prefix-tokens", o.prefixTokens,
                    "transformers: tokens before the patch grid (1: the class token)")
        ->check(CLI::Range(0, 64))
        ->group(ts);
    cmd->add_option("--patch-grid", o.patchGrid, "transformers: the token grid H,W")->group(ts);
    cmd->add_option("--arch", o.arch, "for a .pth: the architecture it must hold")
        ->check(CLI::IsMember(archNames()));
    cmd->add_option("--num-classes", o.numClasses, "for a .pth: the class count it must have")
        ->check(CLI::Range(1, 1000000));
    cmd->add_option("--keras-preprocess", o.kerasPreprocess,
                    "Keras model: its input preprocessing, which the file does not record: "
                    "caffe (keras.applications' preprocess_input: BGR, minus the ImageNet means "
                    "on 0-255) or unit (pixel / 255, as the course notebook)")
        ->check(CLI::IsMember(kerasPreprocessNames(), CLI::ignore_case))
        ->group("Keras model");
    cmd->add_flag("--quiet", o.quiet, "no progress bar");
}

namespace {
template <std::size_t N>
std::array<float, N> numbers(const std::string& text, const char* option) {
    const auto items = splitList(text, option);
    if (items.size() != N)
        throw CLI::ValidationError(
            option, "'" + text + "' needs " + std::to_string(N) + " comma-separated numbers");
    std::array<float, N> out{};
    for (std::size_t i = 0; i < N; ++i) {
        try {
            std::size_t used = 0;
            out[i] = std::stof(items[i], &used);
            if (used != items[i].size() || !std::isfinite(out[i])) throw std::invalid_argument("");
        } catch (const std::exception&) {
            throw CLI::ValidationError(option, "'" + items[i] + "' is not a number");
        }
    }
    return out;
}
}  // namespace

std::unique_ptr<ModelSession> openModel(const ModelOptions& o) {
    ScriptMeta meta;
    if (o.inputSize > 0) meta.inputSize = o.inputSize;
    if (!o.mean.empty()) meta.mean = numbers<3>(o.mean, "--mean");
    if (!o.std.empty()) {
        meta.std = numbers<3>(o.std, "--std");
        for (float v : *meta.std)
            if (v <= 0) throw CLI::ValidationError("--std", "every std must be positive");
    }
    if (!o.layout.empty()) meta.layout = *parseMapLayout(o.layout);
    if (o.prefixTokens >= 0) meta.prefixTokens = o.prefixTokens;
    if (!o.patchGrid.empty()) {
        const auto g = numbers<2>(o.patchGrid, "--patch-grid");
        if (g[0] < 1 || g[1] < 1 || g[0] != std::floor(g[0]) || g[1] != std::floor(g[1]))
            throw CLI::ValidationError("--patch-grid", "'" + o.patchGrid + "' is not H,W");
        meta.patchGrid = std::array<int, 2>{static_cast<int>(g[0]), static_cast<int>(g[1])};
    }
    if (!o.classNamesFile.empty()) {
        std::ifstream in(o.classNamesFile);
        for (std::string line; std::getline(in, line);) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (!line.empty()) meta.classNames.push_back(line);
        }
        if (meta.classNames.empty())
            throw CLI::ValidationError("--class-names",
                                       "'" + o.classNamesFile + "' names no class");
    }
    std::optional<KerasPreprocess> keras;
    if (!o.kerasPreprocess.empty()) keras = parseKerasPreprocess(o.kerasPreprocess);
    auto model = ModelSession::open(o.file, {}, {{}, &interruptToken()},
                                    ModelSession::Names::Required, meta, keras);
    const ModelInfo& info = model->info();
    if (!info.torchScript && !meta.empty())
        std::fprintf(stderr,
                     "note: '%s' is not a TorchScript model; the TorchScript options are "
                     "ignored\n",
                     o.file.c_str());
    if (keras && !info.kerasPreprocess)
        std::fprintf(stderr, "note: '%s' is not a Keras model; --keras-preprocess is ignored\n",
                     o.file.c_str());
    for (const auto& n : info.notes) std::fprintf(stderr, "note: %s\n", n.c_str());
    if (!o.arch.empty() && info.torchScript)
        throw std::runtime_error("'" + o.file +
                                 "' is a TorchScript model; --arch is for .pth files");
    if (!o.arch.empty() && parseArch(o.arch) != info.arch)
        throw std::runtime_error("'" + o.file + "' holds a " + archName(info.arch) + ", not a " +
                                 o.arch);
    if (o.numClasses > 0 && o.numClasses != info.numClasses())
        throw std::runtime_error("'" + o.file + "' has " + std::to_string(info.numClasses()) +
                                 " classes, not " + std::to_string(o.numClasses));
    return model;
}

std::vector<Method> methodsForModel(std::vector<Method> methods, const ModelSession& model,
                                    bool explicitlyAsked) {
    const ModelInfo& info = model.info();
    if (info.camAvailable) return methods;
    const auto cam = std::find(methods.begin(), methods.end(), Method::Cam);
    if (cam == methods.end()) return methods;
    if (explicitlyAsked)
        throw CLI::ValidationError(
            "--methods", "CAM is not available for this model: " + info.camUnavailableReason);
    methods.erase(cam);
    std::fprintf(stderr, "note: CAM left out: %s\n", info.camUnavailableReason.c_str());
    if (methods.empty()) methods.push_back(Method::GradCam);
    return methods;
}

void addDataOptions(CLI::App* cmd, DataOptions& o, bool positional) {
    if (positional)
        cmd->add_option("DIR", o.dir,
                        "dataset folder (the image folder, for wsol; CUB_200_2011.tgz itself "
                        "for CUB)")
            ->required();
    else
        cmd->add_option("--data", o.dir,
                        "dataset folder (the image folder, for wsol; CUB_200_2011.tgz itself "
                        "for CUB)")
            ->required();
    cmd->add_option("--format", o.format,
                    "auto (by the folder's files), stanford-dogs, cub (CUB-200-2011, also its "
                    ".tgz), wsol (with --metadata), imagenet (ILSVRC validation: XML or "
                    "LOC_val_solution.csv), voc (PASCAL VOC), imagefolder (class folders, no "
                    "boxes) or tfds (a TensorFlow Datasets copy: ~/tensorflow_datasets/"
                    "stanford_dogs or its version folder)")
        ->check(CLI::IsMember(
            {"auto", "stanford-dogs", "cub", "wsol", "imagenet", "voc", "imagefolder", "tfds"}))
        ->capture_default_str();
    cmd->add_option("--metadata", o.metadata,
                    "wsolevaluation's metadata folder for the dataset (metadata/CUB, "
                    "metadata/ILSVRC): its official train/val/test splits")
        ->check(CLI::ExistingDirectory);
}

void addSplitOption(CLI::App* cmd, std::string& split) {
    cmd->add_option("--split", split, "train, val or test (where the dataset has it)")
        ->check(CLI::IsMember({"train", "val", "test"}))
        ->capture_default_str();
}

Dataset openData(const DataOptions& d, OpenOptions options) {
    options.format = *parseDatasetFormat(d.format);
    options.metadataDir = d.metadata;
    return openDataset(d.dir, options);
}

}  // namespace camx::cli
