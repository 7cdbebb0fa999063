#pragma once
// What a TorchScript model file may say about itself (its "camx.json" extra file), and what the
// user may say instead (dialog or CLI flags). Plain values, no torch.
//
// The extra file, written by tools/camx_export.py or by hand with
//   m.save("m.pt", _extra_files={"camx.json": json.dumps({...})})
// holds, every key optional except "format":
//   {"format": "camx-model/1",
//    "class_names": ["tench", ...],       class names, in output order
//    "input_size": [224, 224],            [height, width]; square inputs only
//    "mean": [0.485, 0.456, 0.406],       RGB, on 0..1 pixel values
//    "std": [0.229, 0.224, 0.225],
//    "layout": "auto",                    4-D layer outputs: "auto", "nchw" or "nhwc" (Swin)
//    "prefix_tokens": 1,                  transformers: tokens before the patch grid (class token)
//    "patch_grid": [14, 14]}              transformers: the token grid [h, w]

#include <array>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace camx {

inline constexpr const char* kScriptMetaFile = "camx.json";
inline constexpr const char* kScriptMetaFormat = "camx-model/1";

enum class MapLayout { Auto, Nchw, Nhwc };

struct ScriptMeta {
    std::vector<std::string> classNames;
    std::optional<int> inputSize;  // square side, pixels
    std::optional<std::array<float, 3>> mean, std;
    MapLayout layout = MapLayout::Auto;
    std::optional<int> prefixTokens;
    std::optional<std::array<int, 2>> patchGrid;

    bool empty() const {
        return classNames.empty() && !inputSize && !mean && !std && layout == MapLayout::Auto &&
               !prefixTokens && !patchGrid;
    }
    // Every field `o` sets replaces this one's.
    void overrideWith(const ScriptMeta& o) {
        if (!o.classNames.empty()) classNames = o.classNames;
        if (o.inputSize) inputSize = o.inputSize;
        if (o.mean) mean = o.mean;
        if (o.std) std = o.std;
        if (o.layout != MapLayout::Auto) layout = o.layout;
        if (o.prefixTokens) prefixTokens = o.prefixTokens;
        if (o.patchGrid) patchGrid = o.patchGrid;
    }
};

class ScriptMetaError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Parses the extra file's text. Throws ScriptMetaError naming `source` and the faulty key.
ScriptMeta parseScriptMeta(const std::string& jsonText, const std::string& source);
std::string scriptMetaToJson(const ScriptMeta& meta);

std::string mapLayoutName(MapLayout l);  // "auto", "nchw", "nhwc"
std::optional<MapLayout> parseMapLayout(const std::string& name);

}  // namespace camx

namespace camx {

// A TorchScript model file that cannot be used: the message names the file and the fault.
class ScriptModelError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace camx
