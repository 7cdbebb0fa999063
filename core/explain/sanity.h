#pragma once
// The sanity check by model parameter randomisation (Adebayo et al., "Sanity Checks for Saliency
// Maps", NeurIPS 2018): a method whose maps barely change when the model's learnt weights are
// replaced by random ones does not explain the model. Plain values, no torch: the cascade itself
// runs in ModelSession::explainRandomized; the similarity measures are metrics/similarity.h.
//
// Cascading randomisation, from the top down as in the paper (logits first, then successive
// layers towards the input), cumulative: step 0 re-initialises the classifier (a CamNet's fc,
// a TorchScript model's head: every parameter the forward pass uses after its last block);
// step 1 also the last block; step 2 also the block before; ...; the last step also the stem
// and every parameter still untouched, so it is a fully re-initialised network. Layers get
// their type's default initialiser in a seeded generator (nn/reinit.h): the same seed gives the
// same weights, and a layer gets the same random weights at every step that includes it.
//
// The steps, per kind of model:
//   - our ResNets (CamNet): "fc", then the block taps from the last to the first ("layer4.1",
//     ..., "layer1.0"; a block's downsample goes with it), then "stem" (conv1, bn1).
//   - a TorchScript model: its listed blocks (ModelInfo::blockTaps, ScriptedNet::blockTaps)
//     from the output back. Every module holding parameters or buffers of its own is placed by
//     the first tensor operation its path (or a path below it) runs in the forward graph, and
//     belongs to the step of the first block whose output does not come before that place: a
//     block's own layers (its path's prefix) go with it, and layers between blocks (a layer that
//     is no block) with the block after them. A module the graph never enters (MultiheadAttention
//     uses its out_proj's weights itself) takes the place of the nearest module above it that the
//     graph does enter. The head step is every module placed after the last block's output,
//     labelled with their common path prefix ("classifier") or "head"; the last step, "stem",
//     is everything placed before the first block plus what has no place (parameters held by the
//     model itself, such as a ViT's class token; an auxiliary head forward never runs). A step
//     that would re-initialise nothing (a block nested in another ends after its inner blocks and
//     holds nothing of its own) is left out.
//     A model whose blocks are unlisted (a flat Sequential such as VGG's features) has as blocks
//     the last layer at each resolution (ScriptedNet's fallback), so its steps are resolution
//     stages: every layer from one stage's output back to the previous one's. A model whose
//     layers have no place in its graph (maps returned in a dict) gets one step, "all".
//
// The randomised models explain the ORIGINAL model's class for each image (as the paper: the
// same class), never their own prediction: a target of -1 means the original's prediction.
//
// The maps come back raw, as explainPrepared gives them: at feature resolution, before any ReLU
// or normalisation. Whoever compares them decides what to compare (methodUsesRelu's ReLU,
// upsampling to the image for SSIM's 7x7 window; metrics/similarity.h takes absolute values by
// default).
//
// Cost: one explanation of the batch per step asked for. A CamNet copy is re-initialised step
// by step in place; a TorchScript model's randomised copy is deep-copied and prepared again
// (frozen, probed) for every step asked for.

#include <cstdint>
#include <string>
#include <vector>

#include "explain/explanation.h"

namespace camx {

// One step of the cascade: what it re-initialises on top of every earlier step.
struct CascadeStep {
    std::string label;                 // "fc", "layer4.1", ..., "stem"; a block's tap name
    std::vector<std::string> modules;  // module paths newly re-initialised ("layer4.1.conv1")
};

struct SanityOptions {
    // Methods, taps, score and precision, as for ModelSession::explainPrepared. Empty `taps`
    // means the original model's default tap, for the randomised models too.
    ExplainOptions explain;
    std::uint64_t seed = 0;
    // The steps to explain (indices into ModelSession::randomizationCascade()); empty: every
    // step. Randomisation stays cumulative: step k includes steps 0..k-1 either way.
    std::vector<int> steps;
    // Whether to explain the original model too (SanityResult::original). A caller that has its
    // maps already (the evaluation) turns it off and passes every class explicitly (no -1).
    bool explainOriginal = true;
};

struct SanityStep {
    int index = 0;  // position in the cascade
    CascadeStep step;
    // Per image: the randomised model's logits and raw maps for the original's class (`target`
    // is the original's), in the order the original's maps are in.
    std::vector<ImageExplanation> explanations;
};

struct SanityResult {
    std::vector<ImageExplanation> original;  // the unchanged model's, as explainPrepared gives
                                             // (empty without SanityOptions::explainOriginal)
    std::vector<SanityStep> steps;           // in cascade order
};

}  // namespace camx
