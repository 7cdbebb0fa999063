#pragma once
// How alike two maps of the same size are: the two measures of Adebayo et al., "Sanity Checks
// for Saliency Maps" (NeurIPS 2018), for comparing an explanation with the one a randomised
// model gives (explain/sanity.h). Pure C++, computed in double precision.
//
// Sign: the paper reports both, the rank correlation "with absolute values" (ABS) and "without"
// (No ABS); the maps in its cascading-randomisation figures are absolute values, and its
// similarity panels lead with the ABS correlation, so `absolute` is the default: each map is
// replaced by its absolute value first. Raw maps (absolute = false) keep the sign. A CAM-family
// raw map is signed before its ReLU, so the two differ there.
//
// Spearman rank correlation, as scipy.stats.spearmanr(a.ravel(), b.ravel()): the Pearson
// correlation of the ranks, tied values sharing their average rank. NaN when either map is
// constant (every rank tied) or holds a NaN, as scipy gives (nan_policy='propagate').
//
// SSIM, as skimage.metrics.structural_similarity(a, b, data_range=1) with its defaults, after
// each map is min-max normalised to [0, 1] ((m - min) / (max - min); a constant map becomes all
// zeros, where Adebayo's normalisation would divide by zero):
//   - window: 7x7 uniform (gaussian_weights=False, win_size=7), at every position where it lies
//     wholly inside the map: skimage filters the whole map and then crops (7-1)/2 = 3 pixels
//     from each border before averaging, so border values never enter;
//   - K1 = 0.01, K2 = 0.03, data_range L = 1: C1 = (K1 L)^2, C2 = (K2 L)^2;
//   - per window: mu = the window mean, and skimage's default use_sample_covariance=True: the
//     variances and the covariance are the sample ones, divided by N - 1 = 48 (its
//     cov_norm = N / (N - 1) applied to E[xy] - E[x]E[y]), not the population's N;
//   - SSIM = (2 mu_a mu_b + C1)(2 cov_ab + C2) / ((mu_a^2 + mu_b^2 + C1)(var_a + var_b + C2)),
//     averaged over the windows.
// The window must be odd, at least 3 and fit the map: skimage raises ValueError otherwise (and
// divides by zero at 1), and so does this (std::invalid_argument). A NaN in either map gives NaN.
// Feature-resolution CAM maps (7x7 for a ResNet at 224 px) hold one window; Adebayo's maps are at
// input resolution, so compare maps upsampled to the image where that is the question.

#include <cstddef>

#include "explain/heatmap.h"

namespace camx {

struct SimilarityOptions {
    bool absolute = true;  // compare |a| and |b| (the paper's ABS); false: the signed maps
    int ssimWindow = 7;    // odd, 3 or more, at most the map's smaller side
};

// Both throw std::invalid_argument when the maps differ in size or are empty.
double spearmanCorrelation(const Heatmap& a, const Heatmap& b, const SimilarityOptions& o = {});
double ssim(const Heatmap& a, const Heatmap& b, const SimilarityOptions& o = {});

// The same on plain arrays: `n` values each; row-major `height` x `width` maps for SSIM.
double spearmanCorrelation(const float* a, const float* b, std::size_t n, bool absolute);
double ssim(const float* a, const float* b, int width, int height, bool absolute, int window = 7);

}  // namespace camx
