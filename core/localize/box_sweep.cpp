#include "localize/box_sweep.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

#include "localize/boxes.h"

namespace camx {

namespace {

struct Component {
    int area, x0, y0, x1, y1;
    // The first 2x2 block (in raster order of blocks) that holds a pixel of the component.
    // componentBoxes keeps OpenCV's label order among equal areas, and OpenCV's default 8-connected
    // labelling (Spaghetti) scans 2x2 blocks: a component at (4, 1) is labelled before one at
    // (7, 0). Two components never start in the same block, as its pixels are all neighbours.
    int block;
};

Box boxOf(const Component& c) {
    return Box{c.x0, c.y0, c.x1, c.y1};
}

// componentBoxes' order: area descending, then label order.
bool precedes(const Component& a, const Component& b) {
    return a.area > b.area || (a.area == b.area && a.block < b.block);
}

// How many of the ascending levels lie strictly below v, i.e. how many of the lowest thresholds
// the pixel survives (the mask keeps v > level). NaN compares false and survives none.
std::uint32_t levelsBelow(const float* level, std::size_t n, float v) {
    // Branch-free: where a pixel falls is as good as random, so branches would mispredict.
    const float* base = level;
    while (n > 1) {
        const std::size_t half = n / 2;
        base = base[half - 1] < v ? base + half : base;
        n -= half;
    }
    return static_cast<std::uint32_t>(base - level) + (*base < v);
}

// levelsBelow, mostly without the search. Two guesses, each checked by two comparisons: the
// caller's, then a table over the levels' range (stepped past a level inside its cell); the search
// decides when both miss, so the table's float arithmetic never decides a pixel.
class RankGuess {
public:
    explicit RankGuess(const std::vector<float>& cut) : cut_(cut), edge_(cut.size() + 2) {
        const std::size_t L = cut.size();
        edge_.front() = -std::numeric_limits<float>::infinity();
        std::copy(cut.begin(), cut.end(), edge_.begin() + 1);
        edge_.back() = std::numeric_limits<float>::infinity();
        const std::size_t cells = 4 * L;
        lo_ = cut.front();
        scale_ = static_cast<float>(cells) / (cut.back() - lo_);
        if (!std::isfinite(scale_) || !std::isfinite(lo_)) scale_ = 0.f;
        last_ = static_cast<float>(cells);
        table_.resize(cells + 1);
        for (std::size_t c = 0; c <= cells; ++c)
            table_[c] =
                scale_ > 0.f ? levelsBelow(cut.data(), L, lo_ + static_cast<float>(c) / scale_) : 0;
    }
    // `near`: a rank to try first (on a smooth map, the left neighbour's is mostly right).
    std::uint32_t rank(float v, std::uint32_t near) const {
        if (near < edge_.size() - 1 && edge_[near] < v && !(edge_[near + 1] < v)) return near;
        float t = (v - lo_) * scale_;
        t = t > 0.f ? std::min(t, last_) : 0.f;  // NaN to 0
        std::uint32_t r = table_[static_cast<std::size_t>(t)];
        r += edge_[r + 1] < v;
        if (edge_[r] < v && !(edge_[r + 1] < v)) return r;
        return levelsBelow(cut_.data(), cut_.size(), v);
    }

private:
    const std::vector<float>& cut_;
    std::vector<float> edge_;  // the levels between -inf and +inf: rank r lies in (edge r, r + 1]
    std::vector<std::uint32_t> table_;
    float lo_ = 0.f, scale_ = 0.f, last_ = 0.f;
};

// std::max(mx, v) over the map from mx = 0, as boxes.cpp takes it, in independent lanes so that it
// vectorises: the maximum does not depend on the order, and NaN never replaces a lane's value.
float maximum(const std::vector<float>& data) {
    constexpr std::size_t kLanes = 16;
    float lane[kLanes] = {};
    const std::size_t n = data.size(), whole = n - n % kLanes;
    for (std::size_t i = 0; i < whole; i += kLanes)
        for (std::size_t k = 0; k < kLanes; ++k) lane[k] = std::max(lane[k], data[i + k]);
    for (std::size_t i = whole; i < n; ++i) lane[0] = std::max(lane[0], data[i]);
    float mx = 0.f;
    for (float v : lane) mx = std::max(mx, v);
    return mx;
}

// Pixels x0..x1 of row y, all surviving the same levels.
struct Run {
    int y, x0, x1;
};

// The pass's buffers, kept from one call to the next on a thread: on a photo-sized map, touching
// freshly mapped pages cost as much as the pass itself. Maps above kKeptPixels give theirs back.
struct Scratch {
    std::vector<std::uint32_t> rank;
    std::vector<Run> runs;
    std::vector<int> label, parent, roots;
    std::vector<Component> comps, alive;
};
constexpr std::size_t kKeptPixels = std::size_t{1} << 20;

// Calls readOff(components alive) once for each distinct level, and returns its result for every
// threshold, in the order given (a default R where nothing survives).
template <class R, class ReadOff>
std::vector<R> sweepComponents(const Heatmap& map, const std::vector<float>& taus,
                               ReadOff&& readOff) {
    std::vector<R> out(taus.size());
    if (map.empty() || taus.empty()) return out;
    // As boxes.cpp's mask: the maximum ignores NaN, and nothing survives when it is not positive.
    const float mx = maximum(map.data);
    if (mx <= 0.f) return out;

    // The levels as the mask computes them, in float; a NaN level keeps nothing.
    std::vector<std::pair<float, std::size_t>> levels;
    for (std::size_t i = 0; i < taus.size(); ++i) {
        const float level = taus[i] * mx;
        if (!std::isnan(level)) levels.emplace_back(level, i);
    }
    if (levels.empty()) return out;
    std::sort(levels.begin(), levels.end());
    const std::size_t L = levels.size();
    std::vector<float> cut(L);
    for (std::size_t k = 0; k < L; ++k) cut[k] = levels[k].first;

    thread_local Scratch scratch;
    Scratch& s = scratch;
    const int w = map.width, h = map.height;
    const std::size_t n = map.data.size();
    const float* data = map.data.data();

    // Each pixel's rank (how many levels it survives), and the row runs of equal rank bucketed by
    // rank: a counting sort, in raster order within a bucket. A full sort by value would cost as
    // much as the labellings this replaces; runs, because a smooth map's bands are wide, and a
    // run looks at the rows above and below once instead of eight cells per pixel.
    s.rank.resize(n);
    std::vector<std::size_t> start(L + 2, 0);
    const RankGuess guess(cut);
    for (std::size_t y = 0, p = 0; y < static_cast<std::size_t>(h); ++y) {
        std::uint32_t prev = ~0u;
        for (int x = 0; x < w; ++x, ++p) {
            const std::uint32_t r = guess.rank(data[p], prev);
            s.rank[p] = r;
            if (r != prev) ++start[r + 1];
            prev = r;
        }
    }
    for (std::size_t r = 1; r <= L + 1; ++r) start[r] += start[r - 1];
    const std::size_t skipped = start[1];  // runs that survive no level
    s.runs.resize(start[L + 1] - skipped);
    {
        std::vector<std::size_t> fill(start.begin(), start.end() - 1);
        for (int y = 0; y < h; ++y) {
            const std::uint32_t* row = s.rank.data() + static_cast<std::size_t>(y) * w;
            for (int x0 = 0, x1; x0 < w; x0 = x1 + 1) {
                const std::uint32_t r = row[x0];
                for (x1 = x0; x1 + 1 < w && row[x1 + 1] == r; ++x1) {
                }
                if (r) s.runs[fill[r]++ - skipped] = {y, x0, x1};
            }
        }
    }

    // A border of never-added cells around the map, so that every run has its rows above and
    // below and a cell at each end to look at.
    const std::size_t W = static_cast<std::size_t>(w) + 2;
    s.label.assign(W * (static_cast<std::size_t>(h) + 2), -1);  // pixel -> a component
    // Components are made only by runs with no neighbour added yet; the others join one.
    std::vector<int>& parent = s.parent;
    std::vector<Component>& comps = s.comps;
    parent.clear();
    comps.clear();
    s.roots.clear();
    auto find = [&](int a) {
        while (parent[a] != a) {
            parent[a] = parent[parent[a]];
            a = parent[a];
        }
        return a;
    };
    const int blocksPerRow = (w + 1) / 2;

    for (std::size_t r = L; r >= 1; --r) {
        const std::size_t first = start[r] - skipped, last = start[r + 1] - skipped;
        for (std::size_t i = first; i < last; ++i) {
            const Run run = s.runs[i];
            const std::size_t q0 = (static_cast<std::size_t>(run.y) + 1) * W + run.x0 + 1;
            const std::size_t q1 = q0 + static_cast<std::size_t>(run.x1 - run.x0);
            int root = -1, seen = -1;
            auto join = [&](int nl) {
                // Neighbours mostly carry the label of the one before (or none, like it); it was
                // joined already.
                if (nl == seen) return;
                seen = nl;
                if (nl < 0) return;
                int other = find(nl);
                if (root < 0) root = other;
                if (other == root) return;
                if (comps[other].area > comps[root].area) std::swap(root, other);
                parent[other] = root;
                Component& a = comps[root];
                const Component& b = comps[other];
                a.area += b.area;
                a.x0 = std::min(a.x0, b.x0);
                a.y0 = std::min(a.y0, b.y0);
                a.x1 = std::max(a.x1, b.x1);
                a.y1 = std::max(a.y1, b.y1);
                a.block = std::min(a.block, b.block);
            };
            // The cells at both ends are of another rank: added when it is higher. In the row
            // above, runs of this rank came earlier; in the row below, none has come yet.
            join(s.label[q0 - 1]);
            join(s.label[q1 + 1]);
            for (std::size_t q = q0 - 1 - W; q <= q1 + 1 - W; ++q) join(s.label[q]);
            for (std::size_t q = q0 - 1 + W; q <= q1 + 1 + W; ++q) join(s.label[q]);
            const int area = run.x1 - run.x0 + 1;
            const int block = (run.y / 2) * blocksPerRow + run.x0 / 2;
            if (root < 0) {
                root = static_cast<int>(comps.size());
                comps.push_back({area, run.x0, run.y, run.x1, run.y, block});
                parent.push_back(root);
                s.roots.push_back(root);
            } else {
                Component& c = comps[root];
                c.area += area;
                c.x0 = std::min(c.x0, run.x0);
                c.y0 = std::min(c.y0, run.y);
                c.x1 = std::max(c.x1, run.x1);
                c.y1 = std::max(c.y1, run.y);
                c.block = std::min(c.block, block);
            }
            std::fill(s.label.begin() + static_cast<std::ptrdiff_t>(q0),
                      s.label.begin() + static_cast<std::ptrdiff_t>(q1) + 1, root);
        }
        const std::size_t tau = levels[r - 1].second;
        if (first == last && r < L) {
            // Nothing added since the level above (or the same level again): the same components.
            out[tau] = out[levels[r].second];
            continue;
        }
        // s.roots holds the components made since the last read-off and those alive at it; the
        // ones merged away since leave now, so a read-off costs what is alive, not what was made.
        s.alive.clear();
        std::size_t kept = 0;
        for (int c : s.roots)
            if (parent[c] == c) {
                s.roots[kept++] = c;
                s.alive.push_back(comps[c]);
            }
        s.roots.resize(kept);
        out[tau] = readOff(std::as_const(s.alive));
    }
    if (n > kKeptPixels) scratch = Scratch{};
    return out;
}

}  // namespace

std::vector<SweepPoint> sweepBoxes(const Heatmap& map, const std::vector<float>& taus,
                                   const std::vector<Box>& truth) {
    return sweepComponents<SweepPoint>(map, taus, [&](const std::vector<Component>& alive) {
        SweepPoint pt;
        if (alive.empty()) return pt;
        // boxFromMap's BestOfAll takes the first best in componentBoxes' order.
        const Component* largest = &alive.front();
        const Component* best = nullptr;
        double bestScore = -1;
        for (const Component& c : alive) {
            if (precedes(c, *largest)) largest = &c;
            const double s = bestIou(boxOf(c), truth);
            if (s > bestScore || (s == bestScore && precedes(c, *best))) {
                bestScore = s;
                best = &c;
            }
        }
        pt.largest = boxOf(*largest);
        pt.best = boxOf(*best);
        pt.largestIou = bestIou(pt.largest, truth);
        pt.bestIou = bestScore;
        return pt;
    });
}

std::vector<std::vector<Box>> componentBoxesSweep(const Heatmap& map,
                                                  const std::vector<float>& taus) {
    return sweepComponents<std::vector<Box>>(map, taus, [](std::vector<Component> alive) {
        std::sort(alive.begin(), alive.end(), precedes);
        std::vector<Box> boxes;
        boxes.reserve(alive.size());
        for (const Component& c : alive) boxes.push_back(boxOf(c));
        return boxes;
    });
}

}  // namespace camx
