#include "eval/evaluator.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "common/csv_writer.h"
#include "common/fs_util.h"
#include "common/hash.h"
#include "common/json_text.h"
#include "common/npy_file.h"
#include "data/formats/tfrecord.h"
#include "data/image_io.h"
#include "data/loader.h"
#include "distributed/process_group.h"
#include "eval/sharded_eval.h"
#include "eval/wsol_protocol.h"
#include "explain/model_session.h"
#include "explain/postprocess.h"
#include "localize/box_sweep.h"
#include "metrics/baseline_maps.h"
#include "metrics/similarity.h"

namespace camx {
namespace fs = std::filesystem;
using nlohmann::json;

std::vector<float> EvalOptions::defaultSweep(float step) {
    std::vector<float> v;
    for (int i = 0; i * step < 1.0f - 1e-6f; ++i) v.push_back(i * step);
    return v;
}

const char* evalProtocolId(EvalProtocol p) {
    return p == EvalProtocol::Wsol ? "wsol" : "ours";
}

bool parseEvalProtocol(const std::string& id, EvalProtocol* out) {
    if (id == "ours")
        *out = EvalProtocol::Ours;
    else if (id == "wsol")
        *out = EvalProtocol::Wsol;
    else
        return false;
    return true;
}

const MapScore* ImageRecord::find(Method m, int tap) const {
    for (const auto& s : scores)
        if (s.method == m && s.tap == tap) return &s;
    return nullptr;
}

MapScore scoreMap(const Heatmap& raw, Method method, int tap, int width, int height,
                  const std::vector<Box>& truth, const EvalOptions& o) {
    MapScore s;
    s.method = method;
    s.tap = tap;
    const Heatmap map = displayMap(raw, method, width, height);
    // With a sweep the reported box comes from the same pass, tau being one more threshold; the
    // course rule reads contours, which the pass does not give.
    const bool boxFromSweep = !o.sweep.empty() && o.mode != BoxMode::CourseContour;
    if (!boxFromSweep) s.box = boxFromMap(map, o.tau, o.mode, truth);
    if (!o.sweep.empty()) {
        std::vector<float> taus = o.sweep;
        if (boxFromSweep) taus.push_back(o.tau);
        const std::vector<SweepPoint> points = sweepBoxes(map, taus, truth);
        for (std::size_t i = 0; i < o.sweep.size(); ++i) {
            s.sweepLargest.push_back(static_cast<float>(points[i].largestIou));
            s.sweepBest.push_back(static_cast<float>(points[i].bestIou));
        }
        if (boxFromSweep)
            s.box = o.mode == BoxMode::BestOfAll ? points.back().best : points.back().largest;
    }
    s.iou = bestIou(s.box, truth);
    return s;
}

namespace {

const std::vector<int> kWsolIouThresholds{30, 50, 70};

// The threshold indices at which `curve` reaches `needed`, as half-open ranges.
std::vector<std::pair<int, int>> hitRanges(const std::vector<double>& curve, double needed) {
    std::vector<std::pair<int, int>> out;
    for (std::size_t t = 0; t < curve.size(); ++t) {
        if (!(curve[t] >= needed)) continue;
        const int i = static_cast<int>(t);
        if (!out.empty() && out.back().second == i)
            out.back().second = i + 1;
        else
            out.push_back({i, i + 1});
    }
    return out;
}

// A per-threshold IoU that crosses exactly the IoU thresholds the ranges say it reached: the
// accumulator then counts what it counted when the maps were scored.
void raiseTo(std::vector<double>& ious, const std::vector<std::pair<int, int>>& ranges,
             double value) {
    for (const auto& [a, b] : ranges)
        for (int t = std::max(0, a); t < b && t < static_cast<int>(ious.size()); ++t)
            ious[static_cast<std::size_t>(t)] = value;
}

std::vector<std::int64_t> denseHistogram(const std::vector<std::pair<int, std::int64_t>>& sparse,
                                         std::size_t bins) {
    std::vector<std::int64_t> h(bins, 0);
    for (const auto& [bin, count] : sparse)
        if (bin >= 0 && static_cast<std::size_t>(bin) < bins)
            h[static_cast<std::size_t>(bin)] += count;
    return h;
}

std::vector<std::pair<int, std::int64_t>> sparseHistogram(const std::vector<std::int64_t>& h) {
    std::vector<std::pair<int, std::int64_t>> out;
    for (std::size_t i = 0; i < h.size(); ++i)
        if (h[i]) out.push_back({static_cast<int>(i), h[i]});
    return out;
}

std::optional<MethodSummary::Wsol> summarizeWsol(const std::vector<ImageRecord>& records,
                                                 Method method, int tap, const EvalOptions& o) {
    const std::vector<double> thresholds = wsolThresholds(o.wsolStep);
    WsolBoxAccumulator v2 = WsolBoxAccumulator::maxBoxAccV2(thresholds);
    WsolBoxAccumulator v1 = WsolBoxAccumulator::maxBoxAcc(thresholds);
    WsolMaskAccumulator px(thresholds);
    const std::size_t bins = px.foregroundHistogram().size();
    for (const auto& r : records) {
        const MapScore* s = r.find(method, tap);
        if (!s) continue;
        if (s->wsolV2Hits.size() == kWsolIouThresholds.size()) {
            std::vector<double> ious(thresholds.size(), 0.0);
            for (std::size_t k = 0; k < kWsolIouThresholds.size(); ++k)
                raiseTo(ious, s->wsolV2Hits[k], kWsolIouThresholds[k] / 100.0);
            v2.accumulateBestIous(ious);
            std::vector<double> largest(thresholds.size(), 0.0);
            raiseTo(largest, s->wsolV1Hits, 50 / 100.0);
            v1.accumulateBestIous(largest);
        }
        if (!s->wsolForeground.empty() || !s->wsolBackground.empty())
            px.accumulateHistograms(denseHistogram(s->wsolForeground, bins),
                                    denseHistogram(s->wsolBackground, bins));
    }
    if (v2.imageCount() == 0 && px.imageCount() == 0) return std::nullopt;
    MethodSummary::Wsol w;
    w.iouThresholds = kWsolIouThresholds;
    if (v2.imageCount()) {
        const WsolBoxResult r2 = v2.compute();
        w.maxBoxAccV2At = r2.maxBoxAcc;
        w.maxBoxAccV2 = r2.meanOverIou;
        w.boxAccCurve50 = r2.accuracyCurve[1];
        w.maxBoxAcc = v1.compute().maxBoxAccAt(50);
    }
    w.maskedImages = px.imageCount();
    if (px.imageCount()) {
        try {
            w.pxap = px.compute().pxap;
        } catch (const std::runtime_error&) {
            // No foreground pixel or no scored pixel in the masks: PxAP is undefined.
        }
    }
    return w;
}

}  // namespace

EvalSummary summarize(const std::vector<ImageRecord>& records, const EvalOptions& o,
                      const std::vector<std::string>& tapNames) {
    EvalSummary sum;
    sum.images = records.size();
    sum.sweep = o.sweep;
    sum.protocol = o.protocol;
    if (o.protocol == EvalProtocol::Wsol) sum.wsolThresholds = wsolThresholds(o.wsolStep);
    if (records.empty()) return sum;
    std::size_t top1 = 0, top5 = 0;
    sum.classified = std::all_of(records.begin(), records.end(),
                                 [](const ImageRecord& r) { return r.classLabel() >= 0; });
    for (const auto& r : records) {
        top1 += r.predicted == r.classLabel();
        top5 += std::any_of(r.top5.begin(), r.top5.end(),
                            [&](const ClassScore& c) { return c.classIndex == r.classLabel(); });
    }
    sum.top1 = double(top1) / records.size();
    sum.top5 = double(top5) / records.size();
    for (const auto& first : records.front().scores) {
        MethodSummary m;
        m.method = first.method;
        m.tap = first.tap;
        m.tapName = first.tap >= 0 && first.tap < static_cast<int>(tapNames.size())
                        ? tapNames[static_cast<std::size_t>(first.tap)]
                        : "";
        const std::size_t T = o.sweep.size();
        std::vector<double> hitsLargest(T, 0), hits3(T, 0), hits5(T, 0), hits7(T, 0);
        std::vector<double> iouCurveHits(19, 0);
        std::map<int, std::tuple<double, double, std::size_t>> breed;
        double iouSum = 0;
        std::size_t loc = 0, top1Loc = 0;
        for (const auto& r : records) {
            const MapScore* s = r.find(m.method, m.tap);
            if (!s) continue;
            ++m.images;
            if (!r.hasBoxes) continue;
            ++m.boxedImages;
            iouSum += s->iou;
            const bool ok = s->iou >= 0.5;
            loc += ok;
            top1Loc += ok && r.predicted == r.classLabel();
            for (int k = 0; k < 19; ++k)
                iouCurveHits[static_cast<std::size_t>(k)] += s->iou >= 0.05 * (k + 1);
            auto& b = breed[r.label];
            std::get<0>(b) += s->iou;
            std::get<1>(b) += ok;
            std::get<2>(b) += 1;
            for (std::size_t t = 0; t < T && t < s->sweepLargest.size(); ++t) {
                hitsLargest[t] += s->sweepLargest[t] >= 0.5f;
                hits3[t] += s->sweepBest[t] >= 0.3f;
                hits5[t] += s->sweepBest[t] >= 0.5f;
                hits7[t] += s->sweepBest[t] >= 0.7f;
            }
        }
        const double n = std::max<std::size_t>(1, m.boxedImages);
        m.meanIou = iouSum / n;
        m.locAccuracy = loc / n;
        m.gtKnownLoc = m.locAccuracy;
        m.top1Loc = top1Loc / n;
        for (double h : iouCurveHits) m.iouThresholdCurve.push_back(h / n);
        double best3 = 0, best5 = 0, best7 = 0;
        for (std::size_t t = 0; t < T; ++t) {
            const double acc = hitsLargest[t] / n;
            m.sweepCurve.push_back(acc);
            if (acc > m.maxBoxAcc) {
                m.maxBoxAcc = acc;
                m.maxBoxAccTau = o.sweep[t];
            }
            best3 = std::max(best3, hits3[t] / n);
            best5 = std::max(best5, hits5[t] / n);
            best7 = std::max(best7, hits7[t] / n);
        }
        m.maxBoxAccV2 = T ? (best3 + best5 + best7) / 3.0 : 0.0;
        for (const auto& [label, v] : breed)
            m.perBreed[label] = {std::get<0>(v) / std::get<2>(v), std::get<1>(v) / std::get<2>(v)};
        if (o.protocol == EvalProtocol::Wsol) m.wsol = summarizeWsol(records, m.method, m.tap, o);
        if (o.metrics.any()) {
            std::vector<const MapMetrics*> maps;
            for (const auto& r : records)
                if (const MapScore* s = r.find(m.method, m.tap); s && s->metrics)
                    maps.push_back(&*s->metrics);
            m.metrics = summarizeMetrics(maps);
        }
        sum.methods.push_back(std::move(m));
    }
    return sum;
}

namespace {

json recordToJson(const ImageRecord& r) {
    json scores = json::array();
    for (const auto& s : r.scores) {
        json box = s.box ? json::array({s.box->xmin, s.box->ymin, s.box->xmax, s.box->ymax})
                         : json(nullptr);
        json one = {{"method", methodId(s.method)},
                    {"tap", s.tap},
                    {"box", box},
                    {"iou", s.iou},
                    {"sweep_largest", s.sweepLargest},
                    {"sweep_best", s.sweepBest}};
        if (!s.wsolV2Hits.empty()) {
            one["wsol_v2"] = s.wsolV2Hits;
            one["wsol_v1"] = s.wsolV1Hits;
        }
        if (!s.wsolForeground.empty() || !s.wsolBackground.empty()) {
            one["wsol_fg"] = s.wsolForeground;
            one["wsol_bg"] = s.wsolBackground;
        }
        if (s.metrics) one["metrics"] = mapMetricsToJson(*s.metrics);
        scores.push_back(std::move(one));
    }
    json top = json::array();
    for (const auto& c : r.top5) top.push_back({c.classIndex, c.probability});
    json j = {{"index", r.index},
              {"file", r.relPath},
              {"label", r.label},
              {"predicted", r.predicted},
              {"probability", r.probability},
              {"top5", top},
              {"scores", scores}};
    if (r.classLabel() != r.label) j["model_label"] = r.modelLabel;
    if (!r.hasBoxes) j["no_boxes"] = true;
    return j;
}

ImageRecord recordFromJson(const json& j) {
    ImageRecord r;
    r.index = j.at("index").get<std::size_t>();
    r.relPath = j.at("file").get<std::string>();
    r.label = j.at("label").get<int>();
    if (j.contains("model_label")) r.modelLabel = j.at("model_label").get<int>();
    if (j.contains("no_boxes")) r.hasBoxes = !j.at("no_boxes").get<bool>();
    r.predicted = j.at("predicted").get<int>();
    r.probability = j.at("probability").get<float>();
    for (const auto& t : j.at("top5"))
        r.top5.push_back({t.at(0).get<int>(), t.at(1).get<float>(), 0.f});
    for (const auto& s : j.at("scores")) {
        MapScore m;
        if (!parseMethod(s.at("method").get<std::string>(), &m.method))
            throw std::runtime_error("unknown method");
        m.tap = s.at("tap").get<int>();
        if (!s.at("box").is_null()) {
            const auto& b = s.at("box");
            m.box =
                Box{b.at(0).get<int>(), b.at(1).get<int>(), b.at(2).get<int>(), b.at(3).get<int>()};
        }
        m.iou = s.at("iou").get<double>();
        m.sweepLargest = s.at("sweep_largest").get<std::vector<float>>();
        m.sweepBest = s.at("sweep_best").get<std::vector<float>>();
        if (s.contains("wsol_v2")) {
            m.wsolV2Hits = s.at("wsol_v2").get<std::vector<std::vector<std::pair<int, int>>>>();
            m.wsolV1Hits = s.at("wsol_v1").get<std::vector<std::pair<int, int>>>();
        }
        if (s.contains("wsol_fg")) {
            m.wsolForeground = s.at("wsol_fg").get<std::vector<std::pair<int, std::int64_t>>>();
            m.wsolBackground = s.at("wsol_bg").get<std::vector<std::pair<int, std::int64_t>>>();
        }
        if (s.contains("metrics")) m.metrics = mapMetricsFromJson(s.at("metrics"));
        r.scores.push_back(std::move(m));
    }
    return r;
}

// A fingerprint of what is evaluated, so a partial file from another model, dataset or settings
// is not reused. "model" (the path) is informative; the digests decide.
std::string runKey(const ModelSession& model, const std::vector<Sample>& samples,
                   std::size_t splitSize, const EvalOptions& o) {
    json j = {{"model", model.info().source.string()},
              {"model_digest", model.info().contentDigest},
              {"data_digest", splitDigest(samples)},
              {"images", splitSize},
              {"tau", o.tau},
              {"mode", boxModeId(o.mode)},
              {"sweep", o.sweep},
              {"taps", o.taps},
              {"score", o.score == ScoreKind::Logit ? "logit" : "probability"},
              {"limit", o.limit}};
    // Only when set, so fp32 evaluations written before the option existed still resume.
    if (o.bf16) j["precision"] = "bf16";
    if (!o.datasetClassNames.empty()) j["dataset_classes"] = o.datasetClassNames;
    if (o.protocol == EvalProtocol::Wsol) {
        j["protocol"] = evalProtocolId(o.protocol);
        j["wsol_step"] = o.wsolStep;
    }
    if (o.metrics.any()) j["metrics"] = metricOptionsJson(o.metrics);
    // The methods' options, only where they differ from the defaults (older keys still match).
    if (o.finerAlpha != 1.0 || !o.finerCompare.empty())
        j["finer_cam"] = {{"alpha", o.finerAlpha}, {"compare_ranks", o.finerCompare}};
    if (o.augSmooth) j["aug_smooth"] = true;
    if (o.eigenSmooth) j["eigen_smooth"] = true;
    // Maps saved by an earlier run are only in the folder it wrote to.
    if (!o.saveMapsDir.empty()) j["save_maps"] = fs::absolute(o.saveMapsDir).string();
    // A TorchScript model's input size and normalisation may come from the user, not the file:
    // they decide the maps as much as its bytes do.
    // So may its class names (they decide which dataset class is which model output) and how its
    // layers are read (layout, tokens, grid: the channels and stride of each layer).
    const ModelInfo& info = model.info();
    // A Keras model's preprocessing is the user's choice too.
    if (info.kerasPreprocess) j["keras_preprocess"] = kerasPreprocessName(*info.kerasPreprocess);
    if (info.torchScript) {
        j["input"] = {info.inputSize,   info.norm.mean[0], info.norm.mean[1], info.norm.mean[2],
                      info.norm.std[0], info.norm.std[1],  info.norm.std[2]};
        j["classes"] = info.classNames;
        json layers = json::array();
        for (const TapInfo& t : info.taps) layers.push_back({t.name, t.channels, t.stride});
        j["layers"] = layers;
    }
    json methods = json::array();
    for (Method m : o.methods) methods.push_back(methodId(m));
    j["methods"] = methods;
    return jsonText(j);
}

// Whether a partial file's key line describes the same run: everything but the model's path.
bool sameRun(const std::string& savedKey, const std::string& key) {
    try {
        json a = json::parse(savedKey), b = json::parse(key);
        if (!a.is_object() || !a.contains("model_digest")) return false;  // an older format
        a.erase("model");
        b.erase("model");
        return a == b;
    } catch (const json::exception&) {
        return false;
    }
}

}  // namespace

namespace {
std::string normalisedClassName(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '_' || c == '-') c = ' ';
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}
}  // namespace

