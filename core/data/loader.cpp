#include "data/loader.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <numeric>
#include <random>

namespace camx {

namespace {
constexpr std::size_t kCacheLockStripes = 64;
}

BatchLoader::BatchLoader(std::vector<Sample> samples, LoaderOptions options)
    : m_samples(std::move(samples)), m_opt(std::move(options)) {
    if (m_opt.batchSize < 1) throw std::invalid_argument("batch size must be at least 1");
    if (m_opt.shardCount < 1 || m_opt.shardRank < 0 || m_opt.shardRank >= m_opt.shardCount)
        throw std::invalid_argument("shard " + std::to_string(m_opt.shardRank) + " of " +
                                    std::to_string(m_opt.shardCount) + " does not exist");
    if (m_opt.inputSize < 8) throw std::invalid_argument("input size must be at least 8 pixels");
    if (m_opt.cacheResized) {
        m_cache.resize(m_samples.size());
        m_cacheLocks = std::make_unique<std::mutex[]>(kCacheLockStripes);
    }
}

BatchLoader::~BatchLoader() {
    stopWorkers();
}

std::size_t BatchLoader::shardSize() const {
    const std::size_t n = m_samples.size(), w = static_cast<std::size_t>(m_opt.shardCount),
                      r = static_cast<std::size_t>(m_opt.shardRank);
    if (w == 1) return n;
    if (m_opt.padShards) return (n + w - 1) / w;
    return n / w + (r < n % w ? 1 : 0);
}

std::size_t BatchLoader::batchesPerEpoch() const {
    const std::size_t n = shardSize(), b = static_cast<std::size_t>(m_opt.batchSize);
    return m_opt.dropLast ? n / b : (n + b - 1) / b;
}

void BatchLoader::stopWorkers() {
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stop = true;
    }
    m_cv.notify_all();
    for (auto& t : m_workers) t.join();
    m_workers.clear();
}

void BatchLoader::startEpoch(int epoch) {
    stopWorkers();
    m_epoch = epoch;
    m_order.resize(m_samples.size());
    std::iota(m_order.begin(), m_order.end(), std::size_t{0});
    if (m_opt.shuffle) {
        std::mt19937_64 rng(m_opt.seed * 1000003ull + static_cast<std::uint64_t>(epoch));
        std::shuffle(m_order.begin(), m_order.end(), rng);
    }
    if (m_opt.shardCount > 1) {
        const std::size_t w = static_cast<std::size_t>(m_opt.shardCount);
        const std::size_t total = m_opt.padShards ? shardSize() * w : m_order.size();
        std::vector<std::size_t> mine;
        mine.reserve(shardSize());
        for (std::size_t k = static_cast<std::size_t>(m_opt.shardRank); k < total; k += w)
            mine.push_back(m_order.empty() ? 0 : m_order[k % m_order.size()]);
        m_order = std::move(mine);
    }
    m_ready.clear();
    m_nextToMake = m_nextToGive = 0;
    m_stop = false;
    const int threads = m_opt.threads > 0
                            ? m_opt.threads
                            : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    for (int t = 0; t < threads; ++t) m_workers.emplace_back([this] { workerLoop(); });
}

void BatchLoader::workerLoop() {
    const std::size_t total = batchesPerEpoch();
    for (;;) {
        std::size_t mine;
        {
            std::unique_lock<std::mutex> lock(m_mutex);
            m_cv.wait(lock, [&] {
                return m_stop || m_nextToMake >= total ||
                       m_nextToMake < m_nextToGive + static_cast<std::size_t>(
                                                         std::max(1, m_opt.prefetchBatches));
            });
            if (m_stop || m_nextToMake >= total) return;
            mine = m_nextToMake++;
        }
        Batch b = makeBatch(mine);
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_ready.emplace(mine, std::move(b));
        }
        m_cv.notify_all();
    }
}

std::optional<Batch> BatchLoader::next() {
    if (m_workers.empty() && m_nextToGive == 0 && m_order.empty()) startEpoch(m_epoch);
    std::unique_lock<std::mutex> lock(m_mutex);
    if (m_nextToGive >= batchesPerEpoch()) return std::nullopt;
    m_cv.wait(lock, [&] { return m_ready.count(m_nextToGive) > 0; });
    auto node = m_ready.extract(m_nextToGive);
    ++m_nextToGive;
    lock.unlock();
    m_cv.notify_all();
    return std::move(node.mapped());
}

cv::Mat BatchLoader::loadResized(std::size_t i) {
    if (m_opt.cacheResized) {
        std::lock_guard<std::mutex> lock(m_cacheLocks[i % kCacheLockStripes]);
        if (!m_cache[i].empty()) return m_cache[i];
    }
    cv::Mat resized = resizeForModel(readRgb(m_samples[i].imagePath), m_opt.inputSize);
    if (m_opt.cacheResized) {
        std::lock_guard<std::mutex> lock(m_cacheLocks[i % kCacheLockStripes]);
        m_cache[i] = resized;
    }
    return resized;
}

Batch BatchLoader::makeBatch(std::size_t batchIndex) {
    const std::size_t b = static_cast<std::size_t>(m_opt.batchSize);
    const std::size_t begin = batchIndex * b, end = std::min(begin + b, m_order.size());
    const int s = m_opt.inputSize;
    Batch out;
    std::vector<cv::Mat> images;
    images.reserve(end - begin);
    for (std::size_t k = begin; k < end; ++k) {
        const std::size_t idx = m_order[k];
        try {
            cv::Mat img = loadResized(idx);
            if (m_opt.augment.any()) {
                auto rng = sampleRng(m_opt.seed, m_epoch, idx);
                img = augmentImage(img, m_opt.augment, rng);
            }
            images.push_back(img);
            out.indices.push_back(idx);
        } catch (const std::exception& e) {
            out.failures.push_back(
                {LoadIssue::Kind::Skipped, m_samples[idx].imagePath.string(), e.what()});
        }
    }
    const auto n = static_cast<int64_t>(images.size());
    out.images = at::empty({n, 3, s, s}, at::kFloat);
    out.labels = at::empty({n}, at::kLong);
    float* dst = out.images.data_ptr<float>();
    int64_t* lab = out.labels.data_ptr<int64_t>();
    const std::size_t per = 3u * static_cast<std::size_t>(s) * s;
    for (int64_t j = 0; j < n; ++j) {
        toChwNormalized(images[static_cast<std::size_t>(j)], m_opt.norm, dst + j * per);
        lab[j] = m_samples[out.indices[static_cast<std::size_t>(j)]].label;
    }
    return out;
}

}  // namespace camx
