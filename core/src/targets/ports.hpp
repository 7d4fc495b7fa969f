// nmap's port syntax: "22,80,1000-2000", "-" (1-65535), "-100", "60000-",
// and protocol sections "T:22,80,U:53,161" (no prefix: both protocols).
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
    const std::vector<std::uint16_t>& for_protocol(Protocol p) const { return p == Protocol::Tcp ? tcp : udp; }
};

// Throws InputError naming the offending token, e.g. "bad port range '90-80' in '22,90-80'".
PortSpec parse_ports(std::string_view spec);

}  // namespace scanfw
