#include "common/hash.h"

#include <xxhash.h>

#include <cstdio>
#include <new>

namespace camx {

struct Hasher::State {
    XXH3_state_t* s = XXH3_createState();
    ~State() { XXH3_freeState(s); }
};

Hasher::Hasher() : m_state(std::make_unique<State>()) {
    if (!m_state->s) throw std::bad_alloc();
    XXH3_64bits_reset(m_state->s);
}
Hasher::~Hasher() = default;

Hasher& Hasher::update(const void* data, std::size_t size) {
    XXH3_64bits_update(m_state->s, data, size);
    return *this;
}

Hasher& Hasher::update(std::string_view text) {
    updateNumber(text.size());
    return update(text.data(), text.size());
}

Hasher& Hasher::updateNumber(std::uint64_t v) {
    unsigned char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(v >> (8 * i));
    return update(b, sizeof b);
}

std::uint64_t Hasher::digest() const {
    return XXH3_64bits_digest(m_state->s);
}

std::string Hasher::hex() const {
    return toHex(digest());
}

std::uint64_t hashBytes(const void* data, std::size_t size) {
    return XXH3_64bits(data, size);
}

std::string toHex(std::uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

}  // namespace camx
