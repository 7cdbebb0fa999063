// Explorer responsiveness (README "Performance"), offscreen:
//  1. start-up: window shown and the dataset listed; then the first explanation;
//  2. a threshold / blend / layer slider move re-rendered and painted (500x375 photo);
//  3. scrolling the thumbnail grid through the whole split;
//  4. 1,000 image switches with network passes: resident memory before and after.
//   bench_ui DATASET_DIR MODEL.ckpt [--switches N]
#include <QApplication>
#include <QElapsedTimer>
#include <QListView>
#include <QScrollBar>
#include <QSignalSpy>
#include <QSlider>
#include <QTest>
#include <cstdio>
#include <cstring>

#include "bench_util.h"
#include "browser/browser_panel.h"
#include "explorer/explorer_view.h"
#include "explorer/heatmap_panel.h"
#include "main_window.h"
#include "nn/runtime.h"

using namespace camx;

int main(int argc, char** argv) {
    QElapsedTimer sinceStart;
    sinceStart.start();
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    QApplication::setOrganizationName("CAM Explorer Bench");
    initTorchRuntime();
    if (argc < 3) {
        std::fprintf(stderr, "usage: bench_ui DATASET_DIR MODEL.ckpt [--switches N]\n");
        return 2;
    }
    int switches = 1000;
    for (int i = 3; i < argc; ++i)
        if (!std::strcmp(argv[i], "--switches") && i + 1 < argc) switches = std::atoi(argv[++i]);

    ui::MainWindow w;
    w.setQuietErrors(true);
    w.resize(1400, 820);
    w.show();
    QSignalSpy data(&w, &ui::MainWindow::datasetLoaded);
    QSignalSpy shown(&w, &ui::MainWindow::explanationShown);
    w.openDataset(argv[1]);
    w.openModel(argv[2]);
    if (!QTest::qWaitFor([&] { return data.count() > 0; }, 60000)) return 1;
    const double interactive = sinceStart.elapsed() / 1000.0;
    if (!QTest::qWaitFor([&] { return shown.count() > 0; }, 60000)) return 1;
    const double firstMap = sinceStart.elapsed() / 1000.0;
    std::printf("device %s\n", w.model() ? w.model()->info().device.c_str() : "?");
    std::printf("[1] start-up: window with the dataset listed   %6.2f s (target <= 2 s)\n",
                interactive);
    std::printf("    first explanation shown                    %6.2f s\n", firstMap);

    // 2. Slider moves: change, re-render from cache, paint.
    ui::ExplorerView* v = w.explorer();
    auto* threshold = v->findChild<QSlider*>("thresholdSlider");
    auto* blend = v->findChild<QSlider*>("blendSlider");
    auto* layer = v->findChild<QSlider*>("layerSlider");
    ui::HeatmapPanel* p0 = v->panel(0);
    ui::HeatmapPanel* p1 = v->panel(1);
    auto frame = [&](const std::function<void()>& move) {
        return bench::seconds([&] {
            move();
            p0->repaint();
            p1->repaint();
        });
    };
    std::vector<double> tT, tB, tL;
    for (int i = 0; i < 60; ++i) {
        tT.push_back(frame([&] { threshold->setValue(5 + (i * 7) % 90); }));
        tB.push_back(frame([&] { blend->setValue((i * 13) % 100); }));
        tL.push_back(frame([&] { layer->setValue(i % (layer->maximum() + 1)); }));
    }
    const auto& r = v->result();
    std::printf("[2] slider move, re-render + paint of both panels (photo %dx%d)\n", r->photo.cols,
                r->photo.rows);
    std::printf(
        "    threshold %6.2f ms, blend %6.2f ms, layer %6.2f ms  (median; target <= 16 ms)\n",
        bench::median(tT) * 1e3, bench::median(tB) * 1e3, bench::median(tL) * 1e3);

    // 3. Scrolling the whole thumbnail grid, page by page, painting each page.
    {
        QListView* view = w.browser()->view();
        QScrollBar* bar = view->verticalScrollBar();
        // The grid lays items out in batches; let it finish so the scroll range covers them all.
        for (int stable = 0, last = -1, guard = 0; stable < 5 && guard < 2000; ++guard) {
            QTest::qWait(5);
            stable = bar->maximum() == last ? stable + 1 : 0;
            last = bar->maximum();
        }
        std::vector<double> frames;
        for (int pos = bar->minimum(); pos <= bar->maximum(); pos += std::max(1, bar->pageStep())) {
            frames.push_back(bench::seconds([&] {
                bar->setValue(pos);
                view->viewport()->repaint();
            }));
            QCoreApplication::processEvents();  // thumbnails arrive as they are decoded
        }
        std::sort(frames.begin(), frames.end());
        std::printf(
            "[3] scrolling %d items: %zu pages, frame median %.2f ms, 99th percentile %.2f ms, "
            "worst %.2f ms\n",
            view->model()->rowCount(), frames.size(), bench::median(frames) * 1e3,
            frames[frames.size() * 99 / 100] * 1e3, frames.back() * 1e3);
    }

    // 4. Image switches.
    const double rss0 = bench::rssMiB();
    QElapsedTimer walk;
    walk.start();
    for (int i = 0; i < switches; ++i) {
        QSignalSpy s(&w, &ui::MainWindow::explanationShown);
        const int n = static_cast<int>(w.dataset()->test.samples.size());
        if (i % n == n - 1)
            w.browser()->selectFirst();
        else
            w.browser()->step(1);
        if (!QTest::qWaitFor([&] { return s.count() > 0; }, 60000)) {
            std::fprintf(stderr, "no explanation after switch %d\n", i);
            return 1;
        }
        if (i == 99)
            std::printf("    RSS after 100 switches                   %7.1f MiB\n",
                        bench::rssMiB());
    }
    const double rss1 = bench::rssMiB();
    std::printf("[4] %d image switches in %.1f s (%.1f ms each, passes included)\n", switches,
                walk.elapsed() / 1000.0, walk.elapsed() / double(switches));
    std::printf("    RSS before %.1f MiB, after %.1f MiB (target < 1536 MiB, flat)\n", rss0, rss1);
    return 0;
}
