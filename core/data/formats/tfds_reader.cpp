#include "data/formats/tfds_reader.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <system_error>

#include "common/fs_util.h"
#include "common/hash.h"
#include "data/formats/reader_support.h"
#include "data/formats/tfrecord.h"
#include "data/image_header.h"
#include "data/image_io.h"
#include "data/safe_file.h"

namespace camx {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Bumped whenever what the index holds changes; an index of another format is rebuilt.
constexpr int kIndexFormat = 1;

// "stanford_dogs-train.tfrecord-00003-of-00008": dataset name, split, shard number, shard count.
const std::regex& shardNamePattern() {
    static const std::regex re(R"(^(.+)-([A-Za-z0-9_]+)\.tfrecord-(\d{5})-of-(\d{5})$)");
    return re;
}

struct ShardName {
    std::string dataset, split;
    int index = 0, count = 0;
};

std::optional<ShardName> parseShardName(const std::string& name) {
    std::smatch m;
    if (!std::regex_match(name, m, shardNamePattern())) return std::nullopt;
    return ShardName{m[1].str(), m[2].str(), std::stoi(m[3].str()), std::stoi(m[4].str())};
}

bool holdsShards(const fs::path& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return false;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (parseShardName(it->path().filename().string()) && it->is_regular_file(ec)) return true;
    return false;
}

std::optional<std::array<int, 3>> parseVersion(const std::string& name) {
    static const std::regex re(R"(^(\d{1,6})\.(\d{1,6})\.(\d{1,6})$)");
    std::smatch m;
    if (!std::regex_match(name, m, re)) return std::nullopt;
    return std::array<int, 3>{std::stoi(m[1].str()), std::stoi(m[2].str()), std::stoi(m[3].str())};
}

std::optional<SplitKind> splitKindOf(const std::string& tfdsSplit) {
    if (tfdsSplit == "train") return SplitKind::Train;
    if (tfdsSplit == "test") return SplitKind::Test;
    if (tfdsSplit == "validation" || tfdsSplit == "val") return SplitKind::Val;
    return std::nullopt;
}

// One record as the index keeps it: what a Sample needs, before boxes are clipped.
struct IndexedRecord {
    std::size_t record = 0;  // 1-based, in the shard
    std::uint64_t offset = 0;
    std::string filename;  // image/filename as stored
    std::int64_t label = -1;
    int width = 0, height = 0;  // from the JPEG header
    std::vector<float> bbox;    // as stored: ymin, xmin, ymax, xmax per box
};

struct ShardIndex {
    std::uintmax_t size = 0;
    std::int64_t mtime = 0;  // ns since the file clock's epoch
    std::size_t walked = 0;  // records walked, good or not
    std::vector<IndexedRecord> records;
    std::vector<TfRecordProblem> problems;
};

std::int64_t mtimeOf(const fs::path& p, std::error_code& ec) {
    const auto t = fs::last_write_time(p, ec);
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// The problem of an image held in a record, or nothing; sets width and height.
std::optional<std::string> checkImage(const std::string& bytes, int& width, int& height) {
    if (bytes.empty()) return std::string("the image is empty");
    const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
    const ImageFormat format = sniffImageFormat(data, bytes.size());
    if (format != ImageFormat::Jpeg && format != ImageFormat::Png)
        return std::string("the image is not a JPEG or PNG (unrecognised header)");
    std::string why;
    const auto header = parseImageHeader(data, bytes.size(), why);
    if (!header) return "the image " + why;
    if (auto problem = pixelBudgetProblem(header->width, header->height, "in the record"))
        return *problem;
    width = header->width;
    height = header->height;
    if (format == ImageFormat::Png) return std::nullopt;
    // As probeImage: without its end marker a JPEG was cut short and decodes grey in part.
    const std::size_t from = bytes.size() > 256 ? bytes.size() - 256 : 0;
    for (std::size_t i = bytes.size(); i-- > from + 1;)
        if (static_cast<unsigned char>(bytes[i - 1]) == 0xff &&
            static_cast<unsigned char>(bytes[i]) == 0xd9)
            return std::nullopt;
    return std::string("truncated JPEG: no end-of-image marker");
}

ShardIndex scanShard(const fs::path& shard, const JobContext& job, const std::string& stage,
                     std::uint64_t& bytesDone, std::uint64_t bytesTotal) {
    ShardIndex idx;
    std::error_code ec;
    idx.mtime = mtimeOf(shard, ec);
    RegularFileReader file;
    std::string why;
    if (!file.open(shard, why)) {
        idx.problems.push_back({0, 0, "the shard " + why});
        return idx;
    }
    idx.size = file.size();
    const ByteReader read = [&file](std::uint64_t off, std::size_t n, std::string& out,
                                    std::string& w) { return file.readAt(off, n, out, w); };
    const std::uint64_t before = bytesDone;
    idx.walked = scanTfRecords(
        idx.size, read,
        [&](std::size_t record, std::uint64_t offset, const std::string& data) {
            bytesDone = before + offset + data.size();
            if (record % 64 == 0) job.report(bytesDone >> 20, bytesTotal >> 20, stage);
            std::string bad;
            auto ex = parseTfdsExample(data, true, bad);
            if (!ex) {
                idx.problems.push_back({record, offset, bad + "; record skipped"});
                return;
            }
            if (!ex->label) {
                idx.problems.push_back({record, offset, "no feature 'label'; record skipped"});
                return;
            }
            IndexedRecord r;
            r.record = record;
            r.offset = offset;
            r.filename = std::move(ex->filename);
            r.label = *ex->label;
            r.bbox = std::move(ex->bbox);
            if (auto problem = checkImage(ex->image, r.width, r.height)) {
                idx.problems.push_back({record, offset,
                                        (r.filename.empty() ? "" : "'" + r.filename + "': ") +
                                            *problem + "; record skipped"});
                return;
            }
            idx.records.push_back(std::move(r));
        },
        [&](const TfRecordProblem& p) { idx.problems.push_back(p); },
        [&] { return job.cancelled(); });
    job.throwIfCancelled();
    bytesDone = before + idx.size;
    return idx;
}

json toJson(const ShardIndex& s) {
    json records = json::array(), problems = json::array();
    for (const auto& r : s.records)
        records.push_back({{"r", r.record},
                           {"o", r.offset},
                           {"f", r.filename},
                           {"l", r.label},
                           {"w", r.width},
                           {"h", r.height},
                           {"b", r.bbox}});
    for (const auto& p : s.problems)
        problems.push_back({{"r", p.record}, {"o", p.offset}, {"m", p.message}});
    return {{"size", s.size},
            {"mtime", s.mtime},
            {"walked", s.walked},
            {"records", records},
            {"problems", problems}};
}

ShardIndex fromJson(const json& j) {
    ShardIndex s;
    s.size = j.at("size").get<std::uintmax_t>();
    s.mtime = j.at("mtime").get<std::int64_t>();
    s.walked = j.at("walked").get<std::size_t>();
    for (const auto& r : j.at("records"))
        s.records.push_back({r.at("r").get<std::size_t>(), r.at("o").get<std::uint64_t>(),
                             r.at("f").get<std::string>(), r.at("l").get<std::int64_t>(),
                             r.at("w").get<int>(), r.at("h").get<int>(),
                             r.at("b").get<std::vector<float>>()});
    for (const auto& p : j.at("problems"))
        s.problems.push_back({p.at("r").get<std::size_t>(), p.at("o").get<std::uint64_t>(),
                              p.at("m").get<std::string>()});
    return s;
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::vector<std::string> readLabels(const fs::path& dir) {
    const fs::path file = dir / "label.labels.txt";
    std::string text, why;
    if (!readRegularFile(file, 16u << 20, true, text, why))
        throw DatasetError(
            "'" + dir.string() + "' is a TensorFlow Datasets folder without a usable " +
            "label.labels.txt (it " + why +
            "): the class names and their order come from that file, which tfds.load writes " +
            "beside the shards");
    std::vector<std::string> labels;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(start, end - start);
        while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back())))
            line.pop_back();
        labels.push_back(line);
        start = end + 1;
    }
    while (!labels.empty() && labels.back().empty()) labels.pop_back();
    for (std::size_t i = 0; i < labels.size(); ++i)
        if (labels[i].empty())
            throw DatasetError("'" + file.string() + "': line " + std::to_string(i + 1) +
                               " names no class");
    if (labels.empty()) throw DatasetError("'" + file.string() + "' names no class");
    return labels;
}

