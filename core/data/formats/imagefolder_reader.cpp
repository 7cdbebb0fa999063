#include "data/formats/imagefolder_reader.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <iterator>
#include <map>
#include <set>
#include <utility>

#include "data/formats/reader_support.h"

namespace camx {
namespace fs = std::filesystem;

namespace {

// torchvision.datasets.folder.IMG_EXTENSIONS.
const char* const kImageExtensions[] = {".jpg", ".jpeg", ".png",  ".ppm", ".bmp",
                                        ".pgm", ".tif",  ".tiff", ".webp"};
const char* const kExtensionList = ".jpg, .jpeg, .png, .ppm, .bmp, .pgm, .tif, .tiff, .webp";

bool hasImageExtension(const std::string& name) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (const char* ext : kImageExtensions) {
        const std::size_t n = std::char_traits<char>::length(ext);
        if (lower.size() >= n && lower.compare(lower.size() - n, n, ext) == 0) return true;
    }
    return false;
}

bool isHidden(const std::string& name) {
    return !name.empty() && name.front() == '.';
}

// Whether a folder entry is a folder, symbolic links followed (os.scandir's is_dir()).
bool isFolder(const fs::directory_entry& e) {
    std::error_code ec;
    return e.is_directory(ec);
}

// Whether `dir` holds an image file (by name) directly; stops at the first.
bool holdsImageDirectly(const fs::path& dir) {
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (hasImageExtension(it->path().filename().string()) && !isFolder(*it)) return true;
    return false;
}

// Whether a visible subfolder of `dir` holds an image directly; stops at the first.
bool hasClassFolderDirectly(const fs::path& dir) {
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (!isHidden(it->path().filename().string()) && isFolder(*it) &&
            holdsImageDirectly(it->path()))
            return true;
    return false;
}

// The identity of a folder, symbolic links followed: a loop shows as a folder seen before.
std::optional<std::pair<dev_t, ino_t>> folderId(const fs::path& dir) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) return std::nullopt;
    return std::pair{st.st_dev, st.st_ino};
}

// One folder's files, as os.walk gives them.
struct WalkedFolder {
    std::string walkRoot;  // the path os.walk would name it by, which torchvision sorts on
    std::string rel;       // below the class folder's parent: "cat", "cat/a"
    std::vector<std::string> files;
};

// Walks one class folder as os.walk(followlinks=True) does, each real folder once. Folders that
// cannot be listed and links back to a folder already read are reported in `report`.
std::vector<WalkedFolder> walkClass(const fs::path& classDir, const std::string& className,
                                    LoadReport& report, const JobContext& job,
                                    std::size_t& listed) {
    std::vector<WalkedFolder> out;
    std::set<std::pair<dev_t, ino_t>> seen;
    if (auto id = folderId(classDir)) seen.insert(*id);
    std::vector<std::pair<fs::path, std::string>> pending{{classDir, className}};
    while (!pending.empty()) {
        auto [dir, rel] = std::move(pending.back());
        pending.pop_back();
        WalkedFolder folder;
        folder.walkRoot = dir.string();
        folder.rel = rel;
        std::vector<std::string> subfolders;
        std::error_code ec;
        fs::directory_iterator it(dir, ec), end;
        for (; !ec && it != end; it.increment(ec)) {
            if (++listed % 256 == 0) {
                job.throwIfCancelled();
                job.report(listed, 0, "Listing image files");
            }
            (isFolder(*it) ? subfolders : folder.files).push_back(it->path().filename().string());
        }
        if (ec)
            report.add(LoadIssue::Kind::Skipped, dir.string(),
                       "folder cannot be listed: " + ec.message());
        std::sort(folder.files.begin(), folder.files.end());
        out.push_back(std::move(folder));
        // Depth first in name order, so that which of two links to one folder is read does not
        // depend on the order the file system lists them in.
        std::sort(subfolders.begin(), subfolders.end());
        std::vector<std::pair<fs::path, std::string>> next;
        for (const std::string& name : subfolders) {
            const fs::path sub = dir / name;
            const auto id = folderId(sub);
            if (id && !seen.insert(*id).second) {
                report.add(LoadIssue::Kind::Repaired, sub.string(),
                           "a folder already read (a symbolic link loop or a second link to "
                           "it); not read again");
                continue;
            }
            next.emplace_back(sub, rel + "/" + name);
        }
        pending.insert(pending.end(), std::make_move_iterator(next.rbegin()),
                       std::make_move_iterator(next.rend()));
    }
    // torchvision: sorted(os.walk(...)), i.e. by the folder's path string.
    std::sort(out.begin(), out.end(),
              [](const WalkedFolder& a, const WalkedFolder& b) { return a.walkRoot < b.walkRoot; });
    return out;
}

