#include "metrics/faithfulness.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <opencv2/imgproc.hpp>
#include <stdexcept>

namespace camx {

double classScore(const std::vector<float>& logits, int cls, MetricScore kind) {
    if (cls < 0 || cls >= static_cast<int>(logits.size()))
        throw std::invalid_argument("class " + std::to_string(cls) + " is not among the model's " +
                                    std::to_string(logits.size()) + " outputs");
    const double z = logits[static_cast<std::size_t>(cls)];
    if (kind == MetricScore::Logit) return z;
    const double hi = *std::max_element(logits.begin(), logits.end());
    double sum = 0;
    for (float v : logits) sum += std::exp(double(v) - hi);
    return std::exp(z - hi) / sum;
}

const char* substrateId(Substrate s) {
    switch (s) {
        case Substrate::Blur:
            return "blur";
        case Substrate::Zeros:
            return "zeros";
        case Substrate::Mean:
            return "mean";
    }
    return "zeros";
}

bool parseSubstrate(const std::string& id, Substrate* out) {
    for (Substrate s : {Substrate::Blur, Substrate::Zeros, Substrate::Mean})
        if (id == substrateId(s)) {
            *out = s;
            return true;
        }
    return false;
}

std::vector<double> riseKernel1d() {
    // scipy.ndimage.gaussian_filter1d(impulse, sigma=5) with truncate 4: radius 20, weights
    // exp(-t^2 / 2 sigma^2) normalised over [-20, 20], correlated with the 11-sample impulse
    // extended by reflection (d c b a | a b c d | d c b a, period 22).
    constexpr int n = 11, centre = 5, radius = 20;
    constexpr double sigma = 5;
    std::vector<double> w(2 * radius + 1);
    double sum = 0;
    for (int t = -radius; t <= radius; ++t)
        sum += w[static_cast<std::size_t>(t + radius)] = std::exp(-0.5 * t * t / (sigma * sigma));
    for (double& v : w) v /= sum;
    std::vector<double> k(n, 0.0);
    for (int i = 0; i < n; ++i)
        for (int t = -radius; t <= radius; ++t) {
            int j = ((i + t) % (2 * n) + 2 * n) % (2 * n);
            if (j >= n) j = 2 * n - 1 - j;
            if (j == centre)
                k[static_cast<std::size_t>(i)] += w[static_cast<std::size_t>(t + radius)];
        }
    return k;
}

std::vector<float> makeSubstrate(const float* chw, int size, Substrate s) {
    const std::size_t plane = static_cast<std::size_t>(size) * size;
    std::vector<float> out(3 * plane, 0.f);
    if (s == Substrate::Zeros) return out;
    cv::Mat kernel;
    if (s == Substrate::Blur) {
        // RISE convolves in float32 with zero padding (conv2d, padding = klen // 2).
        const std::vector<double> k1 = riseKernel1d();
        kernel.create(11, 11, CV_32F);
        for (int y = 0; y < 11; ++y)
            for (int x = 0; x < 11; ++x)
                kernel.at<float>(y, x) = static_cast<float>(k1[static_cast<std::size_t>(y)] *
                                                            k1[static_cast<std::size_t>(x)]);
    }
    for (int c = 0; c < 3; ++c) {
        const float* in = chw + c * plane;
        float* o = out.data() + c * plane;
        if (s == Substrate::Mean) {
            double sum = 0;
            for (std::size_t i = 0; i < plane; ++i) sum += in[i];
            std::fill(o, o + plane, static_cast<float>(sum / static_cast<double>(plane)));
            continue;
        }
        const cv::Mat src(size, size, CV_32F, const_cast<float*>(in));
        cv::Mat dst(size, size, CV_32F, o);
        cv::filter2D(src, dst, CV_32F, kernel, cv::Point(-1, -1), 0, cv::BORDER_CONSTANT);
    }
    return out;
}

std::vector<std::int32_t> relevanceOrder(const std::vector<float>& map) {
    std::vector<std::int32_t> order(map.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&map](std::int32_t a, std::int32_t b) {
        return map[static_cast<std::size_t>(a)] > map[static_cast<std::size_t>(b)];
    });
    return order;
}

double curveArea(const std::vector<double>& p) {
    if (p.size() < 2) return p.empty() ? 0.0 : p[0];
    const double sum = std::accumulate(p.begin(), p.end(), 0.0);
    return (sum - p.front() / 2 - p.back() / 2) / static_cast<double>(p.size() - 1);
}

namespace {
// Collects inputs and classifies them in batches, writing each score where it belongs.
class BatchScorer {
public:
    BatchScorer(const InputClassifier& classify, std::size_t imageFloats, int batch, int cls,
                MetricScore score)
        : m_classify(classify),
          m_floats(imageFloats),
          m_batch(std::max(1, batch)),
          m_cls(cls),
          m_score(score) {
        m_buffer.reserve(m_floats * static_cast<std::size_t>(m_batch));
    }
    // Queues a copy of `image`; its score lands in *out after the next flush.
    void add(const float* image, double* out) {
        m_buffer.insert(m_buffer.end(), image, image + m_floats);
        m_out.push_back(out);
        if (static_cast<int>(m_out.size()) == m_batch) flush();
    }
    void flush() {
        if (m_out.empty()) return;
        const auto logits = m_classify(m_buffer.data(), static_cast<int>(m_out.size()));
        if (logits.size() != m_out.size())
            throw std::runtime_error("the classifier returned " + std::to_string(logits.size()) +
                                     " results for " + std::to_string(m_out.size()) + " inputs");
        for (std::size_t i = 0; i < m_out.size(); ++i)
            *m_out[i] = classScore(logits[i], m_cls, m_score);
        m_buffer.clear();
        m_out.clear();
    }

private:
    const InputClassifier& m_classify;
    std::size_t m_floats;
    int m_batch;
    int m_cls;
    MetricScore m_score;
    std::vector<float> m_buffer;
    std::vector<double*> m_out;
};
}  // namespace