ClassMatch matchClasses(const std::vector<std::string>& datasetNames,
                        const std::vector<std::string>& modelNames) {
    ClassMatch m;
    if (datasetNames == modelNames) {
        for (std::size_t i = 0; i < datasetNames.size(); ++i)
            m.toModel.push_back(static_cast<int>(i));
        m.how = "same names";
        return m;
    }
    std::map<std::string, int> byName;
    std::set<std::string> twice;
    for (std::size_t i = 0; i < modelNames.size(); ++i)
        if (!byName.emplace(normalisedClassName(modelNames[i]), static_cast<int>(i)).second)
            twice.insert(normalisedClassName(modelNames[i]));
    std::vector<int> found;
    for (const auto& n : datasetNames) {
        const auto it = byName.find(normalisedClassName(n));
        if (it == byName.end() || twice.count(it->first)) break;
        found.push_back(it->second);
    }
    if (!datasetNames.empty() && found.size() == datasetNames.size()) {
        m.toModel = found;
        m.how = "by name";
        return m;
    }
    if (datasetNames.size() == modelNames.size()) {
        for (std::size_t i = 0; i < datasetNames.size(); ++i)
            m.toModel.push_back(static_cast<int>(i));
        m.how = "by count and order (the names differ)";
        return m;
    }
    const std::size_t missing = datasetNames.size() - found.size();
    m.how = "the model's " + std::to_string(modelNames.size()) +
            " classes do not match the dataset's " + std::to_string(datasetNames.size()) +
            " (by name: '" + datasetNames[found.size()] + "'" + (missing > 1 ? " and others" : "") +
            " not found; by count: different): classification is not scored, and each map "
            "explains the predicted class";
    return m;
}

