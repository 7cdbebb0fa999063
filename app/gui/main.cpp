// cam-explorer: the desktop application. Window set-up and command line only.
#include <QApplication>
#include <QCommandLineParser>

#include "app_setup.h"
#include "main_window.h"

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    camx::ui::setUpApplication();
    QCommandLineParser parser;
    camx::ui::addStartupOptions(parser);
    parser.process(app);

    camx::ui::MainWindow window;
    const camx::ui::StartupFiles files = camx::ui::startupFiles(parser);
    window.show();
    if (files.dataset.isEmpty() && files.model.isEmpty()) window.reopenLast();
    if (!files.dataset.isEmpty()) window.openDataset(files.datasetChoice());
    if (!files.model.isEmpty()) window.openModel(files.model);
    return app.exec();
}
