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
};

struct MapResult {
    Method method;
    int tap;
    Heatmap raw;  // at feature resolution, before ReLU and normalisation
};

struct ImageExplanation {
    int target = -1;              // the class explained
    std::vector<ClassScore> top;  // best first
    std::vector<float> logits;    // every class
    std::vector<MapResult> maps;

    const Heatmap* find(Method m, int tap) const;
};

}  // namespace camx
