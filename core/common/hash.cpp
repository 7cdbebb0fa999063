#include "common/hash.h"

#include <xxhash.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <vector>

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

std::string fileDigest(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot open '" + path.string() + "': " + std::strerror(errno));
    Hasher h;
    std::vector<char> buf(1 << 20);
    while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        h.update(buf.data(), static_cast<std::size_t>(in.gcount()));
    }
    if (in.bad()) throw std::runtime_error("cannot read '" + path.string() + "'");
    return h.hex();
}

}  // namespace camx
