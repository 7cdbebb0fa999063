#pragma once
// Batches for the network: decode, resize (whole image, no crop), optional augmentation,
// normalise, stack. Worker threads prefetch a few batches ahead; the order of batches and of
// samples inside them depends only on the seed and the epoch, never on thread timing.

#include <ATen/core/Tensor.h>

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "data/augment.h"
#include "data/dataset.h"
#include "data/image_io.h"

namespace camx {

struct LoaderOptions {
    int batchSize = 32;
    int inputSize = 224;
    bool shuffle = false;
    bool dropLast = false;
    std::uint64_t seed = 0;
    int threads = 0;            // decoding threads; 0: every core
    int prefetchBatches = 3;    // how far ahead workers may run
    bool cacheResized = false;  // keep resized 8-bit images in memory after their first decode
    Augmentation augment;
    Normalization norm;
    // Data parallel: this process reads shard `shardRank` of `shardCount` of every epoch's order,
    // as torch.utils.data.DistributedSampler does: positions rank, rank + count, ... of the
    // (shuffled) order. With `padShards` the order is first extended by its own beginning to a
    // multiple of the count, so every shard has as many samples (and batches) as the others
    // (training: every process takes the same number of steps); without it the shards are
    // disjoint and together hold every sample exactly once (validation).
    int shardRank = 0;
    int shardCount = 1;
    bool padShards = true;
};

struct Batch {
    at::Tensor images;                 // float32 [B, 3, S, S], normalised
    at::Tensor labels;                 // int64 [B]
    std::vector<std::size_t> indices;  // positions in the sample list
    std::vector<LoadIssue> failures;   // samples dropped because they failed to decode
};

class BatchLoader {
public:
    BatchLoader(std::vector<Sample> samples, LoaderOptions options);
    ~BatchLoader();
    BatchLoader(const BatchLoader&) = delete;
    BatchLoader& operator=(const BatchLoader&) = delete;

    // Starts an epoch: shuffles (when asked) with seed and epoch, and starts prefetching.
    void startEpoch(int epoch);
    // The next batch of the epoch, or nothing at its end. Blocks only while a worker finishes it.
    std::optional<Batch> next();

    std::size_t size() const { return m_samples.size(); }
    // The samples this process reads per epoch (its shard; every sample with one process).
    std::size_t shardSize() const;
    std::size_t batchesPerEpoch() const;
    const std::vector<Sample>& samples() const { return m_samples; }
    const LoaderOptions& options() const { return m_opt; }

private:
    void stopWorkers();
    void workerLoop();
    Batch makeBatch(std::size_t batchIndex);
    cv::Mat loadResized(std::size_t sampleIndex);

    std::vector<Sample> m_samples;
    LoaderOptions m_opt;
    int m_epoch = 0;
    std::vector<std::size_t> m_order;

    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::map<std::size_t, Batch> m_ready;
    std::size_t m_nextToMake = 0;
    std::size_t m_nextToGive = 0;
    bool m_stop = false;
    std::vector<std::thread> m_workers;

    std::vector<cv::Mat> m_cache;
    std::unique_ptr<std::mutex[]> m_cacheLocks;
};

}  // namespace camx