namespace {

// One map under the WSOL protocol: prepared as their inference.py does, scored against the boxes
// and the mask, saved where asked.
void scoreWsol(MapScore& score, const Heatmap& raw, const Sample& sample, const cv::Mat& gtMask,
               const std::vector<double>& thresholds, const fs::path& saveTo) {
    std::vector<float> values = raw.data;
    // The method's own definition up to normalisation: Grad-CAM's ReLU is part of it, CAM has
    // none (their CAM is the raw weighted sum).
    if (methodUsesRelu(score.method))
        for (float& v : values) v = std::max(v, 0.0f);
    const cv::Mat prepared = wsolPrepareMap(values.data(), raw.height, raw.width);
    if (!saveTo.empty()) {
        fs::create_directories(saveTo.parent_path());
        writeNpy(
            saveTo, prepared.ptr<double>(0),
            {static_cast<std::size_t>(prepared.rows), static_cast<std::size_t>(prepared.cols)});
    }
    if (sample.hasBoxes()) {
        // The boxes as the metadata lists them (x1, y1 one past the last pixel), else ours
        // (inclusive) in that convention.
        std::vector<WsolBox> gt;
        if (!sample.listedBoxes.empty())
            for (const Box& b : sample.listedBoxes) gt.push_back({b.xmin, b.ymin, b.xmax, b.ymax});
        else
            for (const Box& b : sample.boxes)
                gt.push_back({std::max(0, b.xmin), std::max(0, b.ymin), std::max(0, b.xmax) + 1,
                              std::max(0, b.ymax) + 1});
        for (WsolBox& b : gt) b = wsolResizeBox(b, sample.width, sample.height);
        const WsolBestIouCurves curves = wsolBestIouCurves(prepared, thresholds, gt);
        for (int iou : kWsolIouThresholds)
            score.wsolV2Hits.push_back(hitRanges(curves.all, iou / 100.0));
        score.wsolV1Hits = hitRanges(curves.largest, 50 / 100.0);
    }
    if (!gtMask.empty()) {
        WsolMaskAccumulator one(thresholds);
        one.accumulate(prepared, gtMask);
        score.wsolForeground = sparseHistogram(one.foregroundHistogram());
        score.wsolBackground = sparseHistogram(one.backgroundHistogram());
    }
}

// The image's ground-truth mask for PxAP (their get_mask); an empty matrix without masks.
cv::Mat readGroundTruthMask(const Sample& s) {
    if (!s.hasMasks()) return {};
    // The pixel budget and the regular-file check before decoding, as for every image.
    auto read = [](const fs::path& p) { return readGray(p); };
    std::vector<cv::Mat> instances;
    for (const auto& p : s.maskPaths) instances.push_back(read(p));
    const cv::Mat ignore = s.ignoreMaskPath.empty() ? cv::Mat() : read(s.ignoreMaskPath);
    return wsolGroundTruthMask(instances, ignore);
}

}  // namespace

