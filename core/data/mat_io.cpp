#include "data/mat_io.h"

#include <matio.h>

#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "common/fs_util.h"

namespace camx {

namespace {
thread_local std::string t_lastMessage;

void matioLog(int level, char* message) {
    // Keep the message for the caller's error text instead of printing it to stderr.
    if (message) t_lastMessage = message;
    (void)level;
}

struct MatCloser {
    void operator()(mat_t* m) const {
        if (m) Mat_Close(m);
    }
};
}  // namespace

std::string lastMatioMessage() {
    return t_lastMessage;
}

void initMatio() {
    static std::once_flag once;
    std::call_once(once, [] { Mat_LogInitFunc("cam-explorer", matioLog); });
}

void writeMatFile(const std::filesystem::path& path, const std::vector<MatStringColumn>& cells,
                  const std::vector<MatNumberColumn>& columns) {
    initMatio();
    writeFileAtomically(path, [&](const std::filesystem::path& tmp) {
        // A fixed header text: matio's default holds the creation time, which would make two
        // runs with the same demo seed write different bytes.
        std::unique_ptr<mat_t, MatCloser> mat(
            Mat_CreateVer(tmp.c_str(), kMatHeaderText, MAT_FT_MAT5));
        if (!mat) throw std::runtime_error("matio cannot create the file: " + lastMatioMessage());
        for (const auto& col : cells) {
            size_t dims[2] = {col.values.size(), 1};
            matvar_t* cell =
                Mat_VarCreate(col.name.c_str(), MAT_C_CELL, MAT_T_CELL, 2, dims, nullptr, 0);
            if (!cell) throw std::runtime_error("matio cannot create a cell array");
            for (size_t i = 0; i < col.values.size(); ++i) {
                const std::string& s = col.values[i];
                size_t sdims[2] = {1, s.size()};
                // matio copies the data, so the string may go out of scope afterwards.
                matvar_t* str = Mat_VarCreate(nullptr, MAT_C_CHAR, MAT_T_UINT8, 2, sdims,
                                              const_cast<char*>(s.data()), 0);
                Mat_VarSetCell(cell, static_cast<int>(i), str);
            }
            int rc = Mat_VarWrite(mat.get(), cell, MAT_COMPRESSION_NONE);
            Mat_VarFree(cell);
            if (rc != 0) throw std::runtime_error("matio cannot write '" + col.name + "'");
        }
        for (const auto& col : columns) {
            size_t dims[2] = {col.values.size(), 1};
            matvar_t* v = Mat_VarCreate(col.name.c_str(), MAT_C_DOUBLE, MAT_T_DOUBLE, 2, dims,
                                        const_cast<double*>(col.values.data()), 0);
            if (!v) throw std::runtime_error("matio cannot create '" + col.name + "'");
            int rc = Mat_VarWrite(mat.get(), v, MAT_COMPRESSION_NONE);
            Mat_VarFree(v);
            if (rc != 0) throw std::runtime_error("matio cannot write '" + col.name + "'");
        }
    });
}

}  // namespace camx
