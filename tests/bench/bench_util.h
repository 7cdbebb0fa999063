#pragma once
// Small helpers for the benchmarks: wall-clock timing, medians, resident memory.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace camx::bench {

inline double seconds(const std::function<void()>& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

inline double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

inline double medianOf(int runs, const std::function<void()>& f) {
    std::vector<double> t;
    for (int i = 0; i < runs; ++i) t.push_back(seconds(f));
    return median(t);
}

// Resident set size in MiB, from /proc/self/status.
inline double rssMiB() {
    std::ifstream in("/proc/self/status");
    std::string key;
    while (in >> key) {
        if (key == "VmRSS:") {
            double kb;
            in >> kb;
            return kb / 1024.0;
        }
        std::getline(in, key);
    }
    return 0.0;
}

}  // namespace camx::bench
