#include "distributed/grad_reducer.h"

#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include <stdexcept>

#include "distributed/process_group.h"

namespace camx::dist {

GradientReducer::GradientReducer(ProcessGroupHandle& group, std::vector<at::Tensor> params,
                                 std::size_t bucketBytes)
    : m_group(group), m_params(std::move(params)) {
    m_slots.resize(m_params.size());
    // Reverse order: the backward pass reaches the last layers first.
    std::int64_t filled = 0;
    for (std::size_t k = m_params.size(); k-- > 0;) {
        const at::Tensor& p = m_params[k];
        if (p.scalar_type() != at::kFloat)
            throw std::invalid_argument("the gradient reducer takes fp32 parameters only");
        const std::int64_t bytes = p.numel() * static_cast<std::int64_t>(sizeof(float));
        if (m_buckets.empty() ||
            (filled > 0 && filled + bytes > static_cast<std::int64_t>(bucketBytes))) {
            m_buckets.emplace_back();
            filled = 0;
        }
        Bucket& b = m_buckets.back();
        m_slots[k] = {m_buckets.size() - 1, filled / static_cast<std::int64_t>(sizeof(float)),
                      p.numel(), false};
        b.params.push_back(k);
        filled += bytes;
    }
    for (auto& b : m_buckets) {
        std::int64_t n = 0;
        for (std::size_t k : b.params) n += m_slots[k].numel;
        b.flat = at::zeros({n}, m_params.empty() ? at::TensorOptions(at::kFloat)
                                                 : m_params.front().options().requires_grad(false));
    }
    for (std::size_t k = 0; k < m_params.size(); ++k)
        m_hooks.push_back(
            m_params[k].register_hook([this, k](const at::Tensor& grad) { onGradient(k, grad); }));
    prepare();
}

GradientReducer::~GradientReducer() {
    // A bucket still in flight (a failed step) must finish before its memory goes.
    for (auto& b : m_buckets)
        if (b.work) {
            try {
                b.work->wait();
            } catch (...) {
            }
        }
    for (std::size_t k = 0; k < m_hooks.size(); ++k) m_params[k].remove_hook(m_hooks[k]);
}

void GradientReducer::prepare() {
    for (auto& b : m_buckets) {
        if (b.work) b.work->wait();
        b.work.reset();
        b.pending = b.params.size();
    }
    for (auto& s : m_slots) s.ready = false;
    m_nextLaunch = 0;
}

void GradientReducer::onGradient(std::size_t param, const at::Tensor& grad) {
    Slot& s = m_slots[param];
    Bucket& b = m_buckets[s.bucket];
    at::Tensor dst = b.flat.narrow(0, s.offset, s.numel);
    if (s.ready) {
        dst.add_(grad.reshape({-1}));  // a parameter used twice: its gradients add up
        return;
    }
    if (b.work) throw std::logic_error("a gradient arrived for a bucket already being reduced");
    dst.copy_(grad.reshape({-1}));
    s.ready = true;
    if (--b.pending == 0) launchReady();
}

// Buckets start strictly in order, so every process issues the same collectives in the same
// sequence whatever order the hooks fire in.
void GradientReducer::launchReady() {
    while (m_nextLaunch < m_buckets.size() && m_buckets[m_nextLaunch].pending == 0) {
        Bucket& b = m_buckets[m_nextLaunch++];
        b.work = m_group.allReduceSumAsync(b.flat);
    }
}

void GradientReducer::finish() {
    for (auto& b : m_buckets) {
        if (b.pending == 0) continue;
        for (std::size_t k : b.params)
            if (!m_slots[k].ready) {
                b.flat.narrow(0, m_slots[k].offset, m_slots[k].numel).zero_();
                m_slots[k].ready = true;
            }
        b.pending = 0;
    }
    launchReady();
    for (auto& b : m_buckets) {
        if (b.work) b.work->wait();
        b.work.reset();
        for (std::size_t k : b.params) {
            at::Tensor& p = m_params[k];
            const at::Tensor sum = b.flat.narrow(0, m_slots[k].offset, m_slots[k].numel);
            if (!p.grad().defined()) p.mutable_grad() = at::zeros_like(p);
            p.mutable_grad().copy_(sum.view(p.sizes()));
        }
    }
}

void broadcastParameters(ProcessGroupHandle& group, torch::nn::Module& module, int root) {
    torch::NoGradGuard noGrad;
    for (auto& p : module.parameters()) {
        at::Tensor t = p.detach();
        group.broadcast(t, root);
    }
    broadcastBuffers(group, module, root);
}

void broadcastBuffers(ProcessGroupHandle& group, torch::nn::Module& module, int root) {
    torch::NoGradGuard noGrad;
    for (auto& b : module.buffers()) {
        at::Tensor t = b.detach();
        group.broadcast(t, root);
    }
}

}  // namespace camx::dist
