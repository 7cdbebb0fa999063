#pragma once
// What an explanation request asks for and what comes back: plain values, no torch.

#include <vector>

#include "explain/heatmap.h"

namespace camx {

struct ExplainOptions {
    std::vector<Method> methods{Method::Cam, Method::GradCam};
    std::vector<int>
        taps;  // tap ids; empty means the last block. CAM exists at the last block only.
    ScoreKind score = ScoreKind::Logit;
    int topK = 5;
    int scoreCamBatch = 32;
    int scoreCamMaxChannels = 0;  // 0: every channel, as in the paper
    // The plain torch::nn network (batch norm unfolded, autograd through the whole backbone)
    // instead of the inference form: slower, for checking the fast path against it.
    bool referencePath = false;
    // Computes the backbone in bfloat16 (the inference form only). Maps are no longer exact to
    // fp32 rounding; the README states how far they move.
    bool bf16 = false;

    // Finer-CAM (Zhang et al., CVPR 2025), as pytorch-grad-cam's FinerCAM with its default base
    // method, Grad-CAM: Grad-CAM of the score
    //     s = sum_j p_j (y_t - alpha y_j) / (sum_j p_j + 1e-9)   (FinerWeightedTarget)
    // where y are the logits, p = softmax(y), t the target and j runs over the comparison
    // classes: those at `finerCompare`'s ranks when every class is sorted by |y_j - y_t| (rank 0
    // is the target itself, rank 1 the class whose logit is nearest to it; equal distances go to
    // the lower class index). The probabilities are part of the score (their gradient counts,
    // as upstream). `score` does not apply: the score is always this one, on the logits.
    // alpha = 0 gives Grad-CAM of the target logit, up to the 1e-9.
    double finerAlpha = 1.0;
    // Ranks 1 .. classes - 1 (a repeated rank counts twice, as in upstream's sum). Empty:
    // pytorch-grad-cam's default [1, 2, 3], as far as the model has other classes.
    std::vector<int> finerCompare;

    // Both as pytorch-grad-cam's options, for every gradient method (the Grad-CAM family, LayerCAM,
    // HiResCAM, Finer-CAM); CAM, Score-CAM and Eigen-CAM ignore them.
    //
    // augSmooth (its aug_smooth): the map is computed for six versions of the input, every
    // combination of {as is, flipped left-right} and {x 0.9, x 1, x 1.1} (ttach's HorizontalFlip
    // and Multiply([0.9, 1, 1.1]), applied to the normalised input), each map brought back
    // (flipped again) and normalised as pytorch-grad-cam returns it (ReLU and min-max, twice),
    // and the six averaged. The class explained, and Finer-CAM's comparison classes, are the
    // unaugmented input's for all six. Costs five more network passes.
    bool augSmooth = false;
    // eigenSmooth (its eigen_smooth): instead of summing a method's weighted activations over
    // the channels (a_k A_k, relu(G) A, G A), project them on their first principal component
    // per image (positions as rows, channels centred), oriented as Eigen-CAM is: the stronger
    // extreme positive. pytorch-grad-cam leaves the sign to the SVD routine; its own
    // get_2d_projection_with_sign_correction orients it the same way as here.
    bool eigenSmooth = false;
};

struct MapResult {
    Method method;
    int tap;
    // At feature resolution, before ReLU and normalisation. With augSmooth (gradient methods):
    // the mean of the six augmented maps, each after its ReLU and normalisation.
    Heatmap raw;
};

struct ImageExplanation {
    int target = -1;              // the class explained
    std::vector<ClassScore> top;  // best first
    std::vector<float> logits;    // every class
    std::vector<MapResult> maps;
    // Finer-CAM's comparison classes, in the order of its ranks (ExplainOptions::finerCompare or
    // the default); empty when Finer-CAM was not asked for.
    std::vector<int> finerClasses;

    const Heatmap* find(Method m, int tap) const;
};

}  // namespace camx
