#pragma once
// Stable content hashes (xxHash's XXH3, 64 bit): the same bytes give the same digest on every
// machine, toolchain and run, unlike std::hash. Used for cache keys, resume keys and checkpoint
// digests.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace camx {

// Incremental hashing: feed bytes in any chunks; the digest depends on the bytes only.
class Hasher {
public:
    Hasher();
    ~Hasher();
    Hasher(const Hasher&) = delete;
    Hasher& operator=(const Hasher&) = delete;

    Hasher& update(const void* data, std::size_t size);
    Hasher& update(std::string_view text);
    // Adds a number as 8 little-endian bytes, so fields cannot run into each other.
    Hasher& updateNumber(std::uint64_t value);
    std::uint64_t digest() const;
    std::string hex() const;  // 16 lowercase hex digits

private:
    struct State;
    std::unique_ptr<State> m_state;
};

std::uint64_t hashBytes(const void* data, std::size_t size);
std::string toHex(std::uint64_t value);

// Two numbers into one seed (splitmix64 of the pair): nearby inputs give unrelated streams.
inline std::uint64_t mixSeeds(std::uint64_t a, std::uint64_t b) {
    std::uint64_t z = a * 0x9E3779B97F4A7C15ull + b + 0x632BE59BD9B4E019ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

}  // namespace camx