namespace {
// The faithfulness metrics of a batch: every image's maps and the baseline maps, one image at a
// time (each metric batches its own forward passes on the model's inference form).
void scoreBatchMetrics(ModelSession& model, const Batch& batch, const std::vector<Sample>& samples,
                       const std::vector<ImageExplanation>& ex, std::vector<ImageRecord>& records,
                       const EvalOptions& o, const ExplainOptions& eo,
                       const std::vector<double>& thresholds, const std::vector<cv::Mat>& gtMasks,
                       std::vector<LoadIssue>& warnings, std::size_t processed, std::size_t total,
                       const JobContext& job) {
    const ModelInfo& info = model.info();
    const int S = info.inputSize;
    const std::size_t floats = 3 * static_cast<std::size_t>(S) * S;
    const InputClassifier classify = [&model](const float* chw, int n) {
        return model.classifyPrepared(chw, n);
    };
    const float* all = batch.images.data_ptr<float>();
    // The sanity check: the batch's maps from every randomised copy of the model, for the
    // original's classes (one explanation of the batch per cascade step, seeded as asked).
    SanityResult sanity;
    if (o.metrics.sanity) {
        job.report(processed, total, "Evaluating: sanity check (randomising the model)");
        SanityOptions so;
        so.explain = eo;
        so.seed = o.metrics.seed;
        so.explainOriginal = false;  // its maps are `ex`, and their classes are resolved
        std::vector<int> targets;
        for (const auto& e : ex) targets.push_back(e.target);
        sanity = model.explainRandomized(all, static_cast<int>(records.size()), targets, so, job);
    }
    for (std::size_t b = 0; b < records.size(); ++b) {
        job.throwIfCancelled();
        job.report(processed + b, total, "Evaluating: faithfulness metrics");
        const Sample& s = samples[batch.indices[b]];
        ImageRecord& r = records[b];
        const float* chw = all + b * floats;
        std::vector<MetricMap> maps;
        auto atImage = [&](const Heatmap& m) {
            return o.metrics.pointing && s.width > 0 && s.height > 0
                       ? upsampleMap(m, s.width, s.height).data
                       : std::vector<float>{};
        };
        for (const MapResult& m : ex[b].maps) {
            MetricMap mm;
            // Normalised once; displayMap's upsampling to the input and to the image.
            const Heatmap shown = normalizeMap(m.raw, methodUsesRelu(m.method));
            mm.atInput = upsampleMap(shown, S, S).data;
            mm.atImage = atImage(shown);
            mm.seed = mixSeeds(mixSeeds(r.index, static_cast<std::uint64_t>(m.method)),
                               static_cast<std::uint64_t>(m.tap + 1));
            maps.push_back(std::move(mm));
        }
        // Each map against the same method's map at the same layer of every randomised model,
        // both as scored here: normalised with the method's ReLU, at the input's size.
        std::vector<std::vector<float>> spearman(maps.size()), structural(maps.size());
        for (const SanityStep& step : sanity.steps) {
            const auto& randomized = step.explanations.at(b).maps;
            for (std::size_t j = 0; j < ex[b].maps.size(); ++j) {
                const MapResult& m = ex[b].maps[j];
                const MapResult& rm = randomized.at(j);
                if (rm.method != m.method || rm.tap != m.tap)
                    throw std::logic_error("the randomised model's maps are out of order");
                const auto other = displayMap(rm.raw, m.method, S, S).data;
                const auto& mine = maps[j].atInput;
                spearman[j].push_back(static_cast<float>(
                    spearmanCorrelation(mine.data(), other.data(), mine.size(), true)));
                structural[j].push_back(
                    static_cast<float>(ssim(mine.data(), other.data(), S, S, true)));
            }
        }
        // The baselines: maps like the methods', scored by the same code (IoU included).
        for (BaselineMap kind : allBaselineMaps()) {
            const Method method = kind == BaselineMap::Random   ? Method::RandomMap
                                  : kind == BaselineMap::Center ? Method::CenterMap
                                                                : Method::SobelMap;
            const Heatmap h{
                S, S, makeBaselineMap(kind, chw, S, info.norm, mixSeeds(o.metrics.seed, r.index))};
            r.scores.push_back(scoreMap(h, method, -1, s.width, s.height, s.boxes, o));
            if (o.protocol == EvalProtocol::Wsol)
                scoreWsol(r.scores.back(), h, s, gtMasks[b], thresholds, {});
            MetricMap mm;
            mm.atInput = h.data;
            mm.atImage = atImage(h);
            mm.seed = mixSeeds(mixSeeds(r.index, static_cast<std::uint64_t>(method)), 0);
            if (o.metrics.sanity) {
                // A baseline is the same map whatever the weights: compared with itself, by the
                // same code, at every step.
                const auto& d = mm.atInput;
                spearman.emplace_back(
                    sanity.steps.size(),
                    static_cast<float>(spearmanCorrelation(d.data(), d.data(), d.size(), true)));
                structural.emplace_back(sanity.steps.size(),
                                        static_cast<float>(ssim(d.data(), d.data(), S, S, true)));
            }
            maps.push_back(std::move(mm));
        }
        PointingTruth truth;
        if (o.metrics.pointing && s.width > 0 && s.height > 0) {
            std::string error;
            truth = pointingTruthOf(s, &error);
            if (!error.empty())
                warnings.push_back({LoadIssue::Kind::Skipped, s.relPath,
                                    error + ": the pointing games use the rest"});
        }
        const int cls = ex[b].target;
        auto scored = scoreMetrics(classify, chw, S, cls, maps, truth, o.metrics, job);
        for (std::size_t j = 0; j < scored.size() && j < r.scores.size(); ++j) {
            if (o.metrics.sanity) {
                scored[j].sanitySpearman = std::move(spearman[j]);
                scored[j].sanitySsim = std::move(structural[j]);
            }
            r.scores[j].metrics = std::move(scored[j]);
        }
    }
}
}  // namespace

fs::path savedMapsFolder(const fs::path& dir, const EvalOptions& o, Method method,
                         const std::string& tapName) {
    const bool single = o.methods.size() == 1 && o.taps.size() <= 1;
    return single ? dir : dir / (methodId(method) + "@" + tapName);
}

EvalResult evaluateSplit(ModelSession& model, const SplitData& split, const EvalOptions& options,
                         const fs::path& outDir, const JobContext& job) {
    return evaluateSplitSharded(model, split, options, outDir, nullptr, job);
}

