#pragma once
// Delimited text tables of dataset metadata (CUB's space-separated lists, wsolevaluation's
// comma-separated metadata, ImageNet's CSV), parsed with libcsv: quoting, CR LF line ends and
// empty lines are handled as CSV readers do. Read through safe_file, so a FIFO cannot hang it.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace camx {

struct TableRow {
    std::size_t number = 0;  // 1-based, counting non-empty rows
    std::vector<std::string> fields;
};

// Every non-empty row of `path`, fields split at `delimiter`. Throws DatasetError naming the file
// when it cannot be read, is larger than `maxBytes`, or is not valid delimited text (an unclosed
// quote).
std::vector<TableRow> readTableFile(const std::filesystem::path& path, char delimiter,
                                    std::uintmax_t maxBytes = 512u << 20);

// The same on text in memory; `source` names it in messages.
std::vector<TableRow> parseTable(const std::string& text, char delimiter,
                                 const std::string& source);

// A whole field as a number (no sign of anything else around it, no locale): "12", "-3";
// "60.5", "1e2" for tableNumber. Nothing when the field is not one.
std::optional<long> tableInteger(const std::string& field);
std::optional<double> tableNumber(const std::string& field);

}  // namespace camx
