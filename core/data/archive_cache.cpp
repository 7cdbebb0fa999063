#include "data/archive_cache.h"

#include <archive.h>
#include <archive_entry.h>

#include <fstream>
#include <memory>

#include "common/fs_util.h"
#include "common/hash.h"
#include "data/safe_file.h"

namespace camx {
namespace fs = std::filesystem;

namespace {

struct ArchiveFree {
    void operator()(archive* a) const {
        if (a) archive_read_free(a);
    }
};
struct WriterFree {
    void operator()(archive* a) const {
        if (a) archive_write_free(a);
    }
};

// What an unpack may still write (kMaxUnpackedBytes, kMaxUnpackedEntries, the free space).
struct UnpackBudget {
    std::uint64_t bytes = kMaxUnpackedBytes;
    std::uint64_t entries = kMaxUnpackedEntries;
    std::string why;  // "the N GB limit" or "the free space in '<cache>'"
};

void extractTar(const fs::path& tar, const fs::path& dest, const JobContext& job,
                std::uintmax_t doneBefore, std::uintmax_t totalBytes, UnpackBudget& budget) {
    std::unique_ptr<archive, ArchiveFree> in(archive_read_new());
    archive_read_support_format_tar(in.get());
    archive_read_support_filter_all(in.get());
    if (archive_read_open_filename(in.get(), tar.c_str(), 1 << 16) != ARCHIVE_OK)
        throw DatasetError("cannot open archive '" + tar.string() +
                           "': " + archive_error_string(in.get()));
    std::unique_ptr<archive, WriterFree> out(archive_write_disk_new());
    archive_write_disk_set_options(out.get(), ARCHIVE_EXTRACT_TIME |
                                                  ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                                  ARCHIVE_EXTRACT_SECURE_SYMLINKS);
    archive_entry* entry = nullptr;
    std::size_t count = 0;
    for (;;) {
        int r = archive_read_next_header(in.get(), &entry);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN)
            throw DatasetError("archive '" + tar.string() +
                               "' is damaged: " + archive_error_string(in.get()));
        const char* name = archive_entry_pathname(entry);
        if (!name || !isSafeRelativePath(name))
            throw DatasetError("archive '" + tar.string() + "' holds an unsafe path '" +
                               (name ? name : "") + "'");
        if (budget.entries-- == 0)
            throw DatasetError("archive '" + tar.string() + "' holds more than " +
                               std::to_string(kMaxUnpackedEntries) + " entries; not unpacked");
        // Folders and regular files only: a link could point out of the cache, a device or FIFO
        // has no place in a dataset.
        const auto type = archive_entry_filetype(entry);
        if ((type != AE_IFREG && type != AE_IFDIR) || archive_entry_hardlink(entry)) {
            archive_read_data_skip(in.get());
            continue;
        }
        auto overBudget = [&] {
            return DatasetError("archive '" + tar.string() + "' unpacks to more than " +
                                budget.why + "; not unpacked");
        };
        if (archive_entry_size_is_set(entry) && archive_entry_size(entry) > 0 &&
            static_cast<std::uint64_t>(archive_entry_size(entry)) > budget.bytes)
            throw overBudget();
        const fs::path target = dest / name;
        archive_entry_set_pathname(entry, target.c_str());
        if (archive_write_header(out.get(), entry) < ARCHIVE_WARN)
            throw DatasetError("cannot unpack '" + tar.string() + "' into '" + dest.string() +
                               "': " + archive_error_string(out.get()));
        const void* buf;
        size_t size;
        la_int64_t offset;
        while ((r = archive_read_data_block(in.get(), &buf, &size, &offset)) == ARCHIVE_OK) {
            if (size > budget.bytes) throw overBudget();
            budget.bytes -= size;
            if (archive_write_data_block(out.get(), buf, size, offset) < ARCHIVE_WARN)
                throw DatasetError("cannot write while unpacking '" + tar.string() +
                                   "': " + archive_error_string(out.get()));
        }
        if (r < ARCHIVE_WARN)
            throw DatasetError("archive '" + tar.string() +
                               "' is damaged or truncated: " + archive_error_string(in.get()));
        archive_write_finish_entry(out.get());
        if (++count % 64 == 0) {
            job.throwIfCancelled();
            job.report(doneBefore + static_cast<std::uintmax_t>(archive_filter_bytes(in.get(), -1)),
                       totalBytes, "Unpacking " + tar.filename().string());
        }
    }
}

}  // namespace

std::string archiveCacheName(const fs::path& canonicalDir, std::uint64_t imagesTarSize,
                             std::uint64_t annotationTarSize, std::uint64_t listsTarSize) {
    // XXH3 over fixed-width fields: the same on every machine and toolchain, unlike std::hash, so
    // a rebuild never unpacks 750 MB again.
    Hasher h;
    const std::string dir = canonicalDir.string();
    h.updateNumber(dir.size()).update(dir);
    h.updateNumber(imagesTarSize).updateNumber(annotationTarSize).updateNumber(listsTarSize);
    return "stanford-dogs-" + h.hex();
}

fs::path unpackArchives(const fs::path& dir, const OpenOptions& options) {
    const auto imagesSize = fs::file_size(dir / "images.tar");
    const auto annotationSize = fs::file_size(dir / "annotation.tar");
    const auto listsSize = fs::file_size(dir / "lists.tar");
    const std::string name =
        archiveCacheName(fs::weakly_canonical(dir), imagesSize, annotationSize, listsSize);
    return unpackArchivesToCache({dir / "lists.tar", dir / "annotation.tar", dir / "images.tar"},
                                 name, options);
}

fs::path unpackArchivesToCache(const std::vector<fs::path>& archives, const std::string& name,
                               const OpenOptions& options) {
    const fs::path cacheRoot =
        options.cacheDir.empty() ? userCacheDir() / "datasets" : options.cacheDir;
    std::uintmax_t total = 0;
    for (const fs::path& a : archives) {
        std::error_code sizeError;
        const auto size = fs::file_size(a, sizeError);
        if (sizeError)
            throw DatasetError("cannot read archive '" + a.string() + "': " + sizeError.message());
        total += size;
    }
    const fs::path target = cacheRoot / name;
    if (fs::is_regular_file(target / ".complete")) return target;

    const fs::path partial = cacheRoot / (std::string(name) + ".partial");
    std::error_code ec;
    fs::remove_all(partial, ec);
    fs::create_directories(partial, ec);
    if (!fs::is_directory(partial))
        throw DatasetError("cannot create the unpack folder '" + partial.string() + "'");
    UnpackBudget budget;
    budget.why = std::to_string(kMaxUnpackedBytes >> 30) + " GB";
    const auto space = fs::space(cacheRoot, ec);
    if (!ec && space.available < budget.bytes) {
        budget.bytes = space.available;
        budget.why = "the free space in '" + cacheRoot.string() + "' (" +
                     std::to_string(space.available >> 20) + " MB)";
    }
    try {
        std::uintmax_t done = 0;
        for (const fs::path& a : archives) {
            extractTar(a, partial, options.job, done, total, budget);
            done += fs::file_size(a);
        }
        std::ofstream marker(partial / ".complete");
        for (const fs::path& a : archives) marker << "unpacked from " << a.string() << "\n";
        marker.close();
        if (!marker)
            throw DatasetError("cannot write the unpack marker in '" + partial.string() + "'");
        fs::remove_all(target, ec);
        fs::rename(partial, target);
    } catch (...) {
        fs::remove_all(partial, ec);
        throw;
    }
    return target;
}

}  // namespace camx
