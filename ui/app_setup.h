#pragma once
// What a process that opens CAM Explorer's main window sets up first, shared by the application's
// main() and the screenshot tool: the names Qt derives settings paths and desktop integration from,
// LibTorch's threads, the decoder limits, and the --data/--model/--demo command line.

#include <QCommandLineParser>
#include <QString>

namespace camx::ui {

// Call right after constructing the QApplication.
void setUpApplication();

// Adds --data DIR, --model FILE and --demo to `parser` (with --help and --version).
void addStartupOptions(QCommandLineParser& parser);

struct StartupFiles {
    QString dataset;  // empty: none
    QString model;
};
// After parser.process(): the files to open. --demo fills in the demo's cache paths where --data or
// --model is not given, and says how to create the demo dataset when it is missing.
StartupFiles startupFiles(const QCommandLineParser& parser);

}  // namespace camx::ui
