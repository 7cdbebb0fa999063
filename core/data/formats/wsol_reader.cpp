#include "data/formats/wsol_reader.h"

#include <algorithm>
#include <map>
#include <set>

#include "common/limits.h"
#include "data/formats/reader_support.h"
#include "data/image_io.h"
#include "data/safe_file.h"
#include "data/table_file.h"

namespace camx {
namespace fs = std::filesystem;

namespace {
std::string parentOf(const std::string& id) {
    const auto slash = id.rfind('/');
    return slash == std::string::npos ? std::string() : id.substr(0, slash);
}

std::string lastComponent(const std::string& dir) {
    const auto slash = dir.rfind('/');
    return slash == std::string::npos ? dir : dir.substr(slash + 1);
}

struct SplitFiles {
    SplitKind kind;
    fs::path dir;
};
}  // namespace

bool looksLikeWsolMetadata(const fs::path& dir) {
    std::error_code ec;
    for (const char* s : {"train", "val", "test"})
        if (fs::is_regular_file(dir / s / "image_ids.txt", ec)) return true;
    return false;
}

bool isWsolPairFolder(const fs::path& dir) {
    std::error_code ec;
    return fs::is_directory(dir / "images", ec) && looksLikeWsolMetadata(dir / "metadata");
}

Dataset openWsol(const fs::path& dataIn, const fs::path& metaIn, const OpenOptions& options) {
    std::error_code ec;
    if (!fs::is_directory(dataIn, ec))
        throw DatasetError("the image folder '" + dataIn.string() + "' is not a folder");
    if (!looksLikeWsolMetadata(metaIn))
        throw DatasetError("'" + metaIn.string() +
                           "' is not a wsolevaluation metadata folder: expected train/, val/ or "
                           "test/ holding image_ids.txt (for example metadata/CUB)");
    Dataset ds;
    ds.root = fs::absolute(dataIn);
    ds.format = DatasetFormat::Wsol;

    // The benchmark, from the metadata folder's name as wsolevaluation spells it.
    {
        fs::path meta = fs::absolute(metaIn).lexically_normal();
        if (meta.filename().empty()) meta = meta.parent_path();  // "metadata/CUB/"
        const std::string name = meta.filename().string();
        if (name == "CUB" || name == "ILSVRC" || name == "OpenImages") ds.benchmark = name;
        if (name == "ImageNet") ds.benchmark = "ILSVRC";
    }

    struct Row {
        std::string id;
        int label = -1;
        std::vector<Box> boxes, listed;
        std::vector<std::string> masks;
        std::string ignore;
        int width = 0, height = 0;
    };
    std::map<SplitKind, std::vector<Row>> rows;
    std::set<int> labelSet;
    std::map<int, std::set<std::string>> foldersOfLabel;
    for (SplitKind kind : {SplitKind::Train, SplitKind::Val, SplitKind::Test}) {
        const fs::path dir = metaIn / splitName(kind);
        if (!fs::is_regular_file(dir / "image_ids.txt", ec)) continue;
        options.job.throwIfCancelled();
        options.job.report(0, 0, std::string("Reading the ") + splitName(kind) + " metadata");
        SplitData& split = kind == SplitKind::Train ? ds.train
                           : kind == SplitKind::Val ? ds.val
                                                    : ds.test;
        LoadReport& report = split.report;
        const fs::path idsFile = dir / "image_ids.txt", labelsFile = dir / "class_labels.txt",
                       locFile = dir / "localization.txt", sizesFile = dir / "image_sizes.txt";
        std::map<std::string, int> labelOf;
        for (const auto& r : readTableFile(labelsFile, ',')) {
            const auto v = r.fields.size() == 2 ? tableInteger(r.fields[1]) : std::nullopt;
            if (!v || *v < 0 || *v > 1000000) {
                report.add(LoadIssue::Kind::Skipped, labelsFile.string(),
                           "row " + std::to_string(r.number) + " is not '<image id>,<class>'");
                continue;
            }
            labelOf[r.fields[0]] = static_cast<int>(*v);
        }
        std::map<std::string, std::vector<Box>> boxesOf, listedOf;
        // OpenImages: "<image id>,<mask>,<ignore mask>" per instance; the ignore mask is named on
        // the image's first row only (data_loaders.py get_mask_paths).
        std::map<std::string, std::vector<std::string>> masksOf;
        std::map<std::string, std::string> ignoreOf;
        for (const auto& r : readTableFile(locFile, ',')) {
            if (r.fields.size() == 3) {
                const std::string& id = r.fields[0];
                const bool first = !masksOf.count(id);
                if (!isSafeRelativePath(r.fields[1]) ||
                    (!r.fields[2].empty() && !isSafeRelativePath(r.fields[2])) ||
                    (!first && !r.fields[2].empty())) {
                    report.add(LoadIssue::Kind::Skipped, locFile.string(),
                               "row " + std::to_string(r.number) +
                                   " is not '<image id>,<mask file>,<ignore mask file>' with "
                                   "paths under the data folder (the ignore mask on the "
                                   "image's first row only)");
                    continue;
                }
                masksOf[id].push_back(r.fields[1]);
                if (first) ignoreOf[id] = r.fields[2];
                continue;
            }
            std::optional<long> c[4];
            if (r.fields.size() == 5)
                for (int k = 0; k < 4; ++k) c[k] = tableInteger(r.fields[1 + k]);
            if (!c[0] || !c[1] || !c[2] || !c[3] || std::abs(*c[0]) > 1000000 ||
                std::abs(*c[1]) > 1000000 || std::abs(*c[2]) > 1000000 ||
                std::abs(*c[3]) > 1000000) {
                report.add(LoadIssue::Kind::Skipped, locFile.string(),
                           "row " + std::to_string(r.number) +
                               " is not '<image id>,<x0>,<y0>,<x1>,<y1>' in whole pixels");
                continue;
            }
            // Kept as listed for the WSOL protocol, which scores against these values.
            listedOf[r.fields[0]].push_back(Box{static_cast<int>(*c[0]), static_cast<int>(*c[1]),
                                                static_cast<int>(*c[2]), static_cast<int>(*c[3])});
            // x1, y1 are one past the last pixel (x + w); ours are inclusive.
            boxesOf[r.fields[0]].push_back(Box{static_cast<int>(*c[0]), static_cast<int>(*c[1]),
                                               static_cast<int>(*c[2]) - 1,
                                               static_cast<int>(*c[3]) - 1});
        }
        std::map<std::string, std::pair<int, int>> sizeOf;
        if (fs::exists(sizesFile, ec))
            for (const auto& r : readTableFile(sizesFile, ',')) {
                const auto w = r.fields.size() == 3 ? tableInteger(r.fields[1]) : std::nullopt;
                const auto h = r.fields.size() == 3 ? tableInteger(r.fields[2]) : std::nullopt;
                if (!w || !h || *w <= 0 || *h <= 0 || *w > kMaxImageSide || *h > kMaxImageSide) {
                    report.add(LoadIssue::Kind::Skipped, sizesFile.string(),
                               "row " + std::to_string(r.number) +
                                   " is not '<image id>,<width>,<height>' (sizes 1 to " +
                                   std::to_string(kMaxImageSide) + ")");
                    continue;
                }
                if (auto problem = pixelBudgetProblem(static_cast<int>(*w), static_cast<int>(*h),
                                                      r.fields[0])) {
                    report.add(LoadIssue::Kind::Skipped, sizesFile.string(), *problem);
                    continue;
                }
                sizeOf[r.fields[0]] = {static_cast<int>(*w), static_cast<int>(*h)};
            }
        std::set<std::string> seen;
        for (const auto& r : readTableFile(idsFile, ',')) {
            ++report.listed;
            const std::string& id = r.fields.empty() ? std::string() : r.fields[0];
            if (r.fields.size() != 1 || !isSafeRelativePath(id)) {
                report.add(LoadIssue::Kind::Skipped, idsFile.string(),
                           "row " + std::to_string(r.number) +
                               " is not an image path under the image folder");
                continue;
            }
            if (!seen.insert(id).second) {
                report.add(LoadIssue::Kind::Skipped, idsFile.string(),
                           "row " + std::to_string(r.number) + " repeats '" + id + "'");
                continue;
            }
            Row row;
            row.id = id;
            auto l = labelOf.find(id);
            if (l == labelOf.end()) {
                report.add(LoadIssue::Kind::Skipped, labelsFile.string(),
                           "'" + id + "' has no class");
                continue;
            }
            row.label = l->second;
            auto b = boxesOf.find(id);
            auto m = masksOf.find(id);
            if (b == boxesOf.end() && m == masksOf.end()) {
                report.add(LoadIssue::Kind::Skipped, locFile.string(),
                           "'" + id + "' has no box or mask");
                continue;
            }
            if (b != boxesOf.end()) {
                row.boxes = b->second;
                row.listed = listedOf[id];
            }
            if (m != masksOf.end()) {
                row.masks = m->second;
                row.ignore = ignoreOf[id];
            }
            auto sz = sizeOf.find(id);
            if (sz != sizeOf.end()) std::tie(row.width, row.height) = sz->second;
            labelSet.insert(row.label);
            foldersOfLabel[row.label].insert(parentOf(id));
            rows[kind].push_back(std::move(row));
        }
    }

    // Classes 0..max label. A class is named after the one folder that holds its images when no
    // other class shares that folder (CUB's "001.Black_footed_Albatross"), else "class N".
    const int numClasses = labelSet.empty() ? 0 : *labelSet.rbegin() + 1;
    std::map<std::string, int> folderUse;
    for (const auto& [label, folders] : foldersOfLabel)
        for (const auto& f : folders) ++folderUse[f];
    for (int c = 0; c < numClasses; ++c) {
        const auto it = foldersOfLabel.find(c);
        std::string folder;
        if (it != foldersOfLabel.end() && it->second.size() == 1 &&
            folderUse[*it->second.begin()] == 1)
            folder = lastComponent(*it->second.begin());
        const bool named = !folder.empty() && !tableInteger(folder);
        ds.breedFolders.push_back(named ? folder : "class " + std::to_string(c));
        ds.breedNames.push_back(named ? classDisplayName(folder) : "class " + std::to_string(c));
    }

    std::size_t total = 0, done = 0;
    for (const auto& [k, v] : rows) total += v.size();
    for (auto& [kind, list] : rows) {
        SplitData& split = kind == SplitKind::Train ? ds.train
                           : kind == SplitKind::Val ? ds.val
                                                    : ds.test;
        const std::string locFile = (metaIn / splitName(kind) / "localization.txt").string();
        for (Row& row : list) {
            if (done++ % 256 == 0) {
                options.job.throwIfCancelled();
                options.job.report(done, total, "Checking images");
            }
            Sample s;
            s.relPath = row.id;
            s.imagePath = ds.root / row.id;
            s.label = row.label;
            if (row.width > 0) {
                // The listed size: the image file only has to exist (50,000 ImageNet headers
                // are not read to open the index).
                if (auto why = notRegularFileReason(s.imagePath)) {
                    split.report.add(
                        LoadIssue::Kind::Skipped, s.imagePath.string(),
                        *why == "does not exist" ? "image file is missing" : "image file " + *why);
                    continue;
                }
                s.width = row.width;
                s.height = row.height;
            } else if (!detail::readSampleSize(s, split.report)) {
                continue;
            }
            if (!row.masks.empty()) {
                // Masks are read when scored; here they only have to exist.
                bool ok = true;
                for (const std::string& f : row.masks) {
                    s.maskPaths.push_back(ds.root / f);
                    if (auto why = notRegularFileReason(s.maskPaths.back())) {
                        split.report.add(LoadIssue::Kind::Skipped, s.maskPaths.back().string(),
                                         "mask of '" + row.id + "' " + *why);
                        ok = false;
                        break;
                    }
                }
                if (ok && !row.ignore.empty()) {
                    s.ignoreMaskPath = ds.root / row.ignore;
                    if (auto why = notRegularFileReason(s.ignoreMaskPath)) {
                        split.report.add(LoadIssue::Kind::Skipped, s.ignoreMaskPath.string(),
                                         "ignore mask of '" + row.id + "' " + *why);
                        ok = false;
                    }
                }
                if (!ok) continue;
            }
            if (!row.boxes.empty()) {
                if (!detail::addSampleBoxes(s, row.boxes, locFile, split.report)) continue;
                // Only boxes that keep their convention (x0 <= x1, none negative) are kept as
                // listed; otherwise the protocol scores the repaired boxes.
                const bool valid =
                    std::all_of(row.listed.begin(), row.listed.end(), [](const Box& b) {
                        return b.xmin >= 0 && b.ymin >= 0 && b.xmin <= b.xmax && b.ymin <= b.ymax;
                    });
                if (valid) s.listedBoxes = row.listed;
            }
            split.samples.push_back(std::move(s));
        }
    }
    detail::finishDataset(ds, metaIn, options);
    options.job.report(total, total, "Loaded");
    return ds;
}

}  // namespace camx
