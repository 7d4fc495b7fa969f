#include "net/tag.hpp"

#include <sys/random.h>

#include <cstring>
#include <stdexcept>

namespace scanfw {

namespace {
constexpr std::uint64_t rotl(std::uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

struct SipState {
    std::uint64_t v0, v1, v2, v3;
    void round() {
        v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);
        v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);
    }
    void absorb(std::uint64_t m) {
        v3 ^= m;
        round();
        round();
        v0 ^= m;
    }
};
}  // namespace

SipKey random_key() {
    SipKey key{};
    if (getrandom(key.data(), sizeof key, 0) != static_cast<ssize_t>(sizeof key))
        throw std::runtime_error("getrandom() failed");
    return key;
}

// SipHash-2-4 (Aumasson & Bernstein), little-endian message words.
std::uint64_t siphash24(const SipKey& key, const void* data, std::size_t len) {
    SipState s{key[0] ^ 0x736f6d6570736575ULL, key[1] ^ 0x646f72616e646f6dULL, key[0] ^ 0x6c7967656e657261ULL,
               key[1] ^ 0x7465646279746573ULL};
    const auto* p = static_cast<const std::uint8_t*>(data);
    const std::size_t whole = len & ~std::size_t{7};
    for (std::size_t i = 0; i < whole; i += 8) {
        std::uint64_t m = 0;
        for (int b = 7; b >= 0; --b) m = (m << 8) | p[i + b];
        s.absorb(m);
    }
    std::uint64_t last = std::uint64_t(len & 0xff) << 56;
    for (std::size_t b = 0; b < (len & 7); ++b) last |= std::uint64_t(p[whole + b]) << (8 * b);
    s.absorb(last);
    s.v2 ^= 0xff;
    for (int r = 0; r < 4; ++r) s.round();
    return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

ProbeTag Tagger::tag(std::uint16_t job, const IpAddress& ours, const IpAddress& target, std::uint16_t port) const {
    std::uint8_t buf[38];
    buf[0] = static_cast<std::uint8_t>(job >> 8);
    buf[1] = static_cast<std::uint8_t>(job);
    buf[2] = static_cast<std::uint8_t>(ours.family);
    std::memcpy(buf + 3, ours.bytes.data(), 16);
    buf[19] = static_cast<std::uint8_t>(target.family);
    std::memcpy(buf + 20, target.bytes.data(), 16);
    buf[36] = static_cast<std::uint8_t>(port >> 8);
    buf[37] = static_cast<std::uint8_t>(port);
    const std::uint64_t h1 = siphash24(key_, buf, sizeof buf);
    buf[0] ^= 0x80;
    const std::uint64_t h2 = siphash24(key_, buf, sizeof buf);
    ProbeTag t;
    t.fields.sport = static_cast<std::uint16_t>(kSourcePortBase + (h2 >> 32) % kSourcePortCount);
    t.fields.seq = static_cast<std::uint32_t>(h1);
    t.fields.ack = static_cast<std::uint32_t>(h1 >> 32);
    t.fields.icmp_id = static_cast<std::uint16_t>(h2 >> 16);
    t.fields.icmp_seq = static_cast<std::uint16_t>(h1 >> 16);
    // Never IP id 0: the kernel replaces a zero id in a raw (IP_HDRINCL) packet with
    // one of its own, and the id quoted back in an ICMP error would then not match.
    const auto ip_id = static_cast<std::uint16_t>(h2);
    t.ip_id = ip_id != 0 ? ip_id : 1;
    return t;
}

}  // namespace scanfw