// dataset_info.json's records per shard, by split name; empty when it is missing or unreadable
// (it only serves a cross-check).
std::map<std::string, std::vector<std::uint64_t>> readShardLengths(const fs::path& dir) {
    std::map<std::string, std::vector<std::uint64_t>> out;
    std::string text, why;
    if (!readRegularFile(dir / "dataset_info.json", 16u << 20, true, text, why)) return out;
    const json j = json::parse(text, nullptr, false);
    if (!j.is_object() || !j.contains("splits") || !j["splits"].is_array()) return out;
    for (const auto& s : j["splits"]) {
        if (!s.is_object() || !s.contains("name") || !s["name"].is_string() ||
            !s.contains("shardLengths") || !s["shardLengths"].is_array())
            continue;
        std::vector<std::uint64_t> lengths;
        bool ok = true;
        // Protobuf's JSON writes int64 as strings; accept numbers too.
        for (const auto& v : s["shardLengths"]) {
            if (v.is_number_unsigned())
                lengths.push_back(v.get<std::uint64_t>());
            else if (v.is_string() && !v.get<std::string>().empty() &&
                     v.get<std::string>().find_first_not_of("0123456789") == std::string::npos &&
                     v.get<std::string>().size() < 19)
                lengths.push_back(std::stoull(v.get<std::string>()));
            else
                ok = false;
        }
        if (ok) out[s["name"].get<std::string>()] = std::move(lengths);
    }
    return out;
}

