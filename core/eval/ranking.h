#pragma once
// Choosing images by how well a method localised them, from an evaluation's records: the explorer's
// grid export and `cam-explorer-cli export --worst/--best` rank with the same code.

#include <cstddef>
#include <functional>
#include <vector>

#include "eval/evaluator.h"

namespace camx {

// The split indices (ImageRecord::index) of the n images with the lowest (`worst`) or highest IoU
// for `method` at `tap` (read at methodTap(method, tap, lastBlockTap)); records without that score,
// images without ground-truth boxes (their IoU of 0 says nothing) and those whose split index
// `keep` refuses are left out. Ties keep split order.
std::vector<std::size_t> rankByIou(const std::vector<ImageRecord>& records, Method method, int tap,
                                   int lastBlockTap, std::size_t n, bool worst,
                                   const std::function<bool(std::size_t)>& keep = {});

}  // namespace camx
