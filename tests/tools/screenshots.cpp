// camx_screenshots: the README's screenshots. Opens the main window like `cam-explorer` does,
// drives it to a screen (the explorer, the dashboard after an evaluation, the wizard after
// training) and saves it. A development tool, kept out of the application's own main().
//   xvfb-run -a -s "-screen 0 1600x1000x24" build/tests/camx_screenshots --demo --screenshot FILE
//       [--screen main|dashboard|wizard]
#include <QApplication>
#include <QComboBox>
#include <QCommandLineParser>
#include <QDir>
#include <QMessageBox>
#include <QTemporaryDir>
#include <QTimer>
#include <filesystem>
#include <utility>

#include "dashboard/eval_dashboard.h"
#include "data/demo_generator.h"
#include "data/image_io.h"
#include "main_window.h"
#include "nn/runtime.h"
#include "training/train_wizard.h"

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
    QCommandLineOption shot(
        QStringLiteral("screenshot"),
        QStringLiteral("Once the first explanation is shown, save the window to FILE and quit "
                       "(for documentation)."),
        QStringLiteral("FILE"));
    QCommandLineOption screen(
        QStringLiteral("screen"),
        QStringLiteral("With --screenshot: main (default), dashboard (evaluates the split first) "
                       "or wizard (trains a small model for 3 epochs into a temporary folder)."),
        QStringLiteral("NAME"), QStringLiteral("main"));
    parser.addOptions({data, model, demo, shot, screen});
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
    QTemporaryDir scratch;
    if (parser.isSet(shot)) {
        const QString file = parser.value(shot);
        const QString which = parser.value(screen);
        auto grabAndQuit = [file](QWidget* w) {
            QTimer::singleShot(1500, w,
                               [w, file] { QApplication::exit(w->grab().save(file) ? 0 : 1); });
        };
        QObject::connect(
            &window, &camx::ui::MainWindow::explanationShown, &window,
            [&window, &scratch, which, grabAndQuit] {
                static bool once = false;
                if (std::exchange(once, true)) return;
                if (which == QLatin1String("dashboard")) {
                    auto* d = window.dashboard();
                    d->resize(1600, 950);
                    window.showDashboard();
                    if (d->results()) return grabAndQuit(d);
                    if (std::filesystem::exists(d->resultsDir() / camx::kRecordsFile)) {
                        // Being read in the background.
                        QObject::connect(d, &camx::ui::EvalDashboard::resultsChanged, d,
                                         [d, grabAndQuit] { grabAndQuit(d); });
                        return;
                    }
                    QObject::connect(d, &camx::ui::EvalDashboard::finished, d,
                                     [d, grabAndQuit] { grabAndQuit(d); });
                    if (auto* layers = d->findChild<QComboBox*>("evalLayersCombo"))
                        layers->setCurrentIndex(1);  // every block: the per-layer chart
                    d->startEvaluation(0);
                } else if (which == QLatin1String("wizard")) {
                    auto* w = window.showTrainWizard();
                    camx::TrainConfig c;
                    c.arch = camx::Arch::ResNet18;
                    c.baseWidth = 16;
                    c.inputSize = 96;
                    c.epochs = 3;
                    c.optimizer = camx::TrainConfig::Optimizer::AdamW;
                    c.learningRate = 0.002;
                    c.warmupEpochs = 1;
                    c.bnRecalibrationImages = 128;
                    c.augment.flip = true;
                    c.seed = 1;
                    w->applyConfig(c);
                    w->setOutputDir(scratch.filePath(QStringLiteral("run")));
                    while (w->currentId() != camx::ui::TrainWizard::RunPageId) w->next();
                    QObject::connect(w, &camx::ui::TrainWizard::trainingFinished, w,
                                     [w, grabAndQuit](bool) { grabAndQuit(w); });
                    auto start = [w] { w->startTraining(false); };
                    if (w->dataset())
                        start();
                    else
                        QObject::connect(w, &camx::ui::TrainWizard::datasetLoaded, w, start);
                } else {
                    grabAndQuit(&window);
                }
            });
        QObject::connect(&window, &camx::ui::MainWindow::errorShown, &window,
                         [](const QString&) { QApplication::exit(1); });
    }
    if (!dataDir.isEmpty()) window.openDataset(dataDir);
    if (!modelFile.isEmpty()) window.openModel(modelFile);
    return app.exec();
}
