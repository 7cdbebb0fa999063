// Argument parsing shared by the subcommands: lists, validators and the model options.
#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <sstream>

#include "commands.h"
#include "explain/model_session.h"
#include "nn/arch.h"

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
        if (!parseMethod(id, &m)) {
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
    cmd->add_option("--model", o.file, "checkpoint (.ckpt) or torchvision state dict (.pth)")
        ->required()
        ->check(RegularFile);
    cmd->add_option("--arch", o.arch, "for a .pth: the architecture it must hold")
        ->check(CLI::IsMember(archNames()));
    cmd->add_option("--num-classes", o.numClasses, "for a .pth: the class count it must have")
        ->check(CLI::Range(1, 1000000));
    cmd->add_flag("--quiet", o.quiet, "no progress bar");
}

std::unique_ptr<ModelSession> openModel(const ModelOptions& o) {
    auto model = ModelSession::open(o.file, {}, {{}, &interruptToken()});
    const ModelInfo& info = model->info();
    if (!o.arch.empty() && parseArch(o.arch) != info.arch)
        throw std::runtime_error("'" + o.file + "' holds a " + archName(info.arch) + ", not a " +
                                 o.arch);
    if (o.numClasses > 0 && o.numClasses != info.numClasses())
        throw std::runtime_error("'" + o.file + "' has " + std::to_string(info.numClasses()) +
                                 " classes, not " + std::to_string(o.numClasses));
    return model;
}

}  // namespace camx::cli
