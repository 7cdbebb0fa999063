#include "data/safe_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace camx {

namespace {
std::string kindText(mode_t mode) {
    if (S_ISFIFO(mode)) return "is a FIFO (named pipe), not a regular file";
    if (S_ISSOCK(mode)) return "is a socket, not a regular file";
    if (S_ISCHR(mode)) return "is a character device, not a regular file";
    if (S_ISBLK(mode)) return "is a block device, not a regular file";
    if (S_ISDIR(mode)) return "is a folder, not a regular file";
    return "is not a regular file";
}

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};
}  // namespace

std::optional<std::string> notRegularFileReason(const std::filesystem::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) return std::string("does not exist");
        return std::string("cannot be examined: ") + std::strerror(errno);
    }
    if (!S_ISREG(st.st_mode)) return kindText(st.st_mode);
    return std::nullopt;
}

std::optional<std::uintmax_t> regularFileSize(const std::filesystem::path& path, std::string& why) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        why = errno == ENOENT || errno == ENOTDIR
                  ? std::string("does not exist")
                  : std::string("cannot be examined: ") + std::strerror(errno);
        return std::nullopt;
    }
    if (!S_ISREG(st.st_mode)) {
        why = kindText(st.st_mode);
        return std::nullopt;
    }
    return static_cast<std::uintmax_t>(st.st_size);
}

namespace {
// Opens a regular file for reading without ever blocking in open(); false and `why` otherwise.
bool openRegular(const std::filesystem::path& path, Fd& f, struct stat& st, std::string& why) {
    if (auto reason = notRegularFileReason(path)) {
        why = *reason;
        return false;
    }
    // O_NONBLOCK: should the path have become a FIFO since the check, open() still returns at once.
    f.fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (f.fd < 0) {
        why = std::string("cannot be opened: ") + std::strerror(errno);
        return false;
    }
    if (::fstat(f.fd, &st) != 0) {
        why = std::string("cannot be examined: ") + std::strerror(errno);
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        why = kindText(st.st_mode);
        return false;
    }
    const int flags = ::fcntl(f.fd, F_GETFL);
    if (flags >= 0) ::fcntl(f.fd, F_SETFL, flags & ~O_NONBLOCK);
    return true;
}

bool readAt(const Fd& f, std::uintmax_t offset, std::uintmax_t want, std::string& out,
            std::string& why) {
    out.resize(static_cast<std::size_t>(want));
    std::size_t got = 0;
    while (got < out.size()) {
        const ssize_t n =
            ::pread(f.fd, out.data() + got, out.size() - got, static_cast<off_t>(offset + got));
        if (n < 0) {
            if (errno == EINTR) continue;
            why = std::string("cannot be read: ") + std::strerror(errno);
            out.clear();
            return false;
        }
        if (n == 0) break;  // shrank while reading
        got += static_cast<std::size_t>(n);
    }
    out.resize(got);
    return true;
}
}  // namespace

bool readRegularFile(const std::filesystem::path& path, std::uintmax_t maxBytes, bool wholeFile,
                     std::string& out, std::string& why) {
    out.clear();
    Fd f;
    struct stat st {};
    if (!openRegular(path, f, st, why)) return false;
    const auto size = static_cast<std::uintmax_t>(st.st_size);
    if (wholeFile && size > maxBytes) {
        why = "is too large (" + std::to_string(size) + " bytes, the limit is " +
              std::to_string(maxBytes) + ")";
        return false;
    }
    return readAt(f, 0, std::min(size, maxBytes), out, why);
}

bool readRegularFileAt(const std::filesystem::path& path, std::uintmax_t offset,
                       std::uintmax_t maxBytes, std::string& out, std::string& why) {
    out.clear();
    Fd f;
    struct stat st {};
    if (!openRegular(path, f, st, why)) return false;
    const auto size = static_cast<std::uintmax_t>(st.st_size);
    if (offset >= size) return true;
    return readAt(f, offset, std::min(size - offset, maxBytes), out, why);
}

RegularFileReader::~RegularFileReader() {
    if (m_fd >= 0) ::close(m_fd);
}

bool RegularFileReader::open(const std::filesystem::path& path, std::string& why) {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = -1;
    m_size = 0;
    Fd f;
    struct stat st {};
    if (!openRegular(path, f, st, why)) return false;
    m_fd = f.fd;
    f.fd = -1;
    m_size = static_cast<std::uintmax_t>(st.st_size);
    return true;
}

bool RegularFileReader::readAt(std::uintmax_t offset, std::uintmax_t maxBytes, std::string& out,
                               std::string& why) const {
    out.clear();
    if (m_fd < 0) {
        why = "is not open";
        return false;
    }
    if (offset >= m_size) return true;
    Fd view;
    view.fd = m_fd;
    const bool ok = camx::readAt(view, offset, std::min(m_size - offset, maxBytes), out, why);
    view.fd = -1;  // still ours
    return ok;
}

bool isSafeRelativePath(const std::string& rel) {
    if (rel.empty() || rel.front() == '/') return false;
    for (const auto& part : std::filesystem::path(rel))
        if (part == "..") return false;
    return true;
}

}  // namespace camx
