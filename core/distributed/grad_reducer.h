#pragma once
// Data-parallel gradients: after each backward pass, every parameter's gradient is the sum of
// every process's gradient. As torch.nn.parallel.DistributedDataParallel does, the parameters are
// grouped in buckets (in reverse order, since the backward pass produces the last layers'
// gradients first), a hook on each parameter copies its gradient into its bucket as soon as the
// backward pass produces it, and a full bucket is all-reduced on the process group at once,
// while the backward pass goes on computing the earlier layers. c10d's own Reducer does not
// compile against Debian's LibTorch 1.13 (reducer.hpp includes distributed-autograd headers the
// package does not ship).
//
// The sum, not the mean: the trainer weights each process's loss by its share of the global
// batch, so the summed gradient is the gradient of the global batch's mean loss whatever the
// shares are.

#include <ATen/Tensor.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace torch::nn {
class Module;
}

namespace camx::dist {

class ProcessGroupHandle;
class PendingReduce;

class GradientReducer {
public:
    // `params`: the parameters that train (fp32, on one device), identical in shape and order
    // on every process. A bucket holds parameters until it reaches `bucketBytes` (DDP's default
    // is 25 MiB); a parameter larger than that has a bucket to itself.
    GradientReducer(ProcessGroupHandle& group, std::vector<at::Tensor> params,
                    std::size_t bucketBytes = std::size_t{25} << 20);
    ~GradientReducer();  // removes the hooks
    GradientReducer(const GradientReducer&) = delete;
    GradientReducer& operator=(const GradientReducer&) = delete;

    // Before each backward pass.
    void prepare();
    // After it: starts the buckets no hook completed (parameters without a gradient this step
    // count as zero), waits for every bucket in order and writes the sums into the parameters'
    // gradients.
    void finish();

    std::size_t bucketCount() const { return m_buckets.size(); }

private:
    struct Slot {
        std::size_t bucket = 0;
        std::int64_t offset = 0, numel = 0;
        bool ready = false;
    };
    struct Bucket {
        at::Tensor flat;
        std::vector<std::size_t> params;
        std::size_t pending = 0;
        std::unique_ptr<PendingReduce> work;
    };
    void onGradient(std::size_t param, const at::Tensor& grad);
    void launchReady();

    ProcessGroupHandle& m_group;
    std::vector<at::Tensor> m_params;
    std::vector<Slot> m_slots;
    std::vector<Bucket> m_buckets;
    std::vector<unsigned> m_hooks;
    std::size_t m_nextLaunch = 0;
};

// Rank `root`'s parameters and buffers (batch-norm statistics) to every process: every process
// starts from the same weights, and validates with the same statistics.
void broadcastParameters(ProcessGroupHandle& group, torch::nn::Module& module, int root = 0);
void broadcastBuffers(ProcessGroupHandle& group, torch::nn::Module& module, int root = 0);

}  // namespace camx::dist
