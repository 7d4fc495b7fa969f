#include "common/zones.hpp"

#include <net/if.h>

#include <charconv>
#include <mutex>
#include <string>

#include <absl/container/flat_hash_map.h>
#include <fmt/format.h>

#include "common/errors.hpp"

namespace scanfw::zones {

namespace {
std::mutex g_mu;
absl::flat_hash_map<IpAddress, unsigned, IpAddressHash>& table() {
    static absl::flat_hash_map<IpAddress, unsigned, IpAddressHash> t;
    return t;
}
}  // namespace

bool link_local(const IpAddress& a) {
    return a.family == Family::V6 && a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0x80;
}

void set(const IpAddress& a, std::string_view zone) {
    if (!link_local(a))
        throw InputError(fmt::format("'{}%{}': a zone (%interface) is only for IPv6 link-local addresses (fe80::/10)",
                                     a.str(), zone));
    unsigned index = 0;
    const auto [p, ec] = std::from_chars(zone.data(), zone.data() + zone.size(), index);
    if (ec != std::errc() || p != zone.data() + zone.size()) index = if_nametoindex(std::string(zone).c_str());
    else if (index != 0 && if_indextoname(index, std::string(IF_NAMESIZE, '\0').data()) == nullptr) index = 0;
    if (index == 0)
        throw InputError(fmt::format("'{}%{}': this host has no interface '{}' (see ip link)", a.str(), zone, zone));
    std::lock_guard lock(g_mu);
    const auto [it, fresh] = table().emplace(a, index);
    if (!fresh && it->second != index)
        throw InputError(fmt::format("'{}' is given with two zones (interfaces {} and {}): scan one link at a time",
                                     a.str(), it->second, index));
}

unsigned of(const IpAddress& a) {
    if (!link_local(a)) return 0;
    std::lock_guard lock(g_mu);
    const auto it = table().find(a);
    return it == table().end() ? 0 : it->second;
}

}  // namespace scanfw::zones
