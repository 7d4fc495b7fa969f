// Routes as the kernel would take them (an RTM_GETROUTE per /24 or /64, cached, but
// per address in a block that holds a longer route, as this host's own addresses): the
// source address toward a target, and whether the target is on a local Ethernet
// segment (no gateway, an Ethernet interface): then ARP or neighbour discovery reach
// it, and its MAC address is its own.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <absl/container/flat_hash_map.h>

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

struct LongRoute {
    IpAddress network;
    unsigned prefix_len = 0;
    bool contains(const IpAddress& a) const;
};
using FineRoutes = absl::flat_hash_map<IpAddress, std::vector<LongRoute>, IpAddressHash>;

class Routes {
public:
    // The kernel's routes; or, for the scan simulation, what `fixed` says.
    using Resolver = std::function<std::optional<Route>(const IpAddress&)>;
    Routes() = default;
    explicit Routes(Resolver fixed) : fixed_(std::move(fixed)) {}
    // Every route through this interface (-e), as `ip route get ADDR oif IFACE` gives:
    // a target with no route through it is taken as on its link.
    static Routes through(int ifindex) {
        Routes r;
        r.oif_ = ifindex;
        return r;
    }

    // nullopt when there is no route (or it is unreachable/prohibited).
    std::optional<Route> lookup(const IpAddress& dst);

private:
    Resolver fixed_;
    int oif_ = 0;  // -e: the interface every route goes through (0: the kernel's choice)
    absl::flat_hash_map<IpAddress, std::optional<Route>, IpAddressHash> cache_;  // by /24, /64
    // Routes longer than the block they are in (this host's own addresses, a /28
    // routed elsewhere), by block: an address under one is asked (and cached) alone; the rest of
    // its block shares the block's route. Read at the first lookup.
    std::optional<FineRoutes> fine_;
    absl::flat_hash_map<IpAddress, std::optional<Route>, IpAddressHash> by_address_;  // under a long route
};

// The /24 (IPv4) or /64 (IPv6) block an address is in: what Routes caches by.
IpAddress route_block(const IpAddress& a);
// The routes longer than their block, in any routing table, by block. Exposed for tests.
FineRoutes kernel_fine_routes();

// One netlink route query, uncached, through interface `oif` if not 0. Exposed for tests.
std::optional<Route> kernel_route(const IpAddress& dst, int oif = 0);
// The index of the interface named `name` (-e); throws InputError naming it if there is none.
int interface_index(const std::string& name);

}  // namespace scanfw
