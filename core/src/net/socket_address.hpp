// IP addresses as socket addresses, and back.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include "common/address.hpp"
#include "common/zones.hpp"

namespace scanfw {

inline sockaddr_storage socket_address(const IpAddress& a, std::uint16_t port, socklen_t& len) {
    sockaddr_storage ss{};
    if (a.family == Family::V4) {
        auto& sa = reinterpret_cast<sockaddr_in&>(ss);
        sa.sin_family = AF_INET;
        sa.sin_port = htons(port);
        std::memcpy(&sa.sin_addr, a.bytes.data(), 4);
        len = sizeof(sockaddr_in);
    } else {
        auto& sa = reinterpret_cast<sockaddr_in6&>(ss);
        sa.sin6_family = AF_INET6;
        sa.sin6_port = htons(port);
        std::memcpy(&sa.sin6_addr, a.bytes.data(), 16);
        sa.sin6_scope_id = zones::of(a);  // fe80::1%eth0
        len = sizeof(sockaddr_in6);
    }
    return ss;
}

inline IpAddress address_of(const sockaddr_storage& ss) {
    IpAddress a;
    if (ss.ss_family == AF_INET) {
        a.family = Family::V4;
        std::memcpy(a.bytes.data(), &reinterpret_cast<const sockaddr_in&>(ss).sin_addr, 4);
    } else {
        a.family = Family::V6;
        std::memcpy(a.bytes.data(), &reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr, 16);
    }
    return a;
}

}  // namespace scanfw
