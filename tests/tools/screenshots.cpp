// camx_screenshots: the README's screenshots. Opens the main window like `cam-explorer` does,
// drives it to a screen (the explorer, the dashboard after an evaluation, the wizard after
// training) and saves it. A development tool, kept out of the application's own main().
//   xvfb-run -a -s "-screen 0 1600x1000x24" build/tests/camx_screenshots --demo --screenshot FILE
//       [--screen main|start|dashboard|dashboard-faithfulness|faithfulness|faithfulness-empty|
//        wizard|trust|input|
//        open-dataset|load-report|curves|sanity]
//       [--size WxH] [--layer NAME] [--input-size N] [--protocol ours|wsol]
// --format and --metadata say how to read --data (as for cam-explorer); --protocol picks the
// dashboard's evaluation protocol. open-dataset saves File ▸ Open Dataset's dialog filled in with
// --data, --format and --metadata; load-report the open dataset's load report. faithfulness saves
// the dashboard's Faithfulness page showing a made-up ResNet-50 evaluation with every metric (no
// dataset or model needed: the numbers are illustrative, of the size such evaluations give);
// faithfulness-empty the same page for an evaluation without metrics.
// A TorchScript model given with --model is opened as if the user answered its questions: Open
// (the trust question, when it is outside the user's folders) and, for a file without metadata,
// the Model Input dialog with --input-size (default 224). --screen trust / input saves those
// questions instead.
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QCommandLineParser>
#include <QMessageBox>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <utility>

#include "app_setup.h"
#include "browser/load_report_dialog.h"
#include "browser/open_dataset_dialog.h"
#include "dashboard/eval_dashboard.h"
#include "explain/model_session.h"
#include "explorer/explorer_view.h"
#include "explorer/faithfulness_chart.h"
#include "explorer/heatmap_panel.h"
#include "explorer/sanity_dialog.h"
#include "main_window.h"
#include "model/model_input_dialog.h"
#include "training/train_wizard.h"