// A split's class folders: the images found in each (by extension), and the other files.
struct ClassFiles {
    std::vector<std::string> images;  // relPath, torchvision's order
    std::vector<std::string> others;  // relPath of visible files that are no image by name
};

struct SplitScan {
    SplitKind kind = SplitKind::Test;
    fs::path dir;
    std::map<std::string, ClassFiles> classes;  // only folders holding an image
    LoadReport report;
};

// Lists `dir`'s class folders (sorted) and the files below each. Visible folders without an image
// and images outside any class folder are reported.
SplitScan scanSplit(SplitKind kind, const fs::path& dir, const JobContext& job,
                    std::size_t& listed) {
    SplitScan scan;
    scan.kind = kind;
    scan.dir = dir;
    std::vector<std::string> folders;
    std::error_code ec;
    fs::directory_iterator it(dir, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (isHidden(name)) continue;
        if (isFolder(*it))
            folders.push_back(name);
        else if (hasImageExtension(name))
            scan.report.add(LoadIssue::Kind::Skipped, it->path().string(),
                            "not in a class folder (<class>/<image>); ignored");
    }
    if (ec) throw DatasetError("cannot list the folder '" + dir.string() + "': " + ec.message());
    std::sort(folders.begin(), folders.end());  // torchvision's find_classes: sorted names
    for (const std::string& name : folders) {
        LoadReport walkReport;
        const auto walked = walkClass(dir / name, name, walkReport, job, listed);
        ClassFiles files;
        for (const WalkedFolder& f : walked)
            for (const std::string& file : f.files) {
                if (hasImageExtension(file))
                    files.images.push_back(f.rel + "/" + file);
                else if (!isHidden(file))
                    files.others.push_back(f.rel + "/" + file);
            }
        if (files.images.empty()) {
            scan.report.add(
                LoadIssue::Kind::Skipped, (dir / name).string(),
                std::string("holds no image file (") + kExtensionList + "); not a class");
            continue;
        }
        for (auto& i : walkReport.issues) scan.report.issues.push_back(std::move(i));
        scan.classes.emplace(name, std::move(files));
    }
    return scan;
}

// Probes every sample's header (detail::probeImage) on all cores; returns the problems by index.
std::vector<std::optional<std::string>> probeAll(std::vector<Sample>& samples,
                                                 const JobContext& job, std::size_t& done,
                                                 std::size_t total) {
    std::vector<std::optional<std::string>> problems(samples.size());
    detail::forEachOnAllCores(samples.size(), job,
                              "Reading image headers (" + std::to_string(done + samples.size()) +
                                  " of " + std::to_string(total) + ")",
                              [&](std::size_t i) {
                                  ImageHeader header;
                                  problems[i] = detail::probeImage(samples[i].imagePath, &header);
                                  if (!problems[i]) {
                                      samples[i].width = header.width;
                                      samples[i].height = header.height;
                                  }
                              });
    done += samples.size();
    return problems;
}

std::string expectedLayout() {
    return std::string(
               "expected class subfolders holding images (<class>/<image>, torchvision's "
               "ImageFolder; ") +
           kExtensionList + "), or train/, val/ and/or test/ made of such class subfolders";
}

}  // namespace

bool looksLikeImageFolder(const fs::path& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return false;
    if (hasClassFolderDirectly(dir)) return true;
    for (SplitKind k : {SplitKind::Train, SplitKind::Val, SplitKind::Test})
        if (fs::is_directory(dir / splitName(k), ec) && hasClassFolderDirectly(dir / splitName(k)))
            return true;
    return false;
}

