#include "explain/cam_methods.h"

#include <ATen/ATen.h>

namespace camx {

at::Tensor weightedSum(const at::Tensor& A, const at::Tensor& weights) {
    return (A * weights.unsqueeze(-1).unsqueeze(-1)).sum(1);
}

at::Tensor camRaw(const at::Tensor& A, const at::Tensor& classWeights) {
    return weightedSum(A, classWeights);
}

at::Tensor gradCamRaw(const at::Tensor& A, const at::Tensor& G) {
    return weightedSum(A, G.mean({2, 3}));
}

at::Tensor gradCamPlusPlusRaw(const at::Tensor& A, const at::Tensor& G) {
    const at::Tensor g2 = G * G;
    const at::Tensor g3 = g2 * G;
    const at::Tensor sumA = A.sum({2, 3}, /*keepdim=*/true);
    // pytorch-grad-cam's constant (grad_cam_plusplus.py, eps = 1e-6), so that its maps are
    // reproduced: at small gradients the constant is not negligible (the README gives figures).
    at::Tensor aij = g2 / (2 * g2 + sumA * g3 + 1e-6);
    aij = at::where(G != 0, aij, at::zeros_like(aij));
    const at::Tensor weights = (at::relu(G) * aij).sum({2, 3});
    return weightedSum(A, weights);
}

at::Tensor xGradCamRaw(const at::Tensor& A, const at::Tensor& G) {
    const at::Tensor sumA = A.sum({2, 3}, true);
    const at::Tensor weights = (G * A / (sumA + 1e-7)).sum({2, 3});
    return weightedSum(A, weights);
}

at::Tensor layerCamRaw(const at::Tensor& A, const at::Tensor& G) {
    return (at::relu(G) * A).sum(1);
}

at::Tensor hiResCamRaw(const at::Tensor& A, const at::Tensor& G) {
    return (G * A).sum(1);
}

at::Tensor eigenCamRaw(const at::Tensor& A) {
    const int64_t B = A.size(0), C = A.size(1), h = A.size(2), w = A.size(3);
    at::Tensor out = at::empty({B, h, w}, A.options());
    for (int64_t b = 0; b < B; ++b) {
        // Rows are positions, columns channels, centred per channel (as pytorch-grad-cam does).
        at::Tensor X = A[b].reshape({C, h * w}).t().to(at::kDouble);
        X = X - X.mean(0, true);
        at::Tensor U, S, Vh;
        std::tie(U, S, Vh) = at::linalg_svd(X, /*full_matrices=*/false);
        at::Tensor proj = X.matmul(Vh[0]);
        // The sign of a singular vector is arbitrary; orient it so the map's strongest response
        // is positive, which keeps the map stable from one run to the next.
        if (proj.max().item<double>() < -proj.min().item<double>()) proj = -proj;
        out[b] = proj.reshape({h, w}).to(A.scalar_type());
    }
    return out;
}

}  // namespace camx
