#include "data/formats/voc_reader.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "data/formats/imagenet_reader.h"
#include "data/formats/reader_support.h"
#include "data/safe_file.h"
#include "data/table_file.h"

namespace camx {
namespace fs = std::filesystem;

namespace {

bool hasVocFolders(const fs::path& d) {
    std::error_code ec;
    return fs::is_directory(d / "Annotations", ec) && fs::is_directory(d / "JPEGImages", ec) &&
           fs::is_directory(d / "ImageSets" / "Main", ec);
}

// A class as people read it: VOC's own names ("aeroplane") as they are; the forms CAM Explorer
// writes for other datasets' classes ("n02085620-Chihuahua", "001.Black_footed_Albatross") as
// classDisplayName reads them.
std::string vocDisplayName(const std::string& name) {
    auto digits = [&](std::size_t from, std::size_t count) {
        if (name.size() < from + count) return false;
        for (std::size_t i = from; i < from + count; ++i)
            if (!std::isdigit(static_cast<unsigned char>(name[i]))) return false;
        return true;
    };
    const bool wnid = name.size() > 10 && name[0] == 'n' && digits(1, 8) && name[9] == '-';
    std::size_t d = 0;
    while (d < name.size() && std::isdigit(static_cast<unsigned char>(name[d]))) ++d;
    const bool numbered = d > 0 && d + 1 < name.size() && name[d] == '.';
    return wnid || numbered ? classDisplayName(name) : name;
}

// One image id per row; rows of anything else are reported.
std::vector<std::string> readIdList(const fs::path& file, LoadReport& report) {
    std::vector<std::string> ids;
    std::set<std::string> seen;
    for (const TableRow& r : readTableFile(file, ' ')) {
        std::vector<std::string> f;
        for (const auto& x : r.fields)
            if (!x.empty()) f.push_back(x);
        if (f.empty()) continue;
        ++report.listed;
        if (f.size() != 1 || !isSafeRelativePath(f[0]) || f[0].find('/') != std::string::npos) {
            report.add(LoadIssue::Kind::Skipped, file.string(),
                       "row " + std::to_string(r.number) + " is not one image id");
            continue;
        }
        if (!seen.insert(f[0]).second) {
            report.add(LoadIssue::Kind::Skipped, file.string(),
                       "row " + std::to_string(r.number) + " repeats '" + f[0] + "'");
            continue;
        }
        ids.push_back(f[0]);
    }
    return ids;
}

struct Parsed {
    std::optional<Annotation> annotation;
    std::string error;
};

}  // namespace

std::optional<fs::path> findVocRoot(const fs::path& dir) {
    for (const fs::path& d : {dir, dir / "VOCdevkit" / "VOC2012", dir / "VOCdevkit" / "VOC2007",
                              dir / "VOC2012", dir / "VOC2007"})
        if (hasVocFolders(d)) return d;
    return std::nullopt;
}

Dataset openVoc(const fs::path& dirIn, const OpenOptions& options) {
    const auto found = findVocRoot(fs::absolute(dirIn));
    if (!found)
        throw DatasetError("'" + dirIn.string() +
                           "' is not a PASCAL VOC folder: expected Annotations/, JPEGImages/ and "
                           "ImageSets/Main/ (in it or in its VOCdevkit/VOC2012 or VOC2007)");
    const fs::path root = *found;
    const fs::path lists = root / "ImageSets" / "Main";
    const JobContext& job = options.job;
    Dataset ds;
    ds.root = root;
    ds.format = DatasetFormat::Voc;
    ds.labelRule = "the class of the image's largest object";

    std::error_code ec;
    auto listed = [&](const char* name) { return fs::exists(lists / name, ec); };
    std::vector<std::pair<SplitKind, fs::path>> splits;
    if (listed("train.txt") || listed("val.txt")) {
        if (listed("train.txt")) splits.emplace_back(SplitKind::Train, lists / "train.txt");
        if (listed("val.txt")) splits.emplace_back(SplitKind::Val, lists / "val.txt");
    } else if (listed("trainval.txt")) {
        splits.emplace_back(SplitKind::Train, lists / "trainval.txt");
    }
    if (listed("test.txt")) splits.emplace_back(SplitKind::Test, lists / "test.txt");
    if (splits.empty())
        throw DatasetError("'" + lists.string() +
                           "' has none of train.txt, val.txt, trainval.txt and test.txt");
    auto splitData = [&](SplitKind k) -> SplitData& {
        return k == SplitKind::Train ? ds.train : k == SplitKind::Val ? ds.val : ds.test;
    };

    std::vector<std::pair<SplitKind, std::vector<std::string>>> idLists;
    std::set<std::string> allIds;
    for (const auto& [kind, file] : splits) {
        job.throwIfCancelled();
        try {
            idLists.emplace_back(kind, readIdList(file, splitData(kind).report));
        } catch (const DatasetError& e) {
            splitData(kind).report.add(LoadIssue::Kind::Skipped, file.string(), e.what());
            continue;
        }
        allIds.insert(idLists.back().second.begin(), idLists.back().second.end());
    }

    // The images, once: id -> file name (JPEGImages/<id>.jpg, or another image extension).
    std::map<std::string, std::string> imageOf;
    {
        std::vector<std::string> files;
        fs::directory_iterator it(root / "JPEGImages",
                                  fs::directory_options::skip_permission_denied, ec);
        for (std::size_t n = 0; !ec && it != fs::directory_iterator(); it.increment(ec), ++n) {
            if (n % 4096 == 0) job.throwIfCancelled();
            std::string ext = it->path().extension().string();
            for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (ext == ".jpg" || ext == ".jpeg" || ext == ".png")
                files.push_back(it->path().filename().string());
        }
        std::sort(files.begin(), files.end());
        for (const auto& f : files) imageOf.emplace(fs::path(f).stem().string(), f);
    }

    // Every listed annotation, on all cores.
    const std::vector<std::string> ids(allIds.begin(), allIds.end());
    std::vector<Parsed> parsed(ids.size());
    detail::forEachOnAllCores(ids.size(), job, "Reading annotations", [&](std::size_t i) {
        try {
            parsed[i].annotation =
                readAnnotationFile(root / "Annotations" / (ids[i] + ".xml"), false);
        } catch (const DatasetError& e) {
            parsed[i].error = e.what();
        }
    });
    std::map<std::string, const Parsed*> parsedOf;
    std::set<std::string> classNames;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        parsedOf[ids[i]] = &parsed[i];
        if (parsed[i].annotation)
            for (const auto& n : parsed[i].annotation->names)
                if (!n.empty()) classNames.insert(n);
    }
    std::map<std::string, int> classOf;
    for (const auto& n : classNames) {
        classOf[n] = static_cast<int>(ds.breedFolders.size());
        ds.breedFolders.push_back(n);
        ds.breedNames.push_back(vocDisplayName(n));
    }

