#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.h"
#include "common/fs_util.h"
#include "data/dataset.h"
#include "data/image_io.h"
#include "eval/evaluator.h"
#include "explain/model_session.h"
#include "explain/postprocess.h"
#include "npy.h"
#include "terminal_progress.h"

namespace camx::cli {
namespace fs = std::filesystem;
using nlohmann::json;

std::vector<std::string> splitList(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    for (std::string item; std::getline(ss, item, ',');)
        if (!item.empty()) out.push_back(item);
    return out;
}

std::vector<Method> parseMethods(const std::string& list) {
    std::vector<Method> out;
    for (const auto& id : splitList(list)) {
        Method m;
        if (!parseMethod(id, &m)) {
            std::string known;
            for (Method k : allMethods()) known += (known.empty() ? "" : ", ") + methodId(k);
            throw CLI::ValidationError("--methods",
                                       "unknown method '" + id + "' (known: " + known + ")");
        }
        out.push_back(m);
    }
    if (out.empty()) throw CLI::ValidationError("--methods", "no method given");
    return out;
}

namespace {

std::vector<int> parseLayers(const std::string& list, const ModelInfo& info) {
    if (list.empty() || list == "last") return {info.lastBlockTap};
    if (list == "all") return info.blockTaps();
    std::vector<int> out;
    for (const auto& name : splitList(list)) {
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

std::unique_ptr<ModelSession> openModel(const std::string& file, const std::string& arch,
                                        int numClasses) {
    auto model = ModelSession::open(file);
    if (!arch.empty()) {
        auto a = parseArch(arch);
        if (!a) throw CLI::ValidationError("--arch", "unknown architecture '" + arch + "'");
        if (*a != model->info().arch)
            throw std::runtime_error("'" + file + "' holds a " + archName(model->info().arch) +
                                     ", not a " + arch);
    }
    if (numClasses > 0 && numClasses != model->info().numClasses())
        throw std::runtime_error("'" + file + "' has " +
                                 std::to_string(model->info().numClasses()) + " classes, not " +
                                 std::to_string(numClasses));
    return model;
}

json boxJson(const std::optional<Box>& b) {
    return b ? json::array({b->xmin, b->ymin, b->xmax, b->ymax}) : json(nullptr);
}

}  // namespace

void addExplainCommands(CLI::App& app) {
    {
        auto* cmd = app.add_subcommand("explain",
                                       "Explain one image: writes input, logits and every map as "
                                       ".npy, boxes and IoUs as JSON");
        static std::string model, arch, image, annotation,
            out = "explain-out", methods = "cam,gradcam", layers = "last", target = "pred",
            score = "logit", mode = "largest";
        static int numClasses = 0;
        static float tau = 0.2f;
        cmd->add_option("--model", model, "checkpoint (.ckpt) or torchvision state dict (.pth)")
            ->required();
        cmd->add_option("--arch", arch, "for a .pth: the architecture it must hold");
        cmd->add_option("--num-classes", numClasses, "for a .pth: the class count it must have");
        cmd->add_option("--image", image, "the photo")->required()->check(CLI::ExistingFile);
        cmd->add_option("--annotation", annotation, "its PASCAL VOC annotation, for IoU")
            ->check(CLI::ExistingFile);
        cmd->add_option("--methods", methods,
                        "comma-separated: "
                        "cam,gradcam,gradcam++,xgradcam,layercam,hirescam,scorecam,eigencam")
            ->capture_default_str();
        cmd->add_option("--layers", layers,
                        "comma-separated tap names (layer4.2, conv5_block3_out), 'last' or 'all'")
            ->capture_default_str();
        cmd->add_option("--class", target, "class index to explain, or 'pred'")
            ->capture_default_str();
        cmd->add_option("--score", score, "logit (the paper) or prob (the course)")
            ->check(CLI::IsMember({"logit", "prob"}))
            ->capture_default_str();
        cmd->add_option("--tau", tau, "box threshold, a fraction of the map's maximum")
            ->check(CLI::Range(0.0f, 1.0f))
            ->capture_default_str();
        cmd->add_option("--box-mode", mode, "largest, best (needs --annotation) or course")
            ->check(CLI::IsMember({"largest", "best", "course"}))
            ->capture_default_str();
        cmd->add_option("--out", out, "output folder")->capture_default_str();
        cmd->callback([] {
            auto session = openModel(model, arch, numClasses);
            const ModelInfo& info = session->info();
            ExplainOptions eo;
            eo.methods = parseMethods(methods);
            eo.taps = parseLayers(layers, info);
            eo.score = score == "prob" ? ScoreKind::Probability : ScoreKind::Logit;
            int cls = -1;
            if (target != "pred") {
                try {
                    cls = std::stoi(target);
                } catch (const std::exception&) {
                    throw CLI::ValidationError("--class",
                                               "'" + target + "' is not a class index or 'pred'");
                }
                if (cls < 0 || cls >= info.numClasses())
                    throw CLI::ValidationError("--class",
                                               "class " + target + " does not exist (0.." +
                                                   std::to_string(info.numClasses() - 1) + ")");
            }
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
            const int s = info.inputSize;
            std::vector<float> input(3u * static_cast<std::size_t>(s) * s);
            toChwNormalized(resizeForModel(rgb, s), info.norm, input.data());
            TerminalProgress bar;
            const auto res = session->explainPrepared(input.data(), 1, {cls}, eo,
                                                      {bar.callback(), &interruptToken()});
            bar.finish();
            const ImageExplanation& e = res.front();
            fs::create_directories(out);
            writeNpy(fs::path(out) / "input.npy", input,
                     {1, 3, static_cast<std::size_t>(s), static_cast<std::size_t>(s)});
            writeNpy(fs::path(out) / "logits.npy", e.logits, {1, e.logits.size()});
            EvalOptions bo;
            bo.tau = tau;
            parseBoxMode(mode, &bo.mode);
            json maps = json::array();
            for (const auto& m : e.maps) {
                const std::string stem =
                    methodId(m.method) + "_" + info.taps[static_cast<std::size_t>(m.tap)].name;
                const Heatmap norm = normalizeMap(m.raw, methodUsesRelu(m.method));
                const Heatmap full = upsampleMap(norm, rgb.cols, rgb.rows);
                writeNpy(fs::path(out) / (stem + "_raw.npy"), m.raw.data,
                         {static_cast<std::size_t>(m.raw.height),
                          static_cast<std::size_t>(m.raw.width)});
                writeNpy(
                    fs::path(out) / (stem + "_norm.npy"), norm.data,
                    {static_cast<std::size_t>(norm.height), static_cast<std::size_t>(norm.width)});
                writeNpy(
                    fs::path(out) / (stem + "_full.npy"), full.data,
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
                      {"model", model},
                      {"arch", archName(info.arch)},
                      {"input_size", s},
                      {"target", e.target},
                      {"target_name", info.classNames[static_cast<std::size_t>(e.target)]},
                      {"score", score == "prob" ? "probability" : "logit"},
                      {"tau", tau},
                      {"box_mode", mode},
                      {"top5", top},
                      {"ground_truth", gt},
                      {"maps", maps}};
            writeFileAtomically(fs::path(out) / "result.json", j.dump(2) + "\n");
            std::printf("%s: %s (%.1f%%)\n", image.c_str(),
                        info.classNames[static_cast<std::size_t>(e.top[0].classIndex)].c_str(),
                        100.0 * e.top[0].probability);
            for (const auto& m : maps)
                std::printf("  %-10s %-10s box %s%s\n", m["method"].get<std::string>().c_str(),
                            m["layer"].get<std::string>().c_str(), m["box"].dump().c_str(),
                            m.contains("iou")
                                ? ("  IoU " + std::to_string(m["iou"].get<double>())).c_str()
                                : "");
            std::printf("wrote %s\n", fs::absolute(out).c_str());
        });
    }
    {
        auto* cmd = app.add_subcommand(
            "eval", "Evaluate a split: per-image CSV and summary JSON (resumes if interrupted)");
        static std::string model, data, split = "test", out = "eval-out", methods = "cam,gradcam",
                                        layers = "last", score = "logit", mode = "largest";
        static EvalOptions o;
        static float sweepStep = 0.05f;
        cmd->add_option("--model", model, "checkpoint (.ckpt) or torchvision state dict (.pth)")
            ->required();
        cmd->add_option("--data", data, "dataset folder")->required();
        cmd->add_option("--split", split)
            ->check(CLI::IsMember({"test", "train"}))
            ->capture_default_str();
        cmd->add_option("--limit", o.limit, "first N images only")->capture_default_str();
        cmd->add_option("--methods", methods)->capture_default_str();
        cmd->add_option("--layers", layers, "tap names, 'last' or 'all'")->capture_default_str();
        cmd->add_option("--tau", o.tau)->check(CLI::Range(0.0f, 1.0f))->capture_default_str();
        cmd->add_option("--box-mode", mode)
            ->check(CLI::IsMember({"largest", "best", "course"}))
            ->capture_default_str();
        cmd->add_option("--score", score)
            ->check(CLI::IsMember({"logit", "prob"}))
            ->capture_default_str();
        cmd->add_option("--sweep-step", sweepStep,
                        "threshold step for MaxBoxAcc; 0 turns the sweep off")
            ->check(CLI::Range(0.0f, 0.5f))
            ->capture_default_str();
        cmd->add_option("--batch", o.batchSize)->check(CLI::Range(1, 1024))->capture_default_str();
        cmd->add_option("--out", out, "output folder")->capture_default_str();
        cmd->callback([] {
            auto session = ModelSession::open(model);
            const ModelInfo& info = session->info();
            o.methods = parseMethods(methods);
            o.taps = parseLayers(layers, info);
            o.score = score == "prob" ? ScoreKind::Probability : ScoreKind::Logit;
            parseBoxMode(mode, &o.mode);
            o.sweep = sweepStep > 0 ? EvalOptions::defaultSweep(sweepStep) : std::vector<float>{};
            TerminalProgress bar;
            OpenOptions oo;
            oo.job = {bar.callback(), &interruptToken()};
            const Dataset ds = openStanfordDogs(data, oo);
            const EvalResult r = evaluateSplit(*session, split == "test" ? ds.test : ds.train, o,
                                               out, {bar.callback(), &interruptToken()});
            bar.finish();
            if (r.cancelled) throw Cancelled();
            if (r.resumed) std::printf("resumed %zu images from an interrupted run\n", r.resumed);
            std::printf("%zu images  top-1 %.3f  top-5 %.3f\n", r.summary.images, r.summary.top1,
                        r.summary.top5);
            std::printf("%-10s %-10s %8s %8s %8s %9s %9s\n", "method", "layer", "meanIoU",
                        "loc@0.5", "top1loc", "MaxBoxAcc", "MaxBoxV2");
            for (const auto& m : r.summary.methods)
                std::printf("%-10s %-10s %8.3f %8.3f %8.3f %9.3f %9.3f\n",
                            methodId(m.method).c_str(), m.tapName.c_str(), m.meanIou, m.locAccuracy,
                            m.top1Loc, m.maxBoxAcc, m.maxBoxAccV2);
            std::printf("wrote %s and %s\n", (fs::path(out) / "per_image.csv").c_str(),
                        (fs::path(out) / "summary.json").c_str());
        });
    }
}

}  // namespace camx::cli
