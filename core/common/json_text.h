#pragma once
// JSON text that never throws on strings that are not UTF-8. File and folder names on Linux are
// bytes, and nlohmann::json's dump() throws type_error.316 on invalid UTF-8: one odd file name
// would abort a whole evaluation. Invalid sequences become U+FFFD in the text instead.

#include <nlohmann/json.hpp>
#include <string>

namespace camx {

inline std::string jsonText(const nlohmann::json& j, int indent = -1) {
    return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace camx
