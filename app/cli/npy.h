#pragma once
// .npy output through xtensor's writer (NumPy's format), written atomically.

#include <filesystem>
#include <vector>

namespace camx::cli {

void writeNpy(const std::filesystem::path& path, const std::vector<float>& data,
              const std::vector<std::size_t>& shape);

}  // namespace camx::cli
