// Routes as the kernel would take them (an RTM_GETROUTE per /24 or /64, cached): the
// source address toward a target, and whether the target is on a local Ethernet
// segment (no gateway, an Ethernet interface): then ARP or neighbour discovery reach
// it, and its MAC address is its own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>

#include "common/address.hpp"
#include "common/result.hpp"

namespace scanfw {

struct Route {
    IpAddress source;      // the address the kernel would send from
    int ifindex = 0;
    std::string ifname;
    bool on_link = false;   // no gateway between us and the target
    bool local = false;     // the target is one of this host's own addresses
    bool ethernet = false;  // the interface carries Ethernet (ARP/ND work there)
    MacAddress mac{};       // the interface's own MAC (ethernet only)
    bool local_segment() const { return on_link && ethernet; }
};

class Routes {
public:
    // nullopt when there is no route (or it is unreachable/prohibited).
    std::optional<Route> lookup(const IpAddress& dst);

private:
    absl::flat_hash_map<IpAddress, std::optional<Route>, IpAddressHash> cache_;  // by /24, /64
    // Whether a route is local is a property of one address, not of its /24: this
    // host's own addresses, and any address the kernel called local, are looked up
    // and kept alone, so that neither stands for its neighbours nor they for it.
    absl::flat_hash_map<IpAddress, std::optional<Route>, IpAddressHash> exact_;
    absl::flat_hash_set<IpAddress, IpAddressHash> own_;  // the interfaces' addresses
    bool own_loaded_ = false;
};

// One netlink route query, uncached. Exposed for tests.
std::optional<Route> kernel_route(const IpAddress& dst);

}  // namespace scanfw