// "Images/n02085620-Chihuahua/n02085620_10074.jpg" -> "n02085620-Chihuahua/n02085620_10074.jpg";
// a bare file name goes below the label's folder.
std::string relativePathOf(const std::string& filename, const std::string& labelFolder) {
    std::string rel = filename;
    if (rel.rfind("Images/", 0) == 0) rel = rel.substr(7);
    if (rel.empty()) return labelFolder + "/";
    if (rel.find('/') == std::string::npos) rel = labelFolder + "/" + rel;
    return rel;
}

std::string recordText(std::size_t record, std::uint64_t offset) {
    return "record " + std::to_string(record) + " (at byte " + std::to_string(offset) + ")";
}

}  // namespace

int tfdsCoordinateToPixel(float v, int side) {
    return static_cast<int>(std::lround(static_cast<double>(v) * side));
}

std::optional<fs::path> findTfdsVersionDir(const fs::path& dir, std::string* note) {
    if (holdsShards(dir)) return dir;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return std::nullopt;
    std::vector<std::pair<std::array<int, 3>, fs::path>> versions;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const auto v = parseVersion(it->path().filename().string());
        if (v && holdsShards(it->path())) versions.emplace_back(*v, it->path());
    }
    if (versions.empty()) return std::nullopt;
    std::sort(versions.begin(), versions.end());
    if (note && versions.size() > 1) {
        std::string all;
        for (const auto& v : versions)
            all += (all.empty() ? "" : ", ") + v.second.filename().string();
        // The folder's own name, also when given as "stanford_dogs/" or ".".
        fs::path named = fs::absolute(dir, ec).lexically_normal();
        if (named.filename().empty()) named = named.parent_path();
        *note = named.filename().string() + " holds versions " + all + ": reading " +
                versions.back().second.filename().string();
    }
    return versions.back().second;
}

