#include "data/dataset.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "data/archive_cache.h"
#include "data/formats/reader_support.h"
#include "data/image_header.h"
#include "data/image_io.h"
#include "data/safe_file.h"

namespace camx {
namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Load report

std::size_t LoadReport::skipped() const {
    return static_cast<std::size_t>(std::count_if(issues.begin(), issues.end(), [](const auto& i) {
        return i.kind == LoadIssue::Kind::Skipped;
    }));
}

std::size_t LoadReport::repaired() const {
    return issues.size() - skipped();
}

void LoadReport::add(LoadIssue::Kind kind, std::string file, std::string message) {
    issues.push_back(LoadIssue{kind, std::move(file), std::move(message)});
}

std::string breedDisplayName(const std::string& folder) {
    auto dash = folder.find('-');
    std::string name = dash == std::string::npos ? folder : folder.substr(dash + 1);
    std::replace(name.begin(), name.end(), '_', ' ');
    return name;
}

// ---------------------------------------------------------------------------------------------
// Image probing

namespace detail {
// The cheap check of an image file; on success also gives the size its header declares.
std::optional<std::string> probeImage(const fs::path& path, ImageHeader* headerOut) {
    std::string why;
    const auto size = regularFileSize(path, why);
    if (!size)
        return why == "does not exist" ? std::string("image file is missing") : "image file " + why;
    if (*size == 0) return "empty file";
    std::string head;
    if (!readRegularFile(path, 64u << 10, false, head, why)) return "image file " + why;
    const auto* bytes = reinterpret_cast<const unsigned char*>(head.data());
    const ImageFormat format = sniffImageFormat(bytes, head.size());
    if (format != ImageFormat::Jpeg && format != ImageFormat::Png)
        return "not a JPEG or PNG image (unrecognised header)";
    // The declared size, checked against the pixel budget before anything decodes the file.
    std::optional<ImageHeader> header = parseImageHeader(bytes, head.size(), why);
    if (!header && format == ImageFormat::Jpeg) {  // the frame header may follow large metadata
        if (auto wh = imageHeaderSize(path, &why))
            header = ImageHeader{format, wh->first, wh->second};
    }
    if (!header) return "image file " + why;
    if (auto problem = pixelBudgetProblem(header->width, header->height, path.string()))
        return *problem;
    if (headerOut) *headerOut = *header;
    if (format == ImageFormat::Png) return std::nullopt;
    // A JPEG ends with the EOI marker FF D9, possibly followed by padding. Without it the file
    // was cut short (an interrupted download), and decoders return grey for the lost part.
    const std::uintmax_t tail = std::min<std::uintmax_t>(*size, 256);
    std::string buf;
    if (!readRegularFileAt(path, *size - tail, tail, buf, why)) return "image file " + why;
    for (std::size_t i = buf.size(); i-- > 1;)
        if (static_cast<unsigned char>(buf[i - 1]) == 0xff &&
            static_cast<unsigned char>(buf[i]) == 0xd9)
            return std::nullopt;
    return "truncated JPEG: no end-of-image marker";
}

// Whether an annotation's <size> is far from the image's real size: a side off by more than a
// factor of two, also when width and height are swapped (EXIF rotation).
bool sizesDisagreeWildly(int aw, int ah, int iw, int ih) {
    auto close = [](int a, int b) { return a <= 2 * b && b <= 2 * a; };
    return !(close(aw, iw) && close(ah, ih)) && !(close(aw, ih) && close(ah, iw));
}

bool readSampleSize(Sample& s, LoadReport& report) {
    ImageHeader header;
    if (auto err = probeImage(s.imagePath, &header)) {
        report.add(LoadIssue::Kind::Skipped, s.imagePath.string(), *err);
        return false;
    }
    s.width = header.width;
    s.height = header.height;
    return true;
}

bool addSampleBoxes(Sample& s, const std::vector<Box>& raw, const std::string& file,
                    LoadReport& report) {
    for (std::size_t b = 0; b < raw.size(); ++b) {
        bool clipped = false;
        auto box = sanitizeBox(raw[b], s.width, s.height, &clipped);
        const std::string boxText =
            "box " + std::to_string(b + 1) + " [" + std::to_string(raw[b].xmin) + "," +
            std::to_string(raw[b].ymin) + "," + std::to_string(raw[b].xmax) + "," +
            std::to_string(raw[b].ymax) + "]";
        if (!box) {
            const bool inverted = raw[b].xmax < raw[b].xmin || raw[b].ymax < raw[b].ymin;
            report.add(
                LoadIssue::Kind::Repaired, file,
                boxText + (inverted ? " is inverted" : " lies outside the image") + "; dropped");
            continue;
        }
        if (clipped)
            report.add(LoadIssue::Kind::Repaired, file,
                       boxText + " passes the image border " + std::to_string(s.width) + "x" +
                           std::to_string(s.height) + "; clipped");
        s.boxes.push_back(*box);
    }
    if (s.boxes.empty()) {
        report.add(LoadIssue::Kind::Skipped, file, "no usable bounding box remains");
        return false;
    }
    return true;
}
}  // namespace detail

std::optional<std::string> probeImageFile(const fs::path& path) {
    return detail::probeImage(path, nullptr);
}

std::string classDisplayName(const std::string& folder) {
    // "001.Black_footed_Albatross" (CUB) -> "Black footed Albatross"; "n02085620-Chihuahua"
    // (Stanford Dogs, ImageNet) -> "Chihuahua".
    std::string name = folder;
    std::size_t digits = 0;
    while (digits < name.size() && std::isdigit(static_cast<unsigned char>(name[digits]))) ++digits;
    if (digits > 0 && digits < name.size() && name[digits] == '.')
        name = name.substr(digits + 1);
    else
        return breedDisplayName(folder);
    std::replace(name.begin(), name.end(), '_', ' ');
    return name;
}

// ---------------------------------------------------------------------------------------------
// Split assembly

namespace {

bool hasArchives(const fs::path& dir) {
    return fs::is_regular_file(dir / "images.tar") && fs::is_regular_file(dir / "annotation.tar") &&
           fs::is_regular_file(dir / "lists.tar");
}

fs::path findList(const fs::path& root, const char* name) {
    for (const fs::path& p : {root / "lists" / name, root / name})
        if (fs::is_regular_file(p)) return p;
    return root / "lists" / name;
}

bool looksLikeAuthorsLayout(const fs::path& dir) {
    return fs::is_directory(dir / "Images") &&
           (fs::is_regular_file(findList(dir, "train_list.mat")) ||
            fs::is_regular_file(findList(dir, "test_list.mat")));
}

std::string stripExtension(const std::string& rel) {
    auto slash = rel.rfind('/');
    auto dot = rel.rfind('.');
    if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return rel;
    return rel.substr(0, dot);
}

std::string folderOf(const std::string& rel) {
    auto slash = rel.find('/');
    return slash == std::string::npos ? std::string() : rel.substr(0, slash);
}

SplitData loadSplit(const fs::path& root, const fs::path& listPath,
                    const std::optional<ListFile>& list,
                    const std::map<std::string, int>& breedIndex, const OpenOptions& options,
                    std::size_t& progressDone, std::size_t progressTotal) {
    SplitData split;
    if (!list) return split;
    split.report.listed = list->files.size();
    const std::string listName = listPath.filename().string();
    for (std::size_t i = 0; i < list->files.size(); ++i) {
        if (i % 256 == 0) {
            options.job.throwIfCancelled();
            options.job.report(progressDone, progressTotal, "Reading " + listName);
        }
        ++progressDone;
        const std::string& rel = list->files[i];
        if (!isSafeRelativePath(rel) || folderOf(rel).empty()) {
            split.report.add(LoadIssue::Kind::Skipped, listPath.string(),
                             "entry " + std::to_string(i + 1) + " '" + rel +
                                 "' is not a <breed folder>/<image> path");
            continue;
        }
        Sample s;
        s.relPath = rel;
        s.imagePath = root / "Images" / rel;
        s.label = breedIndex.at(folderOf(rel));
        if (s.label != list->labels[i] - 1)
            split.report.add(LoadIssue::Kind::Repaired, listPath.string(),
                             "entry " + std::to_string(i + 1) + " has label " +
                                 std::to_string(list->labels[i]) + " but lies in folder '" +
                                 folderOf(rel) + "'; the folder's breed is used");
        ImageHeader header;
        if (auto err = detail::probeImage(s.imagePath, &header)) {
            split.report.add(LoadIssue::Kind::Skipped, s.imagePath.string(), *err);
            continue;
        }
        const fs::path annPath = root / "Annotation" / stripExtension(rel);
        Annotation ann;
        try {
            ann = readAnnotationFile(annPath);
        } catch (const DatasetError& e) {
            split.report.add(LoadIssue::Kind::Skipped, annPath.string(), e.what());
            continue;
        }
        // Boxes and scores stay in the annotation's coordinates (which parseAnnotation bounded by
        // the pixel budget); a size far from the image's own is worth telling the user, as the
        // annotation may belong to another image.
        if (detail::sizesDisagreeWildly(ann.width, ann.height, header.width, header.height))
            split.report.add(LoadIssue::Kind::Repaired, annPath.string(),
                             "<size> says " + std::to_string(ann.width) + "x" +
                                 std::to_string(ann.height) + " but the image '" +
                                 s.imagePath.string() + "' is " + std::to_string(header.width) +
                                 "x" + std::to_string(header.height) +
                                 " by its header; the annotation may not fit its image (its "
                                 "boxes are kept in its own coordinates)");
        s.width = ann.width;
        s.height = ann.height;
        if (!detail::addSampleBoxes(s, ann.boxes, annPath.string(), split.report)) continue;
        split.samples.push_back(std::move(s));
    }
    return split;
}

}  // namespace

namespace detail {
// Decodes every sample at reduced scale on all cores; drops and reports those that fail.
void verifyImages(SplitData& split, const JobContext& job, const std::string& stage) {
    const std::size_t n = split.samples.size();
    std::vector<std::string> errors(n);
    std::atomic<std::size_t> next{0}, done{0};
    std::atomic<bool> stop{false};
    auto worker = [&] {
        for (std::size_t i; !stop && (i = next++) < n;) {
            try {
                readReduced(split.samples[i].imagePath);
            } catch (const ImageError& e) {
                errors[i] = e.what();
            }
            ++done;
        }
    };
    const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) pool.emplace_back(worker);
    while (done < n && !stop) {
        if (job.cancelled()) stop = true;
        job.report(done, n, stage);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    for (auto& t : pool) t.join();
    job.throwIfCancelled();
    std::vector<Sample> kept;
    kept.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        if (errors[i].empty())
            kept.push_back(std::move(split.samples[i]));
        else
            split.report.add(LoadIssue::Kind::Skipped, split.samples[i].imagePath.string(),
                             errors[i]);
    }
    split.samples = std::move(kept);
}

void finishDataset(Dataset& ds, const fs::path& dirIn, const OpenOptions& options) {
    if (options.verifyImages)
        for (auto [split, name] : {std::pair{&ds.train, "train"}, std::pair{&ds.val, "val"},
                                   std::pair{&ds.test, "test"}})
            if (!split->samples.empty())
                verifyImages(*split, options.job, std::string("Decoding ") + name + " images");
    for (SplitData* split : {&ds.train, &ds.val, &ds.test})
        split->report.loaded = split->samples.size();
    if (ds.train.samples.empty() && ds.val.samples.empty() && ds.test.samples.empty()) {
        std::string why;
        for (const auto* r : {&ds.train.report, &ds.val.report, &ds.test.report})
            for (const auto& i : r->issues) {
                if (why.empty()) why = i.file + ": " + i.message;
            }
        throw DatasetError(
            "nothing could be loaded from '" + dirIn.string() + "'" +
            (why.empty() ? std::string(": the lists name no images") : "; first problem: " + why));
    }
}

void forEachOnAllCores(std::size_t n, const JobContext& job, const std::string& stage,
                       const std::function<void(std::size_t)>& fn) {
    std::atomic<std::size_t> next{0}, done{0};
    std::atomic<bool> stop{false};
    std::exception_ptr error;
    std::mutex errorMutex;
    auto work = [&](bool reporting) {
        try {
            for (std::size_t i; !stop.load(std::memory_order_relaxed) && (i = next++) < n;) {
                fn(i);
                const std::size_t d = ++done;
                if (job.cancelled()) stop = true;
                if (reporting && d % 256 == 0) job.report(d, n, stage);
            }
        } catch (...) {
            std::lock_guard<std::mutex> lock(errorMutex);
            if (!error) error = std::current_exception();
            stop = true;
        }
    };
    // Threads cost more than a few small files.
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    const unsigned helpers = n < 64 ? 0u : cores - 1;
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < helpers; ++t) pool.emplace_back(work, false);
    work(true);
    for (auto& t : pool) t.join();
    if (error) std::rethrow_exception(error);
    job.throwIfCancelled();
    if (n > 0) job.report(n, n, stage);
}
}  // namespace detail

