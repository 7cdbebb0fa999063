#pragma once
// CSV output with proper quoting (libcsv), collected in memory and written atomically.

#include <filesystem>
#include <string>
#include <vector>

namespace camx {

class CsvWriter {
public:
    void row(const std::vector<std::string>& fields);
    const std::string& text() const { return m_text; }
    void save(const std::filesystem::path& path) const;  // atomic

    static std::string number(double v, int precision = 6);

private:
    std::string m_text;
};

}  // namespace camx
