#pragma once
// What a process that opens CAM Explorer's main window sets up first, shared by the application's
// main() and the screenshot tool: the names Qt derives settings paths and desktop integration from,
// LibTorch's threads, the decoder limits, and the --data/--format/--metadata/--model/--demo
// command line.

#include <QCommandLineParser>
#include <QString>

#include "browser/open_dataset_dialog.h"

namespace camx::ui {

// Call right after constructing the QApplication.
void setUpApplication();

// Adds --data DIR, --format NAME, --metadata DIR, --model FILE and --demo to `parser` (with --help
// and --version).
void addStartupOptions(QCommandLineParser& parser);

struct StartupFiles {
    QString dataset;  // empty: none
    QString model;
    // How to read `dataset`: --format (Auto when not given; Wsol when only --metadata is) and
    // --metadata, wsolevaluation's metadata folder.
    DatasetFormat format = DatasetFormat::Auto;
    QString metadataDir;
    // The dataset as MainWindow::openDataset takes it: as the options say, else the way the
    // folder was last opened.
    DatasetChoice datasetChoice() const;
};
// After parser.process(): the files to open. --demo fills in the demo's cache paths where --data or
// --model is not given, and says how to create the demo dataset when it is missing. An unknown
// --format name is reported on stderr and ignored (the format is then detected).
StartupFiles startupFiles(const QCommandLineParser& parser);

}  // namespace camx::ui
