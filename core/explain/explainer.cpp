#include "explain/explainer.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/cuda.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>

#include "common/cpu_features.h"
#include "explain/cam_methods.h"

namespace camx {

const Heatmap* ImageExplanation::find(Method m, int tap) const {
    for (const auto& r : maps)
        if (r.method == m && r.tap == tap) return &r.raw;
    return nullptr;
}

c10::Device preferredDevice() {
    return torch::cuda::is_available() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
}

Explainer::Explainer(CamNet net, c10::Device device) : m_net(std::move(net)), m_device(device) {
    m_net->to(device);
    m_net->eval();
    for (auto& p : m_net->parameters()) p.requires_grad_(false);
}

Explainer::Explainer(std::shared_ptr<ScriptedNet> net)
    : m_script(std::move(net)), m_device(m_script->device()) {}

at::Tensor Explainer::logits(const at::Tensor& images, bool reference) {
    std::lock_guard<std::mutex> lock(m_mutex);
    c10::InferenceMode guard;
    ExplainOptions o;
    o.referencePath = reference;
    return forwardLogits(images.to(m_device), o).cpu();
}

const InferenceNet* Explainer::fastNet(const ExplainOptions& o) {
    if (o.referencePath || m_script) return nullptr;
    if (o.bf16 && m_device.is_cpu() && !cpuHasFastBf16())
        throw std::invalid_argument(
            "bf16 needs a CPU with AVX-512 BF16 or AMX (" + cpuBrand() +
            " has neither, and LibTorch's oneDNN refuses it there): use fp32");
    std::unique_ptr<InferenceNet>& slot = o.bf16 ? m_fastBf16 : m_fast;
    // Never as inference tensors (logits() runs in inference mode): a later explanation at an
    // earlier block saves these weights for its backward pass.
    c10::InferenceMode notInference(false);
    if (!slot) slot = std::make_unique<InferenceNet>(*m_net, m_device, o.bf16);
    return slot.get();
}

at::Tensor Explainer::forwardLogits(const at::Tensor& x, const ExplainOptions& o) {
    if (m_script) {
        if (o.bf16) throw std::invalid_argument("bf16 is offered for the built-in ResNets only");
        return m_script->logits(x);
    }
    const InferenceNet* fast = fastNet(o);
    return fast ? fast->logits(x) : m_net->forward(x);
}

namespace {
Heatmap toHeatmap(const at::Tensor& m) {
    at::Tensor c = m.detach().to(at::kCPU, at::kFloat).contiguous();
    Heatmap h;
    h.height = static_cast<int>(c.size(0));
    h.width = static_cast<int>(c.size(1));
    h.data.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
    return h;
}
}  // namespace

at::Tensor Explainer::scoreCam(const at::Tensor& x, const at::Tensor& A, const at::Tensor& targets,
                               const ExplainOptions& o, const JobContext& job) {
    c10::InferenceMode guard;
    const int64_t B = A.size(0), C = A.size(1);
    const int64_t S = x.size(2);
    at::Tensor weights = at::empty({B, C}, A.options());
    for (int64_t b = 0; b < B; ++b) {
        at::Tensor a = A[b];  // [C,h,w]
        std::vector<int64_t> channels;
        if (o.scoreCamMaxChannels > 0 && o.scoreCamMaxChannels < C) {
            // The strongest channels by mean activation; the rest get weight zero.
            at::Tensor idx = std::get<1>(a.mean({1, 2}).topk(o.scoreCamMaxChannels));
            idx = idx.cpu();
            for (int64_t k = 0; k < idx.numel(); ++k) channels.push_back(idx[k].item<int64_t>());
        } else {
            for (int64_t k = 0; k < C; ++k) channels.push_back(k);
        }
        at::Tensor up = at::upsample_bilinear2d(a.unsqueeze(0), {S, S}, false)[0];  // [C,S,S]
        const at::Tensor mn = up.amin({1, 2}, true), mx = up.amax({1, 2}, true);
        // A channel that is constant (up to the rounding of the upsampling) masks nothing:
        // dividing its rounding noise by a tiny range would turn it into a random mask.
        const at::Tensor range = mx - mn;
        const at::Tensor flat = range <= 1e-5 * (mx.abs() + mn.abs()) + 1e-12;
        up = at::where(flat, at::zeros_like(up), (up - mn) / (range + 1e-7));
        std::vector<float> scores(static_cast<std::size_t>(C),
                                  -std::numeric_limits<float>::infinity());
        const int64_t target = targets[b].item<int64_t>();
        const int64_t step = std::max(1, o.scoreCamBatch);
        for (std::size_t k0 = 0; k0 < channels.size(); k0 += static_cast<std::size_t>(step)) {
            job.throwIfCancelled();
            const std::size_t k1 = std::min(channels.size(), k0 + static_cast<std::size_t>(step));
            std::vector<int64_t> chunk(channels.begin() + static_cast<std::ptrdiff_t>(k0),
                                       channels.begin() + static_cast<std::ptrdiff_t>(k1));
            at::Tensor idx = at::tensor(chunk, at::kLong).to(up.device());
            at::Tensor masks = up.index_select(0, idx).unsqueeze(1);  // [n,1,S,S]
            at::Tensor out = forwardLogits(x[b].unsqueeze(0) * masks, o);
            if (o.score == ScoreKind::Probability) out = out.softmax(1);
            at::Tensor s = out.select(1, target).to(at::kCPU, at::kFloat);
            for (std::size_t j = 0; j < chunk.size(); ++j)
                scores[static_cast<std::size_t>(chunk[j])] =
                    s[static_cast<int64_t>(j)].item<float>();
            job.report(b * C + static_cast<int64_t>(k1), static_cast<std::size_t>(B * C),
                       "Score-CAM");
        }
        weights[b] = at::tensor(scores, at::kFloat).to(A.device()).softmax(0).to(A.scalar_type());
    }
    return weightedSum(A, weights);
}

int Explainer::numTaps() const {
    return static_cast<int>(m_script ? m_script->taps().size() : m_net->taps().size());
}

int Explainer::camTap() const {
    return m_script ? m_script->camTap() : m_net->lastBlockTap();
}

int64_t Explainer::numClasses() const {
    return m_script ? m_script->numClasses() : m_net->numClasses();
}

at::Tensor Explainer::pickTargets(const at::Tensor& logits, const std::vector<int>& want) const {
    const at::Tensor predicted = logits.detach().argmax(1).cpu();
    std::vector<int64_t> t(want.size());
    for (std::size_t b = 0; b < want.size(); ++b) {
        if (want[b] >= static_cast<int>(numClasses()))
            throw std::invalid_argument("class " + std::to_string(want[b]) +
                                        " does not exist; the model has " +
                                        std::to_string(numClasses()));
        t[b] = want[b] >= 0 ? want[b] : predicted[static_cast<int64_t>(b)].item<int64_t>();
    }
    return at::tensor(t, at::kLong).to(logits.device());
}

namespace {
// Each image's target score [B]: its logit or its probability.
at::Tensor targetScores(const at::Tensor& logits, const at::Tensor& targets, ScoreKind score) {
    const at::Tensor scores = score == ScoreKind::Logit ? logits : logits.softmax(1);
    return scores.gather(1, targets.unsqueeze(1)).squeeze(1);
}

// Each image's Finer-CAM score [B] (explanation.h): pytorch-grad-cam's FinerWeightedTarget,
// sum_j p_j (y_t - alpha y_j) / (sum_j p_j + 1e-9) over the comparison classes `compare` [B,n].
at::Tensor finerScores(const at::Tensor& logits, const at::Tensor& targets,
                       const at::Tensor& compare, double alpha) {
    const at::Tensor yt = logits.gather(1, targets.unsqueeze(1));  // [B,1]
    const at::Tensor yj = logits.gather(1, compare);               // [B,n]
    const at::Tensor pj = logits.softmax(1).gather(1, compare);    // [B,n]
    return (pj * (yt - alpha * yj)).sum(1) / (pj.sum(1) + 1e-9);
}

// d(sum_b s_b)/d logits [B,K] of the Finer-CAM score, by autograd on the logits alone: at the last
// block the gradient at the tap is this times the class weights, over h*w.
at::Tensor finerLogitGradient(const at::Tensor& logits, const at::Tensor& targets,
                              const at::Tensor& compare, double alpha) {
    torch::AutoGradMode on(true);
    const at::Tensor y = logits.detach().to(at::kFloat).clone().requires_grad_(true);
    const at::Tensor s = finerScores(y, targets, compare, alpha).sum();
    return torch::autograd::grad({s}, {y})[0].detach();
}

// Finer-CAM's comparison classes [B,n]: per image, every other class sorted by |y_k - y_t| in
// float (as pytorch-grad-cam's numpy does), ties to the lower index; rank r is the r-th of them.
at::Tensor finerComparison(const at::Tensor& logits, const at::Tensor& targets,
                           const std::vector<int>& ranks) {
    const at::Tensor y = logits.detach().to(at::kCPU, at::kFloat).contiguous();
    const at::Tensor t = targets.to(at::kCPU);
    const int64_t B = y.size(0), K = y.size(1);
    std::vector<int64_t> out;
    for (int64_t b = 0; b < B; ++b) {
        const float* row = y.data_ptr<float>() + b * K;
        const int64_t target = t[b].item<int64_t>();
        std::vector<float> distance(static_cast<std::size_t>(K));
        std::vector<int64_t> order;
        for (int64_t k = 0; k < K; ++k) {
            const float d = std::fabs(row[k] - row[target]);
            distance[static_cast<std::size_t>(k)] =
                std::isnan(d) ? std::numeric_limits<float>::infinity() : d;
            if (k != target) order.push_back(k);
        }
        std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t c) {
            return distance[static_cast<std::size_t>(a)] < distance[static_cast<std::size_t>(c)];
        });
        for (int r : ranks) out.push_back(order[static_cast<std::size_t>(r - 1)]);
    }
    return at::tensor(out, at::kLong)
        .view({B, static_cast<int64_t>(ranks.size())})
        .to(logits.device());
}

