#include "terminal_progress.h"

#include <unistd.h>

#include <cstdio>

namespace camx::cli {

TerminalProgress::TerminalProgress(bool quiet)
    : m_quiet(quiet),
      m_tty(::isatty(STDERR_FILENO) == 1),
      m_start(std::chrono::steady_clock::now()) {}

TerminalProgress::~TerminalProgress() {
    finish();
}

void TerminalProgress::update(const Progress& p) {
    if (m_quiet) return;
    const auto now = std::chrono::steady_clock::now();
    const int percent = p.total ? static_cast<int>(100.0 * p.done / p.total) : -1;
    const bool stageChanged = p.stage != m_lastStage;
    if (stageChanged && m_open && m_tty) std::fputc('\n', stderr);
    if (m_tty) {
        if (!stageChanged && now - m_lastDraw < std::chrono::milliseconds(100) && p.done != p.total)
            return;
        const double secs = std::chrono::duration<double>(now - m_start).count();
        char line[256];
        if (p.total) {
            const int width = 30, filled = static_cast<int>(width * p.done / p.total);
            std::string bar(static_cast<std::size_t>(filled), '#');
            bar.resize(width, '.');
            const double eta = p.done ? secs * (p.total - p.done) / p.done : 0.0;
            std::snprintf(line, sizeof line, "\r%-28.28s [%s] %3d%% %zu/%zu  ETA %4.0fs ",
                          p.stage.c_str(), bar.c_str(), percent, p.done, p.total, eta);
        } else {
            std::snprintf(line, sizeof line, "\r%-28.28s %zu ", p.stage.c_str(), p.done);
        }
        std::fputs(line, stderr);
        m_open = true;
    } else if (stageChanged || (percent >= 0 && percent / 10 != m_lastPercent / 10)) {
        std::fprintf(stderr, "%s: %d%% (%zu/%zu)\n", p.stage.c_str(), std::max(percent, 0), p.done,
                     p.total);
    }
    m_lastStage = p.stage;
    m_lastPercent = percent;
    m_lastDraw = now;
}

void TerminalProgress::finish() {
    if (m_open && m_tty) std::fputc('\n', stderr);
    m_open = false;
}

ProgressFn TerminalProgress::callback() {
    return [this](const Progress& p) { update(p); };
}

}  // namespace camx::cli
