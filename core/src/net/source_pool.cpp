#include "net/source_pool.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "net/socket_address.hpp"
#include "targets/ranges.hpp"
#include "targets/targets.hpp"

namespace scanfw {

bool local_address(const IpAddress& a) {
    const int fd = socket(a.family == Family::V4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    socklen_t len = 0;
    const sockaddr_storage sa = socket_address(a, 0, len);
    const bool ok = bind(fd, reinterpret_cast<const sockaddr*>(&sa), len) == 0;
    close(fd);
    return ok;
}

namespace {

// The /24 or /64 around an address, as `ip route add local` takes it.
std::string network_of(IpAddress a) {
    const bool v4 = a.family == Family::V4;
    std::fill(a.bytes.begin() + (v4 ? 3 : 8), a.bytes.begin() + (v4 ? 4 : 16), 0);
    return fmt::format("{}/{}", a.str(), v4 ? 24 : 64);
}

// One entry of --source-ip: an address, an nmap-style range or prefix, or masscan's
// FIRST-LAST range of whole addresses.
std::vector<IpAddress> addresses_of(const std::string& spec) {
    std::vector<IpAddress> out;
    if (const auto dash = spec.find('-'); dash != std::string::npos) {
        const auto first = IpAddress::parse(spec.substr(0, dash));
        const auto last = IpAddress::parse(spec.substr(dash + 1));
        if (first && last) {
            if (first->family != last->family)
                throw InputError(fmt::format("--source-ip {}: a range is of one family", spec));
            auto k = AddressRanges::key_of(*first);
            const auto end = AddressRanges::key_of(*last);
            if (end < k) throw InputError(fmt::format("--source-ip {}: the range ends before it starts", spec));
            for (; k <= end; k = AddressRanges::successor(k)) {
                if (out.size() >= SourcePool::kMaxAddresses)
                    throw InputError(fmt::format("--source-ip {}: more than {} addresses", spec,
                                                 SourcePool::kMaxAddresses));
                out.push_back(AddressRanges::address_of(k));
                if (k == end) break;
            }
            return out;
        }
    }
    TargetSet set;
    set.set_resolve(false);
    try {
        set.add(spec);
    } catch (const InputError& e) {
        throw InputError(fmt::format("--source-ip {}: {}", spec, e.what()));
    }
    if (set.size() > SourcePool::kMaxAddresses)
        throw InputError(fmt::format("--source-ip {}: more than {} addresses", spec, SourcePool::kMaxAddresses));
    for (std::uint64_t i = 0; i < set.size(); ++i) out.push_back(set.at(i));
    return out;
}

}  // namespace

SourcePool SourcePool::parse(const std::vector<std::string>& specs) {
    SourcePool pool;
    for (const auto& list : specs) {
        std::size_t pos = 0;
        while (pos <= list.size()) {
            const std::size_t comma = std::min(list.find(',', pos), list.size());
            const std::string spec = list.substr(pos, comma - pos);
            pos = comma + 1;
            if (spec.empty()) continue;
            const std::vector<IpAddress> addresses = addresses_of(spec);
            for (const IpAddress& a : addresses) {
                auto& list_of = a.family == Family::V4 ? pool.v4_ : pool.v6_;
                if (pool.index_.contains(a)) continue;
                if (list_of.size() >= kMaxAddresses)
                    throw InputError(fmt::format("--source-ip: more than {} addresses of one family", kMaxAddresses));
                if (!local_address(a)) {
                    const bool v4 = a.family == Family::V4;
                    throw InputError(fmt::format(
                        "--source-ip {}: {} is not an address of this host; add it with `ip {}addr add {}/{} dev lo`, "
                        "or route a whole prefix here with `ip {}route add local {} dev lo`",
                        spec, a.str(), v4 ? "" : "-6 ", a.str(), v4 ? 32 : 128, v4 ? "" : "-6 ", network_of(a)));
                }
                pool.index_.emplace(a, static_cast<int>(list_of.size()));
                list_of.push_back(a);
            }
        }
    }
    return pool;
}

SourcePool SourcePool::of_addresses(const std::vector<IpAddress>& addresses) {
    SourcePool pool;
    for (const auto& a : addresses) {
        auto& list = a.family == Family::V4 ? pool.v4_ : pool.v6_;
        pool.index_.emplace(a, static_cast<int>(list.size()));
        list.push_back(a);
    }
    return pool;
}

int SourcePool::index_of(const IpAddress& a) const {
    const auto it = index_.find(a);
    return it == index_.end() ? -1 : it->second;
}

}  // namespace scanfw
