#include "common/npy_file.h"

#include <functional>
#include <numeric>
#include <xtensor/xadapt.hpp>
#include <xtensor/xnpy.hpp>

#include "common/fs_util.h"

namespace camx {

void writeNpy(const std::filesystem::path& path, const std::vector<float>& data,
              const std::vector<std::size_t>& shape) {
    auto view = xt::adapt(data.data(), data.size(), xt::no_ownership(), shape);
    writeFileAtomically(path, xt::dump_npy(view));
}

void writeNpy(const std::filesystem::path& path, const double* data,
              const std::vector<std::size_t>& shape) {
    const std::size_t n =
        std::accumulate(shape.begin(), shape.end(), std::size_t{1}, std::multiplies<>());
    auto view = xt::adapt(data, n, xt::no_ownership(), shape);
    writeFileAtomically(path, xt::dump_npy(view));
}

}  // namespace camx
