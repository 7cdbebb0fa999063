#pragma once
// .npy output (NumPy's format) through xtensor's writer, written atomically: the CLI's tensors
// and the score maps an evaluation saves for wsolevaluation's own code.

#include <cstddef>
#include <filesystem>
#include <vector>

namespace camx {

// Row-major data of the given shape as float32 ('<f4') or float64 ('<f8'). Throws
// std::runtime_error naming the file when it cannot be written.
void writeNpy(const std::filesystem::path& path, const std::vector<float>& data,
              const std::vector<std::size_t>& shape);
void writeNpy(const std::filesystem::path& path, const double* data,
              const std::vector<std::size_t>& shape);

}  // namespace camx
