#include "data/demo_generator.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <fstream>
#include <mutex>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <pugixml.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "common/fs_util.h"
#include "data/dataset.h"
#include "data/mat_io.h"

namespace camx {
namespace fs = std::filesystem;

namespace {

enum class Ears { Pointy, Floppy, Round };
enum class Tail { Up, Curl, Down, Stub };
enum class Coat { Solid, Spots, Stripes, Saddle, Patches, Speckle, Belly, Mask };

struct BreedLook {
    const char* folder;
    double bodyAspect;  // body length / body height
    double legLength;   // relative to body height
    double headSize;    // relative to body height
    double snout;       // snout length relative to head radius
    Ears ears;
    Tail tail;
    Coat coat;
    cv::Scalar base;       // RGB
    cv::Scalar secondary;  // RGB
};

// Ten breeds that differ in silhouette and coat, so a classifier has to look at the dog.
const BreedLook kBreeds[] = {
    {"n90000001-Spotted_Pointer",
     2.0,
     0.9,
     0.55,
     1.0,
     Ears::Floppy,
     Tail::Down,
     Coat::Spots,
     {235, 232, 225},
     {40, 35, 30}},
    {"n90000002-Tiger_Hound",
     2.2,
     1.0,
     0.5,
     1.1,
     Ears::Pointy,
     Tail::Up,
     Coat::Stripes,
     {215, 140, 50},
     {45, 30, 20}},
    {"n90000003-Saddle_Terrier",
     1.5,
     0.6,
     0.6,
     0.7,
     Ears::Pointy,
     Tail::Stub,
     Coat::Saddle,
     {200, 150, 90},
     {30, 30, 35}},
    {"n90000004-Patchwork_Collie",
     1.9,
     0.8,
     0.55,
     1.2,
     Ears::Floppy,
     Tail::Down,
     Coat::Patches,
     {245, 245, 240},
     {110, 70, 40}},
    {"n90000005-Sooty_Spitz",
     1.4,
     0.6,
     0.65,
     0.6,
     Ears::Pointy,
     Tail::Curl,
     Coat::Solid,
     {55, 55, 60},
     {90, 90, 95}},
    {"n90000006-Golden_Lop",
     1.8,
     0.7,
     0.6,
     0.9,
     Ears::Floppy,
     Tail::Up,
     Coat::Solid,
     {230, 180, 80},
     {240, 205, 120}},
    {"n90000007-Freckled_Setter",
     2.1,
     1.1,
     0.5,
     1.3,
     Ears::Floppy,
     Tail::Up,
     Coat::Speckle,
     {160, 60, 35},
     {250, 245, 235}},
    {"n90000008-Snowbelly_Corgi",
     2.4,
     0.35,
     0.6,
     0.9,
     Ears::Pointy,
     Tail::Stub,
     Coat::Belly,
     {190, 110, 50},
     {250, 250, 250}},
    {"n90000009-Bandit_Pug",
     1.3,
     0.5,
     0.75,
     0.3,
     Ears::Round,
     Tail::Curl,
     Coat::Mask,
     {215, 190, 150},
     {35, 30, 30}},
    {"n90000010-Blue_Greyhound",
     2.6,
     1.3,
     0.4,
     1.5,
     Ears::Round,
     Tail::Down,
     Coat::Solid,
     {120, 130, 150},
     {150, 160, 180}},
};
constexpr int kBreedCount = sizeof kBreeds / sizeof kBreeds[0];

using Rng = std::mt19937_64;

double uni(Rng& r, double a, double b) {
    return std::uniform_real_distribution<double>(a, b)(r);
}
int uniInt(Rng& r, int a, int b) {
    return std::uniform_int_distribution<int>(a, b)(r);
}

cv::Scalar jitter(Rng& r, const cv::Scalar& c, double amount) {
    cv::Scalar out;
    const double shift = uni(r, -amount, amount);
    for (int i = 0; i < 3; ++i)
        out[i] = std::clamp(c[i] + shift + uni(r, -amount / 3, amount / 3), 0.0, 255.0);
    return out;
}

cv::Scalar randomColour(Rng& r) {
    return {uni(r, 0, 255), uni(r, 0, 255), uni(r, 0, 255)};
}

cv::Point pt(double x, double y) {
    return {static_cast<int>(std::lround(x)), static_cast<int>(std::lround(y))};
}

// Draws the silhouette of one dog in `colour` onto `dst`. The dog stands with its body centred at
// (cx, cy), body height bh, facing left when dir = -1.
void drawSilhouette(cv::Mat& dst, const BreedLook& b, double cx, double cy, double bh, int dir,
                    const cv::Scalar& colour, double earJitter, double tailJitter) {
    const double bw = bh * b.bodyAspect;
    const int aa = cv::LINE_AA;
    cv::ellipse(dst, pt(cx, cy), cv::Size(static_cast<int>(bw / 2), static_cast<int>(bh / 2)), 0, 0,
                360, colour, cv::FILLED, aa);
    // Legs: four rounded bars.
    const double legLen = bh * b.legLength, legW = std::max(2.0, bh * 0.16);
    for (double f : {-0.36, -0.2, 0.2, 0.36}) {
        const double lx = cx + f * bw;
        cv::line(dst, pt(lx, cy + bh * 0.2), pt(lx, cy + bh * 0.35 + legLen), colour,
                 static_cast<int>(legW), aa);
    }
    // Neck and head.
    const double hr = bh * b.headSize;
    const double hx = cx + dir * (bw / 2 + hr * 0.3), hy = cy - bh * 0.55;
    cv::line(dst, pt(cx + dir * bw * 0.35, cy - bh * 0.1), pt(hx, hy), colour,
             static_cast<int>(std::max(2.0, bh * 0.4)), aa);
    cv::circle(dst, pt(hx, hy), static_cast<int>(hr), colour, cv::FILLED, aa);
    // Snout.
    const double sl = hr * b.snout;
    cv::ellipse(
        dst, pt(hx + dir * (hr * 0.6 + sl * 0.5), hy + hr * 0.25),
        cv::Size(static_cast<int>(std::max(2.0, sl * 0.6 + hr * 0.3)), static_cast<int>(hr * 0.42)),
        0, 0, 360, colour, cv::FILLED, aa);
    // Ears.
    const double ex = hx - dir * hr * 0.25;
    switch (b.ears) {
        case Ears::Pointy: {
            std::vector<cv::Point> tri = {pt(ex - hr * 0.45, hy - hr * 0.5),
                                          pt(ex + hr * 0.35, hy - hr * 0.55),
                                          pt(ex - dir * hr * 0.1 + earJitter * hr, hy - hr * 1.6)};
            cv::fillConvexPoly(dst, tri, colour, aa);
            break;
        }
        case Ears::Floppy:
            cv::ellipse(dst, pt(ex - dir * hr * 0.3, hy + hr * 0.2),
                        cv::Size(static_cast<int>(hr * 0.32), static_cast<int>(hr * 0.85)),
                        dir * (15 + 20 * earJitter), 0, 360, colour, cv::FILLED, aa);
            break;
        case Ears::Round:
            cv::circle(dst, pt(ex - dir * hr * 0.2, hy - hr * 0.85), static_cast<int>(hr * 0.38),
                       colour, cv::FILLED, aa);
            break;
    }
    // Tail, at the back end.
    const double tx = cx - dir * bw * 0.48, ty = cy - bh * 0.15;
    const int tw = static_cast<int>(std::max(2.0, bh * 0.12));
    switch (b.tail) {
        case Tail::Up:
            cv::line(dst, pt(tx, ty), pt(tx - dir * bh * (0.5 + 0.2 * tailJitter), ty - bh * 0.8),
                     colour, tw, aa);
            break;
        case Tail::Curl:
            cv::ellipse(dst, pt(tx - dir * bh * 0.15, ty - bh * 0.35),
                        cv::Size(static_cast<int>(bh * 0.3), static_cast<int>(bh * 0.3)), 0, 0, 300,
                        colour, tw, aa);
            break;
        case Tail::Down:
            cv::line(dst, pt(tx, ty), pt(tx - dir * bh * 0.6, ty + bh * (0.6 + 0.2 * tailJitter)),
                     colour, tw, aa);
            break;
        case Tail::Stub:
            cv::circle(dst, pt(tx - dir * bh * 0.05, ty - bh * 0.05), static_cast<int>(bh * 0.13),
                       colour, cv::FILLED, aa);
            break;
    }
}

// Paints the coat pattern of a breed over the whole canvas; the silhouette mask decides where it
// shows.
void paintCoat(cv::Mat& coat, const BreedLook& b, const cv::Rect& area, double bh, int dir,
               double cx, double cy, Rng& r, const cv::Scalar& base, const cv::Scalar& second) {
    coat.setTo(base);
    const int aa = cv::LINE_AA;
    const double bw = bh * b.bodyAspect;
    switch (b.coat) {
        case Coat::Solid:
            break;
        case Coat::Spots: {
            const int n = std::max(6, static_cast<int>(area.area() / (bh * bh * 0.06)));
            for (int i = 0; i < n; ++i)
                cv::circle(coat,
                           pt(area.x + uni(r, 0, area.width), area.y + uni(r, 0, area.height)),
                           static_cast<int>(std::max(2.0, bh * uni(r, 0.06, 0.11))), second,
                           cv::FILLED, aa);
            break;
        }
        case Coat::Stripes: {
            const double step = std::max(4.0, bh * 0.22);
            for (double x = area.x - area.height; x < area.x + area.width; x += step)
                cv::line(coat, pt(x, area.y + area.height), pt(x + area.height * 0.35, area.y),
                         second, static_cast<int>(std::max(2.0, step * 0.35)), aa);
            break;
        }
        case Coat::Saddle:
            cv::ellipse(coat, pt(cx, cy - bh * 0.3),
                        cv::Size(static_cast<int>(bw * 0.42), static_cast<int>(bh * 0.45)), 0, 0,
                        360, second, cv::FILLED, aa);
            break;
        case Coat::Patches: {
            for (int i = 0; i < 4; ++i)
                cv::ellipse(coat, pt(cx + uni(r, -0.5, 0.5) * bw, cy + uni(r, -0.6, 0.4) * bh),
                            cv::Size(static_cast<int>(bh * uni(r, 0.25, 0.45)),
                                     static_cast<int>(bh * uni(r, 0.2, 0.35))),
                            uni(r, 0, 180), 0, 360, second, cv::FILLED, aa);
            break;
        }
        case Coat::Speckle: {
            const int n = std::max(30, static_cast<int>(area.area() / (bh * bh * 0.01)));
            for (int i = 0; i < n; ++i)
                cv::circle(coat,
                           pt(area.x + uni(r, 0, area.width), area.y + uni(r, 0, area.height)),
                           std::max(1, static_cast<int>(bh * 0.025)), second, cv::FILLED, aa);
            break;
        }
        case Coat::Belly:
            cv::rectangle(coat, pt(area.x, cy + bh * 0.05),
                          pt(area.x + area.width, area.y + area.height), second, cv::FILLED);
            break;
        case Coat::Mask: {
            const double hr = bh * b.headSize;
            const double hx = cx + dir * (bw / 2 + hr * 0.3), hy = cy - bh * 0.55;
            cv::circle(coat, pt(hx + dir * hr * 0.5, hy + hr * 0.1), static_cast<int>(hr * 0.75),
                       second, cv::FILLED, aa);
            break;
        }
    }
}

struct DogPlacement {
    double cx, cy, bh;
    int dir;
};

struct Rendered {
    cv::Mat rgb;
    std::vector<Box> boxes;
};

void drawBackground(cv::Mat& img, Rng& r) {
    const cv::Scalar c0 = randomColour(r), c1 = randomColour(r);
    const bool vertical = uniInt(r, 0, 1) == 1;
    for (int y = 0; y < img.rows; ++y) {
        auto* row = img.ptr<cv::Vec3b>(y);
        for (int x = 0; x < img.cols; ++x) {
            const double t = vertical ? double(y) / img.rows : double(x) / img.cols;
            for (int c = 0; c < 3; ++c)
                row[x][c] = cv::saturate_cast<uchar>(c0[c] * (1 - t) + c1[c] * t);
        }
    }
    // Clutter: shapes of every colour, some textured, none shaped like a dog.
    const int n = uniInt(r, 6, 16);
    for (int i = 0; i < n; ++i) {
        const cv::Scalar col = randomColour(r);
        const cv::Point p = pt(uni(r, 0, img.cols), uni(r, 0, img.rows));
        const int s = static_cast<int>(uni(r, 8, std::min(img.cols, img.rows) * 0.22));
        switch (uniInt(r, 0, 4)) {
            case 0:
                cv::rectangle(img, p, p + cv::Point(s, static_cast<int>(s * uni(r, 0.4, 1.6))), col,
                              cv::FILLED, cv::LINE_AA);
                break;
            case 1:
                cv::circle(img, p, s / 2, col, cv::FILLED, cv::LINE_AA);
                break;
            case 2:
                cv::line(img, p, pt(uni(r, 0, img.cols), uni(r, 0, img.rows)), col, uniInt(r, 1, 5),
                         cv::LINE_AA);
                break;
            case 3: {
                std::vector<cv::Point> poly;
                for (int k = 0; k < 3; ++k) poly.push_back(p + pt(uni(r, -s, s), uni(r, -s, s)));
                cv::fillConvexPoly(img, poly, col, cv::LINE_AA);
                break;
            }
            case 4: {  // a textured tile: spots or stripes that are not on a dog
                cv::Rect tile(p, cv::Size(s, s));
                tile &= cv::Rect(0, 0, img.cols, img.rows);
                if (tile.area() == 0) break;
                cv::Mat roi = img(tile);
                roi.setTo(col);
                const cv::Scalar col2 = randomColour(r);
                for (int k = 0; k < s / 6 + 1; ++k)
                    cv::circle(roi, pt(uni(r, 0, tile.width), uni(r, 0, tile.height)),
                               std::max(1, s / 12), col2, cv::FILLED, cv::LINE_AA);
                break;
            }
        }
    }
}

Rendered renderImage(const BreedLook& b, std::uint64_t seed, double twoDogChance) {
    Rng r(seed);
    const int w = uniInt(r, 400, 500), h = uniInt(r, 300, 375);
    Rendered out;
    out.rgb = cv::Mat(h, w, CV_8UC3);
    drawBackground(out.rgb, r);

    const int dogs = uni(r, 0, 1) < twoDogChance ? 2 : 1;
    std::vector<DogPlacement> placed;
    for (int d = 0; d < dogs; ++d) {
        DogPlacement p{};
        const double scale = dogs == 1 ? uni(r, 0.14, 0.27) : uni(r, 0.11, 0.19);
        p.bh = std::min(w, h) * scale;
        p.dir = uniInt(r, 0, 1) ? 1 : -1;
        const double bw = p.bh * b.bodyAspect;
        const double marginX = bw * 0.5 + p.bh * 0.9, marginTop = p.bh * 1.6;
        const double marginBottom = p.bh * (0.4 + b.legLength);
        const double xLo = marginX, xHi = std::max(marginX + 1, w - marginX);
        const double yLo = marginTop, yHi = std::max(marginTop + 1, h - marginBottom);
        if (dogs == 2) {  // one dog per half, so the two rarely overlap
            const double mid = (xLo + xHi) / 2;
            p.cx = d == 0 ? uni(r, xLo, std::max(xLo + 1, mid - bw * 0.3))
                          : uni(r, std::min(xHi - 1, mid + bw * 0.3), xHi);
        } else {
            p.cx = uni(r, xLo, xHi);
        }
        p.cy = uni(r, yLo, yHi);
        placed.push_back(p);

        const cv::Scalar base = jitter(r, b.base, 18), second = jitter(r, b.secondary, 18);
        const double earJ = uni(r, -0.2, 0.2), tailJ = uni(r, -1, 1);
        cv::Mat mask = cv::Mat::zeros(h, w, CV_8U);
        drawSilhouette(mask, b, p.cx, p.cy, p.bh, p.dir, cv::Scalar(255), earJ, tailJ);
        const cv::Rect area = cv::boundingRect(mask);
        if (area.area() == 0) continue;
        cv::Mat coat(h, w, CV_8UC3);
        paintCoat(coat, b, area, p.bh, p.dir, p.cx, p.cy, r, base, second);
        // Soft shading keeps the coat from being a flat colour.
        cv::Mat shade(h, w, CV_8UC3);
        cv::RNG shadeRng(r());  // OpenCV's global RNG would make the output depend on threads
        shadeRng.fill(shade, cv::RNG::NORMAL, cv::Scalar::all(0), cv::Scalar::all(10));
        cv::add(coat, shade, coat, cv::noArray(), CV_8U);
        // Blend with the anti-aliased mask as alpha.
        for (int y = area.y; y < area.y + area.height; ++y) {
            const uchar* m = mask.ptr<uchar>(y);
            auto* dst = out.rgb.ptr<cv::Vec3b>(y);
            const auto* src = coat.ptr<cv::Vec3b>(y);
            for (int x = area.x; x < area.x + area.width; ++x) {
                if (!m[x]) continue;
                const double a = m[x] / 255.0;
                for (int c = 0; c < 3; ++c)
                    dst[x][c] = cv::saturate_cast<uchar>(dst[x][c] * (1 - a) + src[x][c] * a);
            }
        }
        std::vector<std::vector<cv::Point>> contours;
        cv::Mat bin = mask > 127;
        cv::findContours(bin, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
        cv::drawContours(out.rgb, contours, -1, base * 0.45, 1, cv::LINE_AA);
        // Eye and nose.
        const double hr = p.bh * b.headSize, bwid = p.bh * b.bodyAspect;
        const double hx = p.cx + p.dir * (bwid / 2 + hr * 0.3), hy = p.cy - p.bh * 0.55;
        cv::circle(out.rgb, pt(hx + p.dir * hr * 0.35, hy - hr * 0.2), std::max(1, int(hr * 0.12)),
                   cv::Scalar(15, 15, 15), cv::FILLED, cv::LINE_AA);
        const double sl = hr * b.snout;
        cv::circle(out.rgb, pt(hx + p.dir * (hr * 0.6 + sl + hr * 0.2), hy + hr * 0.2),
                   std::max(1, int(hr * 0.14)), cv::Scalar(20, 15, 15), cv::FILLED, cv::LINE_AA);
        // The box is the bounding rectangle of the drawn silhouette, inclusive.
        const cv::Rect tight = cv::boundingRect(bin);
        out.boxes.push_back(
            Box{tight.x, tight.y, tight.x + tight.width - 1, tight.y + tight.height - 1});
    }
    // Mild sensor noise over everything.
    cv::Mat noise(h, w, CV_8UC3);
    cv::RNG noiseRng(r());
    noiseRng.fill(noise, cv::RNG::NORMAL, cv::Scalar::all(0), cv::Scalar::all(6));
    cv::add(out.rgb, noise, out.rgb, cv::noArray(), CV_8U);
    return out;
}

std::string annotationXml(const std::string& folderWnid, const std::string& stem,
                          const std::string& breedName, int w, int h,
                          const std::vector<Box>& boxes) {
    pugi::xml_document doc;
    auto ann = doc.append_child("annotation");
    ann.append_child("folder").text().set(folderWnid.c_str());
    ann.append_child("filename").text().set(stem.c_str());
    ann.append_child("source").append_child("database").text().set("CAM Explorer demo");
    auto size = ann.append_child("size");
    size.append_child("width").text().set(w);
    size.append_child("height").text().set(h);
    size.append_child("depth").text().set(3);
    ann.append_child("segment").text().set(0);
    for (const Box& b : boxes) {
        auto obj = ann.append_child("object");
        obj.append_child("name").text().set(breedName.c_str());
        obj.append_child("pose").text().set("Unspecified");
        obj.append_child("truncated").text().set(0);
        obj.append_child("difficult").text().set(0);
        auto bb = obj.append_child("bndbox");
        bb.append_child("xmin").text().set(b.xmin);
        bb.append_child("ymin").text().set(b.ymin);
        bb.append_child("xmax").text().set(b.xmax);
        bb.append_child("ymax").text().set(b.ymax);
    }
    std::ostringstream ss;
    doc.save(ss, "\t", pugi::format_default | pugi::format_no_declaration);
    return ss.str();
}

bool isNonEmptyDir(const fs::path& p) {
    std::error_code ec;
    return fs::is_directory(p, ec) && fs::directory_iterator(p, ec) != fs::directory_iterator();
}

}  // namespace

const std::vector<std::string>& demoBreedFolders() {
    static const std::vector<std::string> folders = [] {
        std::vector<std::string> v;
        for (const auto& b : kBreeds) v.emplace_back(b.folder);
        return v;
    }();
    return folders;
}

DemoSummary generateDemoDataset(const fs::path& out, const DemoOptions& o) {
    if (o.numBreeds < 2 || o.numBreeds > kBreedCount)
        throw std::runtime_error("the demo has 2 to " + std::to_string(kBreedCount) +
                                 " breeds, not " + std::to_string(o.numBreeds));
    if (o.trainPerBreed < 1 || o.testPerBreed < 1)
        throw std::runtime_error("the demo needs at least one train and one test image per breed");
    if (isNonEmptyDir(out) && !o.overwrite)
        throw std::runtime_error("output folder '" + out.string() +
                                 "' exists and is not empty; choose another or allow overwriting");
    if (fs::exists(out) && !fs::is_directory(out))
        throw std::runtime_error("'" + out.string() + "' exists and is not a folder");

    struct Item {
        int breed;
        bool train;
        std::string rel;  // folder/stem.jpg
        std::uint64_t seed;
    };
    std::vector<Item> items;
    int serial = 0;
    for (int b = 0; b < o.numBreeds; ++b) {
        const std::string folder = kBreeds[b].folder;
        const std::string wnid = folder.substr(0, folder.find('-'));
        for (int i = 0; i < o.trainPerBreed + o.testPerBreed; ++i) {
            ++serial;
            const std::string stem = wnid + "_" + std::to_string(1000 + i);
            // SplitMix-style mixing keeps images independent of each other yet tied to the seed.
            std::uint64_t s = o.seed * 0x9E3779B97F4A7C15ull + static_cast<std::uint64_t>(serial);
            s ^= s >> 31;
            items.push_back(
                {b, i < o.trainPerBreed, folder + "/" + stem + ".jpg", s * 0xBF58476D1CE4E5B9ull});
        }
    }

    const fs::path parent = fs::absolute(out).parent_path();
    std::error_code ec;
    fs::create_directories(parent, ec);
    const fs::path staging = parent / ("." + out.filename().string() + ".partial");
    fs::remove_all(staging, ec);
    fs::create_directories(staging / "Images", ec);
    fs::create_directories(staging / "Annotation", ec);
    for (int b = 0; b < o.numBreeds; ++b) {
        fs::create_directories(staging / "Images" / kBreeds[b].folder, ec);
        fs::create_directories(staging / "Annotation" / kBreeds[b].folder, ec);
    }
    if (!fs::is_directory(staging / "Images"))
        throw std::runtime_error("cannot create '" + staging.string() + "'");

    std::atomic<std::size_t> next{0}, done{0}, boxes{0};
    std::mutex errMutex;
    std::string firstError;
    std::atomic<bool> stop{false};
    auto worker = [&] {
        for (std::size_t i; !stop && (i = next++) < items.size();) {
            const Item& it = items[i];
            try {
                Rendered img = renderImage(kBreeds[it.breed], it.seed, o.twoDogChance);
                cv::Mat bgr;
                cv::cvtColor(img.rgb, bgr, cv::COLOR_RGB2BGR);
                if (!cv::imwrite((staging / "Images" / it.rel).string(), bgr,
                                 {cv::IMWRITE_JPEG_QUALITY, 90}))
                    throw std::runtime_error("cannot write '" + it.rel + "'");
                const std::string stem = fs::path(it.rel).stem().string();
                const std::string folder = kBreeds[it.breed].folder;
                std::ofstream xml(staging / "Annotation" / folder / stem, std::ios::binary);
                xml << annotationXml(folder.substr(0, folder.find('-')), stem,
                                     breedDisplayName(folder), img.rgb.cols, img.rgb.rows,
                                     img.boxes);
                if (!xml)
                    throw std::runtime_error("cannot write the annotation of '" + it.rel + "'");
                boxes += img.boxes.size();
            } catch (const std::exception& e) {
                std::lock_guard<std::mutex> lock(errMutex);
                if (firstError.empty()) firstError = e.what();
                stop = true;
            }
            ++done;
        }
    };
    const unsigned threads = o.threads > 0 ? static_cast<unsigned>(o.threads)
                                           : std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) pool.emplace_back(worker);
    while (done < items.size() && !stop) {
        if (o.job.cancelled()) stop = true;
        o.job.report(done, items.size(), "Drawing demo images");
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
    }
    for (auto& t : pool) t.join();
    if (o.job.cancelled() || !firstError.empty()) {
        fs::remove_all(staging, ec);
        if (!firstError.empty()) throw std::runtime_error("demo generation failed: " + firstError);
        throw Cancelled();
    }

