#pragma once
// Thin RAII helpers over matio, shared by the list reader and the demo writer.

#include <filesystem>
#include <string>
#include <vector>

namespace camx {

// The last message matio logged on this thread (matio reports problems through a log hook).
std::string lastMatioMessage();
// Installs the log hook once; every matio user calls this first.
void initMatio();

// The descriptive text at the start of every MAT file written here (matio pads it to 116 bytes).
// Fixed, so the same content always gives the same bytes.
inline constexpr const char* kMatHeaderText = "MATLAB 5.0 MAT-file, written by CAM Explorer";

// Writes a MATLAB level-5 file with a cell column of strings per `cells` entry and a double
// column per `columns` entry, the shapes train_list.mat uses.
struct MatStringColumn {
    std::string name;
    std::vector<std::string> values;
};
struct MatNumberColumn {
    std::string name;
    std::vector<double> values;
};
void writeMatFile(const std::filesystem::path& path, const std::vector<MatStringColumn>& cells,
                  const std::vector<MatNumberColumn>& columns);

}  // namespace camx
