#include "common/csv_writer.h"

#include <csv.h>

#include <cstdio>

#include "common/fs_util.h"

namespace camx {

void CsvWriter::row(const std::vector<std::string>& fields) {
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (i) m_text.push_back(',');
        const std::string& f = fields[i];
        // Quote only when needed, so numeric columns stay plain for every CSV reader.
        if (f.find_first_of(",\"\n\r") == std::string::npos) {
            m_text += f;
            continue;
        }
        std::string buf(2 * f.size() + 2, '\0');
        const std::size_t n = csv_write(buf.data(), buf.size(), f.data(), f.size());
        buf.resize(n);
        m_text += buf;
    }
    m_text.push_back('\n');
}

void CsvWriter::save(const std::filesystem::path& path) const {
    writeFileAtomically(path, m_text);
}

std::string CsvWriter::number(double v, int precision) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    return buf;
}

}  // namespace camx
