#include "npy.h"

#include <xtensor/xadapt.hpp>
#include <xtensor/xnpy.hpp>

#include "common/fs_util.h"

namespace camx::cli {

void writeNpy(const std::filesystem::path& path, const std::vector<float>& data,
              const std::vector<std::size_t>& shape) {
    auto view = xt::adapt(data.data(), data.size(), xt::no_ownership(), shape);
    writeFileAtomically(path, xt::dump_npy(view));
}

}  // namespace camx::cli
