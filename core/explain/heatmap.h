#pragma once
// Plain values for maps and explanation results: what the UI, the renderer and the evaluation
// use. No torch here.

#include <cstdint>
#include <string>
#include <vector>

namespace camx {

enum class Method {
    Cam,
    GradCam,
    GradCamPlusPlus,
    XGradCam,
    LayerCam,
    HiResCam,
    ScoreCam,
    EigenCam,
    FinerCam,  // Grad-CAM of the target against its nearest classes (ExplainOptions::finer*)
    // Baseline maps, not methods: scored beside the methods by the faithfulness metrics
    // (metrics/baseline_maps.h); never computed by the explainer, not in allMethods().
    RandomMap,
    CenterMap,
    SobelMap
};

std::string methodName(Method m);  // "Grad-CAM++"
std::string methodId(Method m);    // "gradcam++" (CLI, files, JSON)
bool parseMethod(const std::string& id, Method* out);
bool methodIsBaseline(Method m);  // random, center, sobel
const std::vector<Method>& allMethods();
// CAM keeps negative evidence (Zhou et al. min-max normalise the raw map); the gradient methods
// end in a ReLU.
bool methodUsesRelu(Method m);
// Methods that need gradients at their tap (one shared backward pass).
bool methodNeedsGradients(Method m);
// The tap a method's map is read at when `tap` is asked for: CAM is defined at the last block only
// (the class weights act on its channels); a baseline map at none (-1); every other method at the
// tap asked for.
inline int methodTap(Method m, int tap, int lastBlockTap) {
    return m == Method::Cam ? lastBlockTap : methodIsBaseline(m) ? -1 : tap;
}

// A single-channel float map, row-major.
struct Heatmap {
    int width = 0, height = 0;
    std::vector<float> data;

    bool empty() const { return data.empty(); }
    float at(int x, int y) const { return data[static_cast<std::size_t>(y) * width + x]; }
};

// What the network's score for a class is taken from: the paper's logit, or the course's
// post-softmax probability.
enum class ScoreKind { Logit, Probability };

struct ClassScore {
    int classIndex = -1;
    float probability = 0.f;
    float logit = 0.f;
};

}  // namespace camx
