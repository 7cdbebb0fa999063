// cam-explorer: the desktop application. Window set-up and command line only.
#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QMessageBox>

#include "data/demo_generator.h"
#include "data/image_io.h"
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
    // The same bounds on untrusted images as the CLI's defaults (--max-megapixels there).
    camx::applyDecoderLimits();

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
    parser.addOptions({data, model, demo});
    parser.process(app);

    camx::ui::MainWindow window;
    QString dataDir = parser.value(data), modelFile = parser.value(model);
    if (parser.isSet(demo)) {
        if (dataDir.isEmpty()) dataDir = QString::fromStdString(camx::demoDatasetDir().string());
        if (modelFile.isEmpty()) modelFile = QString::fromStdString(camx::demoModelFile().string());
        if (!QDir(dataDir).exists())
            QMessageBox::information(
                nullptr, QStringLiteral("CAM Explorer"),
                QStringLiteral("The demo dataset is not at %1 yet. Create it with:\n"
                               "cam-explorer-cli make-demo --out %1")
                    .arg(dataDir));
    }
    window.show();
    if (!dataDir.isEmpty()) window.openDataset(dataDir);
    if (!modelFile.isEmpty()) window.openModel(modelFile);
    return app.exec();
}