Dataset openTfds(const fs::path& dirIn, const OpenOptions& options, TfdsIndexStats* stats) {
    // Dataset::root names the version used when several are present.
    std::string versionNote;
    const auto found = findTfdsVersionDir(dirIn, &versionNote);
    if (!found)
        throw DatasetError("'" + dirIn.string() +
                           "' holds no TensorFlow Datasets shards (<name>-train.tfrecord-00000-of-"
                           "000NN, directly or in a version folder such as 0.2.0/)");
    std::error_code ec;
    fs::path dir = fs::weakly_canonical(*found, ec);
    if (ec) dir = *found;
    const std::vector<std::string> labels = readLabels(dir);
    const auto shardLengths = readShardLengths(dir);

    // The shards, by split, in shard order.
    struct Shard {
        fs::path path;
        ShardName name;
    };
    std::map<std::string, std::vector<Shard>> bySplit;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (auto n = parseShardName(it->path().filename().string()))
            bySplit[n->split].push_back({it->path(), *n});
    for (auto& [split, shards] : bySplit)
        std::sort(shards.begin(), shards.end(),
                  [](const Shard& a, const Shard& b) { return a.name.index < b.name.index; });

    // The index cache: one file per version folder, one entry per shard.
    const fs::path cacheRoot =
        (options.cacheDir.empty() ? userCacheDir() / "datasets" : options.cacheDir) / "tfds-index";
    Hasher key;
    key.update(dir.string());
    const fs::path indexFile = cacheRoot / (key.hex() + ".json");
    std::map<std::string, ShardIndex> cached;
    {
        std::string text, why;
        if (readRegularFile(indexFile, 1ull << 30, true, text, why)) {
            const json j = json::parse(text, nullptr, false);
            try {
                if (j.is_object() && j.value("format", 0) == kIndexFormat &&
                    j.value("dir", std::string()) == dir.string())
                    for (const auto& [name, s] : j.at("shards").items()) cached[name] = fromJson(s);
            } catch (const json::exception&) {
                cached.clear();  // damaged: rebuilt below
            }
        }
    }
    std::map<std::string, ShardIndex> index;
    std::vector<const Shard*> toScan;
    std::uint64_t bytesTotal = 0;
    for (const auto& [split, shards] : bySplit)
        for (const Shard& s : shards) {
            const std::string name = s.path.filename().string();
            std::error_code e1, e2;
            const auto size = fs::file_size(s.path, e1);
            const auto mtime = mtimeOf(s.path, e2);
            const auto it = cached.find(name);
            if (!e1 && !e2 && it != cached.end() && it->second.size == size &&
                it->second.mtime == mtime) {
                index[name] = std::move(it->second);
            } else {
                toScan.push_back(&s);
                if (!e1) bytesTotal += size;
            }
        }
    std::uint64_t bytesDone = 0;
    for (const Shard* s : toScan) {
        const std::string name = s->path.filename().string();
        index[name] = scanShard(s->path, options.job, "Indexing " + name, bytesDone, bytesTotal);
    }
    if (!toScan.empty() || index.size() != cached.size()) {
        json shardsJson = json::object();
        for (const auto& [name, s] : index) shardsJson[name] = toJson(s);
        const json j = {{"format", kIndexFormat}, {"dir", dir.string()}, {"shards", shardsJson}};
        try {
            fs::create_directories(cacheRoot);
            writeFileAtomically(indexFile, j.dump());
        } catch (const std::exception&) {
            // A cache that cannot be written only costs the next open another scan.
        }
    }
    if (stats) {
        stats->shardsScanned = toScan.size();
        stats->shardsFromCache = index.size() - toScan.size();
        stats->indexFile = indexFile;
    }

    Dataset ds;
    ds.root = dir;
    ds.format = DatasetFormat::Tfds;
    if (!versionNote.empty()) ds.notes.push_back(versionNote);
    ds.breedFolders = labels;
    std::vector<bool> folderFromFiles(labels.size(), false);
    for (const auto& [splitName, shards] : bySplit) {
        const auto kind = splitKindOf(splitName);
        if (!kind) continue;
        SplitData& split = kind == SplitKind::Train ? ds.train
                           : kind == SplitKind::Val ? ds.val
                                                    : ds.test;
        const auto lengths = shardLengths.find(splitName);
        // Shards the names promise but the folder lacks.
        const int count = shards.front().name.count;
        std::vector<bool> present(static_cast<std::size_t>(std::max(count, 0)), false);
        for (const Shard& s : shards)
            if (s.name.index < count && s.name.count == count)
                present[static_cast<std::size_t>(s.name.index)] = true;
        for (int i = 0; i < count; ++i)
            if (!present[static_cast<std::size_t>(i)]) {
                char number[32];
                std::snprintf(number, sizeof number, ".tfrecord-%05d-of-%05d", i, count);
                const std::string name = shards.front().name.dataset + "-" + splitName + number;
                split.report.add(LoadIssue::Kind::Skipped, (dir / name).string(),
                                 "shard missing: its records are not in the split");
            }
        for (const Shard& s : shards) {
            const std::string shardName = s.path.filename().string();
            const std::string shardFile = s.path.string();
            const ShardIndex& idx = index[shardName];
            std::size_t listed = idx.walked;
            if (lengths != shardLengths.end() && s.name.index >= 0 &&
                static_cast<std::size_t>(s.name.index) < lengths->second.size() &&
                s.name.count == static_cast<int>(lengths->second.size())) {
                const auto expected = lengths->second[static_cast<std::size_t>(s.name.index)];
                if (expected != idx.walked)
                    split.report.add(LoadIssue::Kind::Skipped, shardFile,
                                     "dataset_info.json lists " + std::to_string(expected) +
                                         " records in this shard; " +
                                         (expected > idx.walked ? "only " : "") +
                                         std::to_string(idx.walked) + " could be located");
                listed = std::max<std::size_t>(listed, expected);
            }
            split.report.listed += listed;
            for (const auto& p : idx.problems)
                split.report.add(
                    LoadIssue::Kind::Skipped, shardFile,
                    p.record == 0 ? p.message : recordText(p.record, p.offset) + ": " + p.message);
            for (const IndexedRecord& r : idx.records) {
                const std::string where = shardFile + ", " + recordText(r.record, r.offset);
                if (r.label < 0 || r.label >= static_cast<std::int64_t>(labels.size())) {
                    split.report.add(LoadIssue::Kind::Skipped, where,
                                     "label " + std::to_string(r.label) + " is not one of the " +
                                         std::to_string(labels.size()) +
                                         " classes in label.labels.txt");
                    continue;
                }
                const auto label = static_cast<std::size_t>(r.label);
                Sample smp;
                smp.relPath = relativePathOf(r.filename, labels[label]);
                smp.imagePath = tfdsImagePath(s.path, r.offset, smp.relPath);
                smp.label = static_cast<int>(r.label);
                smp.width = r.width;
                smp.height = r.height;
                // The folder as the authors spell it, where the file name keeps it
                // ("n02085620-Chihuahua" for the label "n02085620-chihuahua").
                const auto slash = smp.relPath.find('/');
                if (!folderFromFiles[label] && slash != std::string::npos &&
                    lower(smp.relPath.substr(0, slash)) == lower(labels[label])) {
                    ds.breedFolders[label] = smp.relPath.substr(0, slash);
                    folderFromFiles[label] = true;
                }
                std::vector<Box> raw;
                for (std::size_t b = 0; b + 3 < r.bbox.size(); b += 4)
                    raw.push_back({tfdsCoordinateToPixel(r.bbox[b + 1], r.width),
                                   tfdsCoordinateToPixel(r.bbox[b], r.height),
                                   tfdsCoordinateToPixel(r.bbox[b + 3], r.width),
                                   tfdsCoordinateToPixel(r.bbox[b + 2], r.height)});
                if (!detail::addSampleBoxes(smp, raw, where, split.report)) continue;
                split.samples.push_back(std::move(smp));
            }
        }
    }
    for (const auto& f : ds.breedFolders) ds.breedNames.push_back(breedDisplayName(f));
    detail::finishDataset(ds, dir, options);
    return ds;
}

}  // namespace camx
