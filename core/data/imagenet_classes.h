#pragma once
// The 1000 ImageNet-1k class names in torchvision's order, which is the order of their sorted
// wnids (resources/imagenet_classes.txt, compiled in): a 1000-class TorchScript model without
// names of its own gets them, and so does an ImageNet validation folder without
// LOC_synset_mapping.txt.

#include <string>
#include <vector>

namespace camx {

const std::vector<std::string>& imageNetClassNames();

}  // namespace camx