    DemoSummary summary;
    summary.boxes = boxes;
    std::vector<std::string> allFiles, allAnn, trainFiles, trainAnn, testFiles, testAnn;
    std::vector<double> allLabels, trainLabels, testLabels;
    for (const Item& it : items) {
        const std::string ann = it.rel.substr(0, it.rel.size() - 4);
        allFiles.push_back(it.rel);
        allAnn.push_back(ann);
        allLabels.push_back(it.breed + 1);
        auto& f = it.train ? trainFiles : testFiles;
        auto& a = it.train ? trainAnn : testAnn;
        auto& l = it.train ? trainLabels : testLabels;
        f.push_back(it.rel);
        a.push_back(ann);
        l.push_back(it.breed + 1);
    }
    summary.trainImages = trainFiles.size();
    summary.testImages = testFiles.size();
    writeMatFile(staging / "file_list.mat", {{"file_list", allFiles}, {"annotation_list", allAnn}},
                 {{"labels", allLabels}});
    writeMatFile(staging / "train_list.mat",
                 {{"file_list", trainFiles}, {"annotation_list", trainAnn}},
                 {{"labels", trainLabels}});
    writeMatFile(staging / "test_list.mat",
                 {{"file_list", testFiles}, {"annotation_list", testAnn}},
                 {{"labels", testLabels}});

    if (fs::exists(out)) fs::remove_all(out, ec);
    fs::rename(staging, out, ec);
    if (ec) {
        fs::remove_all(staging, ec);
        throw std::runtime_error("cannot move the demo into '" + out.string() +
                                 "': " + ec.message());
    }
    o.job.report(items.size(), items.size(), "Demo dataset written");
    return summary;
}

std::filesystem::path demoDatasetDir() {
    return userCacheDir() / "demo";
}

std::filesystem::path demoModelFile() {
    return userCacheDir() / "demo-model" / "best.ckpt";
}

}  // namespace camx