Dataset openImageFolder(const fs::path& dirIn, const OpenOptions& options) {
    std::error_code ec;
    if (!fs::exists(dirIn, ec))
        throw DatasetError("folder '" + dirIn.string() + "' does not exist");
    if (!fs::is_directory(dirIn, ec))
        throw DatasetError("'" + dirIn.string() + "' is not a folder");
    const fs::path root = fs::absolute(dirIn);
    const JobContext& job = options.job;
    job.throwIfCancelled();
    job.report(0, 0, "Listing image files");

    // Splits: train/, val/, test/ where one of them is made of class folders, else the root.
    std::size_t listed = 0;
    std::vector<SplitScan> scans;
    for (SplitKind k : {SplitKind::Train, SplitKind::Val, SplitKind::Test}) {
        const fs::path d = root / splitName(k);
        if (!fs::is_directory(d, ec)) continue;
        SplitScan scan = scanSplit(k, d, job, listed);
        if (!scan.classes.empty()) scans.push_back(std::move(scan));
    }
    LoadReport general;  // about the root itself; goes with the test split's report
    if (!scans.empty()) {
        std::set<std::string> splitNames;
        for (const SplitScan& s : scans) splitNames.insert(splitName(s.kind));
        for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
            const std::string name = it->path().filename().string();
            if (isHidden(name) || splitNames.count(name)) continue;
            if (isFolder(*it))
                general.add(LoadIssue::Kind::Skipped, it->path().string(),
                            "the folder holds train/, val/ or test/: a folder beside them is "
                            "none of its splits; ignored");
            else if (hasImageExtension(name))
                general.add(LoadIssue::Kind::Skipped, it->path().string(),
                            "not in a split's class folder; ignored");
        }
    } else {
        scans.push_back(scanSplit(SplitKind::Test, root, job, listed));
    }

    std::set<std::string> classSet;
    for (const SplitScan& s : scans)
        for (const auto& [name, files] : s.classes) classSet.insert(name);
    if (classSet.empty()) {
        bool empty = true;
        for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec))
            if (!isHidden(it->path().filename().string())) {
                empty = false;
                break;
            }
        throw DatasetError("'" + dirIn.string() + "' " +
                           (empty ? "is empty" : "holds no class subfolder with images") + ": " +
                           expectedLayout());
    }

    Dataset ds;
    ds.root = root;
    ds.format = DatasetFormat::ImageFolder;
    ds.breedFolders.assign(classSet.begin(), classSet.end());  // byte-wise, as Python sorts
    std::map<std::string, int> labelOf;
    for (std::size_t c = 0; c < ds.breedFolders.size(); ++c) {
        labelOf[ds.breedFolders[c]] = static_cast<int>(c);
        ds.breedNames.push_back(classDisplayName(ds.breedFolders[c]));
    }

    std::size_t total = 0, done = 0;
    for (const SplitScan& s : scans)
        for (const auto& [name, files] : s.classes) total += files.images.size();
    for (SplitScan& scan : scans) {
        SplitData& split = scan.kind == SplitKind::Train ? ds.train
                           : scan.kind == SplitKind::Val ? ds.val
                                                         : ds.test;
        split.report = std::move(scan.report);
        std::vector<Sample> samples;
        for (const auto& [name, files] : scan.classes) {
            for (const std::string& rel : files.images) {
                Sample s;
                s.relPath = rel;
                s.imagePath = scan.dir / rel;
                s.label = labelOf.at(name);
                samples.push_back(std::move(s));
            }
            split.report.listed += files.images.size() + files.others.size();
            for (const std::string& rel : files.others)
                split.report.add(LoadIssue::Kind::Skipped, (scan.dir / rel).string(),
                                 std::string("not an image file (ImageFolder reads ") +
                                     kExtensionList + "); ignored");
        }
        const auto problems = probeAll(samples, job, done, total);
        split.samples.reserve(samples.size());
        for (std::size_t i = 0; i < samples.size(); ++i) {
            if (problems[i])
                split.report.add(LoadIssue::Kind::Skipped, samples[i].imagePath.string(),
                                 *problems[i]);
            else
                split.samples.push_back(std::move(samples[i]));
        }
    }
    for (auto& i : general.issues) ds.test.report.issues.push_back(std::move(i));
    detail::finishDataset(ds, dirIn, options);
    job.report(total, total, "Loaded");
    return ds;
}

}  // namespace camx
