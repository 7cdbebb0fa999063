#include "metrics/road.h"

#include "common/hash.h"

#include <ATen/Parallel.h>
#include <Eigen/Sparse>
#include <Eigen/SparseCholesky>
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>

namespace camx {

double numpyPercentile(std::vector<double> v, double p) {
    if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
    std::sort(v.begin(), v.end());
    // numpy's "linear" method: virtual index p/100 * (n - 1), then its _lerp, which computes
    // from the upper neighbour when the fraction is at least one half.
    const double h = p / 100.0 * static_cast<double>(v.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(h));
    const std::size_t hi = std::min(lo + 1, v.size() - 1);
    const double t = h - static_cast<double>(lo);
    const double a = v[lo], b = v[hi], d = b - a;
    return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

std::vector<float> noisyLinearImpute(const float* chw, int C, int H, int W,
                                     const std::vector<std::uint8_t>& known, double noise,
                                     std::uint64_t seed) {
    const std::size_t plane = static_cast<std::size_t>(H) * W;
    if (known.size() != plane) throw std::invalid_argument("the mask does not fit the image");
    std::vector<float> out(chw, chw + static_cast<std::size_t>(C) * plane);
    // Unknown pixels are the system's variables, in row-major order.
    std::vector<int> var(plane, -1);
    int n = 0;
    for (std::size_t p = 0; p < plane; ++p)
        if (!known[p]) var[p] = n++;
    if (n == 0) return out;
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> gauss(0.0, 1.0);
    if (static_cast<std::size_t>(n) == plane) {
        // Nothing to interpolate from: the system (right-hand side 0) is singular, and its
        // solution 0 is what pytorch-grad-cam's spsolve returns too: the normalised mean colour.
        for (float& v : out) v = static_cast<float>(noise > 0 ? noise * gauss(rng) : 0.0);
        return out;
    }
    // The paper's neighbour weights: (row offset, column offset, weight).
    static constexpr struct {
        int dy, dx;
        double w;
    } kNeighbours[] = {{1, 1, 1.0 / 12}, {0, 1, 1.0 / 6},    {-1, 1, 1.0 / 12}, {1, -1, 1.0 / 12},
                       {0, -1, 1.0 / 6}, {-1, -1, 1.0 / 12}, {1, 0, 1.0 / 6},   {-1, 0, 1.0 / 6}};
    std::vector<Eigen::Triplet<double>> entries;
    entries.reserve(static_cast<std::size_t>(n) * 9);
    Eigen::MatrixXd rhs = Eigen::MatrixXd::Zero(n, C);
    for (int y = 0; y < H; ++y)
        for (int x = 0; x < W; ++x) {
            const int i = var[static_cast<std::size_t>(y) * W + x];
            if (i < 0) continue;
            double inside = 1.0;  // the weights of the neighbours inside the image
            for (const auto& nb : kNeighbours) {
                const int yy = y + nb.dy, xx = x + nb.dx;
                if (yy < 0 || xx < 0 || yy >= H || xx >= W) {
                    inside -= nb.w;
                    continue;
                }
                const std::size_t q = static_cast<std::size_t>(yy) * W + xx;
                if (var[q] >= 0) {
                    entries.emplace_back(i, var[q], nb.w);
                } else {
                    for (int c = 0; c < C; ++c)
                        rhs(i, c) -= nb.w * chw[static_cast<std::size_t>(c) * plane + q];
                }
            }
            entries.emplace_back(i, i, -inside);
        }
    // The system is symmetric (each neighbour pair has the same weight both ways) and, with at
    // least one known pixel, negative definite (diagonally dominant, strictly where a known
    // neighbour is): -A is factorised by a sparse LDL^T, several times faster than a general
    // sparse LU on these grids and the same solution to rounding.
    Eigen::SparseMatrix<double> A(n, n);
    A.setFromTriplets(entries.begin(), entries.end());
    A = -A;
    Eigen::SimplicialLDLT<Eigen::SparseMatrix<double>, Eigen::Lower> solver(A);
    if (solver.info() != Eigen::Success)
        throw std::runtime_error("ROAD imputation: the sparse factorisation failed");
    const Eigen::MatrixXd x = solver.solve(Eigen::MatrixXd(-rhs));
    for (int c = 0; c < C; ++c)
        for (std::size_t p = 0; p < plane; ++p)
            if (var[p] >= 0)
                out[static_cast<std::size_t>(c) * plane + p] =
                    static_cast<float>(x(var[p], c) + (noise > 0 ? noise * gauss(rng) : 0.0));
    return out;
}

std::vector<std::uint8_t> roadKeptPixels(const std::vector<float>& map, double percentile,
                                         bool lerf) {
    std::vector<double> v(map.begin(), map.end());
    // pytorch-grad-cam inverts in float32 (1 - mask on a float tensor).
    if (lerf)
        for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(1.0f - map[i]);
    const double threshold = numpyPercentile(v, percentile);
    std::vector<std::uint8_t> kept(map.size());
    for (std::size_t i = 0; i < v.size(); ++i) kept[i] = v[i] < threshold;
    return kept;
}

std::vector<RoadResult> road(const InputClassifier& classify, const float* chw, int size,
                             const std::vector<std::vector<float>>& maps, int cls,
                             const RoadOptions& o, const std::vector<std::uint64_t>& mapSeeds,
                             const JobContext& job) {
    const std::size_t plane = static_cast<std::size_t>(size) * size;
    const std::size_t P = o.percentiles.size();
    std::vector<RoadResult> out(maps.size());
    for (std::size_t m = 0; m < maps.size(); ++m) {
        if (maps[m].size() != plane)
            throw std::invalid_argument("a map of the wrong size for the input");
        out[m].morf.assign(P, 0.0);
        out[m].lerf.assign(P, 0.0);
    }
    // Imputation per map and percentile, then one batched classification of everything.
    double before = 0;
    {
        const auto logits = classify(chw, 1);
        before = classScore(logits.at(0), cls, o.score);
    }
    // The sparse solves of every (map, order, percentile) on every core, then the forwards in
    // batches.
    struct Task {
        std::size_t map, k;
        bool lerf;
    };
    std::vector<Task> tasks;
    for (std::size_t m = 0; m < maps.size(); ++m)
        for (int lerf = 0; lerf < 2; ++lerf)
            for (std::size_t k = 0; k < P; ++k) tasks.push_back({m, k, lerf != 0});
    const std::size_t chunk = static_cast<std::size_t>(std::max(1, o.batch));
    std::vector<std::vector<float>> imputed(chunk);
    std::vector<float> batch;
    for (std::size_t first = 0; first < tasks.size(); first += chunk) {
        job.throwIfCancelled();
        const std::size_t count = std::min(chunk, tasks.size() - first);
        at::parallel_for(0, static_cast<int64_t>(count), 1, [&](int64_t begin, int64_t end) {
            for (int64_t i = begin; i < end; ++i) {
                const Task& t = tasks[first + static_cast<std::size_t>(i)];
                const auto kept = roadKeptPixels(maps[t.map], o.percentiles[t.k], t.lerf);
                const std::uint64_t seed =
                    mixSeeds(mixSeeds(o.seed, mapSeeds.empty() ? 0 : mapSeeds.at(t.map)),
                             static_cast<std::uint64_t>(o.percentiles[t.k]) * 2 + t.lerf);
                imputed[static_cast<std::size_t>(i)] =
                    noisyLinearImpute(chw, 3, size, size, kept, o.noise, seed);
            }
        });
        batch.clear();
        for (std::size_t i = 0; i < count; ++i)
            batch.insert(batch.end(), imputed[i].begin(), imputed[i].end());
        const auto logits = classify(batch.data(), static_cast<int>(count));
        for (std::size_t i = 0; i < count; ++i) {
            const Task& t = tasks[first + i];
            (t.lerf ? out[t.map].lerf : out[t.map].morf)[t.k] =
                classScore(logits.at(i), cls, o.score) - before;
        }
    }
    for (auto& r : out) {
        auto mean = [](const std::vector<double>& v) {
            double s = 0;
            for (double x : v) s += x;
            return v.empty() ? 0.0 : s / static_cast<double>(v.size());
        };
        r.morfMean = mean(r.morf);
        r.lerfMean = mean(r.lerf);
        r.combined = (r.lerfMean - r.morfMean) / 2;
    }
    return out;
}

}  // namespace camx
