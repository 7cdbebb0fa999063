// The GUI thread while background work runs (README "Performance"), offscreen: the longest
// event-loop stall, measured by a 5 ms timer on the GUI thread,
//  1. idle, with a dataset and a model open (the baseline);
//  2. while three jobs run at once: an evaluation of the split (dashboard), a training run
//     (wizard) and explanations (an image change every 250 ms, Score-CAM in the right panel).
// The goal is a longest stall under 100 ms. Without arguments it makes its own data: the demo
// generator's images (10 breeds) and a ResNet-18 with random weights at the demo's input size.
//   bench_responsiveness [DATASET_DIR MODEL.ckpt] [--seconds N]
#include <QApplication>
#include <QComboBox>
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTest>
#include <QThreadPool>
#include <QTimer>
#include <QtConcurrent/QtConcurrent>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <future>

#include "background_job.h"
#include "common/thread_priority.h"
#include "dashboard/eval_dashboard.h"
#include "data/demo_generator.h"
#include "explorer/explorer_view.h"
#include "explorer/heatmap_panel.h"
#include "main_window.h"
#include "nn/checkpoint_io.h"
#include "nn/runtime.h"
#include "train/train_config.h"
#include "training/train_wizard.h"

using namespace camx;
namespace fs = std::filesystem;

namespace {

struct Stalls {
    double maxMs = 0;
    double p99Ms = 0;
    std::size_t ticks = 0;
};

// Runs the event loop for `seconds` with a 5 ms timer; a stall is a tick's lateness.
Stalls measure(double seconds, const std::function<void()>& everyQuarterSecond = {}) {
    std::vector<double> late;
    QElapsedTimer clock;
    clock.start();
    qint64 last = clock.nsecsElapsed();
    QTimer tick;
    tick.setTimerType(Qt::PreciseTimer);
    tick.setInterval(5);
    QObject::connect(&tick, &QTimer::timeout, [&] {
        const qint64 now = clock.nsecsElapsed();
        late.push_back(std::max(0.0, (now - last) / 1e6 - 5.0));
        last = now;
    });
    QTimer quarter;
    quarter.setInterval(250);
    if (everyQuarterSecond) QObject::connect(&quarter, &QTimer::timeout, everyQuarterSecond);
    tick.start();
    quarter.start();
    while (clock.elapsed() < seconds * 1000)
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 50);
    Stalls s;
    s.ticks = late.size();
    if (late.empty()) return s;
    std::sort(late.begin(), late.end());
    s.maxMs = late.back();
    s.p99Ms = late[static_cast<std::size_t>(0.99 * static_cast<double>(late.size() - 1))];
    return s;
}

}  // namespace

int main(int argc, char** argv) {
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    QApplication::setOrganizationName("CAM Explorer Bench");
    initTorchRuntime();
    double seconds = 20;
    std::vector<std::string> files;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = std::atof(argv[++i]);
        else
            files.emplace_back(argv[i]);
    }
    const fs::path tmp = fs::temp_directory_path() / "camx-bench-responsiveness";
    fs::path data, model;
    if (files.size() == 2) {
        data = files[0];
        model = files[1];
    } else {
        fs::remove_all(tmp);
        data = tmp / "demo";
        DemoOptions d;
        d.trainPerBreed = 30;
        d.testPerBreed = 60;
        generateDemoDataset(data, d);
        TrainConfig demo;
        applyTrainPreset("demo", demo);
        CamNet net(demo.arch, 10, demo.baseWidth);
        CheckpointMeta meta;
        meta.arch = demo.arch;
        meta.baseWidth = demo.baseWidth;
        meta.inputSize = demo.inputSize;
        for (int i = 0; i < 10; ++i) meta.classNames.push_back("breed " + std::to_string(i));
        model = tmp / "model" / "random.ckpt";
        fs::create_directories(model.parent_path());
        saveCheckpoint(model, meta, net);
    }

    ui::MainWindow w;
    w.setQuietErrors(true);
    w.resize(1400, 820);
    w.show();
    QSignalSpy shown(&w, &ui::MainWindow::explanationShown);
    w.openDataset(QString::fromStdString(data.string()));
    w.openModel(QString::fromStdString(model.string()));
    if (!QTest::qWaitFor([&] { return shown.count() > 0; }, 120000)) {
        std::fprintf(stderr, "no explanation: %s\n", w.lastError().toStdString().c_str());
        return 1;
    }
    std::printf("device %s, model %s\n", w.model()->info().device.c_str(), model.c_str());

    const int guiNice = currentThreadNiceness();
    const Stalls idle = measure(std::min(5.0, seconds));

    // Three jobs at once.
    ui::EvalDashboard* dash = w.dashboard();
    dash->startEvaluation();
    ui::TrainWizard* wizard = w.showTrainWizard();
    wizard->setDatasetPath(QString::fromStdString(data.string()));
    if (!QTest::qWaitFor([&] { return wizard->dataset() != nullptr; }, 60000)) {
        std::fprintf(stderr, "the wizard did not open the dataset within a minute\n");
        return 1;
    }
    TrainConfig c = wizard->config();
    applyTrainPreset("demo", c);
    c.epochs = 1;
    c.warmupEpochs = 0;  // a warm-up as long as the run is refused
    wizard->applyConfig(c);
    wizard->setOutputDir(QString::fromStdString((tmp / "run").string()));
    wizard->startTraining(false);
    auto* method = w.explorer()->findChild<QComboBox*>("method1");
    method->setCurrentIndex(method->findData(static_cast<int>(Method::ScoreCam)));
    if (w.explorer()->panel(1)->method() != Method::ScoreCam) {
        std::fprintf(stderr, "could not put Score-CAM in the right panel\n");
        return 1;
    }
    const bool evalRunning = dash->isRunning(), training = wizard->isTraining();
    int switches = 0;
    const Stalls busy = measure(seconds, [&] {
        QTest::keyClick(&w, Qt::Key_PageDown);
        ++switches;
    });
    const bool stillRunning = dash->isRunning() && wizard->isTraining();
    dash->cancel();
    wizard->cancelTraining();
    if (!QTest::qWaitFor([&] { return !dash->isRunning() && !wizard->isTraining(); }, 120000))
        std::fprintf(stderr,
                     "warning: the evaluation or the training did not stop within two "
                     "minutes of being cancelled\n");

    std::printf("[1] idle, %zu ticks:          longest stall %6.1f ms, p99 %5.1f ms\n", idle.ticks,
                idle.maxMs, idle.p99Ms);
    std::printf(
        "[2] eval + training + explain (%d image switches, Score-CAM), %zu ticks over %.0f s:\n"
        "                               longest stall %6.1f ms, p99 %5.1f ms (%.1fx the idle "
        "longest)\n",
        switches, busy.ticks, seconds, busy.maxMs, busy.p99Ms,
        idle.maxMs > 0 ? busy.maxMs / idle.maxMs : 0.0);
    std::printf(
        "    jobs running at the start: eval %d, training %d; still running at the end: %d\n",
        evalRunning, training, stillRunning);
    // A pool worker's niceness (started, not run inline by a waiting thread).
    std::promise<int> niceness;
    ui::backgroundPool()->start([&niceness] {
        lowerCurrentThreadPriority();
        niceness.set_value(currentThreadNiceness());
    });
    const int workerNice = niceness.get_future().get();
    std::printf("    worker niceness: %d (the GUI thread: %d)\n", workerNice, guiNice);
    std::printf("goal: longest stall < 100 ms -> %s\n", busy.maxMs < 100 ? "met" : "NOT met");
    if (files.size() != 2) fs::remove_all(tmp);
    return 0;
}
