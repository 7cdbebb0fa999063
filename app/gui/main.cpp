// cam-explorer: the desktop application. Window set-up and command line only.
#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QMessageBox>
#include <QTimer>

#include "common/fs_util.h"
#include "main_window.h"
#include "nn/runtime.h"

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("CAM Explorer"));
    QApplication::setOrganizationDomain(QStringLiteral("cam-explorer.github.io"));
    QApplication::setApplicationName(QStringLiteral("cam-explorer"));
    QApplication::setApplicationDisplayName(QStringLiteral("CAM Explorer"));
    QApplication::setApplicationVersion(QStringLiteral(CAMX_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("io.github.cam_explorer.CamExplorer"));
    camx::initTorchRuntime();

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("See where a CNN looks: CAM, Grad-CAM, boxes and IoU"));
    parser.addHelpOption();
    parser.addVersionOption();
    QCommandLineOption data({"d", "data"}, QStringLiteral("Open this dataset folder."),
                            QStringLiteral("DIR"));
    QCommandLineOption model({"m", "model"}, QStringLiteral("Open this model (.ckpt or .pth)."),
                             QStringLiteral("FILE"));
    QCommandLineOption demo(QStringLiteral("demo"),
                            QStringLiteral("Open the built-in demo dataset and demo model."));
    QCommandLineOption shot(
        QStringLiteral("screenshot"),
        QStringLiteral("Once the first explanation is shown, save the window to FILE and quit "
                       "(for documentation)."),
        QStringLiteral("FILE"));
    parser.addOptions({data, model, demo, shot});
    parser.process(app);

    camx::ui::MainWindow window;
    QString dataDir = parser.value(data), modelFile = parser.value(model);
    if (parser.isSet(demo)) {
        const QString cache = QString::fromStdString(camx::userCacheDir().string());
        if (dataDir.isEmpty()) dataDir = cache + QStringLiteral("/demo");
        if (modelFile.isEmpty()) modelFile = cache + QStringLiteral("/demo-model/best.ckpt");
        if (!QDir(dataDir).exists())
            QMessageBox::information(
                nullptr, QStringLiteral("CAM Explorer"),
                QStringLiteral("The demo dataset is not at %1 yet. Create it with:\n"
                               "cam-explorer-cli make-demo --out %1")
                    .arg(dataDir));
    }
    window.show();
    if (parser.isSet(shot)) {
        const QString file = parser.value(shot);
        QObject::connect(&window, &camx::ui::MainWindow::explanationShown, &window,
                         [&window, file] {
                             QTimer::singleShot(1500, &window, [&window, file] {
                                 const bool ok = window.grab().save(file);
                                 QApplication::exit(ok ? 0 : 1);
                             });
                         });
        QObject::connect(&window, &camx::ui::MainWindow::errorShown, &window,
                         [](const QString&) { QApplication::exit(1); });
    }
    if (!dataDir.isEmpty()) window.openDataset(dataDir);
    if (!modelFile.isEmpty()) window.openModel(modelFile);
    return app.exec();
}
