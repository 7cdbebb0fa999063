#pragma once
// Reading the weights of a Keras model file, with the HDF5 C library and libarchive. No torch:
// plain arrays in, plain arrays out; nn/keras_import.h turns them into a network.
//
// Formats read:
//   - Keras 2 HDF5 from model.save("x.h5"): the layer groups under /model_weights, each with a
//     weight_names attribute ("conv1_conv/kernel:0"); the architecture in the root's
//     model_config attribute (JSON). A nested model ("resnet50" inside a Sequential) is one group
//     whose weight names carry the inner layers' names.
//   - Keras 2 HDF5 from model.save_weights("x.h5"): the same layer groups at the root, no config.
//   - Keras 3 .keras archives: a zip holding config.json and model.weights.h5, whose variables sit
//     at layers/<snake_case class name, numbered in layer order>/vars/<i> (Keras 3's saving_lib);
//     the layer each path belongs to is found by walking config.json the way Keras does.
//
// Untrusted input: every size and shape is checked before anything is allocated from it, and
// HDF5's own error printing is off (its error stack becomes the message). libhdf5 1.10 parses the
// file's structures itself, in a child process; see README "Keras models" for what fuzzing found.

#include <cstdint>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace camx {

// The file is not a Keras model this program reads. The message names the file and the fault.
class KerasModelError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct KerasArray {
    std::vector<int64_t> shape;  // as stored: kernels HWIO, Dense kernels [in, out]
    std::vector<float> values;   // row-major
};

struct KerasLayer {
    std::string name;       // the Keras layer name ("conv1_conv")
    std::string className;  // from the config ("Conv2D"); empty without one
    // Variables by short name: "kernel", "bias", "gamma", "beta", "moving_mean",
    // "moving_variance" (Keras 2 suffixes like ":0" dropped).
    std::map<std::string, KerasArray> vars;
};

struct KerasFile {
    enum class Format { Keras2Model, Keras2Weights, Keras3Archive };
    Format format = Format::Keras2Model;
    std::string kerasVersion;             // what the file says, may be empty
    std::string modelConfig;              // the architecture as JSON; empty when the file has none
    std::vector<KerasLayer> layers;       // every layer with weights, nested models flattened
    std::vector<std::string> containers;  // nested models holding layers ("resnet50")

    const KerasLayer* find(const std::string& name) const;
};

std::string kerasFormatName(KerasFile::Format f);  // "Keras 2 HDF5 model", ...

// Whether `bytes` (a file's content, `path` its name) is meant as a Keras model: an HDF5
// signature, or a zip named .keras or holding config.json next to model.weights.h5.
bool looksLikeKerasFile(const std::filesystem::path& path, const std::string& bytes);

// Reads the weights (and the config when there is one). `where` names the file in messages.
// Throws KerasModelError. libhdf5 runs in a child process (fork): its crashes and hangs on
// damaged files (README "Keras models") become a KerasModelError, and a read that takes more
// than two minutes of CPU time is stopped.
KerasFile readKerasFile(const std::string& bytes, const std::string& where);
// The same in this process, libhdf5's faults included: for the fuzzer, which must see them.
KerasFile readKerasFileInProcess(const std::string& bytes, const std::string& where);

}  // namespace camx
