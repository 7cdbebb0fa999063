#pragma once
// What the window knows about a model file before and after it is opened: whether it is a
// TorchScript model (code CAM Explorer will run, so the user decides whether to trust it) and
// whether it says what input it takes; which locations the user's own files live in; and the
// answers the user gave, remembered per file (QSettings).

#include <QString>
#include <filesystem>
#include <optional>

#include "nn/keras_preprocess.h"
#include "nn/script_meta.h"

namespace camx::ui {

struct ModelFileProbe {
    bool torchScript = false;  // a user's TorchScript model (not a CAM Explorer checkpoint)
    bool hasMetadata = false;  // it carries camx.json (input size, normalisation, ...)
};

// Reads the zip directory at the end of `file` (and its small data.pkl record), never the whole
// file: cheap, but I/O, so call it on a worker thread. A file that is not a readable zip is
// reported as no TorchScript model (opening it reports what is wrong with it).
ModelFileProbe probeModelFile(const std::filesystem::path& file);

// The file names a TorchScript model usually has (*.pt is shared with torch.save weights).
bool hasTorchScriptSuffix(const QString& file);
// Every suffix a model may have (the open dialog, drag and drop): ckpt, pth, pt, pts, torchscript,
// h5, keras.
bool hasModelSuffix(const QString& file);
// A Keras model's names: .h5, .hdf5, .keras.
bool hasKerasSuffix(const QString& file);

// Under the user's home folder, and not in Downloads or a temporary folder.
bool isInUserFolders(const QString& file);
// A TorchScript model at this path opens without asking: in the user's own folders, or the user
// said so for this file or its folder.
bool isTrustedModelLocation(const QString& file);
void trustModelFile(const QString& file);
void trustModelFolder(const QString& folder);

// What the user said a TorchScript model takes (the Model Input dialog), per absolute path.
std::optional<ScriptMeta> rememberedModelInput(const QString& file);
void rememberModelInput(const QString& file, const ScriptMeta& input);
void forgetModelInput(const QString& file);

// The preprocessing the user chose for a Keras model, per absolute path.
std::optional<KerasPreprocess> rememberedKerasPreprocess(const QString& file);
void rememberKerasPreprocess(const QString& file, KerasPreprocess p);

}  // namespace camx::ui