std::vector<fs::path> partialEvaluationFiles(const fs::path& outDir) {
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(outDir, ec)) {
        const std::string name = e.path().filename().string();
        const std::string rank = "eval_partial.rank";
        const bool perRank = name.rfind(rank, 0) == 0 && name.size() > rank.size() + 6 &&
                             name.compare(name.size() - 6, 6, ".jsonl") == 0 &&
                             name.find_first_not_of("0123456789", rank.size()) == name.size() - 6;
        if (name == "eval_partial.jsonl" || perRank) files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

EvalResult evaluateSplitSharded(ModelSession& model, const SplitData& split,
                                const EvalOptions& options, const fs::path& outDir,
                                dist::ProcessGroupHandle* group, const JobContext& job) {
    const int world = group ? group->worldSize() : 1;
    const int me = group ? group->rank() : 0;
    EvalOptions o = options;
    // Their thresholds replace our sweep; the per-image box at tau stays ours.
    if (o.protocol == EvalProtocol::Wsol) o.sweep.clear();
    const std::vector<double> thresholds =
        o.protocol == EvalProtocol::Wsol ? wsolThresholds(o.wsolStep) : std::vector<double>{};
    const ModelInfo& info = model.info();
    for (int t : o.taps)
        if (t < 0 || t >= static_cast<int>(info.taps.size()))
            throw std::invalid_argument("unknown layer id " + std::to_string(t));
    ClassMatch match;
    if (o.datasetClassNames.empty()) {
        for (const auto& s : split.samples)
            if (s.label >= info.numClasses())
                throw std::invalid_argument(
                    "the dataset has more breeds than the model has classes (" +
                    std::to_string(info.numClasses()) + ")");
        for (int i = 0; i < info.numClasses(); ++i) match.toModel.push_back(i);
    } else {
        match = matchClasses(o.datasetClassNames, info.classNames);
    }
    auto modelLabel = [&](int label) {
        return label >= 0 && label < static_cast<int>(match.toModel.size())
                   ? match.toModel[static_cast<std::size_t>(label)]
                   : -1;
    };
    if (o.metrics.sanity) {
        // The cascade's steps name the summary's sanity values (and enter the resume key).
        o.metrics.sanitySteps.clear();
        for (const CascadeStep& step : model.randomizationCascade())
            o.metrics.sanitySteps.push_back(step.label);
    }
    std::vector<Sample> samples = split.samples;
    if (o.limit && samples.size() > o.limit) samples.resize(o.limit);
    std::vector<std::string> tapNames;
    for (const auto& t : info.taps) tapNames.push_back(t.name);

    fs::create_directories(outDir);
    // One process keeps the file it always kept; the ranks of a group one each.
    const fs::path partial = outDir / (group ? "eval_partial.rank" + std::to_string(me) + ".jsonl"
                                             : std::string("eval_partial.jsonl"));
    const std::string key = runKey(model, samples, split.samples.size(), o);
    EvalResult result;
    // Resume: records of interrupted runs with the same settings, from every partial file here
    // (an earlier run may have had another world size). Ours alone is rewritten below.
    std::map<std::size_t, ImageRecord> known;
    std::vector<ImageRecord> ours;
    for (const fs::path& file : partialEvaluationFiles(outDir)) {
        std::ifstream in(file);
        std::string line;
        if (!(std::getline(in, line) && sameRun(line, key))) continue;
        while (std::getline(in, line)) {
            try {
                ImageRecord r = recordFromJson(json::parse(line));
                if (r.index >= samples.size()) continue;
                if (file == partial) ours.push_back(r);
                known.emplace(r.index, std::move(r));
            } catch (const std::exception&) {
                break;  // a line cut short by the interruption
            }
        }
    }
    // What is done, as every rank knows it (with no shared file system each knows its own), and
    // for each done image the lowest rank that has its record: that rank hands it to rank 0.
    std::map<std::size_t, int> doneBy;
    for (const auto& [index, r] : known) doneBy.emplace(index, me);
    if (group) {
        // Every rank has read the files before any rank rewrites its own.
        group->barrier();
        std::string mine;
        for (const auto& [index, r] : known) mine += std::to_string(index) + "\n";
        const auto all = group->allGather(mine);
        doneBy.clear();
        for (int rank = 0; rank < world; ++rank) {
            std::istringstream lines(all[static_cast<std::size_t>(rank)]);
            std::size_t index;
            while (lines >> index) doneBy.emplace(index, rank);  // ranks ascending: lowest kept
        }
    }
    result.resumed = doneBy.size();
    {
        // Rewrite our partial file with its good lines only, then append as batches finish.
        std::string text = key + "\n";
        for (const auto& r : ours) text += jsonText(recordToJson(r)) + "\n";
        writeFileAtomically(partial, text);
    }
    std::ofstream append(partial, std::ios::app);

    // The images to do, in batches as one process makes them; batch k is rank k % world's.
    std::vector<std::size_t> todo;
    {
        std::vector<std::size_t> all;
        for (std::size_t i = 0; i < samples.size(); ++i)
            if (!doneBy.count(i)) all.push_back(i);
        const auto batch = static_cast<std::size_t>(std::max(1, o.batchSize));
        for (std::size_t k = 0; k * batch < all.size(); ++k)
            if (static_cast<int>(k % static_cast<std::size_t>(world)) == me)
                for (std::size_t j = k * batch; j < all.size() && j < (k + 1) * batch; ++j)
                    todo.push_back(all[j]);
    }
    // The records this rank reports: what it resumed and is the first to have, then its own.
    for (auto& [index, r] : known)
        if (doneBy.at(index) == me) result.records.push_back(std::move(r));
    known.clear();
    std::vector<Sample> todoSamples;
    for (std::size_t i : todo) todoSamples.push_back(samples[i]);
    LoaderOptions lo;
    lo.batchSize = o.batchSize;
    lo.inputSize = info.inputSize;
    lo.norm = info.norm;
    lo.threads = o.loaderThreads;
    BatchLoader loader(todoSamples, lo);
    loader.startEpoch(0);
    ExplainOptions eo;
    eo.methods = o.methods;
    eo.taps = o.taps;
    eo.score = o.score;
    eo.bf16 = o.bf16;
    eo.finerAlpha = o.finerAlpha;
    eo.finerCompare = o.finerCompare;
    eo.augSmooth = o.augSmooth;
    eo.eigenSmooth = o.eigenSmooth;
    const std::size_t total = group ? todo.size() : samples.size();
    std::size_t processed = group ? 0 : result.records.size();
    while (auto batch = loader.next()) {
        job.throwIfCancelled();
        for (const LoadIssue& f : batch->failures) result.skipped.push_back(f);
        processed += batch->failures.size();
        const int n = static_cast<int>(batch->images.size(0));
        if (n == 0) {
            job.report(processed, total, "Evaluating");
            continue;
        }
        std::vector<int> targets;
        for (std::size_t j : batch->indices) targets.push_back(modelLabel(todoSamples[j].label));
        const auto ex = model.explainPrepared(batch->images.data_ptr<float>(), n, targets, eo, job);
        std::vector<ImageRecord> records(static_cast<std::size_t>(n));
        for (int b = 0; b < n; ++b) {
            const Sample& s = todoSamples[batch->indices[static_cast<std::size_t>(b)]];
            const ImageExplanation& e = ex[static_cast<std::size_t>(b)];
            ImageRecord& r = records[static_cast<std::size_t>(b)];
            r.index = todo[batch->indices[static_cast<std::size_t>(b)]];
            r.relPath = s.relPath;
            r.hasBoxes = s.hasBoxes();
            r.label = s.label;
            r.modelLabel = modelLabel(s.label);
            r.top5 = e.top;
            if (!e.top.empty()) {
                r.predicted = e.top[0].classIndex;
                r.probability = e.top[0].probability;
            }
            r.scores.resize(e.maps.size());
        }
        // The WSOL protocol's masks, once per image (every map of the image shares them).
        std::vector<cv::Mat> gtMasks(static_cast<std::size_t>(n));
        std::vector<std::string> maskErrors(static_cast<std::size_t>(n));
        if (o.protocol == EvalProtocol::Wsol)
            at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
                for (int64_t b = begin; b < end; ++b) {
                    const auto i = static_cast<std::size_t>(b);
                    try {
                        gtMasks[i] = readGroundTruthMask(todoSamples[batch->indices[i]]);
                    } catch (const std::exception& e) {
                        maskErrors[i] = e.what();
                    }
                }
            });
        for (int b = 0; b < n; ++b)
            if (!maskErrors[static_cast<std::size_t>(b)].empty())
                result.warnings.push_back(
                    {LoadIssue::Kind::Skipped,
                     todoSamples[batch->indices[static_cast<std::size_t>(b)]].relPath,
                     maskErrors[static_cast<std::size_t>(b)] + ": the image is left out of PxAP"});
        // Maps to boxes on every core LibTorch uses: serial, this step left one of two cores
        // idle for a tenth of the evaluation.
        const std::size_t perImage = ex.empty() ? 0 : ex.front().maps.size();
        at::parallel_for(0, static_cast<int64_t>(n * perImage), 1, [&](int64_t begin, int64_t end) {
            for (int64_t k = begin; k < end; ++k) {
                const auto b = static_cast<std::size_t>(k) / perImage;
                const auto j = static_cast<std::size_t>(k) % perImage;
                const Sample& s = todoSamples[batch->indices[b]];
                const MapResult& m = ex[b].maps[j];
                records[b].scores[j] =
                    scoreMap(m.raw, m.method, m.tap, s.width, s.height, s.boxes, o);
                if (o.protocol == EvalProtocol::Wsol) {
                    fs::path saveTo;
                    if (!o.saveMapsDir.empty())
                        saveTo = savedMapsFolder(o.saveMapsDir, o, m.method,
                                                 tapNames[static_cast<std::size_t>(m.tap)]) /
                                 (s.relPath + ".npy");
                    scoreWsol(records[b].scores[j], m.raw, s, gtMasks[b], thresholds, saveTo);
                } else if (!o.saveMapsDir.empty()) {
                    // Our protocol's map: normalised, at the image's own size.
                    const Heatmap map = displayMap(m.raw, m.method, s.width, s.height);
                    const fs::path to = savedMapsFolder(o.saveMapsDir, o, m.method,
                                                        tapNames[static_cast<std::size_t>(m.tap)]) /
                                        (s.relPath + ".npy");
                    fs::create_directories(to.parent_path());
                    writeNpy(to, map.data,
                             {static_cast<std::size_t>(map.height),
                              static_cast<std::size_t>(map.width)});
                }
            }
        });
        if (o.metrics.any())
            scoreBatchMetrics(model, *batch, todoSamples, ex, records, o, eo, thresholds, gtMasks,
                              result.warnings, processed, total, job);
        for (ImageRecord& r : records) {
            append << jsonText(recordToJson(r)) << "\n";
            result.records.push_back(std::move(r));
        }
        append.flush();
        processed += static_cast<std::size_t>(n);
        job.report(processed, total, "Evaluating");
    }
    append.close();
    // Skipped images and warnings in split order, whichever rank or batch met them.
    std::map<std::string, std::size_t> indexOf;
    for (std::size_t i = samples.size(); i-- > 0;) {
        indexOf[samples[i].relPath] = i;
        indexOf[samples[i].imagePath.string()] = i;
    }
    auto inSplitOrder = [&](std::vector<LoadIssue>& issues) {
        auto at = [&](const LoadIssue& x) {
            auto it = indexOf.find(x.file);
            return it == indexOf.end() ? samples.size() : it->second;
        };
        std::stable_sort(issues.begin(), issues.end(),
                         [&](const LoadIssue& a, const LoadIssue& b) { return at(a) < at(b); });
    };
    if (group) {
        // Rank 0 gathers everything: a line of skipped images and warnings, then records.
        auto issuesJson = [](const std::vector<LoadIssue>& list) {
            json a = json::array();
            for (const auto& x : list) a.push_back({static_cast<int>(x.kind), x.file, x.message});
            return a;
        };
        std::string payload = jsonText(json{{"skipped", issuesJson(result.skipped)},
                                            {"warnings", issuesJson(result.warnings)}}) +
                              "\n";
        for (const auto& r : result.records) payload += jsonText(recordToJson(r)) + "\n";
        const auto parts = group->gather(payload, 0);
        if (me != 0) {
            // Rank 0 writes the outputs and removes the partial files; wait for it.
            group->barrier();
            return result;
        }
        result.records.clear();
        result.skipped.clear();
        result.warnings.clear();
        for (std::size_t rank = 0; rank < parts.size(); ++rank) {
            std::istringstream in(parts[rank]);
            std::string line;
            std::getline(in, line);
            const json head = json::parse(line);
            for (const char* what : {"skipped", "warnings"})
                for (const auto& x : head.at(what))
                    (std::string(what) == "skipped" ? result.skipped : result.warnings)
                        .push_back({static_cast<LoadIssue::Kind>(x.at(0).get<int>()),
                                    x.at(1).get<std::string>(), x.at(2).get<std::string>()});
            while (std::getline(in, line))
                if (!line.empty()) result.records.push_back(recordFromJson(json::parse(line)));
        }
    }
    inSplitOrder(result.skipped);
    inSplitOrder(result.warnings);
    std::sort(result.records.begin(), result.records.end(),
              [](const ImageRecord& a, const ImageRecord& b) { return a.index < b.index; });
    result.summary = summarize(result.records, o, tapNames);
    result.summary.classMatch = match.how;
    const auto& labelNames = o.datasetClassNames.empty() ? info.classNames : o.datasetClassNames;
    writePerImageCsv(outDir / "per_image.csv", result.records, labelNames, tapNames,
                     info.classNames, o.metrics.sanitySteps);
    writeSummaryJson(outDir / "summary.json", result.summary, labelNames, o, result.skipped,
                     result.warnings);
    {
        // Kept for the dashboard and `export --worst/--best`: the settings line, then a record
        // per image in split order.
        std::string text = key + "\n";
        for (const auto& r : result.records) text += jsonText(recordToJson(r)) + "\n";
        writeFileAtomically(outDir / kRecordsFile, text);
    }
    for (const fs::path& file : partialEvaluationFiles(outDir)) {
        std::error_code ec;
        fs::remove(file, ec);
    }
    if (group) group->barrier();
    return result;
}

