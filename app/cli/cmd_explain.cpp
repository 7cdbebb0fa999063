#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.h"
#include "common/fs_util.h"
#include "common/json_text.h"
#include "common/limits.h"
#include "common/npy_file.h"
#include "common/staged_folder.h"
#include "data/dataset.h"
#include "data/image_io.h"
#include "eval/evaluator.h"
#include "eval/sharded_eval.h"
#include "explain/model_session.h"
#include "explain/postprocess.h"
#include "launcher.h"
#include "terminal_progress.h"

namespace camx::cli {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::vector<int> parseLayers(const std::string& list, const ModelInfo& info) {
    if (list == "last") return {info.lastBlockTap};
    if (list == "all") return info.blockTaps();
    std::vector<int> out;
    for (const auto& name : splitList(list, "--layers")) {
        const int t = name == "last" ? info.lastBlockTap : info.findTap(name);
        if (t < 0)
            throw CLI::ValidationError(
                "--layers",
                "unknown layer '" + name +
                    "' (use layer4.2 or conv5_block3_out style names, 'last' or 'all')");
        out.push_back(t);
    }
    return out;
}

json boxJson(const std::optional<Box>& b) {
    return b ? json::array({b->xmin, b->ymin, b->xmax, b->ymax}) : json(nullptr);
}

}  // namespace

// The files `explain` writes, so that a previous explanation in --out can be replaced as a set.
bool isExplainOutput(const fs::path& name) {
    const std::string n = name.string();
    return n == "result.json" || (n.size() > 4 && n.compare(n.size() - 4, 4, ".npy") == 0);
}

// The photo-resolution size of a `_full.npy` map: the photo's, scaled down to fit the cap.
std::pair<int, int> fullMapSize(int width, int height) {
    const double pixels = static_cast<double>(width) * height;
    const double cap = static_cast<double>(fullMapPixelCap());
    if (pixels <= cap) return {width, height};
    const double s = std::sqrt(cap / pixels);
    return {std::max(1, static_cast<int>(width * s)), std::max(1, static_cast<int>(height * s))};
}

// explain's and eval's --precision: the network's arithmetic, fp32 unless asked.
static void addPrecisionOption(CLI::App* cmd, std::string& precision) {
    cmd->add_option("--precision", precision,
                    "fp32: maps exact to the paper's definitions; bf16: the network in "
                    "bfloat16, faster on CPUs with AVX-512 BF16 or AMX, maps a little off "
                    "(README, Performance)")
        ->check(CLI::IsMember({"fp32", "bf16"}))
        ->capture_default_str();
}

// explain's and eval's method options: Finer-CAM's alpha and comparison ranks, and the
// smoothing of every gradient method.
struct MethodFlags {
    double finerAlpha = 1.0;
    std::string finerCompare;
    bool augSmooth = false, eigenSmooth = false;
};

static void addMethodOptions(CLI::App* cmd, MethodFlags& f) {
    cmd->add_option("--finer-alpha", f.finerAlpha,
                    "finercam: how strongly the comparison classes are subtracted: the "
                    "score is sum_j p_j (y_target - alpha y_j) / sum_j p_j on the logits y, "
                    "p their softmax (pytorch-grad-cam's FinerWeightedTarget, whatever "
                    "--score says); 0 gives Grad-CAM")
        ->check(FiniteNumber)
        ->capture_default_str();
    cmd->add_option("--finer-compare", f.finerCompare,
                    "finercam: the comparison classes, comma-separated ranks among every "
                    "class sorted by how near its logit is to the target's (1 = the "
                    "nearest); by default 1,2,3 as far as the model has classes");
    cmd->add_flag("--aug-smooth", f.augSmooth,
                  "gradient methods: average the map over the photo flipped or not and "
                  "scaled by 0.9, 1 and 1.1, each map brought back (pytorch-grad-cam's "
                  "aug_smooth; six network passes)");
    cmd->add_flag("--eigen-smooth", f.eigenSmooth,
                  "gradient methods: the first principal component of the weighted "
                  "activations instead of their sum over channels (pytorch-grad-cam's "
                  "eigen_smooth)");
}

