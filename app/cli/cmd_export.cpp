// `cam-explorer-cli export`: comparison and grid figures, painted by the same code as the
// explorer's Save Figure and Export Grid (ui/figures), on an offscreen QGuiApplication.
#include <QGuiApplication>
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "data/dataset.h"
#include "eval/evaluator.h"
#include "eval/ranking.h"
#include "explain/model_session.h"
#include "figures/figure_batch.h"
#include "figures/figure_writer.h"
#include "terminal_progress.h"

namespace camx::cli {
namespace fs = std::filesystem;
using namespace camx::ui;

namespace {
std::optional<Colormap> parseColormap(const std::string& id) {
    for (Colormap c : allColormaps()) {
        std::string n = colormapName(c);
        std::transform(n.begin(), n.end(), n.begin(), ::tolower);
        if (n == id) return c;
    }
    return std::nullopt;
}
}  // namespace

void addExportCommand(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "export",
        "Comparison figures (photo, CAM, Grad-CAM with boxes and IoU) as PNG, SVG or PDF");
    static ModelOptions mo;
    static DataOptions data;
    static std::string split = "test", out, images, breed, evalDir, methods = "cam,gradcam",
                       layer = "last", mode = "largest", colormap = "jet", target = "pred",
                       score = "logit", title;
    static std::size_t worst = 0, best = 0, first = 0;
    static SceneStyle style;
    static ExportOptions eo;
    static int columns = 2, curveSteps = 50;
    static bool pages = false, curves = false;
    static std::string curveScore = "prob";
    addModelOptions(cmd, mo);
    addDataOptions(cmd, data);
    addSplitOption(cmd, split);
    cmd->add_option("--out", out, "figure file: .png, .jpg, .svg or .pdf")->required();
    cmd->add_option("--images", images, "comma-separated image names or list paths");
    cmd->add_option("--breed", breed, "only this breed (display name or folder)");
    cmd->add_option("--first", first, "the first N images (after --breed)")
        ->check(CLI::Range(1, 100000));
    cmd->add_option(
           "--worst", worst,
           "the N images with the lowest IoU of the last --methods entry (needs an evaluation)")
        ->check(CLI::Range(1, 100000));
    cmd->add_option("--best", best, "the N images with the highest IoU of the last --methods entry")
        ->check(CLI::Range(1, 100000));
    cmd->add_option("--eval", evalDir,
                    "evaluation folder for --worst/--best (default: the dashboard's, next to the "
                    "model)");
    cmd->add_option("--methods", methods, "methods to show")->capture_default_str();
    cmd->add_option("--layer", layer, "tap name or 'last'")->capture_default_str();
    cmd->add_option("--tau", style.tau, "box threshold")
        ->check(FiniteNumber & CLI::Range(0.0f, 1.0f))
        ->capture_default_str();
    cmd->add_option("--blend", style.blend, "heatmap opacity")
        ->check(FiniteNumber & CLI::Range(0.0f, 1.0f))
        ->capture_default_str();
    cmd->add_option("--colormap", colormap, "jet, turbo, viridis, inferno, magma or gray")
        ->capture_default_str();
    cmd->add_option("--box-mode", mode)
        ->check(CLI::IsMember({"largest", "best", "course"}))
        ->capture_default_str();
    cmd->add_option("--class", target, "explain the predicted class or the true one")
        ->check(CLI::IsMember({"pred", "truth"}))
        ->capture_default_str();
    cmd->add_option("--score", score)
        ->check(CLI::IsMember({"logit", "prob"}))
        ->capture_default_str();
    cmd->add_option("--width", eo.widthPx, "raster width in pixels (PNG, JPEG)")
        ->check(CLI::Range(1, 30000));
    cmd->add_option("--dpi", eo.dpi, "raster resolution; scales the natural size when no --width")
        ->check(FiniteNumber & CLI::Range(10.0, 2400.0))
        ->capture_default_str();
    cmd->add_option("--columns", columns, "images per grid row")
        ->check(CLI::Range(1, 8))
        ->capture_default_str();
    cmd->add_flag("--pages", pages, "PDF: one page per image instead of one grid");
    cmd->add_option("--title", title, "grid title");
    cmd->add_flag("--curves", curves,
                  "under each map, its deletion and insertion curves (RISE; one network pass per "
                  "step and curve)");
    cmd->add_option("--curve-steps", curveSteps, "steps of the curves")
        ->check(CLI::Range(2, 100000))
        ->capture_default_str();
    cmd->add_option("--curve-score", curveScore,
                    "what the curves measure: prob (softmax, RISE) or logit")
        ->check(CLI::IsMember({"prob", "logit"}))
        ->capture_default_str();
    cmd->callback([] {
        if (figureFormatFor(QString::fromStdString(out)) == FigureFormat::Unknown)
            throw CLI::ValidationError("--out",
                                       "'" + out + "' must end in .png, .jpg, .svg or .pdf");
        if (pages && figureFormatFor(QString::fromStdString(out)) != FigureFormat::Pdf)
            throw CLI::ValidationError("--pages", "only a PDF has pages");
        if (worst && best)
            throw CLI::ValidationError("--worst", "give --worst or --best, not both");
        const auto cm = parseColormap(colormap);
        if (!cm) throw CLI::ValidationError("--colormap", "unknown colour map '" + colormap + "'");
        style.colormap = *cm;
        parseBoxMode(mode, &style.mode);

        // Text needs a QGuiApplication; the offscreen platform needs no display.
        if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
        static int argc = 1;
        static char name[] = "cam-explorer-cli";
        static char* argv[] = {name, nullptr};
        QGuiApplication qapp(argc, argv);

        TerminalProgress bar(mo.quiet);
        auto session = openModel(mo);
        const ModelInfo& info = session->info();
        FigureRequest req;
        req.methods = parseMethods(methods);
        req.tap = layer == "last" ? info.lastBlockTap : info.findTap(layer);
        if (req.tap < 0) throw CLI::ValidationError("--layer", "unknown layer '" + layer + "'");
        req.style = style;
        req.score = score == "prob" ? ScoreKind::Probability : ScoreKind::Logit;
        req.curves = curves;
        req.curveSteps = curveSteps;
        req.curveOnLogit = curveScore == "logit";

        OpenOptions oo;
        oo.job = {bar.callback(), &interruptToken()};
        const Dataset ds = openData(data, oo);
        const SplitKind kind = *parseSplitName(split);
        const SplitData& sd = ds.split(kind);

        // Which images: ranked by a saved evaluation, named, or the (filtered) split in order.
        std::vector<std::size_t> chosen;
        int breedLabel = -1;
        if (!breed.empty()) {
            // Case ignored: a TFDS copy may know only lower-case folder names.
            auto same = [](std::string a, std::string b) {
                auto low = [](std::string& s) {
                    for (char& c : s)
                        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                };
                low(a);
                low(b);
                return a == b;
            };
            for (std::size_t b = 0; b < ds.breedNames.size(); ++b)
                if (same(ds.breedNames[b], breed) || same(ds.breedFolders[b], breed) ||
                    same(ds.breedFolders[b].substr(ds.breedFolders[b].find('-') + 1), breed))
                    breedLabel = static_cast<int>(b);
            if (breedLabel < 0) throw CLI::ValidationError("--breed", "no breed '" + breed + "'");
        }
        auto keep = [&](std::size_t i) {
            return breedLabel < 0 || sd.samples[i].label == breedLabel;
        };
        if (worst || best) {
            const fs::path dir =
                evalDir.empty() ? evaluationDirFor(mo.file, kind) : fs::path(evalDir);
            std::vector<std::string> tapNames;
            for (const auto& t : info.taps) tapNames.push_back(t.name);
            SavedEvaluation ev;
            try {
                ev = loadEvaluation(dir, tapNames);
            } catch (const std::exception& e) {
                throw std::runtime_error(std::string(e.what()) +
                                         "\n  (--worst/--best rank a saved evaluation: run "
                                         "`cam-explorer-cli eval --out DIR` and pass --eval DIR)");
            }
            const Method m = req.methods.back();
            const int tap = methodTap(m, req.tap, info.lastBlockTap);
            chosen = rankByIou(ev.records, m, req.tap, info.lastBlockTap, worst + best, worst > 0,
                               [&](std::size_t i) { return i < sd.samples.size() && keep(i); });
            if (chosen.empty())
                throw std::runtime_error("the evaluation in '" + dir.string() + "' has no " +
                                         methodName(m) + " scores at " +
                                         info.taps[static_cast<std::size_t>(tap)].name);
        } else if (!images.empty()) {
            for (const auto& want : splitList(images, "--images")) {
                std::size_t found = sd.samples.size();
                for (std::size_t i = 0; i < sd.samples.size() && found == sd.samples.size(); ++i)
                    if (sd.samples[i].relPath == want ||
                        sd.samples[i].imagePath.filename().string() == want)
                        found = i;
                if (found == sd.samples.size())
                    throw CLI::ValidationError("--images",
                                               "'" + want + "' is not in the " + split + " split");
                chosen.push_back(found);
            }
        } else {
            for (std::size_t i = 0; i < sd.samples.size(); ++i)
                if (keep(i)) chosen.push_back(i);
            chosen.resize(std::min<std::size_t>(chosen.size(), first ? first : 1));
        }
        if (chosen.empty()) throw std::runtime_error("no image matches the selection");
        std::vector<Sample> samples;
        for (std::size_t i : chosen) samples.push_back(sd.samples[i]);

        const auto figures =
            buildComparisons(*session, samples, ds.breedNames, req,
                             target == "truth" ? ExplainTarget::Truth : ExplainTarget::Predicted,
                             {bar.callback(), &interruptToken()});
        bar.finish();
        std::vector<FigurePage> pagesOut;
        GridFigure grid;
        if (figures.size() == 1 || pages) {
            for (const auto& f : figures)
                pagesOut.push_back(
                    {naturalSize(f), [&f](QPainter& p, const QRectF& r) { paintFigure(p, f, r); }});
        } else {
            grid.rows = figures;
            grid.columns = columns;
            grid.title = QString::fromStdString(title);
            pagesOut.push_back({naturalSize(grid), [&grid](QPainter& p, const QRectF& r) {
                                    paintFigure(p, grid, r);
                                }});
        }
        QString error;
        eo.title = title.empty() ? QStringLiteral("CAM Explorer comparison")
                                 : QString::fromStdString(title);
        if (!writeFigure(QString::fromStdString(out), pagesOut, eo, &error))
            throw std::runtime_error(error.toStdString());
        const QSize px = rasterSize(pagesOut.front().size, eo);
        std::printf("wrote %s (%zu image%s", out.c_str(), figures.size(),
                    figures.size() == 1 ? "" : "s");
        const auto fmt = figureFormatFor(QString::fromStdString(out));
        if (fmt == FigureFormat::Png || fmt == FigureFormat::Jpeg)
            std::printf(", %d x %d px", px.width(), px.height());
        else if (fmt == FigureFormat::Pdf)
            std::printf(", %zu page%s", pagesOut.size(), pagesOut.size() == 1 ? "" : "s");
        std::printf(")\n");
    });
}

}  // namespace camx::cli
