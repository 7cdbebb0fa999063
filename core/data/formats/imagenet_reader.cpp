#include "data/formats/imagenet_reader.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <exception>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "data/formats/reader_support.h"
#include "data/image_header.h"
#include "data/image_io.h"
#include "data/imagenet_classes.h"
#include "data/safe_file.h"
#include "data/table_file.h"

namespace camx {
namespace fs = std::filesystem;

namespace {

const char* const kSolution = "LOC_val_solution.csv";
const char* const kSynsets = "LOC_synset_mapping.txt";

std::string lowerExtension(const fs::path& p) {
    std::string e = p.extension().string();
    for (char& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return e;
}

bool isImageName(const fs::path& p) {
    const std::string e = lowerExtension(p);
    return e == ".jpeg" || e == ".jpg" || e == ".png";
}

bool isXmlName(const fs::path& p) {
    return lowerExtension(p) == ".xml";
}

// ILSVRC's own annotation names ("ILSVRC2012_val_00000001.xml"): what tells its XML among images
// from any other images annotated in VOC XML (labelImg's folders of both, say).
bool isIlsvrcXmlName(const fs::path& p) {
    return isXmlName(p) && p.filename().string().rfind("ILSVRC", 0) == 0;
}

// Whether `dir` holds a file `want` accepts among its first `limit` entries (a cheap look for
// detection; the folders read here hold one kind of file, or two).
bool holdsFileLike(const fs::path& dir, bool (*want)(const fs::path&), int limit = 512) {
    std::error_code ec;
    fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
    for (int n = 0; !ec && it != fs::directory_iterator() && n < limit; it.increment(ec), ++n)
        if (want(it->path()) && it->is_regular_file(ec)) return true;
    return false;
}

bool isDir(const fs::path& p) {
    std::error_code ec;
    return fs::is_directory(p, ec);
}

bool isFile(const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec);
}

struct Layout {
    fs::path root;         // the folder given, absolute
    fs::path images;       // the validation images
    fs::path annotations;  // the per-image XML (may be `images`); empty when there are none
    fs::path solution;     // LOC_val_solution.csv, or empty
    fs::path synsets;      // LOC_synset_mapping.txt, or empty
};

std::optional<Layout> findLayout(const fs::path& dirIn) {
    Layout l;
    l.root = fs::absolute(dirIn);
    if (isFile(l.root / kSolution)) l.solution = l.root / kSolution;
    if (isFile(l.root / kSynsets)) l.synsets = l.root / kSynsets;
    for (const char* d :
         {"ILSVRC/Data/CLS-LOC/val", "Data/CLS-LOC/val", "val", "ILSVRC2012_img_val"})
        if (isDir(l.root / d)) {
            l.images = l.root / d;
            break;
        }
    for (const char* d : {"ILSVRC/Annotations/CLS-LOC/val", "Annotations/CLS-LOC/val", "bbox_val",
                          "ILSVRC2012_bbox_val_v3/val", "ILSVRC2012_bbox_val_v3"})
        if (isDir(l.root / d) && holdsFileLike(l.root / d, isXmlName)) {
            l.annotations = l.root / d;
            break;
        }
    // The bounding-box archive unpacked among the images, or the folder of both given itself;
    // the XML must be ILSVRC's there.
    if (l.annotations.empty() && !l.images.empty() && holdsFileLike(l.images, isIlsvrcXmlName))
        l.annotations = l.images;
    if (l.images.empty() && holdsFileLike(l.root, isIlsvrcXmlName) &&
        holdsFileLike(l.root, isImageName))
        l.images = l.annotations = l.root;
    if (l.images.empty() || (l.annotations.empty() && l.solution.empty())) return std::nullopt;
    return l;
}

// One object of an image: its class and raw box.
struct Object {
    std::string wnid;
    Box box;
};

// An image's name (file name without extension) and what is known of it.
struct Entry {
    std::string image;  // relative to the image folder; empty: no image
    fs::path xml;       // empty: no XML
    long csvRow = -1;   // index into the solution's objects; -1: no row
    // Filled while reading.
    std::optional<Annotation> annotation;
    std::string xmlError;
    std::string headerError;
    int headerWidth = 0, headerHeight = 0;
};

// Files below `dir` (and one level of subfolders: wnid folders) by name without extension.
void scanFolder(const fs::path& dir, bool images, bool xml, std::map<std::string, Entry>& entries,
                LoadReport& report, const JobContext& job) {
    std::vector<fs::path> imageFiles, xmlFiles;
    std::error_code ec;
    fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
    if (ec) throw DatasetError("cannot read the folder '" + dir.string() + "': " + ec.message());
    for (std::size_t n = 0; it != fs::recursive_directory_iterator(); it.increment(ec), ++n) {
        if (ec) {
            report.add(LoadIssue::Kind::Skipped, dir.string(),
                       "the folder could not be read to the end: " + ec.message());
            break;
        }
        if (n % 4096 == 0) job.throwIfCancelled();
        if (it.depth() >= 1) it.disable_recursion_pending();
        const fs::path& p = it->path();
        const bool wantImage = images && isImageName(p), wantXml = xml && isXmlName(p);
        if (!wantImage && !wantXml) continue;
        std::error_code tec;
        if (!it->is_regular_file(tec)) continue;
        (wantImage ? imageFiles : xmlFiles).push_back(p.lexically_relative(dir));
    }
    // Sorted, so that which of two files of the same name wins does not depend on the folder's
    // order.
    std::sort(imageFiles.begin(), imageFiles.end());
    std::sort(xmlFiles.begin(), xmlFiles.end());
    for (const fs::path& rel : imageFiles) {
        Entry& e = entries[rel.stem().string()];
        if (!e.image.empty()) {
            report.add(LoadIssue::Kind::Skipped, (dir / rel).string(),
                       "another image has the same name ('" + e.image + "'); this one is ignored");
            continue;
        }
        e.image = rel.generic_string();
    }
    for (const fs::path& rel : xmlFiles) {
        Entry& e = entries[rel.stem().string()];
        if (!e.xml.empty()) {
            report.add(LoadIssue::Kind::Skipped, (dir / rel).string(),
                       "another annotation has the same name ('" + e.xml.string() +
                           "'); this one is ignored");
            continue;
        }
        e.xml = dir / rel;
    }
}

// LOC_synset_mapping.txt: "<wnid> <name>, <other names>" per line, in class order. Not CSV (the
// names hold commas and quotes), so read as lines.
void readSynsets(const fs::path& file, std::vector<std::string>& wnids,
                 std::vector<std::string>& names, LoadReport& report) {
    std::string text, why;
    if (!readRegularFile(file, 16u << 20, true, text, why))
        throw DatasetError("'" + file.string() + "' " + why);
    std::set<std::string> seen;
    std::size_t lineNo = 0;
    for (std::size_t pos = 0; pos < text.size();) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(pos, end - pos);
        pos = end + 1;
        ++lineNo;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const auto start = line.find_first_not_of(" \t");
        if (start == std::string::npos) continue;
        const auto gap = line.find_first_of(" \t", start);
        const std::string wnid = line.substr(start, gap == std::string::npos ? gap : gap - start);
        if (!seen.insert(wnid).second) {
            report.add(LoadIssue::Kind::Skipped, file.string(),
                       "line " + std::to_string(lineNo) + " repeats the class '" + wnid + "'");
            continue;
        }
        std::string name;
        if (gap != std::string::npos) {
            name = line.substr(gap);
            name = name.substr(0, name.find(','));
            const auto a = name.find_first_not_of(" \t");
            name = a == std::string::npos ? std::string()
                                          : name.substr(a, name.find_last_not_of(" \t") - a + 1);
        }
        wnids.push_back(wnid);
        names.push_back(name.empty() ? wnid : name);
    }
}

// LOC_val_solution.csv: "ImageId,PredictionString" (read with libcsv), the prediction string
// being "<wnid> <x0> <y0> <x1> <y1>" groups separated by spaces.
void readSolution(const fs::path& file, std::map<std::string, Entry>& entries,
                  std::vector<std::vector<Object>>& objects, LoadReport& report) {
    const std::string name = file.string();
    for (const TableRow& r : readTableFile(file, ',')) {
        const std::string row = "row " + std::to_string(r.number);
        // The header (with the byte order mark spreadsheets put before it).
        if (r.number == 1 && !r.fields.empty() &&
            (r.fields[0] == "ImageId" || r.fields[0] == "\xEF\xBB\xBFImageId"))
            continue;
        if (r.fields.size() != 2 || r.fields[0].empty()) {
            report.add(LoadIssue::Kind::Skipped, name,
                       row + " is not 'ImageId,PredictionString' (" +
                           std::to_string(r.fields.size()) + " fields)");
            continue;
        }
        std::vector<std::string> tokens;
        const std::string& p = r.fields[1];
        for (std::size_t i = 0; i < p.size();) {
            while (i < p.size() && std::isspace(static_cast<unsigned char>(p[i]))) ++i;
            std::size_t j = i;
            while (j < p.size() && !std::isspace(static_cast<unsigned char>(p[j]))) ++j;
            if (j > i) tokens.emplace_back(p, i, j - i);
            i = j;
        }
        if (tokens.empty() || tokens.size() % 5 != 0) {
            report.add(LoadIssue::Kind::Skipped, name,
                       row + " ('" + r.fields[0] + "'): PredictionString is not groups of " +
                           "'<wnid> <xmin> <ymin> <xmax> <ymax>' (" +
                           std::to_string(tokens.size()) + " values)");
            continue;
        }
        std::vector<Object> objs;
        std::string bad;
        for (std::size_t g = 0; g < tokens.size() && bad.empty(); g += 5) {
            int c[4] = {};
            for (int k = 0; k < 4; ++k) {
                const auto v = tableNumber(tokens[g + 1 + static_cast<std::size_t>(k)]);
                if (!v || std::abs(*v) > 1e7) {
                    bad = tokens[g + 1 + static_cast<std::size_t>(k)];
                    break;
                }
                c[k] = static_cast<int>(std::lround(*v));
            }
            objs.push_back(Object{tokens[g], Box{c[0], c[1], c[2], c[3]}});
        }
        if (!bad.empty()) {
            report.add(LoadIssue::Kind::Skipped, name,
                       row + " ('" + r.fields[0] + "'): '" + bad + "' is not a number");
            continue;
        }
        Entry& e = entries[r.fields[0]];
        if (e.csvRow >= 0) {
            report.add(LoadIssue::Kind::Skipped, name,
                       row + " repeats the image '" + r.fields[0] + "'; ignored");
            continue;
        }
        e.csvRow = static_cast<long>(objects.size());
        objects.push_back(std::move(objs));
    }
}

// The declared size from the first bytes of an image (more only when a JPEG's frame header lies
// beyond them), checked against the pixel budget: the image is not decoded, nor read to its end.
std::string readHeaderSize(const fs::path& path, int& width, int& height) {
    constexpr std::size_t kHead = 8u << 10;
    std::string bytes, why;
    if (!readRegularFile(path, kHead, false, bytes, why))
        return why == "does not exist" ? std::string("image file is missing") : "image file " + why;
    if (bytes.empty()) return "empty file";
    const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
    const ImageFormat format = sniffImageFormat(data, bytes.size());
    if (format != ImageFormat::Jpeg && format != ImageFormat::Png)
        return "not a JPEG or PNG image (unrecognised header)";
    bool needMore = false;
    std::optional<ImageHeader> header = parseImageHeader(data, bytes.size(), why, &needMore);
    if (!header && needMore && bytes.size() == kHead) {
        if (auto wh = imageHeaderSize(path, &why))
            header = ImageHeader{format, wh->first, wh->second};
    }
    if (!header) return "image file " + why;
    if (auto problem = pixelBudgetProblem(header->width, header->height, path.string()))
        return *problem;
    width = header->width;
    height = header->height;
    return {};
}

// The index of the largest object (by its area clipped to the image; ties: the first) among
// those `known` accepts, or -1.
template <typename Known>
int largestObject(const std::vector<Box>& boxes, int width, int height, Known known) {
    int best = -1;
    long long bestArea = -1;
    for (std::size_t i = 0; i < boxes.size(); ++i) {
        if (!known(i)) continue;
        const auto b = sanitizeBox(boxes[i], width, height, nullptr);
        const long long area =
            b ? static_cast<long long>(b->xmax - b->xmin + 1) * (b->ymax - b->ymin + 1) : 0;
        if (area > bestArea) {
            best = static_cast<int>(i);
            bestArea = area;
        }
    }
    return best;
}

}  // namespace

