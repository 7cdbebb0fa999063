// Fuzzes the metadata table parser (libcsv behind parseTable) that the CUB and wsolevaluation
// readers use, with both of their delimiters, and the whole-field number readers on every field:
// any bytes give rows or a DatasetError.
#include <cstddef>
#include <cstdint>
#include <string>

#include "data/dataset.h"
#include "data/table_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    for (const char delimiter : {',', ' '}) {
        try {
            std::size_t fields = 0;
            for (const auto& row : camx::parseTable(text, delimiter, "fuzz.txt")) {
                if (row.number == 0) __builtin_trap();
                for (const auto& f : row.fields) {
                    fields += f.size();
                    (void)camx::tableInteger(f);
                    (void)camx::tableNumber(f);
                }
            }
            if (fields > size) __builtin_trap();  // fields are pieces of the input
        } catch (const camx::DatasetError&) {
        }
    }
    return 0;
}
