#include "nn/script_meta.h"

#include "data/imagenet_classes.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <sstream>

namespace camx {

namespace {
using json = nlohmann::json;

[[noreturn]] void bad(const std::string& source, const std::string& what) {
    throw ScriptMetaError("'" + source + "' has unusable metadata (" + kScriptMetaFile +
                          "): " + what);
}

std::array<float, 3> rgbTriple(const json& j, const char* key, const std::string& source,
                               bool positive) {
    if (!j.is_array() || j.size() != 3)
        bad(source, std::string("\"") + key + "\" must be a list of 3 numbers (R, G, B)");
    std::array<float, 3> out{};
    for (std::size_t i = 0; i < 3; ++i) {
        if (!j[i].is_number()) bad(source, std::string("\"") + key + "\" holds a non-number");
        const double v = j[i].get<double>();
        if (!std::isfinite(v) || std::abs(v) > 1e4 || (positive && v <= 0))
            bad(source, std::string("\"") + key + "\" holds " + j[i].dump() +
                            (positive ? " (must be a positive number)" : ""));
        out[i] = static_cast<float>(v);
    }
    return out;
}

int positiveInt(const json& j, const char* key, const std::string& source, int lo, int hi) {
    if (!j.is_number_integer())
        bad(source, std::string("\"") + key + "\" must be a whole number, not " + j.dump());
    const auto v = j.get<long long>();
    if (v < lo || v > hi)
        bad(source, std::string("\"") + key + "\" is " + std::to_string(v) + "; it must be " +
                        std::to_string(lo) + " to " + std::to_string(hi));
    return static_cast<int>(v);
}
}  // namespace

std::string mapLayoutName(MapLayout l) {
    switch (l) {
        case MapLayout::Nchw:
            return "nchw";
        case MapLayout::Nhwc:
            return "nhwc";
        case MapLayout::Auto:
            break;
    }
    return "auto";
}

std::optional<MapLayout> parseMapLayout(const std::string& name) {
    if (name == "auto") return MapLayout::Auto;
    if (name == "nchw") return MapLayout::Nchw;
    if (name == "nhwc") return MapLayout::Nhwc;
    return std::nullopt;
}

ScriptMeta parseScriptMeta(const std::string& text, const std::string& source) {
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) {
        bad(source, std::string("not JSON: ") + e.what());
    }
    if (!j.is_object()) bad(source, "not a JSON object");
    const auto fmt = j.find("format");
    if (fmt == j.end() || !fmt->is_string())
        bad(source, std::string("no \"format\": \"") + kScriptMetaFormat + "\"");
    if (fmt->get<std::string>() != kScriptMetaFormat)
        bad(source, "format " + fmt->dump() + " is not " + kScriptMetaFormat +
                        " (written by a newer CAM Explorer?)");
    ScriptMeta m;
    for (const auto& [key, v] : j.items()) {
        if (key == "format") continue;
        if (key == "class_names") {
            if (!v.is_array()) bad(source, "\"class_names\" must be a list of strings");
            for (const auto& n : v) {
                if (!n.is_string()) bad(source, "\"class_names\" holds " + n.dump());
                m.classNames.push_back(n.get<std::string>());
            }
            if (m.classNames.empty()) bad(source, "\"class_names\" is empty");
        } else if (key == "input_size") {
            int h = 0, w = 0;
            if (v.is_number_integer()) {
                h = w = positiveInt(v, "input_size", source, 8, 4096);
            } else if (v.is_array() && v.size() == 2) {
                h = positiveInt(v[0], "input_size", source, 8, 4096);
                w = positiveInt(v[1], "input_size", source, 8, 4096);
            } else {
                bad(source, "\"input_size\" must be [height, width]");
            }
            if (h != w)
                bad(source, "input size " + std::to_string(h) + "x" + std::to_string(w) +
                                " is not square; CAM Explorer feeds square images");
            m.inputSize = h;
        } else if (key == "mean") {
            m.mean = rgbTriple(v, "mean", source, false);
        } else if (key == "std") {
            m.std = rgbTriple(v, "std", source, true);
        } else if (key == "layout") {
            const auto l = v.is_string() ? parseMapLayout(v.get<std::string>()) : std::nullopt;
            if (!l) bad(source, "\"layout\" must be \"auto\", \"nchw\" or \"nhwc\"");
            m.layout = *l;
        } else if (key == "prefix_tokens") {
            m.prefixTokens = positiveInt(v, "prefix_tokens", source, 0, 64);
        } else if (key == "patch_grid") {
            if (!v.is_array() || v.size() != 2) bad(source, "\"patch_grid\" must be [h, w]");
            m.patchGrid = std::array<int, 2>{positiveInt(v[0], "patch_grid", source, 1, 1024),
                                             positiveInt(v[1], "patch_grid", source, 1, 1024)};
        }
        // Unknown keys are left alone: a later version may add some.
    }
    return m;
}

std::string scriptMetaToJson(const ScriptMeta& m) {
    json j;
    j["format"] = kScriptMetaFormat;
    if (!m.classNames.empty()) j["class_names"] = m.classNames;
    if (m.inputSize) j["input_size"] = {*m.inputSize, *m.inputSize};
    if (m.mean) j["mean"] = {(*m.mean)[0], (*m.mean)[1], (*m.mean)[2]};
    if (m.std) j["std"] = {(*m.std)[0], (*m.std)[1], (*m.std)[2]};
    if (m.layout != MapLayout::Auto) j["layout"] = mapLayoutName(m.layout);
    if (m.prefixTokens) j["prefix_tokens"] = *m.prefixTokens;
    if (m.patchGrid) j["patch_grid"] = {(*m.patchGrid)[0], (*m.patchGrid)[1]};
    return j.dump(2);
}

}  // namespace camx