std::vector<CausalCurve> causalCurves(const InputClassifier& classify, const float* chw, int size,
                                      const std::vector<std::vector<float>>& maps, int cls,
                                      bool insertion, const CausalOptions& o,
                                      const JobContext& job) {
    const std::size_t plane = static_cast<std::size_t>(size) * size;
    const std::size_t floats = 3 * plane;
    for (const auto& m : maps)
        if (m.size() != plane)
            throw std::invalid_argument("a map of " + std::to_string(m.size()) + " values for a " +
                                        std::to_string(size) + " x " + std::to_string(size) +
                                        " input");
    const std::size_t step = (plane + static_cast<std::size_t>(std::max(1, o.steps)) - 1) /
                             static_cast<std::size_t>(std::max(1, o.steps));
    const std::size_t n = (plane + step - 1) / step;
    const std::vector<float> image(chw, chw + floats);
    const std::vector<float> substrate = makeSubstrate(chw, size, o.substrate);
    const std::vector<float>& start = insertion ? substrate : image;
    const std::vector<float>& finish = insertion ? image : substrate;

    std::vector<CausalCurve> curves(maps.size());
    for (auto& c : curves) c.scores.assign(n + 1, 0.0);
    BatchScorer scorer(classify, floats, o.batch, cls, o.score);
    double first = 0, last = 0;
    scorer.add(start.data(), &first);
    scorer.add(finish.data(), &last);
    std::vector<float> work;
    for (std::size_t m = 0; m < maps.size(); ++m) {
        job.throwIfCancelled();
        const std::vector<std::int32_t> order = relevanceOrder(maps[m]);
        work = start;
        for (std::size_t i = 1; i < n; ++i) {
            for (std::size_t k = (i - 1) * step; k < i * step; ++k) {
                const auto p = static_cast<std::size_t>(order[k]);
                for (std::size_t c = 0; c < 3; ++c) work[c * plane + p] = finish[c * plane + p];
            }
            scorer.add(work.data(), &curves[m].scores[i]);
        }
    }
    scorer.flush();
    for (auto& c : curves) {
        c.scores.front() = first;
        c.scores.back() = last;
        c.auc = curveArea(c.scores);
    }
    return curves;
}

std::vector<ConfidenceChange> camMultImage(const InputClassifier& classify, const float* chw,
                                           int size, const std::vector<std::vector<float>>& maps,
                                           int cls, MetricScore score) {
    const std::size_t plane = static_cast<std::size_t>(size) * size;
    const std::size_t floats = 3 * plane;
    std::vector<ConfidenceChange> out(maps.size());
    BatchScorer scorer(classify, floats, 16, cls, score);
    double before = 0;
    scorer.add(chw, &before);
    std::vector<float> product(floats);
    for (std::size_t m = 0; m < maps.size(); ++m) {
        if (maps[m].size() != plane)
            throw std::invalid_argument("a map of the wrong size for the input");
        for (std::size_t c = 0; c < 3; ++c)
            for (std::size_t p = 0; p < plane; ++p)
                product[c * plane + p] = chw[c * plane + p] * maps[m][p];
        scorer.add(product.data(), &out[m].after);
    }
    scorer.flush();
    for (auto& c : out) c.before = before;
    return out;
}

bool PointingTruth::inside(int x, int y) const {
    for (const Box& b : boxes)
        if (x >= b.xmin && x <= b.xmax && y >= b.ymin && y <= b.ymax) return true;
    return !mask.empty() && x >= 0 && y >= 0 && x < width && y < height &&
           mask[static_cast<std::size_t>(y) * width + x] != 0;
}

bool pointingHit(const std::vector<float>& map, const PointingTruth& t, double tolerance) {
    if (map.empty() || t.empty()) return false;
    const auto best = static_cast<int>(std::max_element(map.begin(), map.end()) - map.begin());
    const int px = best % t.width, py = best / t.width;
    // Within `tolerance` of a box: the distance to its nearest point.
    for (const Box& b : t.boxes) {
        const double dx = px < b.xmin ? b.xmin - px : px > b.xmax ? px - b.xmax : 0;
        const double dy = py < b.ymin ? b.ymin - py : py > b.ymax ? py - b.ymax : 0;
        if (dx * dx + dy * dy <= tolerance * tolerance) return true;
    }
    if (t.mask.empty()) return false;
    // Of a mask pixel: any inside the disk around the point (TorchRay's test).
    const int r = static_cast<int>(std::floor(tolerance));
    for (int y = std::max(0, py - r); y <= std::min(t.height - 1, py + r); ++y)
        for (int x = std::max(0, px - r); x <= std::min(t.width - 1, px + r); ++x)
            if (double(x - px) * (x - px) + double(y - py) * (y - py) <= tolerance * tolerance &&
                t.mask[static_cast<std::size_t>(y) * t.width + x] != 0)
                return true;
    return false;
}

double energyPointing(const std::vector<float>& map, const PointingTruth& t) {
    double in = 0, all = 0;
    for (int y = 0; y < t.height; ++y)
        for (int x = 0; x < t.width; ++x) {
            const double v = map[static_cast<std::size_t>(y) * t.width + x];
            all += v;
            if (t.inside(x, y)) in += v;
        }
    return all > 0 ? in / all : 0.0;
}

}  // namespace camx
