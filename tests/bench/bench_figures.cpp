// Figure export: what a 16-image grid costs beyond its network passes. The baseline is the
// passes themselves (decode + CAM + Grad-CAM for each image, measured in the same run); painting
// and writing each format is reported in milliseconds and as a ratio to it.
//
//   bench_figures [DATASET_DIR] [MODEL]   (default: the demo and the demo model)
#include <QGuiApplication>
#include <QPainter>
#include <cstdio>

#include "bench_util.h"
#include "common/fs_util.h"
#include "data/dataset.h"
#include "explain/model_session.h"
#include "figures/figure_batch.h"
#include "figures/figure_writer.h"
#include "nn/runtime.h"

int main(int argc, char** argv) {
    using namespace camx;
    using namespace camx::ui;
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QGuiApplication app(argc, argv);
    initTorchRuntime();
    const auto cache = userCacheDir();
    const std::string dir = argc > 1 ? argv[1] : (cache / "demo").string();
    const std::string modelFile =
        argc > 2 ? argv[2] : (cache / "demo-model" / "best.ckpt").string();
    const Dataset ds = openStanfordDogs(dir);
    auto model = ModelSession::open(modelFile);
    std::vector<Sample> samples(ds.test.samples.begin(), ds.test.samples.begin() + 16);
    FigureRequest req;
    buildComparisons(*model, {samples.front()}, ds.breedNames, req,
                     ExplainTarget::Predicted);  // warm-up

    std::vector<ComparisonFigure> figs;
    const double passes = bench::medianOf(3, [&] {
        figs = buildComparisons(*model, samples, ds.breedNames, req, ExplainTarget::Predicted);
    });
    GridFigure grid;
    grid.rows = figs;
    grid.columns = 2;
    grid.title = QStringLiteral("benchmark");
    const FigurePage page{naturalSize(grid),
                          [&grid](QPainter& p, const QRectF& r) { paintFigure(p, grid, r); }};
    const QString tmp = QString::fromStdString(
        (std::filesystem::temp_directory_path() / "camx_bench_fig").string());
    std::printf("16 images of %s, %s; network passes + scenes: %.0f ms (%.1f ms/image)\n",
                dir.c_str(), model->info().device.c_str(), passes * 1e3, passes * 1e3 / 16);
    for (const char* ext : {"png", "jpg", "svg", "pdf"}) {
        ExportOptions o;
        o.widthPx = 2400;
        const QString file = tmp + "." + ext;
        const double t = bench::medianOf(3, [&] { writeFigure(file, {page}, o); });
        std::printf("  grid -> %-3s (%s): %7.0f ms = %.2fx the passes, %lld KiB\n", ext,
                    std::string(ext) == "svg" || std::string(ext) == "pdf" ? "vector" : "2400 px",
                    t * 1e3, t / passes,
                    static_cast<long long>(std::filesystem::file_size(file.toStdString()) / 1024));
        std::filesystem::remove(file.toStdString());
    }
    return 0;
}