// The gradient of the summed score `y` at each of `taps`, from one backward pass. Images are
// independent in eval mode, so the gradient of the batch's summed score is each image's own.
// A tap the score does not depend on gets zeros.
std::map<int, at::Tensor> tapGradients(const at::Tensor& y, const std::set<int>& taps,
                                       const std::function<at::Tensor(int)>& tapTensor,
                                       bool retainGraph) {
    std::vector<at::Tensor> inputs;
    for (int t : taps) inputs.push_back(tapTensor(t));
    const auto g = torch::autograd::grad({y}, inputs, {}, retainGraph, false,
                                         /*allow_unused=*/true);
    std::map<int, at::Tensor> out;
    std::size_t k = 0;
    for (int t : taps) {
        out[t] = g[k].defined() ? g[k] : at::zeros_like(inputs[k]);
        ++k;
    }
    return out;
}

// What pytorch-grad-cam's forward returns for one layer's map [B,h,w]: ReLU and min-max with
// its 1e-7 (compute_cam_per_layer), and the same again when it aggregates the layers.
at::Tensor asPytorchGradCamReturnsIt(at::Tensor m) {
    m = m.to(at::kFloat);
    for (int round = 0; round < 2; ++round) {
        m = at::relu(m);
        m = m - m.amin({1, 2}, true);
        m = m / (m.amax({1, 2}, true) + 1e-7);
    }
    return m;
}
}  // namespace

