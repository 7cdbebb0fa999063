#include "data/table_file.h"

#include <csv.h>

#include <charconv>
#include <cmath>

#include "data/dataset.h"
#include "data/safe_file.h"

namespace camx {

namespace {
struct Collect {
    std::vector<TableRow> rows;
    std::vector<std::string> fields;
};

void onField(void* data, std::size_t len, void* user) {
    auto* c = static_cast<Collect*>(user);
    c->fields.emplace_back(static_cast<const char*>(data), len);
}

void onRow(int /*terminator*/, void* user) {
    auto* c = static_cast<Collect*>(user);
    TableRow r;
    r.number = c->rows.size() + 1;
    r.fields = std::move(c->fields);
    c->fields.clear();
    c->rows.push_back(std::move(r));
}
}  // namespace

std::vector<TableRow> parseTable(const std::string& text, char delimiter,
                                 const std::string& source) {
    csv_parser p;
    // Strict: a quote inside an unquoted field is an error, as is an unclosed quote at the end.
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0)
        throw DatasetError("'" + source + "': cannot start the CSV parser");
    csv_set_delim(&p, static_cast<unsigned char>(delimiter));
    Collect c;
    const std::size_t n = csv_parse(&p, text.data(), text.size(), onField, onRow, &c);
    const bool ok = n == text.size() && csv_fini(&p, onField, onRow, &c) == 0;
    const std::string error = ok ? std::string() : csv_strerror(csv_error(&p));
    csv_free(&p);
    if (!ok)
        throw DatasetError("'" + source + "' is not valid delimited text (" + error +
                           ") near row " + std::to_string(c.rows.size() + 1));
    return std::move(c.rows);
}

std::vector<TableRow> readTableFile(const std::filesystem::path& path, char delimiter,
                                    std::uintmax_t maxBytes) {
    std::string text, why;
    if (!readRegularFile(path, maxBytes, true, text, why))
        throw DatasetError("'" + path.string() + "' " + why);
    return parseTable(text, delimiter, path.string());
}

std::optional<long> tableInteger(const std::string& field) {
    long v = 0;
    const char* end = field.data() + field.size();
    const auto r = std::from_chars(field.data(), end, v);
    if (field.empty() || r.ec != std::errc() || r.ptr != end) return std::nullopt;
    return v;
}

std::optional<double> tableNumber(const std::string& field) {
    double v = 0;
    const char* end = field.data() + field.size();
    const auto r = std::from_chars(field.data(), end, v);
    if (field.empty() || r.ec != std::errc() || r.ptr != end || !std::isfinite(v))
        return std::nullopt;
    return v;
}

}  // namespace camx
