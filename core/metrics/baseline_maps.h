#pragma once
// Reference maps scored by the same metrics as the methods, so that every number has a baseline
// beside it (pytorch-grad-cam's ROAD demo gives a random map a score close to Grad-CAM's):
//  - random: independent uniform values in [0, 1), seeded (the same seed, the same map);
//  - center: a centred Gaussian, sigma a quarter of the side (the photographer's bias);
//  - sobel: the Sobel gradient magnitude of the image's grey levels (edges, no network at all).
// Each is S x S, min-max normalised to [0, 1] like the methods' maps.

#include <cstdint>
#include <string>
#include <vector>

#include "data/image_io.h"

namespace camx {

enum class BaselineMap { Random, Center, Sobel };
const std::vector<BaselineMap>& allBaselineMaps();
const char* baselineMapId(BaselineMap b);  // "random", "center", "sobel"

// `chw` is the network's normalised input (3 x S x S); `norm` undoes the normalisation for Sobel.
std::vector<float> makeBaselineMap(BaselineMap kind, const float* chw, int size,
                                   const Normalization& norm, std::uint64_t seed);

}  // namespace camx
