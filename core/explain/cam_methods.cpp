#include "explain/cam_methods.h"

#include <ATen/ATen.h>

#include <stdexcept>

namespace camx {

at::Tensor weightedSum(const at::Tensor& A, const at::Tensor& weights) {
    return (A * weights.unsqueeze(-1).unsqueeze(-1)).sum(1);
}

at::Tensor camRaw(const at::Tensor& A, const at::Tensor& classWeights) {
    return weightedSum(A, classWeights);
}

namespace {
at::Tensor channelWeighted(const at::Tensor& A, const at::Tensor& weights) {
    return A * weights.unsqueeze(-1).unsqueeze(-1);
}

at::Tensor gradCamWeights(const at::Tensor& G) {
    return G.mean({2, 3});
}

at::Tensor gradCamPlusPlusWeights(const at::Tensor& A, const at::Tensor& G) {
    const at::Tensor g2 = G * G;
    const at::Tensor g3 = g2 * G;
    const at::Tensor sumA = A.sum({2, 3}, /*keepdim=*/true);
    // pytorch-grad-cam's constant (grad_cam_plusplus.py, eps = 1e-6), so that its maps are
    // reproduced: at small gradients the constant is not negligible (the README gives figures).
    at::Tensor aij = g2 / (2 * g2 + sumA * g3 + 1e-6);
    aij = at::where(G != 0, aij, at::zeros_like(aij));
    return (at::relu(G) * aij).sum({2, 3});
}

at::Tensor xGradCamWeights(const at::Tensor& A, const at::Tensor& G) {
    const at::Tensor sumA = A.sum({2, 3}, true);
    return (G * A / (sumA + 1e-7)).sum({2, 3});
}
}  // namespace

at::Tensor gradCamRaw(const at::Tensor& A, const at::Tensor& G) {
    return weightedSum(A, gradCamWeights(G));
}

at::Tensor gradCamPlusPlusRaw(const at::Tensor& A, const at::Tensor& G) {
    return weightedSum(A, gradCamPlusPlusWeights(A, G));
}

at::Tensor xGradCamRaw(const at::Tensor& A, const at::Tensor& G) {
    return weightedSum(A, xGradCamWeights(A, G));
}

at::Tensor layerCamRaw(const at::Tensor& A, const at::Tensor& G) {
    return (at::relu(G) * A).sum(1);
}

at::Tensor hiResCamRaw(const at::Tensor& A, const at::Tensor& G) {
    return (G * A).sum(1);
}

at::Tensor gradientTerms(Method m, const at::Tensor& A, const at::Tensor& G) {
    switch (m) {
        case Method::GradCam:
        case Method::FinerCam:  // Grad-CAM on Finer-CAM's own gradients
            return channelWeighted(A, gradCamWeights(G));
        case Method::GradCamPlusPlus:
            return channelWeighted(A, gradCamPlusPlusWeights(A, G));
        case Method::XGradCam:
            return channelWeighted(A, xGradCamWeights(A, G));
        case Method::LayerCam:
            return at::relu(G) * A;
        case Method::HiResCam:
            return G * A;
        case Method::Cam:
        case Method::ScoreCam:
        case Method::EigenCam:
        case Method::RandomMap:
        case Method::CenterMap:
        case Method::SobelMap:
            break;
    }
    throw std::invalid_argument(methodName(m) + " is not a gradient method");
}

at::Tensor firstComponentProjection(const at::Tensor& X) {
    const int64_t B = X.size(0), C = X.size(1), h = X.size(2), w = X.size(3);
    at::Tensor out = at::empty({B, h, w}, X.options());
    for (int64_t b = 0; b < B; ++b) {
        // Rows are positions, columns channels, centred per channel (as pytorch-grad-cam does).
        at::Tensor Y = X[b].reshape({C, h * w}).t().to(at::kDouble);
        Y = at::where(at::isnan(Y), at::zeros_like(Y), Y);
        Y = Y - Y.mean(0, true);
        at::Tensor U, S, Vh;
        std::tie(U, S, Vh) = at::linalg_svd(Y, /*full_matrices=*/false);
        at::Tensor proj = Y.matmul(Vh[0]);
        // The sign of a singular vector is arbitrary; orient it so the map's strongest response
        // is positive, which keeps the map stable from one run to the next.
        if (proj.max().item<double>() < -proj.min().item<double>()) proj = -proj;
        out[b] = proj.reshape({h, w}).to(X.scalar_type());
    }
    return out;
}

at::Tensor eigenCamRaw(const at::Tensor& A) {
    return firstComponentProjection(A);
}

}  // namespace camx
