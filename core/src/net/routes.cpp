#include "net/routes.hpp"

#include <net/if.h>
// after net/if.h: the linux headers would redefine what it declares
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if_arp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/errors.hpp"
#include "common/zones.hpp"

namespace scanfw {

namespace {

// An interface's hardware type and address from sysfs.
void describe_interface(Route& r) {
    char name[IF_NAMESIZE] = {};
    if (!if_indextoname(static_cast<unsigned>(r.ifindex), name)) return;
    r.ifname = name;
    std::ifstream type(fmt::format("/sys/class/net/{}/type", name));
    int t = 0;
    if (type >> t) r.ethernet = t == ARPHRD_ETHER;
    std::ifstream addr(fmt::format("/sys/class/net/{}/address", name));
    std::string text;
    if (r.ethernet && addr >> text) {
        unsigned b[6] = {};
        if (std::sscanf(text.c_str(), "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) == 6)
            for (int i = 0; i < 6; ++i) r.mac[i] = static_cast<std::uint8_t>(b[i]);
        else r.ethernet = false;
    }
}

}  // namespace

std::optional<Route> kernel_route(const IpAddress& dst, int oif) {
    const int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) return std::nullopt;
    const bool v4 = dst.family == Family::V4;
    const std::size_t alen = v4 ? 4 : 16;
    struct {
        nlmsghdr nh;
        rtmsg rt;
        char attrs[64];
    } req{};
    req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(rtmsg));
    req.nh.nlmsg_type = RTM_GETROUTE;
    req.nh.nlmsg_flags = NLM_F_REQUEST;
    req.nh.nlmsg_seq = 1;
    req.rt.rtm_family = v4 ? AF_INET : AF_INET6;
    req.rt.rtm_dst_len = static_cast<unsigned char>(alen * 8);
    auto* rta = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(&req) + NLMSG_ALIGN(req.nh.nlmsg_len));
    rta->rta_type = RTA_DST;
    rta->rta_len = static_cast<unsigned short>(RTA_LENGTH(alen));
    std::memcpy(RTA_DATA(rta), dst.bytes.data(), alen);
    req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
    // fe80::1%eth0, or -e eth0: through that interface.
    const auto zone_of_dst = static_cast<int>(zones::of(dst));
    if (const int zone = zone_of_dst != 0 ? zone_of_dst : oif; zone != 0) {
        rta = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(&req) + NLMSG_ALIGN(req.nh.nlmsg_len));
        rta->rta_type = RTA_OIF;
        rta->rta_len = static_cast<unsigned short>(RTA_LENGTH(sizeof zone));
        std::memcpy(RTA_DATA(rta), &zone, sizeof zone);
        req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
    }

    std::optional<Route> out;
    if (send(fd, &req, req.nh.nlmsg_len, 0) == static_cast<ssize_t>(req.nh.nlmsg_len)) {
        alignas(nlmsghdr) char buf[8192];
        const ssize_t n = recv(fd, buf, sizeof buf, 0);
        unsigned remaining = n > 0 ? static_cast<unsigned>(n) : 0;
        for (auto* nh = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(nh, remaining); nh = NLMSG_NEXT(nh, remaining)) {
            if (nh->nlmsg_type != RTM_NEWROUTE) break;
            const auto* rt = static_cast<const rtmsg*>(NLMSG_DATA(nh));
            if (rt->rtm_type != RTN_UNICAST && rt->rtm_type != RTN_LOCAL) break;
            Route r;
            r.source.family = dst.family;
            bool have_source = false, gateway = false;
            int len = static_cast<int>(RTM_PAYLOAD(nh));
            for (auto* a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
                switch (a->rta_type) {
                    case RTA_OIF: std::memcpy(&r.ifindex, RTA_DATA(a), sizeof(int)); break;
                    case RTA_GATEWAY: gateway = true; break;
                    case RTA_PREFSRC:
                        if (RTA_PAYLOAD(a) == alen) {
                            std::memcpy(r.source.bytes.data(), RTA_DATA(a), alen);
                            have_source = true;
                        }
                        break;
                    default: break;
                }
            }
            r.on_link = !gateway && rt->rtm_type == RTN_UNICAST;
            r.local = rt->rtm_type == RTN_LOCAL;
            if (!have_source) break;
            describe_interface(r);
            out = r;
            break;
        }
    }
    close(fd);
    return out;
}

