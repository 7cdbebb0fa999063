#include "common/thread_priority.h"

#if defined(__linux__)
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#endif

namespace camx {

namespace {
constexpr int kBackgroundNiceness = 10;
}

#if defined(__linux__)
int currentThreadNiceness() {
    errno = 0;
    const int value = getpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)));
    return errno == 0 ? value : 0;
}

void lowerCurrentThreadPriority() {
    // On Linux, PRIO_PROCESS with a thread id sets that thread's niceness alone.
    if (currentThreadNiceness() >= kBackgroundNiceness) return;
    (void)setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), kBackgroundNiceness);
}
#else
int currentThreadNiceness() {
    return 0;
}
void lowerCurrentThreadPriority() {}
#endif

}  // namespace camx