Explainer::Pass Explainer::passResNet(const at::Tensor& x, const std::vector<int>& targetsIn,
                                      const std::set<int>& allTaps, const GradRequest& req,
                                      const ExplainOptions& o, const at::Tensor& finerClasses) {
    const std::set<int>& gradTaps = req.taps;
    const int last = m_net->lastBlockTap();
    // The gradient leaf is the earliest tap (in network order) that needs gradients.
    int gradFrom = -1;
    for (int g : gradTaps)
        if (gradFrom < 0 || m_net->tapDepth(g) < m_net->tapDepth(gradFrom)) gradFrom = g;
    const std::vector<int> tapList(allTaps.begin(), allTaps.end());
    auto tapIndex = [&](int t) {
        return static_cast<std::size_t>(std::find(tapList.begin(), tapList.end(), t) -
                                        tapList.begin());
    };
    const InferenceNet* fast = fastNet(o);
    // At the last block the gradient has a closed form (see the header): no backward pass.
    const bool closedForm = fast && std::all_of(gradTaps.begin(), gradTaps.end(), [&](int t) {
                                return m_net->tapDepth(t) == m_net->tapDepth(last);
                            });
    const bool backward = !gradTaps.empty() && !closedForm;
    Pass pass;
    // The Dense weights of the network that computed the logits (the inference form's snapshot).
    pass.classWeights = fast ? fast->classWeights() : m_net->classifier()->weight.detach();
    ForwardOutput out;
    {
        torch::AutoGradMode gradMode(backward);
        const int leaf = backward ? gradFrom : -1;
        out = fast ? fast->forward(x, tapList, leaf) : m_net->forwardTaps(x, tapList, leaf);
        pass.targets = pickTargets(out.logits, targetsIn);
        if (req.finer)
            pass.finerClasses = finerClasses.defined()
                                    ? finerClasses
                                    : finerComparison(out.logits, pass.targets, o.finerCompare);
        const int64_t B = x.size(0);
        if (backward) {
            auto tapTensor = [&](int t) { return out.taps[tapIndex(t)]; };
            // Two scores, two backward passes through the same graph (the first keeps it).
            if (req.target)
                pass.grads = tapGradients(targetScores(out.logits, pass.targets, o.score).sum(),
                                          gradTaps, tapTensor, /*retainGraph=*/req.finer);
            if (req.finer)
                pass.finerGrads = tapGradients(
                    finerScores(out.logits, pass.targets, pass.finerClasses, o.finerAlpha).sum(),
                    gradTaps, tapTensor, false);
        } else if (!gradTaps.empty()) {
            // Finer-CAM's score is a function of the logits: its gradient at the tap is
            // sum_k (ds/dy_k) W[k,c] / (h*w), as the logit's is W[t,c] / (h*w).
            const at::Tensor finerV =
                req.finer
                    ? finerLogitGradient(out.logits, pass.targets, pass.finerClasses, o.finerAlpha)
                    : at::Tensor();
            c10::InferenceMode inference;
            const at::Tensor A = out.taps[tapIndex(*gradTaps.begin())].detach();
            const at::Tensor W = pass.classWeights.to(at::kFloat);
            const double hw = static_cast<double>(A.size(2) * A.size(3));
            if (req.target) {
                at::Tensor g = W.index_select(0, pass.targets);  // [B,C]
                if (o.score == ScoreKind::Probability) {
                    const at::Tensor p = out.logits.detach().softmax(1);
                    g = p.gather(1, pass.targets.unsqueeze(1)) * (g - p.matmul(W));
                }
                g = (g / hw).view({B, -1, 1, 1}).expand_as(A);
                for (int t : gradTaps) pass.grads[t] = g;
            }
            if (req.finer) {
                const at::Tensor g = (finerV.matmul(W) / hw).view({B, -1, 1, 1}).expand_as(A);
                for (int t : gradTaps) pass.finerGrads[t] = g;
            }
        }
    }
    pass.logits = out.logits.detach();
    for (int t : tapList) pass.acts[t] = out.taps[tapIndex(t)].detach();
    for (auto& [t, g] : pass.grads) g = g.detach();
    for (auto& [t, g] : pass.finerGrads) g = g.detach();
    return pass;
}