namespace {
// A made-up evaluation with every faithfulness metric, for --screen faithfulness: three methods
// at layer4 and the three baseline maps, curves shaped like real ones (AUCs their areas).
std::shared_ptr<camx::SavedEvaluation> illustrativeFaithEvaluation() {
    using camx::Method;
    auto e = std::make_shared<camx::SavedEvaluation>();
    camx::parseMetricList("all", &e->options.metrics);
    e->options.metrics.sanity = true;
    auto& mo = e->options.metrics;
    mo.sanitySteps = {"fc",       "layer4.2", "layer4.1", "layer4.0", "layer3.5", "layer3.4",
                      "layer3.3", "layer3.2", "layer3.1", "layer3.0", "layer2.3", "layer2.2",
                      "layer2.1", "layer2.0", "layer1.2", "layer1.1", "layer1.0", "stem"};
    struct Demo {
        Method method;
        double fall, rise, road, drop, increase, pointing, energy, sanity;
    };
    const Demo demos[] = {
        {Method::GradCam, 9.0, 8.0, 0.081, 27.4, 21.8, 0.842, 0.512, 0.55},
        {Method::GradCamPlusPlus, 8.0, 7.2, 0.074, 25.1, 23.9, 0.861, 0.498, 0.70},
        {Method::ScoreCam, 10.5, 9.0, 0.092, 19.6, 31.2, 0.853, 0.534, 0.62},
        {Method::RandomMap, 2.2, 2.0, 0.004, 71.3, 3.1, 0.212, 0.171, 1},
        {Method::CenterMap, 3.6, 4.2, 0.031, 44.8, 11.6, 0.684, 0.338, 1},
        {Method::SobelMap, 3.0, 3.1, 0.022, 52.7, 8.4, 0.401, 0.244, 1},
    };
    const int steps = mo.steps;
    e->summary.images = 5794;
    for (const Demo& d : demos) {
        camx::MethodSummary m;
        m.method = d.method;
        m.tap = camx::methodIsBaseline(d.method) ? -1 : 16;
        m.tapName = camx::methodIsBaseline(d.method) ? "" : "layer4";
        m.images = m.boxedImages = e->summary.images;
        camx::MetricSummary s;
        s.images = m.images;
        double del = 0, ins = 0;
        for (int i = 0; i <= steps; ++i) {
            const double x = static_cast<double>(i) / steps;
            s.deletionCurve.push_back(0.86 * std::exp(-d.fall * x) + 0.02);
            s.insertionCurve.push_back(0.03 + 0.83 / (1 + std::exp(-d.rise * (x - 0.35))));
        }
        for (int i = 0; i < steps; ++i) {
            del += (s.deletionCurve[i] + s.deletionCurve[i + 1]) / (2.0 * steps);
            ins += (s.insertionCurve[i] + s.insertionCurve[i + 1]) / (2.0 * steps);
        }
        s.deletionAuc = del;
        s.insertionAuc = ins;
        double morf = 0, lerf = 0;
        for (int p : mo.roadPercentiles) {
            const double f = p / 100.0;
            s.roadMorf.push_back(-0.7 * std::pow(f, 0.6) * (0.4 + 5 * d.road));
            s.roadLerf.push_back(-0.7 * std::pow(f, 2.2) * (0.5 - 2 * d.road));
            morf += s.roadMorf.back();
            lerf += s.roadLerf.back();
        }
        s.roadCombined = (lerf - morf) / static_cast<double>(mo.roadPercentiles.size()) / 2;
        s.avgDrop = d.drop;
        s.increaseInConfidence = d.increase;
        s.pointingGame = d.pointing;
        s.energyPointingGame = d.energy;
        s.pointingImages = m.images;
        for (std::size_t i = 0; i < mo.sanitySteps.size(); ++i) {
            const double t = static_cast<double>(i + 1) / mo.sanitySteps.size();
            const double sp = d.sanity >= 1 ? 1 : 0.02 + 0.9 * std::exp(-t / (0.1 * d.sanity));
            s.sanitySpearman.push_back(sp);
            s.sanitySsim.push_back(d.sanity >= 1 ? 1 : 0.1 + 0.6 * sp);
        }
        m.metrics = s;
        e->summary.methods.push_back(m);
    }
    return e;
}
}  // namespace

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    camx::ui::setUpApplication();
    QCommandLineParser parser;
    camx::ui::addStartupOptions(parser);
    QCommandLineOption shot(
        QStringLiteral("screenshot"),
        QStringLiteral("Once the first explanation is shown, save the window to FILE and quit "
                       "(for documentation)."),
        QStringLiteral("FILE"));
    QCommandLineOption screen(
        QStringLiteral("screen"),
        QStringLiteral("With --screenshot: main (default), start (the start page: opens nothing), "
                       "dashboard (evaluates the split first), wizard (trains a small model for "
                       "2 epochs into a temporary folder, then resumes it for a third), trust (the "
                       "question a TorchScript model outside the user's folders asks) or input "
                       "(the Model Input dialog of a TorchScript model without metadata), curves "
                       "(the explorer with the faithfulness curves under the panels) or sanity "
                       "(the sanity check of the right panel's map)."),
        QStringLiteral("NAME"), QStringLiteral("main"));
    QCommandLineOption size(QStringLiteral("size"),
                            QStringLiteral("The main window's size, e.g. 1280x720."),
                            QStringLiteral("WxH"));
    QCommandLineOption layer(QStringLiteral("layer"),
                             QStringLiteral("With --screen main: show this layer (a tap name, e.g. "
                                            "layer3.1 or features.denseblock3)."),
                             QStringLiteral("NAME"));
    QCommandLineOption inputSize(
        QStringLiteral("input-size"),
        QStringLiteral("The input size to answer a TorchScript model's Model Input dialog with."),
        QStringLiteral("N"), QStringLiteral("224"));
    QCommandLineOption protocol(
        QStringLiteral("protocol"),
        QStringLiteral("With --screen dashboard: evaluate with this protocol (ours or wsol)."),
        QStringLiteral("NAME"), QStringLiteral("ours"));
    parser.addOptions({shot, screen, size, layer, inputSize, protocol});
    parser.process(app);

    camx::ui::MainWindow window;
    const camx::ui::StartupFiles files = camx::ui::startupFiles(parser);
    if (parser.isSet(size)) {
        const QStringList wh = parser.value(size).split(QLatin1Char('x'));
        if (wh.size() == 2) window.resize(wh[0].toInt(), wh[1].toInt());
    }
    window.show();
    if (parser.isSet(shot) && parser.value(screen) == QLatin1String("open-dataset")) {
        // The dialog as File ▸ Open Dataset… shows it, filled in as the command line says.
        const QString file = parser.value(shot);
        window.showOpenDatasetDialog();
        camx::ui::OpenDatasetDialog* dialog = window.openDatasetDialog();
        dialog->setChoice(files.datasetChoice());
        QTimer::singleShot(1500, dialog, [dialog, file] {
            QApplication::exit(dialog->grab().save(file) ? 0 : 1);
        });
        return app.exec();
    }
    if (parser.isSet(protocol))
        window.dashboard()->setProtocol(parser.value(protocol) == QLatin1String("wsol")
                                            ? camx::EvalProtocol::Wsol
                                            : camx::EvalProtocol::Ours);
    const bool faithEmpty = parser.value(screen) == QLatin1String("faithfulness-empty");
    if (parser.isSet(shot) &&
        (parser.value(screen) == QLatin1String("faithfulness") || faithEmpty)) {
        // The dashboard's Faithfulness page on its own, with an illustrative evaluation.
        const QString file = parser.value(shot);
        auto* d = new camx::ui::EvalDashboard;
        d->setAttribute(Qt::WA_DeleteOnClose);
        d->resize(parser.isSet(size) ? window.size() : QSize(1500, 950));
        auto evaluation = illustrativeFaithEvaluation();
        if (faithEmpty)  // as an evaluation without metrics shows it
        {
            evaluation->options.metrics = {};
            for (auto& m : evaluation->summary.methods) m.metrics.reset();
        }
        d->showEvaluation(evaluation);
        d->pages()->setCurrentWidget(d->faithPage());
        window.hide();
        d->show();
        QTimer::singleShot(1000, d,
                           [d, file] { QApplication::exit(d->grab().save(file) ? 0 : 1); });
        return app.exec();
    }
    if (parser.isSet(shot) && parser.value(screen) == QLatin1String("start")) {
        const QString file = parser.value(shot);
        QTimer::singleShot(1000, &window, [&window, file] {
            QApplication::exit(window.grab().save(file) ? 0 : 1);
        });
        return app.exec();
    }
    // A TorchScript model's questions, answered as the user of this tool would (or saved).
    const QString which = parser.value(screen);
    const QString shotFile = parser.value(shot);
    QObject::connect(
        &window, &camx::ui::MainWindow::modelQuestionAsked, &window,
        [&window, which, shotFile, answer = parser.value(inputSize).toInt()] {
            QWidget* question = window.trustPrompt();
            if (!question) question = window.modelInputDialog();
            if (!question) question = window.kerasPrompt();
            if (!question) return;
            if (!shotFile.isEmpty() &&
                ((which == QLatin1String("trust") && window.trustPrompt()) ||
                 (which == QLatin1String("input") && window.modelInputDialog()) ||
                 (which == QLatin1String("keras") && window.kerasPrompt()))) {
                QTimer::singleShot(800, question, [question, shotFile] {
                    QApplication::exit(question->grab().save(shotFile) ? 0 : 1);
                });
                return;
            }
            if (auto* box = window.trustPrompt()) {
                std::fprintf(stderr, "camx_screenshots: answering Open to: %s\n",
                             qPrintable(box->text()));
                if (auto* open = box->findChild<QPushButton*>(QStringLiteral("trustOpenButton")))
                    QTimer::singleShot(0, open, &QPushButton::click);
            } else if (auto* dialog = window.modelInputDialog()) {
                std::fprintf(stderr, "camx_screenshots: model input %d px\n", answer);
                if (auto* spin = dialog->findChild<QSpinBox*>(QStringLiteral("inputSizeSpin")))
                    spin->setValue(answer);
                QTimer::singleShot(0, dialog, &QDialog::accept);
            }
        });
    QTemporaryDir scratch;
    if (parser.isSet(shot)) {
        const QString file = shotFile;
        const QString wantedLayer = parser.value(layer);
        auto grabAndQuit = [file](QWidget* w) {
            QTimer::singleShot(1500, w,
                               [w, file] { QApplication::exit(w->grab().save(file) ? 0 : 1); });
        };
        QObject::connect(
            &window, &camx::ui::MainWindow::explanationShown, &window,
            [&window, &scratch, which, wantedLayer, grabAndQuit, file] {
                static bool once = false;
                if (std::exchange(once, true)) return;
                if (!wantedLayer.isEmpty() && which == QLatin1String("main")) {
                    // The layer asked for, once its maps are shown (a TorchScript model's
                    // layers beyond its blocks are explained when chosen).
                    camx::ui::ExplorerView* v = window.explorer();
                    const int tap = window.model()->info().findTap(wantedLayer.toStdString());
                    if (tap < 0 || !v->setCurrentTap(tap)) {
                        std::fprintf(stderr, "camx_screenshots: no layer '%s' in the list\n",
                                     qPrintable(wantedLayer));
                        QApplication::exit(1);
                        return;
                    }
                    auto* poll = new QTimer(&window);
                    QObject::connect(poll, &QTimer::timeout, &window,
                                     [v, poll, grabAndQuit, &window] {
                                         if (!v->panel(1)->hasMap()) return;
                                         poll->stop();
                                         grabAndQuit(&window);
                                     });
                    poll->start(100);
                    return;
                }
                if (which == QLatin1String("curves")) {
                    // The explorer with the faithfulness curves under both panels.
                    camx::ui::ExplorerView* v = window.explorer();
                    v->setCurvesShown(true);
                    auto* poll = new QTimer(&window);
                    QObject::connect(
                        poll, &QTimer::timeout, &window, [v, poll, grabAndQuit, &window] {
                            if (!v->curveChart(0)->hasCurve() || !v->curveChart(1)->hasCurve())
                                return;
                            poll->stop();
                            grabAndQuit(&window);
                        });
                    poll->start(100);
                    return;
                }
                if (which == QLatin1String("sanity")) {
                    // The sanity check of the right panel's map, once it is done.
                    if (!window.startSanityCheck(1)) {
                        QApplication::exit(1);
                        return;
                    }
                    auto* d = window.sanityDialog();
                    auto* poll = new QTimer(&window);
                    QObject::connect(poll, &QTimer::timeout, &window, [d, poll, grabAndQuit, file] {
                        if (d->running()) return;
                        poll->stop();
                        // Its Save as PNG beside the screenshot: FILE's name + "-strip.png".
                        QString strip = file;
                        strip.replace(QRegularExpression(QStringLiteral("\\.png$")), QString());
                        d->savePng(strip + QStringLiteral("-strip.png"));
                        grabAndQuit(d);
                    });
                    poll->start(100);
                    return;
                }
                if (which == QLatin1String("dashboard") ||
                    which == QLatin1String("dashboard-faithfulness")) {
                    auto* d = window.dashboard();
                    d->resize(1600, 950);
                    window.showDashboard();
                    // dashboard-faithfulness: the Faithfulness tab of the evaluation beside the
                    // model (made with `eval --metrics ...`), not a made-up one.
                    const bool faith = which == QLatin1String("dashboard-faithfulness");
                    auto grabDashboard = [d, grabAndQuit, faith] {
                        if (faith) d->pages()->setCurrentWidget(d->faithPage());
                        grabAndQuit(d);
                    };
                    if (d->results()) return grabDashboard();
                    if (std::filesystem::exists(d->resultsDir() / camx::kRecordsFile)) {
                        // Being read in the background.
                        QObject::connect(d, &camx::ui::EvalDashboard::resultsChanged, d,
                                         grabDashboard);
                        return;
                    }
                    QObject::connect(d, &camx::ui::EvalDashboard::finished, d, grabDashboard);
                    if (auto* layers = d->findChild<QComboBox*>("evalLayersCombo"))
                        layers->setCurrentIndex(1);  // every block: the per-layer chart
                    d->startEvaluation(0);
                } else if (which == QLatin1String("load-report")) {
                    window.showLoadReport();
                    grabAndQuit(window.loadReport());
                } else if (which == QLatin1String("wizard-processes")) {
                    // The Device and output page set for a two-process run.
                    auto* w = window.showTrainWizard();
                    w->setOutputDir(scratch.filePath(QStringLiteral("run")));
                    w->setProcesses(2);
                    if (auto* sync = w->findChild<QCheckBox*>("syncBatchNorm"))
                        sync->setChecked(true);
                    while (w->currentId() != camx::ui::TrainWizard::OutputPageId) w->next();
                    QTimer::singleShot(1500, w, [w, grabAndQuit] { grabAndQuit(w); });
                } else if (which == QLatin1String("wizard")) {
                    auto* w = window.showTrainWizard();
                    camx::TrainConfig c;
                    c.arch = camx::Arch::ResNet18;
                    c.baseWidth = 16;
                    c.inputSize = 96;
                    c.epochs = 2;
                    c.optimizer = camx::TrainConfig::Optimizer::AdamW;
                    c.learningRate = 0.002;
                    c.warmupEpochs = 1;
                    c.bnRecalibrationImages = 128;
                    c.augment.flip = true;
                    c.seed = 1;
                    w->applyConfig(c);
                    w->setOutputDir(scratch.filePath(QStringLiteral("run")));
                    while (w->currentId() != camx::ui::TrainWizard::RunPageId) w->next();
                    // Two epochs, then Resume for a third: the curves must span both runs.
                    QObject::connect(
                        w, &camx::ui::TrainWizard::trainingFinished, w, [w, grabAndQuit](bool) {
                            static int runs = 0;
                            if (++runs == 2) return grabAndQuit(w);
                            camx::TrainConfig more = w->config();
                            more.epochs = 3;
                            w->applyConfig(more);
                            // Resume is possible once the folder is checked.
                            auto resume = [w] { w->startTraining(true); };
                            if (w->inspectingOutput())
                                QObject::connect(w, &camx::ui::TrainWizard::outputInspected, w,
                                                 resume, Qt::SingleShotConnection);
                            else
                                QTimer::singleShot(0, w, resume);
                        });
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
    // The model after the dataset, as a user opens them: a model whose file names no classes
    // takes the dataset's breed names.
    if (!files.dataset.isEmpty()) {
        window.openDataset(files.datasetChoice());
        if (!files.model.isEmpty())
            QObject::connect(
                &window, &camx::ui::MainWindow::datasetLoaded, &window,
                [&window, model = files.model] { window.openModel(model); },
                Qt::SingleShotConnection);
    } else if (!files.model.isEmpty()) {
        window.openModel(files.model);
    }
    return app.exec();
}
