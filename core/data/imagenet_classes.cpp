#include "data/imagenet_classes.h"

#include <sstream>

namespace camx {

extern const char* const kImageNetClassesText;  // generated from resources/imagenet_classes.txt

const std::vector<std::string>& imageNetClassNames() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        std::istringstream in(kImageNetClassesText);
        for (std::string line; std::getline(in, line);)
            if (!line.empty()) out.push_back(line);
        return out;
    }();
    return names;
}

}  // namespace camx
