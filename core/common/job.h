#pragma once
// Progress reporting and cancellation shared by every long-running core call.
//
// The contract every core call follows:
//  * Calls are synchronous: the caller picks the thread, passes a ProgressFn to hear about
//    progress and a CancelToken to stop the work.
//  * The token is polled at batch, block or file boundaries (and inside readers of large files),
//    so a cancel takes effect within one step.
//  * A cancelled call throws camx::Cancelled; it never returns a partial result.
//  * It leaves no partial output behind, except resumable state that its header documents as
//    kept on purpose: an evaluation's eval_partial.jsonl (evaluator.h) and a training run's
//    checkpoints of finished epochs (trainer.h). The next call with the same inputs resumes
//    from them to the same result.

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

// Thrown by core calls when their CancelToken fires (see the contract above).
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
