#pragma once
// How the views name what a dataset is: its format, its splits and its load report, and the split
// pickers (browser, dashboard), which offer only the splits a dataset has.

#include <QString>
#include <string>
#include <vector>

#include "data/dataset.h"

class QComboBox;

namespace camx::ui {

// "Stanford Dogs", "CUB-200-2011", "wsolevaluation metadata (CUB)", "ImageNet validation",
// "PASCAL VOC", "image folder"; "automatic detection" for Auto. `benchmark` names a wsolevaluation
// dataset's benchmark (Dataset::benchmark).
QString formatDisplayName(DatasetFormat format, const std::string& benchmark = {});
QString formatDisplayName(const Dataset& dataset);
// What a folder of the format holds, for the open dialog.
QString formatDescription(DatasetFormat format);
// Every format the open dialog offers, Auto first.
std::vector<DatasetFormat> allDatasetFormats();

// "test", "validation", "training".
QString splitDisplayName(SplitKind split);
// The splits a picker offers for `dataset`: test always; validation and training only where the
// dataset has images in them (without a dataset: test and training, as before one is open).
std::vector<SplitKind> offeredSplits(const Dataset* dataset);
// Refills `combo` with offeredSplits() ("Test split", ...; item data: int(SplitKind)) and selects
// `current`, or test when it is not offered. Emits no signal.
void fillSplitCombo(QComboBox* combo, const Dataset* dataset, SplitKind current);

// The split the user last chose in a picker (QSettings "browser/split"; test by default).
SplitKind rememberedSplit();
void rememberSplit(SplitKind split);

// "1 class", "200 classes"; "1 image", "40 images"; "1 issue", "3 issues" (no translation file
// is loaded, so %n plurals would read "class(es)").
QString classCount(std::size_t n);
QString imageCount(std::size_t n);
QString issueCount(std::size_t n);

// "12 listed, 11 loaded, 1 skipped, 0 repaired" over every split of the dataset.
QString loadReportSummary(const Dataset& dataset);
std::size_t totalSkipped(const Dataset& dataset);
std::size_t totalRepaired(const Dataset& dataset);

}  // namespace camx::ui
