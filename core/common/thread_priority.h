#pragma once
// Background work yields to the thread that draws the interface.

namespace camx {

// Lowers the calling thread's scheduling priority (Linux: nice +10 for this thread only, which
// threads it starts later inherit, LibTorch's intra-op pool included). Raising it back needs
// privileges, so call it only on threads that do background work for their whole life (thread
// pool workers). Idempotent; failures are ignored, since priority is a preference.
void lowerCurrentThreadPriority();

// The calling thread's niceness (0 on systems without per-thread nice values).
int currentThreadNiceness();

}  // namespace camx
