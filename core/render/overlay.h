#pragma once
// Colour maps and heatmap overlays, shared by the explorer, the figure export and the CLI.

#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "common/box.h"
#include "explain/heatmap.h"

namespace camx {

enum class Colormap { Jet, Turbo, Viridis, Inferno, Magma, Gray };

const std::vector<Colormap>& allColormaps();
std::string colormapName(Colormap c);  // "Jet", "Turbo", ...

// A 0..1 map (values outside are clamped) to an 8-bit RGB image of the same size.
cv::Mat colorize(const Heatmap& map01, Colormap colormap);

// The photo with the coloured map blended over it: out = (1 - blend) * photo + blend * colour.
// The map must have the photo's size. blend is clamped to 0..1.
cv::Mat overlayHeatmap(const cv::Mat& rgb, const Heatmap& map01, Colormap colormap, float blend);

}  // namespace camx