std::string splitDigest(const std::vector<Sample>& samples) {
    Hasher h;
    h.updateNumber(samples.size());
    for (const Sample& s : samples) {
        h.update(s.relPath);
        std::error_code ec;
        fs::path shard;
        std::uint64_t offset = 0;
        if (parseTfdsImagePath(s.imagePath, &shard, &offset) &&
            !fs::is_regular_file(s.imagePath, ec)) {
            // An image inside a TFRecord shard: the shard's name and size and where the record
            // starts stand for the image file's size.
            h.update(shard.filename().string());
            const auto shardSize = fs::file_size(shard, ec);
            h.updateNumber(ec ? ~std::uint64_t{0} : static_cast<std::uint64_t>(shardSize));
            h.updateNumber(offset);
        } else {
            const auto size = fs::file_size(s.imagePath, ec);
            h.updateNumber(ec ? ~std::uint64_t{0} : static_cast<std::uint64_t>(size));
        }
        h.updateNumber(static_cast<std::uint64_t>(static_cast<std::int64_t>(s.label)));
        h.updateNumber(static_cast<std::uint64_t>(s.width));
        h.updateNumber(static_cast<std::uint64_t>(s.height));
        auto boxes = [&h](const std::vector<Box>& list) {
            h.updateNumber(list.size());
            for (const Box& b : list)
                for (int v : {b.xmin, b.ymin, b.xmax, b.ymax})
                    h.updateNumber(static_cast<std::uint64_t>(static_cast<std::int64_t>(v)));
        };
        boxes(s.boxes);
        // What the WSOL protocol scores against besides: the boxes as listed and the masks (path
        // and size). Only where a sample has them, so digests of box-only splits stay as they
        // were and their partial runs still resume.
        if (!s.listedBoxes.empty() || s.hasMasks()) {
            boxes(s.listedBoxes);
            h.updateNumber(s.maskPaths.size());
            h.update(s.ignoreMaskPath.string());
            for (const fs::path& p : s.maskPaths) {
                h.update(p.string());
                const auto maskSize = fs::file_size(p, ec);
                h.updateNumber(ec ? ~std::uint64_t{0} : static_cast<std::uint64_t>(maskSize));
            }
        }
    }
    return h.hex();
}

