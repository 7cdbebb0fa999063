#include "common/fs_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace camx {
namespace fs = std::filesystem;

namespace {

void fsyncPath(const fs::path& p, bool directory) {
    int fd = ::open(p.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
    if (fd < 0) return;  // best effort: not every file system lets us open a folder
    ::fsync(fd);
    ::close(fd);
}

fs::path temporarySibling(const fs::path& target) {
    std::random_device rd;
    std::ostringstream name;
    name << "." << target.filename().string() << ".tmp-" << std::hex << rd() << rd();
    return target.parent_path() / name.str();
}

}  // namespace

void writeFileAtomically(const fs::path& target,
                         const std::function<void(const fs::path&)>& write) {
    fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (!fs::is_directory(dir))
        throw std::runtime_error("cannot create folder '" + dir.string() + "' for '" +
                                 target.string() + "'");
    const fs::path tmp = temporarySibling(dir / target.filename());
    try {
        write(tmp);
        if (!fs::exists(tmp)) throw std::runtime_error("nothing was written");
        fsyncPath(tmp, false);
        fs::rename(tmp, target);
        fsyncPath(dir, true);
    } catch (const std::exception& e) {
        fs::remove(tmp, ec);
        throw std::runtime_error("could not write '" + target.string() + "': " + e.what());
    }
}

void writeFileAtomically(const fs::path& target, const std::string& bytes) {
    writeFileAtomically(target, [&](const fs::path& tmp) {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw std::runtime_error(std::strerror(errno));
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        out.flush();
        if (!out) throw std::runtime_error("write failed (disk full?)");
    });
}

std::string readFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot open '" + path.string() + "': " + std::strerror(errno));
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) throw std::runtime_error("cannot read '" + path.string() + "'");
    return ss.str();
}

fs::path userCacheDir() {
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
        return fs::path(xdg) / "cam-explorer";
    if (const char* home = std::getenv("HOME"); home && *home)
        return fs::path(home) / ".cache" / "cam-explorer";
    return fs::temp_directory_path() / "cam-explorer-cache";
}

}  // namespace camx
