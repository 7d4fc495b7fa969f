#include "scanfw/address.hpp"

#include <arpa/inet.h>
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
    // FNV-1a over the family and the bytes that family uses.
    std::size_t h = 14695981039346656037ull;
    auto mix = [&h](std::uint8_t b) {
        h ^= b;
        h *= 1099511628211ull;
    };
    mix(static_cast<std::uint8_t>(a.family));
    const std::size_t n = a.family == Family::V4 ? 4 : 16;
    for (std::size_t i = 0; i < n; ++i) mix(a.bytes[i]);
    return h;
}

}  // namespace scanfw
