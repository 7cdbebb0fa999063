#pragma once
// The maps themselves, as tensor formulas over a tap's activations A [B,C,h,w] and the
// gradients G = dy_c/dA [B,C,h,w]. Each returns the raw map [B,h,w] *before* the final ReLU
// (post-processing applies it where the method calls for it), so the raw map keeps its sign.
//
//   CAM        (Zhou et al. 2016)       M = sum_k W[c,k] A_k
//   Grad-CAM   (Selvaraju et al. 2017)  a_k = mean_ij G_k ;  M = sum_k a_k A_k
//   Grad-CAM++ (Chattopadhay et al.)    a_k = sum_ij relu(G_k) * G^2 / (2 G^2 + S_k * G^3 + eps),
//                                       S_k = sum_ij A_k, eps = 1e-6 as in pytorch-grad-cam
//                                       (0 where G = 0)
//   XGradCAM   (Fu et al. 2020)         a_k = sum_ij G_k A_k / (sum_ij A_k + eps)
//   LayerCAM   (Jiang et al. 2021)      M = sum_k relu(G_k) * A_k   (element-wise)
//   HiResCAM   (Draelos & Carin 2020)   M = sum_k G_k * A_k        (element-wise)
//   Eigen-CAM  (Muhammad & Yeasin 2020) M = A projected on its first principal component
//   Score-CAM  (Wang et al. 2020)       a = softmax_k(y_c(X * norm(up(A_k)))) ; see Explainer
//   Finer-CAM  (Zhang et al. 2025)      Grad-CAM, with G the gradient of its own score (Explainer)
//
// Every gradient method's map is a sum over channels of terms T_k = a_k A_k (the weight
// methods), relu(G_k) A_k (LayerCAM) or G_k A_k (HiResCAM). Eigen smoothing replaces the sum by
// the projection of T on its first principal component, as Eigen-CAM does with A.

#include <ATen/core/Tensor.h>

#include "explain/heatmap.h"

namespace camx {

at::Tensor camRaw(const at::Tensor& A, const at::Tensor& classWeights /* [B,C] */);
at::Tensor gradCamRaw(const at::Tensor& A, const at::Tensor& G);
at::Tensor gradCamPlusPlusRaw(const at::Tensor& A, const at::Tensor& G);
at::Tensor xGradCamRaw(const at::Tensor& A, const at::Tensor& G);
at::Tensor layerCamRaw(const at::Tensor& A, const at::Tensor& G);
at::Tensor hiResCamRaw(const at::Tensor& A, const at::Tensor& G);
at::Tensor eigenCamRaw(const at::Tensor& A);
// The terms T [B,C,h,w] a gradient method sums over channels (its raw map is T.sum(1)). Throws
// std::invalid_argument for a method that is not a gradient method.
at::Tensor gradientTerms(Method m, const at::Tensor& A, const at::Tensor& G);
// X [B,C,h,w] projected per image on its first principal component: positions as rows, channels
// as columns, each column centred; NaN counts as 0. The sign is chosen so that the larger of
// |max| and |min| is the maximum (pytorch-grad-cam's get_2d_projection_with_sign_correction).
// [B,h,w], computed in double, returned in X's type.
at::Tensor firstComponentProjection(const at::Tensor& X);
// Weighted sum with per-channel weights [B,C].
at::Tensor weightedSum(const at::Tensor& A, const at::Tensor& weights);

}  // namespace camx
