#pragma once
// Progress reporting and cancellation shared by every long-running core call.
// Core calls are synchronous: the caller picks the thread, passes a ProgressFn to hear about
// progress and a CancelToken to stop the work. A cancelled call throws camx::Cancelled.

#include <atomic>
#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>

namespace camx {

struct Progress {
    std::size_t done = 0;
    std::size_t total = 0;  // 0 when unknown
    std::string stage;      // a short, user-facing description of what is happening
};

using ProgressFn = std::function<void(const Progress&)>;

class CancelToken {
public:
    void cancel() { m_cancelled.store(true, std::memory_order_relaxed); }
    void reset() { m_cancelled.store(false, std::memory_order_relaxed); }
    bool cancelled() const { return m_cancelled.load(std::memory_order_relaxed); }

private:
    std::atomic<bool> m_cancelled{false};
};

// Thrown by core calls when their CancelToken fires; the call leaves no partial output behind.
class Cancelled : public std::runtime_error {
public:
    Cancelled() : std::runtime_error("cancelled by the user") {}
};

// What a job receives: both members may be empty.
struct JobContext {
    ProgressFn progress;
    const CancelToken* cancel = nullptr;

    void report(std::size_t done, std::size_t total, const std::string& stage) const {
        if (progress) progress(Progress{done, total, stage});
    }
    bool cancelled() const { return cancel && cancel->cancelled(); }
    void throwIfCancelled() const {
        if (cancelled()) throw Cancelled();
    }
};

}  // namespace camx
