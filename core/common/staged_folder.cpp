#include "common/staged_folder.h"

#include <fcntl.h>
#include <unistd.h>

#include <random>
#include <sstream>
#include <stdexcept>

namespace camx {
namespace fs = std::filesystem;

namespace {
fs::path hiddenSibling(const fs::path& target, const char* what) {
    std::random_device rd;
    std::ostringstream name;
    name << "." << target.filename().string() << "." << what << "-" << ::getpid() << "-" << std::hex
         << rd();
    return target.parent_path() / name.str();
}

void syncFolder(const fs::path& dir) {
    const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}
}  // namespace

StagedFolder::StagedFolder(fs::path target, std::function<bool(const fs::path&)> replaceable)
    : m_target(std::move(target)) {
    if (m_target.filename().empty()) m_target = m_target.parent_path();  // "out/" -> "out"
    std::error_code ec;
    const auto st = fs::symlink_status(m_target, ec);
    if (fs::exists(st)) {
        if (!fs::is_directory(st))
            throw std::runtime_error("output '" + m_target.string() +
                                     "' exists and is not a folder");
        for (const auto& e : fs::directory_iterator(m_target)) {
            if (!e.is_regular_file() || !replaceable(e.path().filename()))
                throw std::runtime_error("output folder '" + m_target.string() + "' holds '" +
                                         e.path().filename().string() +
                                         "', which is not an output of this command; choose a "
                                         "new or empty folder");
        }
    }
    const fs::path parent = m_target.parent_path().empty() ? fs::path(".") : m_target.parent_path();
    fs::create_directories(parent, ec);
    m_staging = hiddenSibling(m_target, "staging");
    if (!fs::create_directory(m_staging, ec))
        throw std::runtime_error("cannot create a folder beside '" + m_target.string() +
                                 "': " + ec.message());
}

StagedFolder::~StagedFolder() {
    if (m_committed) return;
    std::error_code ec;
    fs::remove_all(m_staging, ec);
}

void StagedFolder::commit() {
    std::error_code ec;
    fs::path old;
    if (fs::exists(fs::symlink_status(m_target, ec))) {
        old = hiddenSibling(m_target, "old");
        fs::rename(m_target, old, ec);
        if (ec)
            throw std::runtime_error("cannot replace '" + m_target.string() + "': " + ec.message());
    }
    fs::rename(m_staging, m_target, ec);
    if (ec) {
        std::error_code back;
        if (!old.empty()) fs::rename(old, m_target, back);
        throw std::runtime_error("cannot put the outputs in '" + m_target.string() +
                                 "': " + ec.message());
    }
    m_committed = true;
    syncFolder(m_target.parent_path());
    if (!old.empty()) fs::remove_all(old, ec);
}

}  // namespace camx