Dataset openStanfordDogs(const fs::path& dirIn, const OpenOptions& options) {
    std::error_code ec;
    if (!fs::exists(dirIn, ec))
        throw DatasetError("folder '" + dirIn.string() + "' does not exist");
    if (!fs::is_directory(dirIn, ec))
        throw DatasetError("'" + dirIn.string() + "' is not a folder");
    fs::path root = fs::absolute(dirIn);
    if (!looksLikeAuthorsLayout(root)) {
        if (hasArchives(root))
            root = unpackArchives(root, options);
        else
            throw DatasetError(
                "'" + dirIn.string() +
                "' is not a Stanford Dogs folder: expected Images/ and Annotation/ with "
                "train_list.mat or test_list.mat (in lists/ or at the top), or the three archives "
                "images.tar, annotation.tar and lists.tar");
    }

    Dataset ds;
    ds.root = root;
    ds.format = DatasetFormat::StanfordDogs;
    const fs::path trainPath = findList(root, "train_list.mat");
    const fs::path testPath = findList(root, "test_list.mat");
    std::optional<ListFile> trainList, testList;
    std::vector<std::string> listErrors;
    for (auto [path, slot] : {std::pair{trainPath, &trainList}, std::pair{testPath, &testList}}) {
        try {
            *slot = readListFile(path);
        } catch (const DatasetError& e) {
            listErrors.push_back(e.what());
        }
    }

    // Breeds: sorted folder names (wnid order), as the authors' 1-based labels follow.
    std::set<std::string> folders;
    for (const auto* l : {&trainList, &testList})
        if (*l)
            for (const auto& f : (*l)->files)
                if (!folderOf(f).empty()) folders.insert(folderOf(f));
    ds.breedFolders.assign(folders.begin(), folders.end());
    std::map<std::string, int> breedIndex;
    for (std::size_t i = 0; i < ds.breedFolders.size(); ++i) {
        breedIndex[ds.breedFolders[i]] = static_cast<int>(i);
        ds.breedNames.push_back(breedDisplayName(ds.breedFolders[i]));
    }

    std::size_t done = 0;
    const std::size_t total =
        (trainList ? trainList->files.size() : 0) + (testList ? testList->files.size() : 0);
    ds.train = loadSplit(root, trainPath, trainList, breedIndex, options, done, total);
    ds.test = loadSplit(root, testPath, testList, breedIndex, options, done, total);
    if (!trainList)
        ds.train.report.add(LoadIssue::Kind::Skipped, trainPath.string(), listErrors.front());
    if (!testList)
        ds.test.report.add(LoadIssue::Kind::Skipped, testPath.string(), listErrors.back());
    detail::finishDataset(ds, dirIn, options);
    options.job.report(total, total, "Loaded");
    return ds;
}

}  // namespace camx
