#include "common/fs_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <signal.h>

#include <cerrno>
#include <chrono>
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

std::string temporaryPrefix(const fs::path& target) {
    return "." + target.filename().string() + ".tmp-";
}

// ".<name>.tmp-<pid>-<random>": the pid tells a later writer whether its owner is still alive.
fs::path temporarySibling(const fs::path& target) {
    std::random_device rd;
    std::ostringstream name;
    name << temporaryPrefix(target) << ::getpid() << "-" << std::hex << rd() << rd();
    return target.parent_path() / name.str();
}

// Removes temporaries of `target` that a dead process left behind (killed, or out of disk space
// in an older version): they would otherwise pile up and keep the disk full. Temporaries of live
// processes are left alone; those without a pid (older versions) once they are an hour old.
void removeStaleTemporaries(const fs::path& target) {
    const std::string prefix = temporaryPrefix(target);
    std::error_code ec;
    fs::directory_iterator it(target.parent_path(), ec), end;
    for (; !ec && it != end; it.increment(ec)) {
        const std::string n = it->path().filename().string();
        if (n.compare(0, prefix.size(), prefix) != 0) continue;
        const std::string rest = n.substr(prefix.size());
        const std::size_t dash = rest.find('-');
        bool stale = false;
        if (dash != std::string::npos && dash > 0 && dash < 10 &&
            rest.find_first_not_of("0123456789") == dash) {
            const long pid = std::strtol(rest.substr(0, dash).c_str(), nullptr, 10);
            stale = pid > 0 && pid != ::getpid() && ::kill(static_cast<pid_t>(pid), 0) != 0 &&
                    errno == ESRCH;
        } else {
            std::error_code tec;
            const auto t = fs::last_write_time(it->path(), tec);
            stale = !tec && fs::file_time_type::clock::now() - t > std::chrono::hours(1);
        }
        std::error_code rec;
        if (stale && it->is_regular_file(rec)) fs::remove(it->path(), rec);
    }
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
    removeStaleTemporaries(dir / target.filename());
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
    // Plain POSIX calls, so that a full disk reads "No space left on device", not "write failed".
    writeFileAtomically(target, [&](const fs::path& tmp) {
        const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) throw std::runtime_error(std::strerror(errno));
        auto failWith = [&](int err) {
            ::close(fd);
            throw std::runtime_error(std::strerror(err));
        };
        const char* p = bytes.data();
        std::size_t left = bytes.size();
        while (left > 0) {
            const ssize_t n = ::write(fd, p, left);
            if (n < 0) {
                if (errno == EINTR) continue;
                failWith(errno);
            }
            if (n == 0) failWith(ENOSPC);
            p += n;
            left -= static_cast<std::size_t>(n);
        }
        if (::fsync(fd) != 0 && errno != EINVAL && errno != EROFS) failWith(errno);
        if (::close(fd) != 0) throw std::runtime_error(std::strerror(errno));
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
