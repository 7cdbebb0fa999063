#include "common/limits.h"

#include <atomic>

namespace camx {

namespace {
std::atomic<std::uint64_t> g_pixelBudget{kDefaultPixelBudget};
std::atomic<std::uint64_t> g_fullMapCap{kDefaultFullMapPixelCap};
}  // namespace

std::uint64_t pixelBudget() {
    return g_pixelBudget.load(std::memory_order_relaxed);
}
void setPixelBudget(std::uint64_t pixels) {
    g_pixelBudget.store(pixels ? pixels : kDefaultPixelBudget, std::memory_order_relaxed);
}
std::uint64_t fullMapPixelCap() {
    return g_fullMapCap.load(std::memory_order_relaxed);
}
void setFullMapPixelCap(std::uint64_t pixels) {
    g_fullMapCap.store(pixels ? pixels : kDefaultFullMapPixelCap, std::memory_order_relaxed);
}

}  // namespace camx
