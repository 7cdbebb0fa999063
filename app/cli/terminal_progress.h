#pragma once
// A one-line terminal progress bar for the CLI: redraws in place on a TTY, prints sparse lines
// otherwise (logs, CI).

#include <chrono>
#include <string>

#include "common/job.h"

namespace camx::cli {

class TerminalProgress {
public:
    explicit TerminalProgress(bool quiet = false);
    ~TerminalProgress();
    void update(const Progress& p);
    void finish();
    ProgressFn callback();

private:
    bool m_quiet;
    bool m_tty;
    bool m_open = false;
    std::string m_lastStage;
    int m_lastPercent = -1;
    std::chrono::steady_clock::time_point m_start, m_lastDraw;
};

}  // namespace camx::cli
