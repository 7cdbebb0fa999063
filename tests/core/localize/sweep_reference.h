#pragma once
// The threshold sweep as scoreMap computed it before the one-pass sweep: one component labelling
// per threshold. The oracle the one-pass sweep is tested against (box_sweep_test) and the
// baseline bench_sweep times it against.

#include <algorithm>
#include <vector>

#include "eval/evaluator.h"
#include "explain/postprocess.h"
#include "localize/boxes.h"

namespace camx::test {

inline MapScore scoreEachThreshold(const Heatmap& raw, Method method, int width, int height,
                                   const std::vector<Box>& truth, const EvalOptions& o) {
    MapScore s;
    const Heatmap map = displayMap(raw, method, width, height);
    s.box = boxFromMap(map, o.tau, o.mode, truth);
    s.iou = bestIou(s.box, truth);
    for (float t : o.sweep) {
        const std::vector<Box> boxes = componentBoxes(map, t);
        double largest = boxes.empty() ? 0.0 : bestIou(boxes.front(), truth), best = 0.0;
        for (const Box& b : boxes) best = std::max(best, bestIou(b, truth));
        s.sweepLargest.push_back(static_cast<float>(largest));
        s.sweepBest.push_back(static_cast<float>(best));
    }
    return s;
}

}  // namespace camx::test
