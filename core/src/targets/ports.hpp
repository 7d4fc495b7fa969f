// nmap's port syntax: "22,80,1000-2000", "-" (1-65535), "-100", "60000-", service
// names ("ssh,http": every port nmap-services gives that name), and protocol sections
// "T:22,80,U:53,161,P:1,6,17" (no prefix: every protocol; P: IP protocol numbers).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/errors.hpp"
#include "scanfw/plugin_api.hpp"

namespace scanfw {

struct PortSpec {
    std::vector<std::uint16_t> tcp;  // sorted, unique
    std::vector<std::uint16_t> udp;  // sorted, unique
    std::vector<std::uint16_t> ip;   // IP protocol numbers (may hold numbers > 255: the caller says)
    const std::vector<std::uint16_t>& for_protocol(Protocol p) const {
        return p == Protocol::Udp ? udp : p == Protocol::Ip ? ip : tcp;
    }
};

// Throws InputError naming the offending token, e.g. "bad port range '90-80' in '22,90-80'".
PortSpec parse_ports(std::string_view spec);

}  // namespace scanfw