Explainer::Pass Explainer::passScripted(const at::Tensor& x, const std::vector<int>& targetsIn,
                                        const std::set<int>& allTaps, const GradRequest& req,
                                        const ExplainOptions& o, const at::Tensor& finerClasses) {
    if (o.bf16) throw std::invalid_argument("bf16 is offered for the built-in ResNets only");
    const std::vector<int> tapList(allTaps.begin(), allTaps.end());
    const bool backward = !req.taps.empty();
    Pass pass;
    pass.classWeights = m_script->classWeights();
    ForwardOutput out = m_script->forward(x, tapList, backward);
    pass.targets = pickTargets(out.logits, targetsIn);
    if (req.finer)
        pass.finerClasses = finerClasses.defined()
                                ? finerClasses
                                : finerComparison(out.logits, pass.targets, o.finerCompare);
    std::map<int, at::Tensor> raw;
    for (std::size_t k = 0; k < tapList.size(); ++k) raw[tapList[k]] = out.taps[k];
    auto tapTensor = [&](int tap) { return raw.at(tap); };
    if (backward && req.target)
        for (auto& [t, g] : tapGradients(targetScores(out.logits, pass.targets, o.score).sum(),
                                         req.taps, tapTensor, /*retainGraph=*/req.finer))
            pass.grads[t] = m_script->toMap(g.detach(), t);
    if (backward && req.finer)
        for (auto& [t, g] : tapGradients(
                 finerScores(out.logits, pass.targets, pass.finerClasses, o.finerAlpha).sum(),
                 req.taps, tapTensor, false))
            pass.finerGrads[t] = m_script->toMap(g.detach(), t);
    pass.logits = out.logits.detach();
    for (int t : tapList) pass.acts[t] = m_script->toMap(raw.at(t).detach(), t);
    return pass;
}