bool looksLikeImageNet(const fs::path& dir) {
    return findLayout(dir).has_value();
}

Dataset openImageNet(const fs::path& dirIn, const OpenOptions& options) {
    const auto found = findLayout(dirIn);
    if (!found)
        throw DatasetError(
            "'" + dirIn.string() +
            "' is not an ImageNet validation folder: expected LOC_val_solution.csv (with "
            "LOC_synset_mapping.txt) and ILSVRC/Data/CLS-LOC/val/ (Kaggle's layout), or the "
            "validation images (val/ or ILSVRC2012_img_val/) with their per-image XML "
            "(ILSVRC/Annotations/CLS-LOC/val/, bbox_val/ or ILSVRC2012_bbox_val_v3/val/)");
    Layout l = *found;
    const JobContext& job = options.job;
    Dataset ds;
    ds.root = l.root;
    ds.format = DatasetFormat::ImageNet;
    ds.benchmark = "ILSVRC";
    LoadReport& report = ds.test.report;

    job.report(0, 0, "Listing the images");
    std::map<std::string, Entry> entries;
    scanFolder(l.images, true, l.annotations == l.images, entries, report, job);
    if (!l.annotations.empty() && l.annotations != l.images)
        scanFolder(l.annotations, false, true, entries, report, job);

    std::vector<std::string> wnids, names;
    // A whole file that cannot be read is reported; the other source may still do.
    if (!l.synsets.empty()) {
        try {
            readSynsets(l.synsets, wnids, names, report);
        } catch (const DatasetError& e) {
            report.add(LoadIssue::Kind::Skipped, l.synsets.string(),
                       std::string(e.what()) + "; the classes are the wnids named");
            wnids.clear();
            names.clear();
            l.synsets.clear();
        }
    }
    std::vector<std::vector<Object>> csvObjects;
    if (!l.solution.empty()) {
        job.report(0, 0, std::string("Reading ") + kSolution);
        try {
            readSolution(l.solution, entries, csvObjects, report);
        } catch (const DatasetError& e) {
            report.add(LoadIssue::Kind::Skipped, l.solution.string(), e.what());
            l.solution.clear();
        }
    }
    job.throwIfCancelled();

    std::vector<Entry*> all;
    all.reserve(entries.size());
    for (auto& [stem, e] : entries) all.push_back(&e);

    // The XML of every image that has one, on all cores.
    std::vector<Entry*> withXml;
    for (Entry* e : all)
        if (!e->xml.empty() && !e->image.empty()) withXml.push_back(e);
    detail::forEachOnAllCores(withXml.size(), job, "Reading annotations", [&](std::size_t i) {
        Entry& e = *withXml[i];
        try {
            e.annotation = readAnnotationFile(e.xml);
        } catch (const DatasetError& ex) {
            e.xmlError = ex.what();
        }
    });
    // Headers of the images whose boxes come from the CSV: their sizes.
    std::vector<Entry*> needHeader;
    for (Entry* e : all)
        if (!e->annotation && e->csvRow >= 0 && !e->image.empty()) needHeader.push_back(e);
    detail::forEachOnAllCores(needHeader.size(), job, "Reading image sizes", [&](std::size_t i) {
        Entry& e = *needHeader[i];
        e.headerError = readHeaderSize(l.images / e.image, e.headerWidth, e.headerHeight);
    });

    // Classes: the synset mapping's, else every wnid named, sorted (torchvision's order).
    if (wnids.empty()) {
        std::set<std::string> seen;
        for (const Entry* e : all) {
            if (e->image.empty()) continue;
            if (e->annotation) {
                for (const auto& n : e->annotation->names)
                    if (!n.empty()) seen.insert(n);
            } else if (e->csvRow >= 0) {
                for (const auto& o : csvObjects[static_cast<std::size_t>(e->csvRow)])
                    seen.insert(o.wnid);
            }
        }
        wnids.assign(seen.begin(), seen.end());
        names = wnids;
        // All of ImageNet-1k: sorted wnids are torchvision's class order, so its names fit.
        if (wnids.size() == imageNetClassNames().size()) names = imageNetClassNames();
    }
    std::map<std::string, int> classOf;
    for (std::size_t c = 0; c < wnids.size(); ++c) classOf[wnids[c]] = static_cast<int>(c);
    ds.breedFolders = wnids;
    ds.breedNames = names;

    const std::string mappingName = l.synsets.empty() ? std::string() : l.synsets.string();
    std::size_t done = 0;
    for (auto& [stem, e] : entries) {
        if (done++ % 1024 == 0) {
            job.throwIfCancelled();
            job.report(done, entries.size(), "Checking samples");
        }
        ++report.listed;
        if (e.image.empty()) {
            report.add(LoadIssue::Kind::Skipped,
                       e.xml.empty() ? l.solution.string() : e.xml.string(),
                       "no image named '" + stem + "' in '" + l.images.string() + "'");
            continue;
        }
        Sample s;
        s.relPath = e.image;
        s.imagePath = l.images / e.image;
        std::vector<Box> boxes;
        std::vector<std::string> objectClasses;
        std::string file;
        if (e.annotation) {
            file = e.xml.string();
            boxes = e.annotation->boxes;
            objectClasses = e.annotation->names;
            s.width = e.annotation->width;
            s.height = e.annotation->height;
        } else if (e.csvRow >= 0) {
            if (!e.xmlError.empty())
                report.add(LoadIssue::Kind::Repaired, e.xml.string(),
                           e.xmlError + "; the image's row in " + kSolution + " is used instead");
            if (!e.headerError.empty()) {
                report.add(LoadIssue::Kind::Skipped, s.imagePath.string(), e.headerError);
                continue;
            }
            file = l.solution.string();
            for (const Object& o : csvObjects[static_cast<std::size_t>(e.csvRow)]) {
                boxes.push_back(o.box);
                objectClasses.push_back(o.wnid);
            }
            s.width = e.headerWidth;
            s.height = e.headerHeight;
        } else {
            if (!e.xmlError.empty())
                report.add(LoadIssue::Kind::Skipped, e.xml.string(), e.xmlError);
            else
                report.add(LoadIssue::Kind::Skipped, s.imagePath.string(),
                           "no annotation: no '" + stem + ".xml'" +
                               (l.solution.empty() ? std::string()
                                                   : std::string(" and no row in ") + kSolution));
            continue;
        }
        // Objects of classes the mapping does not list are left out (and said so).
        std::vector<bool> known(boxes.size(), false);
        std::vector<std::size_t> unknown;
        for (std::size_t i = 0; i < boxes.size(); ++i) {
            known[i] = classOf.count(objectClasses[i]) > 0;
            if (!known[i]) unknown.push_back(i);
        }
        auto problem = [&](std::size_t i) {
            const std::string object = "object " + std::to_string(i + 1) + " of '" + stem + "'";
            if (objectClasses[i].empty()) return object + " has no class (<name>)";
            return object + " has the unknown class '" + objectClasses[i] + "'" +
                   (mappingName.empty() ? std::string() : " (not in " + mappingName + ")");
        };
        if (unknown.size() == boxes.size()) {
            report.add(LoadIssue::Kind::Skipped, file,
                       problem(unknown.front()) + (unknown.size() > 1
                                                       ? "; no other object's class is known either"
                                                       : std::string()));
            continue;
        }
        for (std::size_t i : unknown)
            report.add(LoadIssue::Kind::Repaired, file, problem(i) + "; that object is left out");
        const int best =
            largestObject(boxes, s.width, s.height, [&](std::size_t i) { return known[i]; });
        const std::string& cls = objectClasses[static_cast<std::size_t>(best)];
        s.label = classOf.at(cls);
        std::vector<Box> ofClass;
        for (std::size_t i = 0; i < boxes.size(); ++i)
            if (objectClasses[i] == cls) ofClass.push_back(boxes[i]);
        if (!detail::addSampleBoxes(s, ofClass, file, report)) continue;
        ds.test.samples.push_back(std::move(s));
    }
    detail::finishDataset(ds, dirIn, options);
    job.report(entries.size(), entries.size(), "Loaded");
    return ds;
}

}  // namespace camx
