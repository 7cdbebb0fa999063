#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "../test_support.h"
#include "data/loader.h"

namespace camx {
namespace {

class Loader : public test::DemoSuite<4, 3, 3, 7> {
protected:
    static std::vector<Batch> epoch(LoaderOptions o, int e) {
        BatchLoader l(s_ds->train.samples, o);
        l.startEpoch(e);
        std::vector<Batch> out;
        while (auto b = l.next()) out.push_back(std::move(*b));
        return out;
    }
};

TEST_F(Loader, CoversEverySampleOncePerEpoch) {
    LoaderOptions o;
    o.batchSize = 5;
    o.inputSize = 32;
    o.shuffle = true;
    auto batches = epoch(o, 0);
    ASSERT_EQ(batches.size(), 3u);  // 12 samples: 5 + 5 + 2
    std::vector<std::size_t> seen;
    for (const auto& b : batches) {
        EXPECT_EQ(b.images.size(0), static_cast<int64_t>(b.indices.size()));
        EXPECT_EQ(b.images.sizes(), (at::IntArrayRef{b.images.size(0), 3, 32, 32}));
        for (std::size_t j = 0; j < b.indices.size(); ++j)
            EXPECT_EQ(b.labels[static_cast<int64_t>(j)].item<int64_t>(),
                      s_ds->train.samples[b.indices[j]].label);
        seen.insert(seen.end(), b.indices.begin(), b.indices.end());
    }
    std::sort(seen.begin(), seen.end());
    for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], i);
}

TEST_F(Loader, IsDeterministicWhateverTheThreadCount) {
    LoaderOptions o;
    o.batchSize = 4;
    o.inputSize = 48;
    o.shuffle = true;
    o.seed = 11;
    o.augment.flip = o.augment.randomResizedCrop = o.augment.colorJitter = true;
    o.threads = 1;
    auto a = epoch(o, 3);
    o.threads = 3;
    o.cacheResized = true;
    auto b = epoch(o, 3);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].indices, b[i].indices);
        EXPECT_TRUE(at::equal(a[i].images, b[i].images)) << "batch " << i;
    }
    // Another epoch shuffles and augments differently.
    auto c = epoch(o, 4);
    EXPECT_FALSE(a[0].indices == c[0].indices && at::equal(a[0].images, c[0].images));
}

// DistributedSampler's rule: shard r of w holds positions r, r + w, ... of the epoch's
// (shuffled) order; padded, the order is first extended by its own beginning to a multiple of w.
TEST_F(Loader, ShardsSplitEachEpochsOrderAsDistributedSamplerDoes) {
    LoaderOptions o;
    o.batchSize = 3;
    o.inputSize = 16;
    o.shuffle = true;
    o.seed = 5;
    auto indicesOf = [&](const std::vector<Batch>& batches) {
        std::vector<std::size_t> v;
        for (const auto& b : batches) v.insert(v.end(), b.indices.begin(), b.indices.end());
        return v;
    };
    const std::vector<std::size_t> order = indicesOf(epoch(o, 2));  // one process
    ASSERT_EQ(order.size(), 12u);
    for (bool pad : {true, false})
        for (int w : {1, 2, 5}) {
            std::vector<std::size_t> all;
            for (int r = 0; r < w; ++r) {
                LoaderOptions so = o;
                so.shardRank = r;
                so.shardCount = w;
                so.padShards = pad;
                BatchLoader l(s_ds->train.samples, so);
                const std::size_t expected = pad ? (12 + w - 1) / w : 12 / w + (r < 12 % w);
                EXPECT_EQ(l.shardSize(), expected) << w << " " << r;
                const auto mine = indicesOf(epoch(so, 2));
                ASSERT_EQ(mine.size(), expected) << w << " " << r;
                for (std::size_t k = 0; k < mine.size(); ++k)
                    EXPECT_EQ(mine[k], order[(static_cast<std::size_t>(r) + k * w) % 12])
                        << "pad " << pad << ", shard " << r << " of " << w << ", item " << k;
                all.insert(all.end(), mine.begin(), mine.end());
            }
            std::sort(all.begin(), all.end());
            // Unpadded: every sample exactly once. Padded (5 × 3 = 15): the first three again.
            EXPECT_EQ(all.size(), pad ? (12u + w - 1) / w * w : 12u);
            EXPECT_EQ(std::unique(all.begin(), all.end()) - all.begin(), 12);
        }
    o.shardRank = 2;
    o.shardCount = 2;
    EXPECT_THROW(BatchLoader(s_ds->train.samples, o), std::invalid_argument);
}

TEST_F(Loader, UnshuffledOrderFollowsTheList) {
    LoaderOptions o;
    o.batchSize = 12;
    o.inputSize = 16;
    auto batches = epoch(o, 0);
    ASSERT_EQ(batches.size(), 1u);
    for (std::size_t j = 0; j < 12; ++j) EXPECT_EQ(batches[0].indices[j], j);
}

TEST_F(Loader, DecodeFailuresAreReportedNotFatal) {
    test::TempDir dir;
    std::vector<Sample> samples(s_ds->train.samples.begin(), s_ds->train.samples.begin() + 3);
    test::spit(dir / "broken.jpg", "not a jpeg");
    samples[1].imagePath = dir / "broken.jpg";
    LoaderOptions o;
    o.batchSize = 3;
    o.inputSize = 16;
    BatchLoader l(samples, o);
    auto b = l.next();
    ASSERT_TRUE(b);
    EXPECT_EQ(b->images.size(0), 2);
    ASSERT_EQ(b->failures.size(), 1u);
    EXPECT_NE(b->failures[0].message.find("broken.jpg"), std::string::npos);
}

}  // namespace
}  // namespace camx
