#include "metrics/similarity.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

namespace camx {

namespace {

void checkSameSize(const Heatmap& a, const Heatmap& b) {
    if (a.empty() || b.empty()) throw std::invalid_argument("cannot compare an empty map");
    if (a.width != b.width || a.height != b.height ||
        a.data.size() != static_cast<std::size_t>(a.width) * a.height ||
        b.data.size() != a.data.size())
        throw std::invalid_argument("maps of different sizes: " + std::to_string(a.width) + "x" +
                                    std::to_string(a.height) + " and " + std::to_string(b.width) +
                                    "x" + std::to_string(b.height));
}

bool anyNan(const float* v, std::size_t n) {
    return std::any_of(v, v + n, [](float e) { return std::isnan(e); });
}

std::vector<double> values(const float* v, std::size_t n, bool absolute) {
    std::vector<double> out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = absolute ? std::fabs(double(v[i])) : double(v[i]);
    return out;
}

// 1-based ranks, ties sharing the mean of the ranks they span (scipy.stats.rankdata "average").
std::vector<double> averageRanks(const std::vector<double>& v) {
    std::vector<std::size_t> order(v.size());
    std::iota(order.begin(), order.end(), std::size_t(0));
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t i, std::size_t j) { return v[i] < v[j]; });
    std::vector<double> rank(v.size());
    for (std::size_t i = 0; i < order.size();) {
        std::size_t j = i;
        while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
        const double r = (double(i) + double(j)) / 2.0 + 1.0;
        for (std::size_t k = i; k <= j; ++k) rank[order[k]] = r;
        i = j + 1;
    }
    return rank;
}

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
    const double n = double(x.size());
    const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n;
    const double my = std::accumulate(y.begin(), y.end(), 0.0) / n;
    double sxy = 0, sxx = 0, syy = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    if (sxx == 0 || syy == 0) return std::numeric_limits<double>::quiet_NaN();
    // Rounding can carry a perfect correlation a hair past 1; numpy's corrcoef, which scipy's
    // spearmanr uses, clips the same way.
    return std::clamp(sxy / std::sqrt(sxx * syy), -1.0, 1.0);
}

std::vector<double> normalized(const float* v, std::size_t n, bool absolute) {
    std::vector<double> x = values(v, n, absolute);
    const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
    const double mn = *lo, range = *hi - *lo;
    for (double& e : x) e = range > 0 ? (e - mn) / range : 0.0;
    return x;
}

}  // namespace

double spearmanCorrelation(const float* a, const float* b, std::size_t n, bool absolute) {
    if (n == 0) throw std::invalid_argument("cannot compare an empty map");
    if (anyNan(a, n) || anyNan(b, n)) return std::numeric_limits<double>::quiet_NaN();
    return pearson(averageRanks(values(a, n, absolute)), averageRanks(values(b, n, absolute)));
}

double ssim(const float* a, const float* b, int width, int height, bool absolute, int window) {
    if (width <= 0 || height <= 0) throw std::invalid_argument("cannot compare an empty map");
    if (window < 3 || window % 2 == 0)
        throw std::invalid_argument("the SSIM window must be odd and at least 3, not " +
                                    std::to_string(window));
    if (window > width || window > height)
        throw std::invalid_argument("the SSIM window (" + std::to_string(window) +
                                    ") exceeds the map's " + std::to_string(width) + "x" +
                                    std::to_string(height));
    const std::size_t n = static_cast<std::size_t>(width) * height;
    if (anyNan(a, n) || anyNan(b, n)) return std::numeric_limits<double>::quiet_NaN();
    const std::vector<double> x = normalized(a, n, absolute), y = normalized(b, n, absolute);
    constexpr double K1 = 0.01, K2 = 0.03, L = 1.0;
    const double C1 = (K1 * L) * (K1 * L), C2 = (K2 * L) * (K2 * L);
    const double N = double(window) * window;
    const double covNorm = N / (N - 1);
    double sum = 0;
    long count = 0;
    for (int y0 = 0; y0 + window <= height; ++y0)
        for (int x0 = 0; x0 + window <= width; ++x0) {
            double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
            for (int r = y0; r < y0 + window; ++r)
                for (int c = x0; c < x0 + window; ++c) {
                    const std::size_t i = static_cast<std::size_t>(r) * width + c;
                    sx += x[i];
                    sy += y[i];
                    sxx += x[i] * x[i];
                    syy += y[i] * y[i];
                    sxy += x[i] * y[i];
                }
            const double ux = sx / N, uy = sy / N;
            const double vx = covNorm * (sxx / N - ux * ux);
            const double vy = covNorm * (syy / N - uy * uy);
            const double vxy = covNorm * (sxy / N - ux * uy);
            const double A1 = 2 * ux * uy + C1, A2 = 2 * vxy + C2;
            const double B1 = ux * ux + uy * uy + C1, B2 = vx + vy + C2;
            sum += (A1 * A2) / (B1 * B2);
            ++count;
        }
    return sum / double(count);
}

double spearmanCorrelation(const Heatmap& a, const Heatmap& b, const SimilarityOptions& o) {
    checkSameSize(a, b);
    return spearmanCorrelation(a.data.data(), b.data.data(), a.data.size(), o.absolute);
}

double ssim(const Heatmap& a, const Heatmap& b, const SimilarityOptions& o) {
    checkSameSize(a, b);
    return ssim(a.data.data(), b.data.data(), a.width, a.height, o.absolute, o.ssimWindow);
}

}  // namespace camx