    std::size_t total = 0, done = 0;
    for (const auto& [kind, list] : idLists) total += list.size();
    for (const auto& [kind, list] : idLists) {
        SplitData& split = splitData(kind);
        LoadReport& report = split.report;
        for (const std::string& id : list) {
            if (done++ % 1024 == 0) {
                job.throwIfCancelled();
                job.report(done, total, "Checking samples");
            }
            const fs::path annPath = root / "Annotations" / (id + ".xml");
            const Parsed& p = *parsedOf.at(id);
            if (!p.annotation) {
                report.add(LoadIssue::Kind::Skipped, annPath.string(), p.error);
                continue;
            }
            const Annotation& a = *p.annotation;
            const auto img = imageOf.find(id);
            if (img == imageOf.end()) {
                report.add(LoadIssue::Kind::Skipped, (root / "JPEGImages" / (id + ".jpg")).string(),
                           "image file is missing");
                continue;
            }
            Sample s;
            s.relPath = img->second;
            s.imagePath = root / "JPEGImages" / img->second;
            if (a.width > 0) {
                s.width = a.width;
                s.height = a.height;
            } else if (!detail::readSampleSize(s, report)) {
                continue;
            }
            // The largest named object decides the label.
            int best = -1;
            long long bestArea = -1;
            for (std::size_t i = 0; i < a.boxes.size(); ++i) {
                if (a.names[i].empty()) {
                    report.add(LoadIssue::Kind::Repaired, annPath.string(),
                               "object " + std::to_string(i + 1) +
                                   " has no class (<name>); it is left out");
                    continue;
                }
                const auto b = sanitizeBox(a.boxes[i], s.width, s.height, nullptr);
                const long long area =
                    b ? static_cast<long long>(b->xmax - b->xmin + 1) * (b->ymax - b->ymin + 1) : 0;
                if (area > bestArea) {
                    best = static_cast<int>(i);
                    bestArea = area;
                }
            }
            if (best < 0) {
                report.add(LoadIssue::Kind::Skipped, annPath.string(),
                           "no object has a class (<name>)");
                continue;
            }
            const std::string& cls = a.names[static_cast<std::size_t>(best)];
            s.label = classOf.at(cls);
            std::vector<Box> ofClass;
            for (std::size_t i = 0; i < a.boxes.size(); ++i)
                if (a.names[i] == cls) ofClass.push_back(a.boxes[i]);
            if (!detail::addSampleBoxes(s, ofClass, annPath.string(), report)) continue;
            split.samples.push_back(std::move(s));
        }
    }
    detail::finishDataset(ds, dirIn, options);
    job.report(total, total, "Loaded");
    return ds;
}

}  // namespace camx
