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

}  // namespace camx
