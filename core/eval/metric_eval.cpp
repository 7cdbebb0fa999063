#include "eval/metric_eval.h"

#include "data/image_io.h"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>
#include <stdexcept>

namespace camx {
using nlohmann::json;

void parseMetricList(const std::string& list, MetricOptions* o) {
    std::stringstream in(list);
    std::string item;
    while (std::getline(in, item, ',')) {
        if (item.empty()) continue;
        if (item == "all")
            o->deletion = o->insertion = o->road = o->drop = o->pointing = o->sanity = true;
        else if (item == "deletion")
            o->deletion = true;
        else if (item == "insertion")
            o->insertion = true;
        else if (item == "road")
            o->road = true;
        else if (item == "drop")
            o->drop = true;
        else if (item == "pointing")
            o->pointing = true;
        else if (item == "sanity")
            o->sanity = true;
        else
            throw std::invalid_argument("unknown metric '" + item +
                                        "' (deletion, insertion, road, drop, pointing, sanity "
                                        "or all)");
    }
}

std::string metricListId(const MetricOptions& o) {
    std::string s;
    auto add = [&](bool on, const char* id) {
        if (on) s += (s.empty() ? "" : ",") + std::string(id);
    };
    add(o.deletion, "deletion");
    add(o.insertion, "insertion");
    add(o.road, "road");
    add(o.drop, "drop");
    add(o.pointing, "pointing");
    add(o.sanity, "sanity");
    return s;
}

json metricOptionsJson(const MetricOptions& o) {
    return {{"metrics", metricListId(o)},
            {"steps", o.steps},
            {"deletion_substrate", substrateId(o.deletionSubstrate)},
            {"insertion_substrate", substrateId(o.insertionSubstrate)},
            {"road_percentiles", o.roadPercentiles},
            {"road_noise", o.roadNoise},
            {"seed", o.seed},
            {"score", o.score == MetricScore::Logit ? "logit" : "probability"},
            {"pointing_tolerance", o.pointingTolerance},
            {"sanity_steps", o.sanitySteps}};
}

void metricOptionsFromJson(const json& j, MetricOptions* o) {
    parseMetricList(j.at("metrics").get<std::string>(), o);
    o->steps = j.at("steps").get<int>();
    if (!parseSubstrate(j.at("deletion_substrate").get<std::string>(), &o->deletionSubstrate) ||
        !parseSubstrate(j.at("insertion_substrate").get<std::string>(), &o->insertionSubstrate))
        throw std::invalid_argument("unknown substrate");
    o->roadPercentiles = j.at("road_percentiles").get<std::vector<int>>();
    o->roadNoise = j.at("road_noise").get<double>();
    o->seed = j.at("seed").get<std::uint64_t>();
    o->score =
        j.at("score").get<std::string>() == "logit" ? MetricScore::Logit : MetricScore::Probability;
    o->pointingTolerance = j.at("pointing_tolerance").get<double>();
    // Written since the sanity check came; earlier runs had none.
    if (j.contains("sanity_steps"))
        o->sanitySteps = j.at("sanity_steps").get<std::vector<std::string>>();
}

namespace {
// NaN (an undefined similarity) as JSON null, and back.
template <class T>
json withNulls(const std::vector<T>& v) {
    json a = json::array();
    for (T x : v) a.push_back(std::isfinite(x) ? json(x) : json(nullptr));
    return a;
}
std::vector<float> fromNulls(const json& a) {
    std::vector<float> v;
    for (const auto& x : a)
        v.push_back(x.is_null() ? std::numeric_limits<float>::quiet_NaN() : x.get<float>());
    return v;
}
}  // namespace

json mapMetricsToJson(const MapMetrics& m) {
    json j = json::object();
    if (m.deletionAuc) j["deletion"] = {{"auc", *m.deletionAuc}, {"curve", m.deletion}};
    if (m.insertionAuc) j["insertion"] = {{"auc", *m.insertionAuc}, {"curve", m.insertion}};
    if (m.roadCombined)
        j["road"] = {{"combined", *m.roadCombined}, {"morf", m.roadMorf}, {"lerf", m.roadLerf}};
    if (m.scoreBefore) j["confidence"] = {*m.scoreBefore, *m.scoreMultiplied};
    if (m.pointingHit) j["pointing"] = {*m.pointingHit, *m.energyPointing};
    if (!m.sanitySpearman.empty())
        j["sanity"] = {{"spearman", withNulls(m.sanitySpearman)},
                       {"ssim", withNulls(m.sanitySsim)}};
    return j;
}

MapMetrics mapMetricsFromJson(const json& j) {
    MapMetrics m;
    if (j.contains("deletion")) {
        m.deletionAuc = j.at("deletion").at("auc").get<double>();
        m.deletion = j.at("deletion").at("curve").get<std::vector<float>>();
    }
    if (j.contains("insertion")) {
        m.insertionAuc = j.at("insertion").at("auc").get<double>();
        m.insertion = j.at("insertion").at("curve").get<std::vector<float>>();
    }
    if (j.contains("road")) {
        m.roadCombined = j.at("road").at("combined").get<double>();
        m.roadMorf = j.at("road").at("morf").get<std::vector<float>>();
        m.roadLerf = j.at("road").at("lerf").get<std::vector<float>>();
    }
    if (j.contains("confidence")) {
        m.scoreBefore = j.at("confidence").at(0).get<double>();
        m.scoreMultiplied = j.at("confidence").at(1).get<double>();
    }
    if (j.contains("pointing")) {
        m.pointingHit = j.at("pointing").at(0).get<bool>();
        m.energyPointing = j.at("pointing").at(1).get<double>();
    }
    if (j.contains("sanity")) {
        m.sanitySpearman = fromNulls(j.at("sanity").at("spearman"));
        m.sanitySsim = fromNulls(j.at("sanity").at("ssim"));
        if (m.sanitySpearman.size() != m.sanitySsim.size())
            throw std::invalid_argument(
                "the sanity check's Spearman and SSIM lists differ in "
                "length");
    }
    return m;
}

PointingTruth pointingTruthOf(const Sample& s, std::string* error) {
    PointingTruth t;
    t.width = s.width;
    t.height = s.height;
    t.boxes = s.boxes;
    if (!s.hasMasks() || s.width <= 0 || s.height <= 0) return t;
    cv::Mat all(s.height, s.width, CV_8U, cv::Scalar(0));
    for (const auto& p : s.maskPaths) {
        cv::Mat m;
        try {
            m = readGray(p);
        } catch (const std::exception& e) {
            if (error) *error = e.what();
            continue;
        }
        double hi = 0;
        cv::minMaxLoc(m, nullptr, &hi);
        if (hi <= 0) continue;
        cv::resize(m, m, all.size(), 0, 0, cv::INTER_NEAREST);
        // 0/255 and 0/1 masks alike: the foreground is at least half the maximum.
        all.setTo(1, m >= hi / 2.0);
    }
    t.mask.assign(all.datastart, all.dataend);
    return t;
}

std::vector<MapMetrics> scoreMetrics(const InputClassifier& classify, const float* chw, int size,
                                     int cls, const std::vector<MetricMap>& maps,
                                     const PointingTruth& truth, const MetricOptions& o,
                                     const JobContext& job) {
    std::vector<MapMetrics> out(maps.size());
    std::vector<std::vector<float>> atInput;
    std::vector<std::uint64_t> seeds;
    for (const auto& m : maps) {
        atInput.push_back(m.atInput);
        seeds.push_back(m.seed);
    }
    auto causal = [&](bool insertion) {
        CausalOptions co;
        co.steps = o.steps;
        co.substrate = insertion ? o.insertionSubstrate : o.deletionSubstrate;
        co.score = o.score;
        const auto curves = causalCurves(classify, chw, size, atInput, cls, insertion, co, job);
        for (std::size_t i = 0; i < maps.size(); ++i) {
            auto& curve = insertion ? out[i].insertion : out[i].deletion;
            curve.assign(curves[i].scores.begin(), curves[i].scores.end());
            (insertion ? out[i].insertionAuc : out[i].deletionAuc) = curves[i].auc;
        }
    };
    if (o.deletion) causal(false);
    if (o.insertion) causal(true);
    if (o.road) {
        RoadOptions ro;
        ro.percentiles = o.roadPercentiles;
        ro.noise = o.roadNoise;
        ro.seed = o.seed;
        ro.score = o.score;
        const auto r = road(classify, chw, size, atInput, cls, ro, seeds, job);
        for (std::size_t i = 0; i < maps.size(); ++i) {
            out[i].roadMorf.assign(r[i].morf.begin(), r[i].morf.end());
            out[i].roadLerf.assign(r[i].lerf.begin(), r[i].lerf.end());
            out[i].roadCombined = r[i].combined;
        }
    }
    if (o.drop) {
        const auto c = camMultImage(classify, chw, size, atInput, cls, o.score);
        for (std::size_t i = 0; i < maps.size(); ++i) {
            out[i].scoreBefore = c[i].before;
            out[i].scoreMultiplied = c[i].after;
        }
    }
    if (o.pointing && !truth.empty())
        for (std::size_t i = 0; i < maps.size(); ++i) {
            if (maps[i].atImage.size() != static_cast<std::size_t>(truth.width) * truth.height)
                throw std::invalid_argument("a map of the wrong size for the pointing game");
            out[i].pointingHit = pointingHit(maps[i].atImage, truth, o.pointingTolerance);
            out[i].energyPointing = energyPointing(maps[i].atImage, truth);
        }
    return out;
}

std::optional<MetricSummary> summarizeMetrics(const std::vector<const MapMetrics*>& maps) {
    MetricSummary s;
    std::size_t del = 0, ins = 0, road = 0, conf = 0;
    double delSum = 0, insSum = 0, roadSum = 0, drop = 0, increase = 0, hits = 0, energy = 0;
    auto addCurve = [](std::vector<double>& sum, const std::vector<float>& c) {
        if (sum.size() < c.size()) sum.resize(c.size(), 0.0);
        for (std::size_t i = 0; i < c.size(); ++i) sum[i] += c[i];
    };
    // The sanity check's values: summed where defined, counted per step.
    std::vector<std::size_t> spearmanN, ssimN;
    auto addDefined = [](std::vector<double>& sum, std::vector<std::size_t>& count,
                         const std::vector<float>& c) {
        if (sum.size() < c.size()) sum.resize(c.size(), 0.0), count.resize(c.size(), 0);
        for (std::size_t i = 0; i < c.size(); ++i)
            if (std::isfinite(c[i])) sum[i] += c[i], ++count[i];
    };
    for (const MapMetrics* m : maps) {
        if (!m) continue;
        ++s.images;
        if (m->deletionAuc) {
            ++del;
            delSum += *m->deletionAuc;
            addCurve(s.deletionCurve, m->deletion);
        }
        if (m->insertionAuc) {
            ++ins;
            insSum += *m->insertionAuc;
            addCurve(s.insertionCurve, m->insertion);
        }
        if (m->roadCombined) {
            ++road;
            roadSum += *m->roadCombined;
            addCurve(s.roadMorf, m->roadMorf);
            addCurve(s.roadLerf, m->roadLerf);
        }
        if (m->scoreBefore) {
            ++conf;
            const double y = *m->scoreBefore, after = *m->scoreMultiplied;
            // Chattopadhay et al.: max(0, Y - O) / Y; a score of 0 has nothing to drop.
            if (y > 0) drop += std::max(0.0, y - after) / y;
            increase += after > y;
        }
        if (m->pointingHit) {
            ++s.pointingImages;
            hits += *m->pointingHit;
            energy += *m->energyPointing;
        }
        addDefined(s.sanitySpearman, spearmanN, m->sanitySpearman);
        addDefined(s.sanitySsim, ssimN, m->sanitySsim);
    }
    if (!s.images) return std::nullopt;
    auto meanDefined = [](std::vector<double>& v, const std::vector<std::size_t>& count) {
        for (std::size_t i = 0; i < v.size(); ++i)
            v[i] = count[i] ? v[i] / static_cast<double>(count[i])
                            : std::numeric_limits<double>::quiet_NaN();
    };
    meanDefined(s.sanitySpearman, spearmanN);
    meanDefined(s.sanitySsim, ssimN);
    auto scale = [](std::vector<double>& v, std::size_t n) {
        for (double& x : v) x /= static_cast<double>(n);
    };
    if (del) s.deletionAuc = delSum / del, scale(s.deletionCurve, del);
    if (ins) s.insertionAuc = insSum / ins, scale(s.insertionCurve, ins);
    if (road) {
        s.roadCombined = roadSum / road;
        scale(s.roadMorf, road);
        scale(s.roadLerf, road);
    }
    if (conf) {
        s.avgDrop = 100.0 * drop / conf;
        s.increaseInConfidence = 100.0 * increase / conf;
    }
    if (s.pointingImages) {
        s.pointingGame = hits / s.pointingImages;
        s.energyPointingGame = energy / s.pointingImages;
    }
    return s;
}

json metricSummaryJson(const MetricSummary& s, const MetricOptions& o) {
    auto opt = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
    json j = json::object();
    if (o.deletion) {
        j["deletion_auc"] = opt(s.deletionAuc);
        j["deletion_curve"] = s.deletionCurve;
    }
    if (o.insertion) {
        j["insertion_auc"] = opt(s.insertionAuc);
        j["insertion_curve"] = s.insertionCurve;
    }
    if (o.road) {
        j["road_combined"] = opt(s.roadCombined);
        j["road_morf"] = s.roadMorf;
        j["road_lerf"] = s.roadLerf;
        j["road_percentiles"] = o.roadPercentiles;
    }
    if (o.drop) {
        j["avg_drop"] = opt(s.avgDrop);
        j["increase_in_confidence"] = opt(s.increaseInConfidence);
    }
    if (o.pointing) {
        j["pointing_game"] = opt(s.pointingGame);
        j["energy_pointing_game"] = opt(s.energyPointingGame);
        j["pointing_images"] = s.pointingImages;
    }
    if (o.sanity) {
        // Per cascade step, top down, in the order of sanity_layers; null where undefined.
        j["sanity_layers"] = o.sanitySteps;
        j["sanity_spearman"] = withNulls(s.sanitySpearman);
        j["sanity_ssim"] = withNulls(s.sanitySsim);
    }
    return j;
}

}  // namespace camx
