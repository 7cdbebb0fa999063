#include "app_setup.h"

#include <QApplication>
#include <QDir>
#include <QMessageBox>
#include <cstdio>

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
                       {QStringLiteral("format"),
                        QStringLiteral("How to read the dataset folder: auto (the default), "
                                       "stanford-dogs, cub, wsol, imagenet, voc or imagefolder."),
                        QStringLiteral("NAME")},
                       {QStringLiteral("metadata"),
                        QStringLiteral("wsolevaluation's metadata folder for the dataset "
                                       "(metadata/CUB, metadata/ILSVRC or metadata/OpenImages); "
                                       "implies --format wsol."),
                        QStringLiteral("DIR")},
                       {{QStringLiteral("m"), QStringLiteral("model")},
                        QStringLiteral("Open this model (.ckpt, .pth, or a TorchScript .pt)."),
                        QStringLiteral("FILE")},
                       {QStringLiteral("demo"),
                        QStringLiteral("Open the built-in demo dataset and demo model.")}});
}

StartupFiles startupFiles(const QCommandLineParser& parser) {
    StartupFiles f;
    f.dataset = parser.value(QStringLiteral("data"));
    f.model = parser.value(QStringLiteral("model"));
    f.metadataDir = parser.value(QStringLiteral("metadata"));
    if (parser.isSet(QStringLiteral("format"))) {
        const QString name = parser.value(QStringLiteral("format"));
        if (auto format = parseDatasetFormat(name.toStdString()))
            f.format = *format;
        else
            std::fprintf(stderr, "cam-explorer: unknown --format '%s'; detecting the format\n",
                         qPrintable(name));
    }
    if (f.format == DatasetFormat::Auto && !f.metadataDir.isEmpty()) f.format = DatasetFormat::Wsol;
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

DatasetChoice StartupFiles::datasetChoice() const {
    if (format == DatasetFormat::Auto && metadataDir.isEmpty())
        return DatasetChoice::rememberedFor(dataset);
    return DatasetChoice{dataset, format, metadataDir};
}

}  // namespace camx::ui
