#pragma once
// What every dataset reader shares (internal to camx_data): the cheap image check, boxes into a
// sample with repairs reported, and the end of a load (optional decoding, counts, "nothing
// loaded").

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/image_header.h"

namespace camx::detail {

// A regular file with a JPEG or PNG header, a declared size within the pixel budget and (JPEG) an
// end marker. Returns the problem, or nothing; on success *header has the declared size.
std::optional<std::string> probeImage(const std::filesystem::path& path, ImageHeader* header);

// Whether an annotation's size is far from the image's own (a side off by more than 2x, also
// when swapped).
bool sizesDisagreeWildly(int aw, int ah, int iw, int ih);

// Sets s.width and s.height from s.imagePath's header (probeImage). When the image fails the
// probe, reports it skipped and returns false.
bool readSampleSize(Sample& s, LoadReport& report);

// Clips `raw` boxes to the sample's width x height into s.boxes. Clipped and dropped boxes are
// reported against `file`; when none remains the sample is reported skipped and false returned.
bool addSampleBoxes(Sample& s, const std::vector<Box>& raw, const std::string& file,
                    LoadReport& report);

// Decodes every sample at reduced scale on all cores; drops and reports those that fail.
void verifyImages(SplitData& split, const JobContext& job, const std::string& stage);

// Decodes the splits when options.verifyImages, sets each report's `loaded`, and throws
// DatasetError naming `dir` and the first problem when no split has a sample.
void finishDataset(Dataset& ds, const std::filesystem::path& dir, const OpenOptions& options);

// Runs fn(0) ... fn(n - 1) on every core, the calling thread included, which alone reports
// progress (`stage`) to options' job. `fn` must not throw (an exception is rethrown after every
// thread has stopped). Throws camx::Cancelled when the job is cancelled. Shared by the ImageNet
// and VOC readers, which parse thousands of small files.
void forEachOnAllCores(std::size_t n, const JobContext& job, const std::string& stage,
                       const std::function<void(std::size_t)>& fn);

}  // namespace camx::detail
