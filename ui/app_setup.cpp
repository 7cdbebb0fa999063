#include "app_setup.h"

#include <QApplication>
#include <QDir>
#include <QMessageBox>

#include "data/demo_generator.h"
#include "data/image_io.h"
#include "nn/runtime.h"

namespace camx::ui {

void setUpApplication() {
    QApplication::setOrganizationName(QStringLiteral("CAM Explorer"));
    QApplication::setOrganizationDomain(QStringLiteral("cam-explorer.github.io"));
    QApplication::setApplicationName(QStringLiteral("cam-explorer"));
    QApplication::setApplicationDisplayName(QStringLiteral("CAM Explorer"));
    QApplication::setApplicationVersion(QStringLiteral(CAMX_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("io.github.cam_explorer.CamExplorer"));
    initTorchRuntime();
    // The same bounds on untrusted images as the CLI's defaults (--max-megapixels there).
    applyDecoderLimits();
}

void addStartupOptions(QCommandLineParser& parser) {
    parser.setApplicationDescription(
        QStringLiteral("See where a CNN looks: CAM, Grad-CAM, boxes and IoU"));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOptions({{{QStringLiteral("d"), QStringLiteral("data")},
                        QStringLiteral("Open this dataset folder."),
                        QStringLiteral("DIR")},
                       {{QStringLiteral("m"), QStringLiteral("model")},
                        QStringLiteral("Open this model (.ckpt, .pth, or a TorchScript .pt)."),
                        QStringLiteral("FILE")},
                       {QStringLiteral("demo"),
                        QStringLiteral("Open the built-in demo dataset and demo model.")}});
}

StartupFiles startupFiles(const QCommandLineParser& parser) {
    StartupFiles f{parser.value(QStringLiteral("data")), parser.value(QStringLiteral("model"))};
    if (parser.isSet(QStringLiteral("demo"))) {
        if (f.dataset.isEmpty()) f.dataset = QString::fromStdString(demoDatasetDir().string());
        if (f.model.isEmpty()) f.model = QString::fromStdString(demoModelFile().string());
        if (!QDir(f.dataset).exists())
            QMessageBox::information(
                nullptr, QStringLiteral("CAM Explorer"),
                QStringLiteral("The demo dataset is not at %1 yet. Create it with:\n"
                               "cam-explorer-cli make-demo --out %1")
                    .arg(f.dataset));
    }
    return f;
}

}  // namespace camx::ui