Explainer::Pass Explainer::runPass(const at::Tensor& x, const std::vector<int>& targets,
                                   const std::set<int>& allTaps, const GradRequest& req,
                                   const ExplainOptions& o, const at::Tensor& finerClasses) {
    return m_script ? passScripted(x, targets, allTaps, req, o, finerClasses)
                    : passResNet(x, targets, allTaps, req, o, finerClasses);
}

at::Tensor Explainer::gradientMap(Method m, int tap, const Pass& p, const ExplainOptions& o) {
    const at::Tensor& A = p.acts.at(tap);
    const at::Tensor& G = (m == Method::FinerCam ? p.finerGrads : p.grads).at(tap);
    const at::Tensor terms = gradientTerms(m, A, G);
    return o.eigenSmooth ? firstComponentProjection(terms) : terms.sum(1);
}

std::map<std::pair<Method, int>, at::Tensor> Explainer::augmentationSmoothed(
    const at::Tensor& x, const Pass& base, const std::vector<std::pair<Method, int>>& jobs,
    const GradRequest& req, const ExplainOptions& o, const JobContext& job) {
    // The unaugmented input's classes, for every version.
    const at::Tensor t = base.targets.to(at::kCPU);
    std::vector<int> targets;
    for (int64_t b = 0; b < t.numel(); ++b)
        targets.push_back(static_cast<int>(t[b].item<int64_t>()));
    std::map<std::pair<Method, int>, at::Tensor> sum;
    // ttach's order: itertools.product of HorizontalFlip's [False, True] and Multiply's
    // [0.9, 1, 1.1]; the version as is (no flip, x 1) is `base`.
    for (bool flip : {false, true}) {
        for (double factor : {0.9, 1.0, 1.1}) {
            job.throwIfCancelled();
            Pass augmented;
            const Pass* p = &base;
            if (flip || factor != 1.0) {
                at::Tensor xa = flip ? x.flip({3}) : x;
                if (factor != 1.0) xa = xa * factor;
                augmented = runPass(xa, targets, req.taps, req, o, base.finerClasses);
                p = &augmented;
            }
            c10::InferenceMode inference;
            for (const auto& [method, tap] : jobs) {
                if (!methodNeedsGradients(method)) continue;
                at::Tensor m = gradientMap(method, tap, *p, o);
                if (flip) m = m.flip({2});  // back to the input's orientation
                m = asPytorchGradCamReturnsIt(m);
                at::Tensor& acc = sum[{method, tap}];
                acc = acc.defined() ? acc + m : m;
            }
        }
    }
    c10::InferenceMode inference;
    for (auto& [key, acc] : sum) acc = acc / 6.0;
    return sum;
}

