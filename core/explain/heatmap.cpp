#include "explain/heatmap.h"

#include <cctype>

namespace camx {

namespace {
struct MethodRow {
    Method m;
    const char* name;
    const char* id;
    bool relu;
    bool grads;
};
const MethodRow kRows[] = {
    {Method::Cam, "CAM", "cam", false, false},
    {Method::GradCam, "Grad-CAM", "gradcam", true, true},
    {Method::GradCamPlusPlus, "Grad-CAM++", "gradcam++", true, true},
    {Method::XGradCam, "XGradCAM", "xgradcam", true, true},
    {Method::LayerCam, "LayerCAM", "layercam", true, true},
    {Method::HiResCam, "HiResCAM", "hirescam", true, true},
    {Method::ScoreCam, "Score-CAM", "scorecam", true, false},
    {Method::EigenCam, "Eigen-CAM", "eigencam", true, false},
    {Method::FinerCam, "Finer-CAM", "finercam", true, true},
    {Method::RandomMap, "Random", "random", false, false},
    {Method::CenterMap, "Center", "center", false, false},
    {Method::SobelMap, "Sobel", "sobel", false, false},
};
const MethodRow& row(Method m) {
    for (const auto& r : kRows)
        if (r.m == m) return r;
    return kRows[0];
}
}  // namespace

std::string methodName(Method m) {
    return row(m).name;
}
std::string methodId(Method m) {
    return row(m).id;
}
bool methodUsesRelu(Method m) {
    return row(m).relu;
}
bool methodNeedsGradients(Method m) {
    return row(m).grads;
}

bool methodIsBaseline(Method m) {
    return m == Method::RandomMap || m == Method::CenterMap || m == Method::SobelMap;
}

bool parseMethod(const std::string& id, Method* out) {
    std::string lower;
    for (char c : id)
        lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    for (const auto& r : kRows) {
        std::string name;
        for (const char* p = r.name; *p; ++p)
            name.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(*p))));
        if (lower == r.id || lower == name) {
            *out = r.m;
            return true;
        }
    }
    return false;
}

const std::vector<Method>& allMethods() {
    static const std::vector<Method> v = {
        Method::Cam,      Method::GradCam,  Method::GradCamPlusPlus,
        Method::XGradCam, Method::LayerCam, Method::HiResCam,
        Method::FinerCam, Method::ScoreCam, Method::EigenCam};
    return v;
}

}  // namespace camx
