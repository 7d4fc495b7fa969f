// --source-ip: the addresses of this host that probes go out from. Linux limits ICMP
// errors per peer address, so each source of a pool gets its own allowance.
#pragma once

#include <string>
#include <vector>

#include <absl/container/flat_hash_map.h>

#include "common/address.hpp"

namespace scanfw {

class SourcePool {
public:
    static constexpr std::size_t kMaxAddresses = 65536;  // per family

    // Addresses, ranges and prefixes in target syntax, comma-separated. Every address
    // must belong to this host (assigned, or routed to it with `ip route add local`):
    // throws InputError naming the first that does not and how to add it.
    static SourcePool parse(const std::vector<std::string>& specs);

    // These addresses, unchecked: for tests.
    static SourcePool of_addresses(const std::vector<IpAddress>& addresses);

    bool empty() const { return v4_.empty() && v6_.empty(); }
    const std::vector<IpAddress>& of(Family f) const { return f == Family::V4 ? v4_ : v6_; }
    // An address's place in of(its family), or -1.
    int index_of(const IpAddress& a) const;

private:
    std::vector<IpAddress> v4_, v6_;
    absl::flat_hash_map<IpAddress, int, IpAddressHash> index_;
};

// Whether this host may send from `a` (a bind() to it succeeds).
bool local_address(const IpAddress& a);

}  // namespace scanfw