// Finer-CAM's ranks as given (empty: its defaults), checked for form; a note when they are
// given without finercam.
static std::vector<int> parseFinerRanks(CLI::App* cmd, const MethodFlags& f,
                                        const std::vector<Method>& methods) {
    std::vector<int> ranks;
    for (const auto& item : cmd->count("--finer-compare")
                                ? splitList(f.finerCompare, "--finer-compare")
                                : std::vector<std::string>{}) {
        std::size_t used = 0;
        int rank = -1;
        try {
            rank = std::stoi(item, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != item.size() || rank < 1)
            throw CLI::ValidationError("--finer-compare",
                                       "'" + item +
                                           "' is not a rank (1, 2, ...: 1 is the class "
                                           "whose logit is nearest the target's)");
        ranks.push_back(rank);
    }
    const bool finer = std::find(methods.begin(), methods.end(), Method::FinerCam) != methods.end();
    if (!finer && (cmd->count("--finer-alpha") || cmd->count("--finer-compare")))
        std::fprintf(stderr,
                     "note: --finer-alpha and --finer-compare apply to finercam, "
                     "which --methods does not list\n");
    return ranks;
}

// The ranks against the model's classes, where finercam is asked for.
static void checkFinerRanks(const std::vector<int>& ranks, const std::vector<Method>& methods,
                            const ModelInfo& info) {
    if (std::find(methods.begin(), methods.end(), Method::FinerCam) == methods.end()) return;
    for (int r : ranks)
        if (r >= info.numClasses())
            throw CLI::ValidationError(
                "--finer-compare", "rank " + std::to_string(r) + " does not exist: the model has " +
                                       std::to_string(info.numClasses()) +
                                       " classes, so ranks 1 to " +
                                       std::to_string(info.numClasses() - 1));
}

void addExplainCommands(CLI::App& app) {
    {
        auto* cmd = app.add_subcommand("explain",
                                       "Explain one image: writes input, logits and every map as "
                                       ".npy, boxes and IoUs as JSON");
        static ModelOptions mo;
        static std::string image, annotation, out = "explain-out", methods = "cam,gradcam",
                                              layers = "last", target = "pred", score = "logit",
                                              mode = "largest", precision = "fp32";
        static float tau = 0.2f;
        static MethodFlags mf;
        addModelOptions(cmd, mo);
        cmd->add_option("--image", image, "the photo")->required()->check(RegularFile);
        cmd->add_option("--annotation", annotation, "its PASCAL VOC annotation, for IoU")
            ->check(RegularFile);
        cmd->add_option("--methods", methods,
                        "comma-separated: cam,gradcam,gradcam++,xgradcam,layercam,hirescam,"
                        "finercam,scorecam,eigencam")
            ->capture_default_str();
        addMethodOptions(cmd, mf);
        cmd->add_option("--layers", layers,
                        "comma-separated tap names (layer4.2, conv5_block3_out), 'last' or 'all'")
            ->capture_default_str();
        cmd->add_option("--class", target, "class index to explain, or 'pred'")
            ->capture_default_str();
        cmd->add_option("--score", score, "logit (the paper) or prob (the course)")
            ->check(CLI::IsMember({"logit", "prob"}))
            ->capture_default_str();
        cmd->add_option("--tau", tau, "box threshold, a fraction of the map's maximum")
            ->check(FiniteNumber & CLI::Range(0.0f, 1.0f))
            ->capture_default_str();
        cmd->add_option("--box-mode", mode, "largest, best (needs --annotation) or course")
            ->check(CLI::IsMember({"largest", "best", "course"}))
            ->capture_default_str();
        addPrecisionOption(cmd, precision);
        cmd->add_option("--out", out,
                        "output folder: new, empty, or holding a previous explanation, which is "
                        "replaced as a whole")
            ->capture_default_str();
        cmd->callback([cmd] {
            const std::vector<Method> methodList = parseMethods(methods);
            const std::vector<int> finerRanks = parseFinerRanks(cmd, mf, methodList);
            // Refuse a folder of other files before any work, and write the new set beside it.
            StagedFolder folder(out, isExplainOutput);
            std::vector<Box> truth;
            if (!annotation.empty()) {
                try {
                    const Annotation a = readAnnotationFile(annotation);
                    for (const Box& b : a.boxes) {
                        bool clipped;
                        if (auto s = sanitizeBox(b, a.width, a.height, &clipped))
                            truth.push_back(*s);
                    }
                } catch (const DatasetError& e) {
                    throw std::runtime_error("annotation '" + annotation + "': " + e.what());
                }
            }
            const cv::Mat rgb = readRgb(image);
            TerminalProgress bar(mo.quiet);
            auto session = openModel(mo);
            const ModelInfo& info = session->info();
            ExplainOptions eo;
            eo.methods = methodsForModel(methodList, *session, cmd->count("--methods") > 0);
            eo.taps = parseLayers(layers, info);
            eo.score = score == "prob" ? ScoreKind::Probability : ScoreKind::Logit;
            eo.bf16 = precision == "bf16";
            eo.finerAlpha = mf.finerAlpha;
            eo.finerCompare = finerRanks;
            eo.augSmooth = mf.augSmooth;
            eo.eigenSmooth = mf.eigenSmooth;
            checkFinerRanks(finerRanks, methodList, info);
            int cls = -1;
            if (target != "pred") {
                try {
                    std::size_t used = 0;
                    cls = std::stoi(target, &used);
                    if (used != target.size()) throw std::invalid_argument(target);
                } catch (const std::exception&) {
                    throw CLI::ValidationError("--class",
                                               "'" + target + "' is not a class index or 'pred'");
                }
                if (cls < 0 || cls >= info.numClasses())
                    throw CLI::ValidationError("--class",
                                               "class " + target + " does not exist (0.." +
                                                   std::to_string(info.numClasses() - 1) + ")");
            }
            const int s = info.inputSize;
            std::vector<float> input(3u * static_cast<std::size_t>(s) * s);
            toChwNormalized(resizeForModel(rgb, s), info.norm, input.data());
            const auto res = session->explainPrepared(input.data(), 1, {cls}, eo,
                                                      {bar.callback(), &interruptToken()});
            bar.finish();
            const ImageExplanation& e = res.front();
            const fs::path dir = folder.path();
            writeNpy(dir / "input.npy", input,
                     {1, 3, static_cast<std::size_t>(s), static_cast<std::size_t>(s)});
            writeNpy(dir / "logits.npy", e.logits, {1, e.logits.size()});
            EvalOptions bo;
            bo.tau = tau;
            parseBoxMode(mode, &bo.mode);
            const auto [fullW, fullH] = fullMapSize(rgb.cols, rgb.rows);
            json maps = json::array();
            for (const auto& m : e.maps) {
                if (interruptToken().cancelled()) throw Cancelled();
                const std::string stem =
                    methodId(m.method) + "_" + info.taps[static_cast<std::size_t>(m.tap)].name;
                const Heatmap norm = normalizeMap(m.raw, methodUsesRelu(m.method));
                const Heatmap full = upsampleMap(norm, fullW, fullH);
                writeNpy(dir / (stem + "_raw.npy"), m.raw.data,
                         {static_cast<std::size_t>(m.raw.height),
                          static_cast<std::size_t>(m.raw.width)});
                writeNpy(
                    dir / (stem + "_norm.npy"), norm.data,
                    {static_cast<std::size_t>(norm.height), static_cast<std::size_t>(norm.width)});
                writeNpy(
                    dir / (stem + "_full.npy"), full.data,
                    {static_cast<std::size_t>(full.height), static_cast<std::size_t>(full.width)});
                const MapScore sc = scoreMap(m.raw, m.method, m.tap, rgb.cols, rgb.rows, truth, bo);
                json entry = {
                    {"method", methodId(m.method)},
                    {"layer", info.taps[static_cast<std::size_t>(m.tap)].name},
                    {"keras_layer", info.taps[static_cast<std::size_t>(m.tap)].kerasName},
                    {"files", {stem + "_raw.npy", stem + "_norm.npy", stem + "_full.npy"}},
                    {"box", boxJson(sc.box)}};
                if (!truth.empty()) entry["iou"] = sc.iou;
                maps.push_back(entry);
            }
            json top = json::array();
            for (const auto& c : e.top)
                top.push_back({{"class", c.classIndex},
                               {"name", info.classNames[static_cast<std::size_t>(c.classIndex)]},
                               {"probability", c.probability},
                               {"logit", c.logit}});
            json gt = json::array();
            for (const Box& b : truth) gt.push_back(boxJson(b));
            json j = {{"image", image},
                      {"width", rgb.cols},
                      {"height", rgb.rows},
                      {"full_map_size", {fullW, fullH}},
                      {"model", mo.file},
                      {"arch", info.archLabel},
                      {"input_size", s},
                      {"target", e.target},
                      {"target_name", info.classNames[static_cast<std::size_t>(e.target)]},
                      {"score", score == "prob" ? "probability" : "logit"},
                      {"tau", tau},
                      {"box_mode", mode},
                      {"top5", top},
                      {"ground_truth", gt},
                      {"aug_smooth", mf.augSmooth},
                      {"eigen_smooth", mf.eigenSmooth},
                      {"maps", maps}};
            if (!e.finerClasses.empty()) {
                json names = json::array();
                for (int c : e.finerClasses)
                    names.push_back(info.classNames[static_cast<std::size_t>(c)]);
                std::vector<int> ranks = finerRanks;  // the default's, where none were given
                for (std::size_t r = ranks.size(); r < e.finerClasses.size(); ++r)
                    ranks.push_back(static_cast<int>(r) + 1);
                j["finer_cam"] = {{"alpha", mf.finerAlpha},
                                  {"compare_ranks", ranks},
                                  {"compare_classes", e.finerClasses},
                                  {"compare_names", names}};
            }
            writeFileAtomically(dir / "result.json", jsonText(j, 2) + "\n");
            folder.commit();
            std::printf("%s: %s (%.1f%%)\n", image.c_str(),
                        info.classNames[static_cast<std::size_t>(e.top[0].classIndex)].c_str(),
                        100.0 * e.top[0].probability);
            if (fullW != rgb.cols)
                std::printf("  the photo is %dx%d: its _full maps are %dx%d (cap %.0f MP)\n",
                            rgb.cols, rgb.rows, fullW, fullH, fullMapPixelCap() / 1e6);
            for (const auto& m : maps)
                std::printf("  %-10s %-10s box %s%s\n", m["method"].get<std::string>().c_str(),
                            m["layer"].get<std::string>().c_str(), m["box"].dump().c_str(),
                            m.contains("iou")
                                ? ("  IoU " + std::to_string(m["iou"].get<double>())).c_str()
                                : "");
            if (!e.finerClasses.empty()) {
                std::string list;
                for (int c : e.finerClasses)
                    list +=
                        (list.empty() ? "" : ", ") + info.classNames[static_cast<std::size_t>(c)];
                std::printf("  finercam compares %s with %s\n",
                            info.classNames[static_cast<std::size_t>(e.target)].c_str(),
                            list.c_str());
            }
            std::printf("wrote %s\n", fs::absolute(out).c_str());
        });
    }
    {
        auto* cmd = app.add_subcommand(
            "eval", "Evaluate a split: per-image CSV and summary JSON (resumes if interrupted)");
        static ModelOptions mo;
        static DataOptions data;
        static std::string split = "test", out = "eval-out", methods = "cam,gradcam",
                           layers = "last", score = "logit", mode = "largest", precision = "fp32",
                           protocol = "ours", saveMaps, metrics, metricScore = "prob",
                           deletionBase = "zeros", insertionBase = "blur";
        static EvalOptions o;
        static MethodFlags mf;
        static int limit = 0;
        static DistOptions distOptions;
        static double sweepStep = 0.05;
        addModelOptions(cmd, mo);
        addDataOptions(cmd, data);
        addSplitOption(cmd, split);
        cmd->add_option("--limit", limit, "the first N images only")
            ->check(CLI::Range(1, std::numeric_limits<int>::max()));
        cmd->add_option("--methods", methods)->capture_default_str();
        addMethodOptions(cmd, mf);
        cmd->add_option("--layers", layers, "tap names, 'last' or 'all'")->capture_default_str();
        cmd->add_option("--tau", o.tau)
            ->check(FiniteNumber & CLI::Range(0.0f, 1.0f))
            ->capture_default_str();
        cmd->add_option("--box-mode", mode)
            ->check(CLI::IsMember({"largest", "best", "course"}))
            ->capture_default_str();
        cmd->add_option("--score", score)
            ->check(CLI::IsMember({"logit", "prob"}))
            ->capture_default_str();
        cmd->add_option("--sweep-step", sweepStep,
                        "threshold step for MaxBoxAcc; 0 turns the sweep off. With --protocol "
                        "wsol: their step, 0.01 unless given (0.001 as their config.py)")
            ->check(FiniteNumber & CLI::Range(0.0, 0.5))
            ->capture_default_str();
        cmd->add_option("--protocol", protocol,
                        "ours, or wsol: wsolevaluation's protocol exactly (224 x 224 maps, "
                        "contours, MaxBoxAccV2 at IoU 30/50/70, PxAP on masks)")
            ->check(CLI::IsMember({"ours", "wsol"}))
            ->capture_default_str();
        cmd->add_option("--save-maps", saveMaps,
                        "write every evaluated map as DIR/<image id>.npy (wsolevaluation's "
                        "score-map layout; DIR/<method>@<layer>/ when several)");
        cmd->add_option("--batch", o.batchSize)->check(CLI::Range(1, 1024))->capture_default_str();
        addPrecisionOption(cmd, precision);
        cmd->add_option("--metrics", metrics,
                        "faithfulness metrics, comma-separated: deletion, insertion, road, drop, "
                        "pointing, sanity (or all); adds the random, center and sobel "
                        "baselines. sanity explains every image once per randomised layer");
        cmd->add_option("--metric-steps", o.metrics.steps, "deletion and insertion steps")
            ->check(CLI::Range(2, 100000))
            ->capture_default_str();
        cmd->add_option("--deletion-baseline", deletionBase,
                        "what deleted pixels become: zeros (RISE), blur or mean")
            ->check(CLI::IsMember({"zeros", "blur", "mean"}))
            ->capture_default_str();
        cmd->add_option("--insertion-baseline", insertionBase,
                        "what insertion starts from: blur (RISE), zeros or mean")
            ->check(CLI::IsMember({"zeros", "blur", "mean"}))
            ->capture_default_str();
        cmd->add_option("--road-noise", o.metrics.roadNoise,
                        "ROAD's imputation noise (standard deviation; 0: none)")
            ->check(FiniteNumber & CLI::Range(0.0, 10.0))
            ->capture_default_str();
        cmd->add_option("--metric-seed", o.metrics.seed,
                        "seed of ROAD's noise and of the random baseline")
            ->capture_default_str();
        cmd->add_option("--metric-score", metricScore,
                        "what the metrics measure: prob (softmax, RISE) or logit")
            ->check(CLI::IsMember({"prob", "logit"}))
            ->capture_default_str();
        cmd->add_option("--out", out, "output folder")->capture_default_str();
        addDistributedOptions(cmd, distOptions,
                              "start N local worker processes that share the split (rank 0 "
                              "writes the outputs)");
        cmd->callback([cmd] {
            const std::unique_ptr<dist::ProcessGroupHandle> group = startOrJoinGroup(distOptions);
            // Only rank 0 reports: the others keep quiet unless they fail.
            const bool reporter = !group || group->rank() == 0;
            if (!reporter) mo.quiet = true;
            if (!metrics.empty()) {
                try {
                    parseMetricList(metrics, &o.metrics);
                } catch (const std::invalid_argument& e) {
                    throw CLI::ValidationError("--metrics", e.what());
                }
            }
            parseSubstrate(deletionBase, &o.metrics.deletionSubstrate);
            parseSubstrate(insertionBase, &o.metrics.insertionSubstrate);
            o.metrics.score =
                metricScore == "logit" ? MetricScore::Logit : MetricScore::Probability;
            o.methods = parseMethods(methods);
            o.finerCompare = parseFinerRanks(cmd, mf, o.methods);
            o.finerAlpha = mf.finerAlpha;
            o.augSmooth = mf.augSmooth;
            o.eigenSmooth = mf.eigenSmooth;
            o.limit = static_cast<std::size_t>(limit);
            TerminalProgress bar(mo.quiet);
            auto session = openModel(mo);
            const ModelInfo& info = session->info();
            o.methods = methodsForModel(o.methods, *session, cmd->count("--methods") > 0);
            checkFinerRanks(o.finerCompare, o.methods, info);
            o.taps = parseLayers(layers, info);
            o.score = score == "prob" ? ScoreKind::Probability : ScoreKind::Logit;
            o.bf16 = precision == "bf16";
            parseBoxMode(mode, &o.mode);
            parseEvalProtocol(protocol, &o.protocol);
            if (o.protocol == EvalProtocol::Wsol) {
                if (cmd->count("--sweep-step") && !(sweepStep > 0))
                    throw CLI::ValidationError("--sweep-step",
                                               "the WSOL protocol needs a step above 0");
                o.wsolStep = cmd->count("--sweep-step") ? sweepStep : 0.01;
            } else {
                o.sweep = sweepStep > 0 ? EvalOptions::defaultSweep(static_cast<float>(sweepStep))
                                        : std::vector<float>{};
            }
            o.saveMapsDir = saveMaps;
            OpenOptions oo;
            oo.job = {bar.callback(), &interruptToken()};
            const Dataset ds = openData(data, oo);
            o.datasetClassNames = ds.breedNames;
            const SplitData& chosen = ds.split(*parseSplitName(split));
            if (chosen.samples.empty())
                throw std::runtime_error("the " + split + " split of '" + data.dir +
                                         "' has no images" +
                                         (chosen.report.listed ? " that could be loaded" : ""));
            const EvalResult r = evaluateSplitSharded(*session, chosen, o, out, group.get(),
                                                      {bar.callback(), &interruptToken()});
            bar.finish();
            if (!reporter) return;
            if (group)
                std::printf("%d processes (%s)\n", group->worldSize(),
                            group->config().backend.c_str());
            if (r.resumed) std::printf("resumed %zu images from an interrupted run\n", r.resumed);
            if (!r.skipped.empty()) {
                std::fprintf(stderr,
                             "warning: %zu image(s) could not be decoded and are not in the "
                             "results (listed in summary.json):\n",
                             r.skipped.size());
                for (std::size_t i = 0; i < r.skipped.size() && i < 20; ++i)
                    std::fprintf(stderr, "  %s: %s\n", r.skipped[i].file.c_str(),
                                 r.skipped[i].message.c_str());
                if (r.skipped.size() > 20)
                    std::fprintf(stderr, "  ... %zu more\n", r.skipped.size() - 20);
            }
            if (r.summary.classMatch != "same names")
                std::printf("classes: %s\n", r.summary.classMatch.c_str());
            char top[96] = "top-1 n/a (the classes do not match)";
            if (r.summary.classified)
                std::snprintf(top, sizeof top, "top-1 %.3f  top-5 %.3f", r.summary.top1,
                              r.summary.top5);
            std::printf("%zu images  %s%s\n", r.summary.images, top,
                        r.skipped.empty()
                            ? ""
                            : ("  (" + std::to_string(r.skipped.size()) + " skipped)").c_str());
            std::printf("%-10s %-10s %8s %8s %8s %9s %9s\n", "method", "layer", "meanIoU",
                        "loc@0.5", "top1loc", "MaxBoxAcc", "MaxBoxV2");
            // Our sweep's figures; under the WSOL protocol theirs replace them (table below).
            const bool wsol = r.summary.protocol == EvalProtocol::Wsol;
            auto figure = [](bool shown, double v, int width, int digits = 3) {
                char text[32];
                if (shown)
                    std::snprintf(text, sizeof text, "%*.*f", width, digits, v);
                else
                    std::snprintf(text, sizeof text, "%*s", width, "-");
                return std::string(text);
            };
            for (const auto& m : r.summary.methods) {
                if (m.boxedImages == 0) {
                    std::printf("%-10s %-10s (no ground-truth boxes: IoU is not scored)\n",
                                methodId(m.method).c_str(), m.tapName.c_str());
                    continue;
                }
                std::printf("%-10s %-10s %8.3f %8.3f %8.3f %s %s\n", methodId(m.method).c_str(),
                            m.tapName.c_str(), m.meanIou, m.locAccuracy, m.top1Loc,
                            figure(!r.summary.sweep.empty(), m.maxBoxAcc, 9).c_str(),
                            figure(!r.summary.sweep.empty(), m.maxBoxAccV2, 9).c_str());
            }
            if (wsol) {
                std::printf("WSOL protocol (wsolevaluation), %zu thresholds, percent:\n",
                            r.summary.wsolThresholds.size());
                std::printf("%-10s %-10s %9s %7s %7s %7s %9s %7s\n", "method", "layer", "MaxBoxAcc",
                            "V2@30", "V2@50", "V2@70", "MaxBoxV2", "PxAP");
                for (const auto& m : r.summary.methods) {
                    if (!m.wsol) continue;
                    const auto& w = *m.wsol;
                    const bool boxes = w.maxBoxAccV2At.size() == 3;
                    auto cell = [&](bool shown, double v, int width) {
                        return figure(shown, v, width, 2);
                    };
                    std::printf("%-10s %-10s %s %s %s %s %s %s\n", methodId(m.method).c_str(),
                                m.tapName.c_str(), cell(boxes, w.maxBoxAcc, 9).c_str(),
                                cell(boxes, boxes ? w.maxBoxAccV2At[0] : 0, 7).c_str(),
                                cell(boxes, boxes ? w.maxBoxAccV2At[1] : 0, 7).c_str(),
                                cell(boxes, boxes ? w.maxBoxAccV2At[2] : 0, 7).c_str(),
                                cell(boxes, w.maxBoxAccV2, 9).c_str(),
                                cell(w.pxap.has_value(), w.pxap.value_or(0), 7).c_str());
                }
            }
            if (o.metrics.perturbs()) {
                std::printf("faithfulness (%s score; baselines without a layer):\n",
                            o.metrics.score == MetricScore::Logit ? "logit" : "probability");
                std::printf("%-10s %-10s %9s %9s %9s %9s %9s %9s %9s\n", "method", "layer",
                            "deletion", "insertion", "ROAD", "avg drop", "increase", "pointing",
                            "energy");
                auto cell = [&](const std::optional<double>& v) {
                    return figure(v.has_value(), v.value_or(0), 9, 4);
                };
                for (const auto& m : r.summary.methods) {
                    if (!m.metrics) continue;
                    const auto& f = *m.metrics;
                    std::printf("%-10s %-10s %s %s %s %s %s %s %s\n", methodId(m.method).c_str(),
                                m.tapName.c_str(), cell(f.deletionAuc).c_str(),
                                cell(f.insertionAuc).c_str(), cell(f.roadCombined).c_str(),
                                cell(f.avgDrop).c_str(), cell(f.increaseInConfidence).c_str(),
                                cell(f.pointingGame).c_str(), cell(f.energyPointingGame).c_str());
                }
            }
            if (o.metrics.sanity) {
                // One row per randomisation step, one column per method's map.
                std::printf(
                    "sanity check (Spearman / SSIM to the randomised model's map; "
                    "cumulative from the top):\n");
                std::printf("%-14s", "randomised");
                std::vector<const MethodSummary*> shown;
                for (const auto& m : r.summary.methods)
                    if (m.metrics && !methodIsBaseline(m.method)) {
                        shown.push_back(&m);
                        std::printf(" %17s",
                                    (methodId(m.method) + "@" + m.tapName).substr(0, 17).c_str());
                    }
                std::printf("\n");
                const auto steps = session->randomizationCascade();
                auto value = [&](const std::vector<double>& v, std::size_t k) {
                    return k < v.size() && std::isfinite(v[k]) ? figure(true, v[k], 7, 3)
                                                               : figure(false, 0, 7, 3);
                };
                for (std::size_t k = 0; k < steps.size(); ++k) {
                    std::printf("%-14s", steps[k].label.substr(0, 14).c_str());
                    for (const MethodSummary* m : shown)
                        std::printf(" %s / %s", value(m->metrics->sanitySpearman, k).c_str(),
                                    value(m->metrics->sanitySsim, k).c_str());
                    std::printf("\n");
                }
            }
            for (const auto& w : r.warnings)
                std::fprintf(stderr, "warning: %s: %s\n", w.file.c_str(), w.message.c_str());
            if (!o.saveMapsDir.empty())
                std::printf("maps in %s\n", fs::absolute(o.saveMapsDir).c_str());
            std::printf("wrote %s and %s\n", (fs::path(out) / "per_image.csv").c_str(),
                        (fs::path(out) / "summary.json").c_str());
        });
    }
}

}  // namespace camx::cli
