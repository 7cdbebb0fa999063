#include "data/formats/cub_reader.h"

#include <cmath>
#include <map>
#include <set>

#include "common/hash.h"
#include "data/archive_cache.h"
#include "data/formats/reader_support.h"
#include "data/safe_file.h"
#include "data/table_file.h"

namespace camx {
namespace fs = std::filesystem;

namespace {
const char* const kCubFiles[] = {"images.txt", "image_class_labels.txt", "train_test_split.txt",
                                 "bounding_boxes.txt", "classes.txt"};

bool hasCubFiles(const fs::path& dir) {
    std::error_code ec;
    return fs::is_regular_file(dir / "images.txt", ec) &&
           fs::is_regular_file(dir / "image_class_labels.txt", ec) &&
           fs::is_directory(dir / "images", ec);
}

// "<id> <value...>" rows into id -> fields after the id; malformed rows are reported.
std::map<long, std::vector<std::string>> readIdTable(const fs::path& file, std::size_t values,
                                                     LoadReport& report) {
    std::map<long, std::vector<std::string>> out;
    for (auto& row : readTableFile(file, ' ')) {
        const auto id = row.fields.empty() ? std::nullopt : tableInteger(row.fields[0]);
        if (row.fields.size() != values + 1 || !id || *id <= 0) {
            report.add(LoadIssue::Kind::Skipped, file.string(),
                       "row " + std::to_string(row.number) + " is not '<image id> " +
                           (values == 1 ? "<value>" : "<" + std::to_string(values) + " values>") +
                           "'");
            continue;
        }
        if (out.count(*id)) {
            report.add(LoadIssue::Kind::Skipped, file.string(),
                       "row " + std::to_string(row.number) + " repeats id " + std::to_string(*id));
            continue;
        }
        row.fields.erase(row.fields.begin());
        out.emplace(*id, std::move(row.fields));
    }
    return out;
}

}  // namespace

std::optional<fs::path> findCubRoot(const fs::path& dir) {
    for (const fs::path& d : {dir, dir / "CUB_200_2011"})
        if (hasCubFiles(d)) return d;
    return std::nullopt;
}

namespace {
bool endsWith(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}
}  // namespace

std::optional<fs::path> findCubArchive(const fs::path& path) {
    std::error_code ec;
    if (fs::is_regular_file(path, ec)) {
        const std::string name = path.filename().string();
        if (endsWith(name, ".tgz") || endsWith(name, ".tar.gz")) return path;
        return std::nullopt;
    }
    for (const char* name : {"CUB_200_2011.tgz", "CUB_200_2011.tar.gz"})
        if (fs::is_regular_file(path / name, ec)) return path / name;
    return std::nullopt;
}

std::string cubArchiveCacheName(const fs::path& archive) {
    Hasher h;
    const std::string path = fs::weakly_canonical(archive).string();
    h.updateNumber(path.size()).update(path);
    h.updateNumber(fs::file_size(archive));
    h.updateNumber(
        static_cast<std::uint64_t>(fs::last_write_time(archive).time_since_epoch().count()));
    return "cub-200-2011-" + h.hex();
}

Dataset openCub(const fs::path& dirIn, const OpenOptions& options) {
    std::error_code ec;
    const fs::path given = fs::absolute(dirIn);
    auto found = fs::is_directory(given, ec) ? findCubRoot(given) : std::nullopt;
    if (!found) {
        if (const auto archive = findCubArchive(given)) {
            std::string name;
            try {
                name = cubArchiveCacheName(*archive);
            } catch (const fs::filesystem_error& e) {
                throw DatasetError("cannot read archive '" + archive->string() +
                                   "': " + e.code().message());
            }
            const fs::path unpacked = unpackArchivesToCache({*archive}, name, options);
            found = findCubRoot(unpacked);
            if (!found) {
                fs::remove_all(unpacked, ec);  // not CUB: nothing worth keeping
                throw DatasetError("archive '" + archive->string() +
                                   "' does not hold CUB-200-2011: expected CUB_200_2011/ with "
                                   "images.txt, image_class_labels.txt and images/ in it");
            }
        }
    }
    if (!found)
        throw DatasetError("'" + dirIn.string() +
                           "' is not a CUB-200-2011 folder: expected images.txt, "
                           "image_class_labels.txt, train_test_split.txt, bounding_boxes.txt, "
                           "classes.txt and images/ (in it or in its CUB_200_2011/), or the "
                           "archive CUB_200_2011.tgz");
    const fs::path root = *found;
    Dataset ds;
    ds.root = root;
    ds.format = DatasetFormat::Cub;

    // Problems with whole files concern both splits; they go in the test split's report, which
    // is the one shown first.
    LoadReport& general = ds.test.report;
    const auto images = readIdTable(root / "images.txt", 1, general);
    const auto labels = readIdTable(root / "image_class_labels.txt", 1, general);
    const auto splitOf = readIdTable(root / "train_test_split.txt", 1, general);
    std::map<long, std::vector<std::string>> boxes;
    if (fs::exists(root / "bounding_boxes.txt"))
        boxes = readIdTable(root / "bounding_boxes.txt", 4, general);
    else
        general.add(LoadIssue::Kind::Skipped, (root / "bounding_boxes.txt").string(),
                    "missing: no image has a box");
    std::map<long, std::vector<std::string>> classes;
    if (fs::exists(root / "classes.txt")) classes = readIdTable(root / "classes.txt", 1, general);

    // Classes: classes.txt's ids in order; where it is missing, the image folders in order.
    std::map<long, int> classIndex;
    if (!classes.empty()) {
        for (const auto& [id, f] : classes) {
            classIndex[id] = static_cast<int>(ds.breedFolders.size());
            ds.breedFolders.push_back(f[0]);
        }
    } else {
        std::set<long> ids;
        for (const auto& [id, f] : labels)
            if (auto v = tableInteger(f[0])) ids.insert(*v);
        for (long id : ids) {
            classIndex[id] = static_cast<int>(ds.breedFolders.size());
            ds.breedFolders.push_back("class " + std::to_string(id));
        }
    }
    for (const auto& f : ds.breedFolders) ds.breedNames.push_back(classDisplayName(f));

    const std::string imagesTxt = (root / "images.txt").string();
    std::size_t done = 0;
    for (const auto& [id, f] : images) {
        if (done++ % 256 == 0) {
            options.job.throwIfCancelled();
            options.job.report(done, images.size(), "Reading images.txt");
        }
        const std::string idText = "image " + std::to_string(id);
        auto sit = splitOf.find(id);
        SplitData& split = sit != splitOf.end() && sit->second[0] == "1" ? ds.train : ds.test;
        ++split.report.listed;
        if (sit == splitOf.end() || (sit->second[0] != "0" && sit->second[0] != "1")) {
            ds.test.report.add(LoadIssue::Kind::Skipped, (root / "train_test_split.txt").string(),
                               idText + " has no train (1) or test (0) entry");
            continue;
        }
        const std::string& rel = f[0];
        if (!isSafeRelativePath(rel)) {
            split.report.add(LoadIssue::Kind::Skipped, imagesTxt,
                             idText + ": '" + rel + "' is not a path under images/");
            continue;
        }
        Sample s;
        s.relPath = rel;
        s.imagePath = root / "images" / rel;
        auto lit = labels.find(id);
        const auto labelId = lit == labels.end() ? std::nullopt : tableInteger(lit->second[0]);
        auto cit = labelId ? classIndex.find(*labelId) : classIndex.end();
        if (cit == classIndex.end()) {
            split.report.add(LoadIssue::Kind::Skipped, (root / "image_class_labels.txt").string(),
                             idText + " has no class, or one classes.txt does not list");
            continue;
        }
        s.label = cit->second;
        if (!detail::readSampleSize(s, split.report)) continue;
        auto bit = boxes.find(id);
        const std::string boxFile = (root / "bounding_boxes.txt").string();
        if (bit == boxes.end()) {
            split.report.add(LoadIssue::Kind::Skipped, boxFile, idText + " has no box");
            continue;
        }
        const auto x = tableNumber(bit->second[0]), y = tableNumber(bit->second[1]),
                   w = tableNumber(bit->second[2]), h = tableNumber(bit->second[3]);
        if (!x || !y || !w || !h || std::abs(*x) > 1e6 || std::abs(*y) > 1e6 ||
            std::abs(*w) > 1e6 || std::abs(*h) > 1e6) {
            split.report.add(LoadIssue::Kind::Skipped, boxFile,
                             idText + "'s box is not four numbers");
            continue;
        }
        const Box raw{static_cast<int>(std::lround(*x)), static_cast<int>(std::lround(*y)),
                      static_cast<int>(std::lround(*x + *w)) - 1,
                      static_cast<int>(std::lround(*y + *h)) - 1};
        if (!detail::addSampleBoxes(s, {raw}, boxFile, split.report)) continue;
        split.samples.push_back(std::move(s));
    }
    for (const auto& [id, f] : labels)
        if (!images.count(id))
            general.add(LoadIssue::Kind::Repaired, (root / "image_class_labels.txt").string(),
                        "image " + std::to_string(id) + " is not in images.txt; ignored");
    detail::finishDataset(ds, dirIn, options);
    options.job.report(images.size(), images.size(), "Loaded");
    return ds;
}

}  // namespace camx
