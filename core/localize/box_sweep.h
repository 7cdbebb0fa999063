#pragma once
// A threshold sweep (MaxBoxAcc) in one pass over the map instead of one component labelling per
// threshold. Lowering the threshold only adds pixels, so the components at every threshold come
// from one union-find over the pixels (in row runs) taken from the highest threshold down; each
// threshold then costs only reading off the components alive at that point. On a smooth 500x375
// map (a last-block CAM upsampled) the pass costs about half of one labelling for 20 thresholds
// and one for 100; on noisy maps (early layers) 2 to 4 labellings (bench_sweep).
//
// Everything here equals what boxes.h gives threshold by threshold, ties included. The pass keeps
// its buffers per thread between calls (a few MB for a 500x375 map; maps over 1M pixels free
// theirs), as fresh pages cost as much as the pass.

#include <optional>
#include <vector>

#include "common/box.h"
#include "explain/heatmap.h"

namespace camx {

// One threshold of a sweep, scored against the ground truth.
struct SweepPoint {
    std::optional<Box> largest;  // componentBoxes(map, tau).front()
    std::optional<Box> best;     // boxFromMap(map, tau, BoxMode::BestOfAll, truth)
    double largestIou = 0;       // bestIou(largest, truth)
    double bestIou = 0;          // the best bestIou of any component's box; 0 without components
};

// A point per threshold, in the order given. Thresholds may come in any order and repeat.
std::vector<SweepPoint> sweepBoxes(const Heatmap& map, const std::vector<float>& taus,
                                   const std::vector<Box>& truth);

// componentBoxes(map, tau) for every tau, in the order given (the boxes in componentBoxes' order).
std::vector<std::vector<Box>> componentBoxesSweep(const Heatmap& map,
                                                  const std::vector<float>& taus);

}  // namespace camx
