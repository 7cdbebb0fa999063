#pragma once
// From a raw map to what users see and what boxes are drawn from: ReLU where the method calls for
// it, min-max normalisation, bilinear upsampling to the original photo.

#include "explain/heatmap.h"

namespace camx {

// (m - min) / (max - min + 1e-7) after an optional ReLU, as pytorch-grad-cam does. A constant or
// all-negative (after ReLU: all-zero) map gives zeros; NaN and infinite cells count as 0.
Heatmap normalizeMap(const Heatmap& raw, bool relu);

// Bilinear resize (OpenCV INTER_LINEAR, half-pixel centres) to width x height.
Heatmap upsampleMap(const Heatmap& map, int width, int height);

// normalizeMap + upsampleMap for `method`.
Heatmap displayMap(const Heatmap& raw, Method method, int width, int height);

}  // namespace camx