fs::path evaluationDirFor(const fs::path& model, SplitKind split) {
    return model.parent_path() / (model.stem().string() + ".eval-" + splitName(split));
}

SavedEvaluation loadEvaluation(const fs::path& dir, const std::vector<std::string>& tapNames) {
    const fs::path file = dir / kRecordsFile;
    std::ifstream in(file);
    if (!in) throw std::runtime_error("cannot read '" + file.string() + "'");
    SavedEvaluation saved;
    std::string line;
    std::size_t lineNo = 1;
    try {
        if (!std::getline(in, line)) throw std::runtime_error("the file is empty");
        const json key = json::parse(line);
        EvalOptions& o = saved.options;
        o.tau = key.at("tau").get<float>();
        if (!parseBoxMode(key.at("mode").get<std::string>(), &o.mode))
            throw std::runtime_error("unknown box mode");
        o.sweep = key.at("sweep").get<std::vector<float>>();
        o.taps = key.at("taps").get<std::vector<int>>();
        o.score = key.at("score").get<std::string>() == "logit" ? ScoreKind::Logit
                                                                : ScoreKind::Probability;
        o.limit = key.at("limit").get<std::size_t>();
        if (key.contains("protocol") &&
            !parseEvalProtocol(key.at("protocol").get<std::string>(), &o.protocol))
            throw std::runtime_error("unknown protocol");
        if (key.contains("wsol_step")) o.wsolStep = key.at("wsol_step").get<double>();
        if (key.contains("metrics")) metricOptionsFromJson(key.at("metrics"), &o.metrics);
        if (key.contains("finer_cam")) {
            o.finerAlpha = key.at("finer_cam").at("alpha").get<double>();
            o.finerCompare = key.at("finer_cam").at("compare_ranks").get<std::vector<int>>();
        }
        o.augSmooth = key.value("aug_smooth", false);
        o.eigenSmooth = key.value("eigen_smooth", false);
        o.methods.clear();
        for (const auto& m : key.at("methods")) {
            Method method;
            if (!parseMethod(m.get<std::string>(), &method))
                throw std::runtime_error("unknown method");
            o.methods.push_back(method);
        }
        saved.model = key.at("model").get<std::string>();
        while (std::getline(in, line)) {
            ++lineNo;
            if (line.empty()) continue;
            saved.records.push_back(recordFromJson(json::parse(line)));
        }
    } catch (const std::exception& e) {
        throw std::runtime_error("'" + file.string() + "' line " + std::to_string(lineNo) +
                                 " is not a CAM Explorer evaluation record: " + e.what());
    }
    for (const auto& r : saved.records)
        for (const auto& s : r.scores)
            if (!methodIsBaseline(s.method) &&
                (s.tap < 0 || s.tap >= static_cast<int>(tapNames.size())))
                throw std::runtime_error("'" + file.string() + "' names layer " +
                                         std::to_string(s.tap) + ", which this model lacks");
    saved.summary = summarize(saved.records, saved.options, tapNames);
    return saved;
}

namespace {
// The per-image CSV's faithfulness columns of a map (suffixes) and their values, in one order.
std::vector<std::string> metricColumns(const MapMetrics& m, const std::vector<std::string>& steps) {
    std::vector<std::string> c;
    if (m.deletionAuc) c.push_back("_deletion_auc");
    if (m.insertionAuc) c.push_back("_insertion_auc");
    if (m.roadCombined) c.insert(c.end(), {"_road_morf", "_road_lerf", "_road_combined"});
    if (m.scoreBefore) c.insert(c.end(), {"_score", "_score_times_map"});
    if (m.pointingHit || m.energyPointing) c.insert(c.end(), {"_pointing_hit", "_energy_pointing"});
    for (std::size_t k = 0; k < m.sanitySpearman.size(); ++k) {
        const std::string step = k < steps.size() ? steps[k] : std::to_string(k);
        c.insert(c.end(), {"_sanity_spearman@" + step, "_sanity_ssim@" + step});
    }
    return c;
}
std::vector<std::string> metricValues(const MapMetrics& m) {
    std::vector<std::string> v;
    auto mean = [](const std::vector<float>& x) {
        double s = 0;
        for (float f : x) s += f;
        return x.empty() ? 0.0 : s / static_cast<double>(x.size());
    };
    if (m.deletionAuc) v.push_back(CsvWriter::number(*m.deletionAuc));
    if (m.insertionAuc) v.push_back(CsvWriter::number(*m.insertionAuc));
    if (m.roadCombined)
        v.insert(v.end(), {CsvWriter::number(mean(m.roadMorf)), CsvWriter::number(mean(m.roadLerf)),
                           CsvWriter::number(*m.roadCombined)});
    if (m.scoreBefore)
        v.insert(v.end(),
                 {CsvWriter::number(*m.scoreBefore), CsvWriter::number(*m.scoreMultiplied)});
    if (m.pointingHit || m.energyPointing)
        v.insert(v.end(), {*m.pointingHit ? "1" : "0", CsvWriter::number(*m.energyPointing)});
    // An undefined similarity (a constant map) is an empty cell.
    auto defined = [](float x) { return std::isfinite(x) ? CsvWriter::number(x) : std::string(); };
    for (std::size_t k = 0; k < m.sanitySpearman.size(); ++k)
        v.insert(v.end(), {defined(m.sanitySpearman[k]), defined(m.sanitySsim[k])});
    return v;
}
}  // namespace

