// IP protocol scan, nmap -sO: which IP protocols a host speaks. The "port" is the
// protocol number. Any packet of the probed protocol from the target means open; ICMP
// protocol unreachable (ICMPv6 parameter problem, next header) closed; other
// unreachables filtered; silence open|filtered. A UDP probe answered with port
// unreachable shows that UDP itself is spoken: open.
#include <scanfw/plugin_api.hpp>
#include <scanfw/wire.hpp>

namespace {
using namespace scanfw;
namespace ip = wire::ip_proto;

// SCTP common header and INIT chunk (RFC 9260 3, 3.3.2), as nmap sends it: to port 80,
// verification tag 0, a_rwnd 32768, 10 outbound and 2048 inbound streams. Our tag
// goes into the initiate tag and TSN. The checksum (CRC32c) is the core's.
std::size_t sctp_init(const ProbeContext& ctx, std::span<std::uint8_t> out) {
    if (out.size() < 32) return 0;
    std::uint8_t* p = out.data();
    wire::put16(p, ctx.tag.sport);
    wire::put16(p + 2, 80);
    wire::put32(p + 4, 0);  // verification tag: 0 in an INIT
    wire::put32(p + 8, 0);  // checksum
    p[12] = 1;              // INIT
    p[13] = 0;
    wire::put16(p + 14, 20);
    wire::put32(p + 16, ctx.tag.seq);  // initiate tag
    wire::put32(p + 20, 32768);        // a_rwnd
    wire::put16(p + 24, 10);           // outbound streams
    wire::put16(p + 26, 2048);         // inbound streams
    wire::put32(p + 28, ctx.tag.ack);  // initial TSN
    return 32;
}

// IGMP membership query (RFC 2236 2), as nmap sends one.
std::size_t igmp_query(std::span<std::uint8_t> out) {
    if (out.size() < 8) return 0;
    std::fill(out.begin(), out.begin() + 8, 0);
    out[0] = 0x11;
    return 8;
}

class Ipproto final : public Technique {
public:
    Description describe() const override {
        return {.name = "ipproto",
                .description = "IP protocol scan: which IP protocols the host speaks, like nmap -sO",
                .version = "2.0",
                .protocol = Protocol::Ip};
    }
    // A valid header for the protocols nmap builds one for; nothing for the others.
    std::size_t probe(const ProbeContext& ctx, std::span<std::uint8_t> out) const override {
        switch (ctx.port) {
            case ip::ICMP:
                return ctx.ipv6 ? 0 : wire::Icmp::query(ctx, wire::icmp_type::Echo).write(out);
            case ip::ICMPV6:
                return ctx.ipv6 ? wire::Icmp::query(ctx, wire::icmp_type::V6Echo).write(out) : 0;
            case ip::IGMP: return igmp_query(out);
            case ip::TCP: {
                wire::Tcp tcp = wire::Tcp::probe(ctx, tcp_flag::ACK);
                tcp.dport = 80;
                return tcp.write(out);
            }
            case ip::UDP: {
                wire::Udp udp = wire::Udp::probe(ctx);
                udp.dport = 40125;
                return udp.write(out);
            }
            case ip::SCTP: return sctp_init(ctx, out);
            default: return 0;  // an empty IP payload
        }
    }
    Verdict classify(const Reply& r) const override {
        using K = Reply::Kind;
        switch (r.kind) {
            case K::Ip: {
                // IPv4's ICMP is open on any ICMP message, with that message's reason, as
                // in nmap; any other protocol's answer is a "proto-response".
                const bool ipv4 = !r.packet.empty() && (r.packet[0] >> 4) == 4;
                if (ipv4 && r.ip_protocol == ip::ICMP) {
                    if (r.unreach != Unreach::None) return {State::Open, unreach_reason(r.unreach)};
                    if (r.icmp_type == wire::icmp_type::EchoReply) return {State::Open, "echo-reply"};
                }
                return {State::Open, "proto-response"};
            }
            case K::IcmpError:
                switch (r.unreach) {
                    case Unreach::Proto:
                        return {State::Closed, r.icmp_type == wire::icmp_type::V6ParamProblem && !r.packet.empty() &&
                                                       (r.packet[0] >> 4) == 6
                                                   ? "param-problem"
                                                   : "proto-unreach"};
                    case Unreach::Port: return {State::Open, "port-unreach"};
                    case Unreach::None: return {};
                    default: return {State::Filtered, unreach_reason(r.unreach)};
                }
            case K::Silence: return {State::OpenFiltered, "no-response"};
            default: return {};
        }
    }
};
}  // namespace

SCANFW_PLUGIN(Ipproto)