IpAddress route_block(const IpAddress& a) {
    IpAddress block = a;
    if (block.family == Family::V4) block.bytes[3] = 0;
    else std::fill(block.bytes.begin() + 8, block.bytes.end(), 0);
    return block;
}

bool LongRoute::contains(const IpAddress& a) const {
    if (a.family != network.family) return false;
    const unsigned full = prefix_len / 8, rest = prefix_len % 8;
    if (!std::equal(network.bytes.begin(), network.bytes.begin() + full, a.bytes.begin())) return false;
    if (rest == 0) return true;
    const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
    return (network.bytes[full] & mask) == (a.bytes[full] & mask);
}

FineRoutes kernel_fine_routes() {
    FineRoutes out;
    for (const int family : {AF_INET, AF_INET6}) {
        const int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (fd < 0) continue;
        struct {
            nlmsghdr nh;
            rtmsg rt;
        } req{};
        req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(rtmsg));
        req.nh.nlmsg_type = RTM_GETROUTE;
        req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
        req.nh.nlmsg_seq = 1;
        req.rt.rtm_family = static_cast<unsigned char>(family);
        const std::size_t alen = family == AF_INET ? 4 : 16;
        const unsigned block_len = family == AF_INET ? 24 : 64;
        bool done = send(fd, &req, req.nh.nlmsg_len, 0) != static_cast<ssize_t>(req.nh.nlmsg_len);
        alignas(nlmsghdr) static thread_local char buf[32768];
        while (!done) {
            const ssize_t n = recv(fd, buf, sizeof buf, 0);
            if (n <= 0) break;
            unsigned remaining = static_cast<unsigned>(n);
            for (auto* nh = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(nh, remaining);
                 nh = NLMSG_NEXT(nh, remaining)) {
                if (nh->nlmsg_type == NLMSG_DONE || nh->nlmsg_type == NLMSG_ERROR) {
                    done = true;
                    break;
                }
                if (nh->nlmsg_type != RTM_NEWROUTE) continue;
                const auto* rt = static_cast<const rtmsg*>(NLMSG_DATA(nh));
                if (rt->rtm_dst_len <= block_len) continue;
                int len = static_cast<int>(RTM_PAYLOAD(nh));
                for (auto* a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
                    if (a->rta_type != RTA_DST || RTA_PAYLOAD(a) != alen) continue;
                    IpAddress dst;
                    dst.family = family == AF_INET ? Family::V4 : Family::V6;
                    std::memcpy(dst.bytes.data(), RTA_DATA(a), alen);
                    out[route_block(dst)].push_back(LongRoute{dst, rt->rtm_dst_len});
                }
            }
        }
        close(fd);
    }
    return out;
}

std::optional<Route> Routes::lookup(const IpAddress& dst) {
    // One lookup per /24 (IPv4) or /64 (IPv6): neighbours share their route, and a
    // scan of a million hosts should not ask the kernel for each. But a block that
    // holds a longer route (this host's own address beside its neighbours on a /24, a
    // /28 routed elsewhere) is asked address by address, and link-local addresses of
    // different links share fe80::/64: each is asked alone.
    if (fixed_) return fixed_(dst);
    if (zones::link_local(dst)) return kernel_route(dst, oif_);
    if (!fine_) fine_ = kernel_fine_routes();
    const IpAddress block = route_block(dst);
    if (const auto it = fine_->find(block); it != fine_->end())
        for (const LongRoute& r : it->second)
            if (r.contains(dst)) {
                if (auto hit = by_address_.find(dst); hit != by_address_.end()) return hit->second;
                auto route = kernel_route(dst, oif_);
                if (by_address_.size() > 65536) by_address_.clear();
                by_address_.emplace(dst, route);
                return route;
            }
    if (auto it = cache_.find(block); it != cache_.end()) return it->second;
    auto r = kernel_route(dst, oif_);
    if (cache_.size() > 65536) cache_.clear();
    cache_.emplace(block, r);
    return r;
}

int interface_index(const std::string& name) {
    const unsigned index = name.empty() || name.size() >= IF_NAMESIZE ? 0 : if_nametoindex(name.c_str());
    if (index == 0)
        throw InputError(fmt::format("-e {}: this host has no interface of that name (`ip link` lists them)", name));
    return static_cast<int>(index);
}

}  // namespace scanfw
