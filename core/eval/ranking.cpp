#include "eval/ranking.h"

#include <algorithm>
#include <utility>

namespace camx {

std::vector<std::size_t> rankByIou(const std::vector<ImageRecord>& records, Method method, int tap,
                                   int lastBlockTap, std::size_t n, bool worst,
                                   const std::function<bool(std::size_t)>& keep) {
    const int at = methodTap(method, tap, lastBlockTap);
    std::vector<std::pair<double, std::size_t>> scored;
    for (const ImageRecord& r : records) {
        if (!r.hasBoxes || (keep && !keep(r.index))) continue;
        if (const MapScore* s = r.find(method, at)) scored.emplace_back(s->iou, r.index);
    }
    std::stable_sort(scored.begin(), scored.end(), [worst](const auto& a, const auto& b) {
        return worst ? a.first < b.first : a.first > b.first;
    });
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < scored.size() && i < n; ++i) out.push_back(scored[i].second);
    return out;
}

}  // namespace camx
