#include "common/address.hpp"

#include <arpa/inet.h>
#include <cstring>
#include <netinet/in.h>

namespace scanfw {

IpAddress IpAddress::v4(std::uint32_t host_order) {
    IpAddress a;
    a.family = Family::V4;
    a.bytes[0] = static_cast<std::uint8_t>(host_order >> 24);
    a.bytes[1] = static_cast<std::uint8_t>(host_order >> 16);
    a.bytes[2] = static_cast<std::uint8_t>(host_order >> 8);
    a.bytes[3] = static_cast<std::uint8_t>(host_order);
    return a;
}

std::uint32_t IpAddress::v4_host_order() const {
    return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
           (std::uint32_t{bytes[2]} << 8) | std::uint32_t{bytes[3]};
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    if (text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
    const std::string s(text);  // inet_pton wants a NUL-terminated string
    IpAddress a;
    if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) {
        a.family = Family::V4;
        return a;
    }
    if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
        a.family = Family::V6;
        return a;
    }
    return std::nullopt;
}

std::string IpAddress::str() const {
    char buf[INET6_ADDRSTRLEN] = {};
    const int af = family == Family::V4 ? AF_INET : AF_INET6;
    if (inet_ntop(af, bytes.data(), buf, sizeof buf) == nullptr) return {};
    return buf;
}

std::size_t IpAddressHash::operator()(const IpAddress& a) const noexcept {
    // The 16 bytes as two words (equality compares all of them), folded with the
    // family and mixed by MurmurHash3's finaliser, so every bit of the result
    // depends on every bit of the address (flat hash maps use both ends of it).
    std::uint64_t lo = 0, hi = 0;
    std::memcpy(&lo, a.bytes.data(), 8);
    std::memcpy(&hi, a.bytes.data() + 8, 8);
    std::uint64_t h = lo ^ (hi * 0x9e3779b97f4a7c15ull) ^ static_cast<std::uint64_t>(a.family) << 56;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

}  // namespace scanfw