void writePerImageCsv(const fs::path& path, const std::vector<ImageRecord>& records,
                      const std::vector<std::string>& classNames,
                      const std::vector<std::string>& tapNames,
                      const std::vector<std::string>& modelClassNames,
                      const std::vector<std::string>& sanitySteps) {
    CsvWriter csv;
    std::vector<std::string> header = {"index",       "file",      "label",
                                       "breed",       "predicted", "predicted_breed",
                                       "probability", "correct",   "top5"};
    if (!records.empty())
        for (const auto& s : records.front().scores) {
            const std::string p =
                methodIsBaseline(s.method)
                    ? methodId(s.method)
                    : methodId(s.method) + "@" + tapNames.at(static_cast<std::size_t>(s.tap));
            for (const char* c : {"_xmin", "_ymin", "_xmax", "_ymax", "_iou"})
                header.push_back(p + c);
            if (s.metrics)
                for (const std::string& c : metricColumns(*s.metrics, sanitySteps))
                    header.push_back(p + c);
        }
    csv.row(header);
    auto nameIn = [](const std::vector<std::string>& names, int c) {
        return c >= 0 && c < static_cast<int>(names.size()) ? names[static_cast<std::size_t>(c)]
                                                            : std::string();
    };
    const auto& predictedNames = modelClassNames.empty() ? classNames : modelClassNames;
    for (const auto& r : records) {
        std::string top;
        for (const auto& c : r.top5) top += (top.empty() ? "" : " ") + std::to_string(c.classIndex);
        std::vector<std::string> row = {std::to_string(r.index),
                                        r.relPath,
                                        std::to_string(r.label),
                                        nameIn(classNames, r.label),
                                        std::to_string(r.predicted),
                                        nameIn(predictedNames, r.predicted),
                                        CsvWriter::number(r.probability),
                                        r.classLabel() < 0              ? ""
                                        : r.predicted == r.classLabel() ? "1"
                                                                        : "0",
                                        top};
        for (const auto& s : r.scores) {
            if (s.box)
                for (int v : {s.box->xmin, s.box->ymin, s.box->xmax, s.box->ymax})
                    row.push_back(std::to_string(v));
            else
                row.insert(row.end(), 4, "");
            row.push_back(r.hasBoxes ? CsvWriter::number(s.iou) : std::string());
            if (s.metrics)
                for (const auto& v : metricValues(*s.metrics)) row.push_back(v);
        }
        csv.row(row);
    }
    csv.save(path);
}

void writeSummaryJson(const fs::path& path, const EvalSummary& s,
                      const std::vector<std::string>& classNames, const EvalOptions& o,
                      const std::vector<LoadIssue>& skipped,
                      const std::vector<LoadIssue>& warnings) {
    json methods = json::array();
    for (const auto& m : s.methods) {
        json breeds = json::object();
        for (const auto& [label, v] : m.perBreed) {
            const std::string n = label < static_cast<int>(classNames.size())
                                      ? classNames[static_cast<std::size_t>(label)]
                                      : std::to_string(label);
            breeds[n] = {{"mean_iou", v.first}, {"loc_accuracy", v.second}};
        }
        methods.push_back({{"method", methodId(m.method)},
                           {"method_name", methodName(m.method)},
                           {"layer", methodIsBaseline(m.method) ? json(nullptr) : json(m.tapName)},
                           {"images", m.images},
                           {"mean_iou", m.meanIou},
                           {"loc_accuracy", m.locAccuracy},
                           {"top1_loc", m.top1Loc},
                           {"gt_known_loc", m.gtKnownLoc},
                           {"max_box_acc", m.maxBoxAcc},
                           {"max_box_acc_tau", m.maxBoxAccTau},
                           {"max_box_acc_v2", m.maxBoxAccV2},
                           {"sweep_box_acc", m.sweepCurve},
                           {"loc_accuracy_by_iou", m.iouThresholdCurve},
                           {"per_breed", breeds},
                           {"boxed_images", m.boxedImages}});
        if (m.wsol) {
            const auto& w = *m.wsol;
            json at = json::object();
            for (std::size_t k = 0; k < w.iouThresholds.size() && k < w.maxBoxAccV2At.size(); ++k)
                at[std::to_string(w.iouThresholds[k])] = w.maxBoxAccV2At[k];
            json wj = {{"max_box_acc_v2", w.maxBoxAccV2},
                       {"max_box_acc_v2_at_iou", at},
                       {"max_box_acc", w.maxBoxAcc},
                       {"box_acc_curve_iou50", w.boxAccCurve50},
                       {"pxap", w.pxap ? json(*w.pxap) : json(nullptr)},
                       {"masked_images", w.maskedImages}};
            methods.back()["wsol"] = wj;
        }
        if (m.metrics) {
            const json keys = metricSummaryJson(*m.metrics, o.metrics);
            for (const auto& [k, v] : keys.items()) methods.back()[k] = v;
        }
    }
    json j = {{"images", s.images},
              {"top1", s.classified ? json(s.top1) : json(nullptr)},
              {"top5", s.classified ? json(s.top5) : json(nullptr)},
              {"tau", o.tau},
              {"box_mode", boxModeId(o.mode)},
              {"score", o.score == ScoreKind::Logit ? "logit" : "probability"},
              {"sweep_thresholds", s.sweep},
              {"precision", o.bf16 ? "bf16" : "fp32"},
              {"methods", methods}};
    json skippedJson = json::array();
    for (const auto& issue : skipped)
        skippedJson.push_back({{"file", issue.file}, {"error", issue.message}});
    j["skipped_images"] = skippedJson;
    if (!s.classMatch.empty()) j["class_match"] = s.classMatch;
    j["protocol"] = evalProtocolId(s.protocol);
    if (o.metrics.any()) j["metrics"] = metricOptionsJson(o.metrics);
    j["aug_smooth"] = o.augSmooth;
    j["eigen_smooth"] = o.eigenSmooth;
    if (std::find(o.methods.begin(), o.methods.end(), Method::FinerCam) != o.methods.end())
        j["finer_cam"] = {
            {"alpha", o.finerAlpha},
            {"compare_ranks", o.finerCompare.empty() ? json("default") : json(o.finerCompare)}};
    if (s.protocol == EvalProtocol::Wsol) {
        // Percent, as wsolevaluation reports; the thresholds are np.arange(0, 1, step).
        j["wsol_threshold_step"] = o.wsolStep;
        j["wsol_thresholds"] = s.wsolThresholds.size();
    }
    json warningsJson = json::array();
    for (const auto& issue : warnings)
        warningsJson.push_back({{"file", issue.file}, {"warning", issue.message}});
    if (!warnings.empty()) j["warnings"] = warningsJson;
    writeFileAtomically(path, jsonText(j, 2) + "\n");
}

}  // namespace camx