std::vector<ImageExplanation> Explainer::explain(const at::Tensor& images,
                                                 const std::vector<int>& targetsIn,
                                                 const ExplainOptions& options,
                                                 const JobContext& job) {
    std::lock_guard<std::mutex> lock(m_mutex);
    ExplainOptions o = options;  // with Finer-CAM's ranks resolved
    const int64_t B = images.size(0);
    if (static_cast<int64_t>(targetsIn.size()) != B)
        throw std::invalid_argument("one target per image is needed");
    const int last = m_script ? m_script->defaultTap() : m_net->lastBlockTap();
    std::vector<int> taps = o.taps.empty() ? std::vector<int>{last} : o.taps;
    for (int t : taps)
        if (t < 0 || t >= numTaps())
            throw std::invalid_argument("unknown tap id " + std::to_string(t));

    // Which (method, tap) pairs to compute, and which taps need which gradients.
    std::vector<std::pair<Method, int>> jobs;
    std::set<int> allTaps;
    GradRequest grads;
    for (Method m : o.methods) {
        if (methodIsBaseline(m))
            throw std::invalid_argument("'" + methodId(m) +
                                        "' is a baseline map, not a method: the faithfulness "
                                        "metrics score it beside the methods");
        if (m == Method::Cam) {
            if (camTap() < 0)
                throw std::invalid_argument("CAM is not available for this model: " +
                                            m_script->camUnavailableReason());
            jobs.emplace_back(m, camTap());
            allTaps.insert(camTap());
            continue;
        }
        for (int t : taps) {
            jobs.emplace_back(m, t);
            allTaps.insert(t);
            if (methodNeedsGradients(m)) {
                grads.taps.insert(t);
                (m == Method::FinerCam ? grads.finer : grads.target) = true;
            }
        }
    }
    if (grads.finer) {
        if (!std::isfinite(o.finerAlpha))
            throw std::invalid_argument("Finer-CAM's alpha must be a finite number");
        const int classes = static_cast<int>(numClasses());
        if (classes < 2)
            throw std::invalid_argument("Finer-CAM compares classes, and the model has one");
        for (int r : o.finerCompare)
            if (r < 1 || r >= classes)
                throw std::invalid_argument(
                    "Finer-CAM comparison rank " + std::to_string(r) + " does not exist: the " +
                    "model has " + std::to_string(classes) + " classes, so ranks 1 to " +
                    std::to_string(classes - 1) + " (rank 0 is the target itself)");
        if (o.finerCompare.empty())
            for (int r = 1; r <= 3 && r < classes; ++r) o.finerCompare.push_back(r);
    }
    const at::Tensor x = images.to(m_device);
    const Pass base = runPass(x, targetsIn, allTaps, grads, o, at::Tensor());
    job.throwIfCancelled();
    std::map<std::pair<Method, int>, at::Tensor> smoothed;
    if (o.augSmooth && !grads.taps.empty())
        smoothed = augmentationSmoothed(x, base, jobs, grads, o, job);

    c10::InferenceMode inference;
    const at::Tensor& targets = base.targets;
    const at::Tensor logitsCpu = base.logits.to(at::kCPU, at::kFloat);
    const at::Tensor probsCpu = logitsCpu.softmax(1);
    std::vector<ImageExplanation> result(static_cast<std::size_t>(B));
    const int k = std::min<int>(o.topK, static_cast<int>(numClasses()));
    auto topk = probsCpu.topk(k, 1);
    const at::Tensor targetsCpu = targets.cpu();
    const at::Tensor finerCpu =
        base.finerClasses.defined() ? base.finerClasses.cpu() : at::Tensor();
    for (int64_t b = 0; b < B; ++b) {
        auto& r = result[static_cast<std::size_t>(b)];
        r.target = static_cast<int>(targetsCpu[b].item<int64_t>());
        r.logits.assign(logitsCpu[b].data_ptr<float>(),
                        logitsCpu[b].data_ptr<float>() + logitsCpu.size(1));
        for (int j = 0; j < k; ++j) {
            const int c = static_cast<int>(std::get<1>(topk)[b][j].item<int64_t>());
            r.top.push_back({c, probsCpu[b][c].item<float>(), logitsCpu[b][c].item<float>()});
        }
        if (finerCpu.defined())
            for (int64_t j = 0; j < finerCpu.size(1); ++j)
                r.finerClasses.push_back(static_cast<int>(finerCpu[b][j].item<int64_t>()));
    }
    for (const auto& [method, tap] : jobs) {
        const at::Tensor& A = base.acts.at(tap);
        at::Tensor maps;
        if (auto it = smoothed.find({method, tap}); it != smoothed.end()) {
            maps = it->second;
        } else if (methodNeedsGradients(method)) {
            maps = gradientMap(method, tap, base, o);
        } else if (method == Method::Cam) {
            const at::Tensor W =
                base.classWeights.to(A.device(), A.scalar_type()).index_select(0, targets);
            maps = camRaw(A, W);
        } else if (method == Method::EigenCam) {
            maps = eigenCamRaw(A);
        } else {
            maps = scoreCam(x, A, targets, o, job);
        }
        for (int64_t b = 0; b < B; ++b)
            result[static_cast<std::size_t>(b)].maps.push_back({method, tap, toHeatmap(maps[b])});
    }
    return result;
}

}  // namespace camx
