#include "engine/packet_io.hpp"

#include <net/ethernet.h>

#include <set>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "net/packet.hpp"
#include "net/tag.hpp"
#include "scanfw/wire.hpp"

namespace scanfw {

namespace ip = wire::ip_proto;

std::unique_ptr<RawIo> open_raw_io(std::uint64_t probes) { return std::make_unique<RawIo>(probes); }

std::string PacketIo::filter_for(std::span<const Job> jobs) {
    std::set<Protocol> protocols;
    for (const auto& j : jobs)
        if (!j.connect) protocols.insert(j.info().protocol);
    std::vector<std::string> parts;
    if (protocols.count(Protocol::Tcp) || protocols.count(Protocol::Udp) || protocols.count(Protocol::Ip))
        parts.push_back(fmt::format("((tcp or udp) and dst portrange {}-{})", kSourcePortBase,
                                    kSourcePortBase + kSourcePortCount - 1));
    // ICMP errors (destination unreachable, time exceeded) may answer any probe; all of
    // ICMPv6 is let in (errors, echo replies, neighbour advertisements: little else).
    parts.emplace_back("(icmp and (icmp[icmptype] == icmp-unreach or icmp[icmptype] == icmp-timxceed))");
    parts.emplace_back("icmp6");
    if (protocols.count(Protocol::Icmp))
        parts.emplace_back("(icmp and (icmp[icmptype] == icmp-echoreply or icmp[icmptype] == icmp-tstampreply or "
                           "icmp[icmptype] == icmp-maskreply))");
    if (protocols.count(Protocol::Ip)) parts.emplace_back("ip or ip6");
    if (protocols.count(Protocol::Link)) parts.emplace_back("arp");
    std::string filter = "inbound and (";
    for (std::size_t i = 0; i < parts.size(); ++i) filter += (i ? " or " : "") + parts[i];
    return filter + ")";
}

void PacketIo::begin(std::span<const Job> jobs) {
    end();
    // A key of our own for each run: answers to another run's (or another process's)
    // probes do not match ours.
    tagger_.emplace(fixed_key_ ? *fixed_key_ : random_key());
    std::vector<MatchJob> match;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        if (jobs[i].connect) continue;
        MatchJob m{static_cast<std::uint16_t>(i), jobs[i].info().protocol, {}};
        if (m.protocol == Protocol::Icmp) m.icmp_ports = jobs[i].ports;
        match.push_back(std::move(m));
    }
    matcher_.emplace(*tagger_, std::move(match));
    capture_.start(filter_for(jobs), *matcher_);
    running_ = true;
}

void PacketIo::end() {
    if (!running_) return;
    capture_.stop();
    running_ = false;
}

void PacketIo::check_tag(const Job& job, std::span<const std::uint8_t> probe, const ProbeTag& tag,
                         std::uint16_t port) const {
    const char* missing = nullptr;
    switch (job.info().protocol) {
        case Protocol::Tcp: {
            const auto tcp = wire::Tcp::read(probe);
            if (!tcp) missing = "a TCP header";
            else if (tcp->sport != tag.fields.sport || tcp->seq != tag.fields.seq ||
                     ((tcp->flags & tcp_flag::ACK) && tcp->ack != tag.fields.ack))
                missing = "the tag in its TCP source port and sequence (and acknowledgement) numbers";
            break;
        }
        case Protocol::Udp: {
            const auto udp = wire::Udp::read(probe);
            if (!udp) missing = "a UDP header";
            else if (udp->sport != tag.fields.sport) missing = "the tag in its UDP source port";
            break;
        }
        case Protocol::Icmp: {
            const auto icmp = wire::Icmp::read(probe);
            if (!icmp) missing = "an ICMP header";
            else if (icmp->id != tag.fields.icmp_id || icmp->seq != tag.fields.icmp_seq)
                missing = "the tag in its ICMP identifier and sequence number";
            break;
        }
        case Protocol::Link:
            if (probe.empty()) missing = "an ARP packet or neighbour solicitation";
            break;
        case Protocol::Ip: break;
    }
    if (missing)
        throw PluginFailure(fmt::format("plugin '{}': its probe for port {} lacks {} (see scanfw/wire.hpp)", job.name(),
                                        port, missing));
}

bool PacketIo::send(const Job& job, const Item& item, const IpAddress& source, SendMark& mark) {
    const Description& info = job.info();
    const bool v6 = item.host.family == Family::V6;
    const ProbeTag tag = tagger_->tag(item.job, source, item.host, item.port);
    ProbeContext ctx;
    ctx.port = item.port;
    ctx.ipv6 = v6;
    ctx.src = {source.bytes.data(), v6 ? 16u : 4u};
    ctx.dst = {item.host.bytes.data(), v6 ? 16u : 4u};
    ctx.tag = tag.fields;
    std::optional<Route> route;
    if (info.protocol == Protocol::Link) {
        route = routes_.lookup(item.host);
        if (!route || !route->local_segment())
            throw InputError(fmt::format("{}: {} is not on a local Ethernet segment, so {} cannot reach it", job.name(),
                                         item.host.str(), v6 ? "neighbour discovery" : "ARP"));
        ctx.src_mac = route->mac;
    }

    const std::span<std::uint8_t> slot = sender_.slot();
    // ARP goes on the wire as it is; everything else gets an IP header in front.
    const std::size_t header = info.protocol == Protocol::Link && !v6 ? 0 : ip_header_size(item.host.family);
    const std::size_t len = job.technique->probe(ctx, slot.subspan(header));
    if (len > slot.size() - header)
        throw PluginFailure(fmt::format("plugin '{}': probe() returned {} bytes, more than it was given", job.name(), len));
    check_tag(job, slot.subspan(header, len), tag, item.port);

    PacketSender::Mark m;
    if (info.protocol == Protocol::Link) {
        if (!v6) {
            m = sender_.commit_link(len, route->ifindex, ETHERTYPE_ARP, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
        } else {
            const std::size_t total = finish_nd_packet(source, item.host, slot, len);
            if (total == 0) throw PluginFailure(fmt::format("plugin '{}': probe does not fit a packet", job.name()));
            m = sender_.commit_link(total, route->ifindex, ETHERTYPE_IPV6, ipv6_multicast_mac(solicited_node(item.host)));
        }
    } else {
        std::uint8_t protocol = 0;
        switch (info.protocol) {
            case Protocol::Tcp: protocol = ip::TCP; break;
            case Protocol::Udp: protocol = ip::UDP; break;
            case Protocol::Icmp: protocol = v6 ? ip::ICMPV6 : ip::ICMP; break;
            case Protocol::Ip: protocol = static_cast<std::uint8_t>(item.port); break;
            case Protocol::Link: break;
        }
        const std::size_t total = finish_ip_packet(IpHeader{source, item.host, protocol, tag.ip_id, 64}, slot, len);
        if (total == 0)
            throw PluginFailure(fmt::format("plugin '{}': probe for port {} does not fit a packet", job.name(), item.port));
        m = sender_.commit(total, item.host);
    }
    mark = {m.batch, m.index};
    if (sender_.full()) sender_.flush();
    return true;
}

}  // namespace scanfw
