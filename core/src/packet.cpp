#include "scanfw/packet.hpp"

#include <cstring>

namespace scanfw {

namespace {

constexpr std::uint8_t kProtoIcmp = 1, kProtoTcp = 6, kProtoUdp = 17;
constexpr std::size_t kIpHeader = 20, kTcpHeader = 20, kUdpHeader = 8;

std::uint16_t load16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
std::uint32_t load32(const std::uint8_t* p) {
    return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | p[3];
}
void store16(std::uint8_t* p, std::uint16_t v) { p[0] = std::uint8_t(v >> 8); p[1] = std::uint8_t(v); }
void store32(std::uint8_t* p, std::uint32_t v) {
    store16(p, std::uint16_t(v >> 16));
    store16(p + 2, std::uint16_t(v));
}

std::uint32_t sum16(const std::uint8_t* p, std::size_t n, std::uint32_t acc = 0) {
    for (; n > 1; p += 2, n -= 2) acc += load16(p);
    if (n) acc += std::uint32_t(p[0]) << 8;
    return acc;
}
std::uint16_t fold(std::uint32_t acc) {
    while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
    return static_cast<std::uint16_t>(~acc);
}

// IPv4 header, no options.
void write_ipv4(std::uint8_t* p, const ProbeHeader& h, std::uint8_t proto, std::size_t total) {
    p[0] = 0x45;
    p[1] = 0;
    store16(p + 2, static_cast<std::uint16_t>(total));
    store16(p + 4, h.ip_id);
    store16(p + 6, 0);
    p[8] = h.ttl;
    p[9] = proto;
    store16(p + 10, 0);
    std::memcpy(p + 12, h.src.bytes.data(), 4);
    std::memcpy(p + 16, h.dst.bytes.data(), 4);
    store16(p + 10, fold(sum16(p, kIpHeader)));
}

// The transport checksum over the IPv4 pseudo-header and the segment at `seg`.
std::uint16_t transport_checksum(const std::uint8_t* ip, std::uint8_t proto, const std::uint8_t* seg, std::size_t len) {
    std::uint32_t acc = sum16(ip + 12, 8);  // source and destination addresses
    acc += proto;
    acc += static_cast<std::uint32_t>(len);
    return fold(sum16(seg, len, acc));
}

}  // namespace

std::size_t build_probe(Protocol proto, const ProbeHeader& h, const Probe& probe, std::span<std::uint8_t> out) {
    if (h.src.family != Family::V4 || h.dst.family != Family::V4) return 0;
    std::uint8_t* ip = out.data();
    std::uint8_t* seg = ip + kIpHeader;
    if (proto == Protocol::Tcp) {
        const std::size_t opts = probe.tcp_options.size();
        if (opts % 4 != 0 || opts > 40) return 0;
        const std::size_t seg_len = kTcpHeader + opts + probe.payload.size();
        const std::size_t total = kIpHeader + seg_len;
        if (total > out.size()) return 0;
        write_ipv4(ip, h, kProtoTcp, total);
        store16(seg, h.sport);
        store16(seg + 2, h.dport);
        store32(seg + 4, h.seq);
        store32(seg + 8, h.ack);
        seg[12] = static_cast<std::uint8_t>(((kTcpHeader + opts) / 4) << 4);
        seg[13] = probe.tcp_flags;
        store16(seg + 14, probe.tcp_window);
        store16(seg + 16, 0);
        store16(seg + 18, 0);  // urgent pointer
        if (opts) std::memcpy(seg + kTcpHeader, probe.tcp_options.data(), opts);
        if (!probe.payload.empty()) std::memcpy(seg + kTcpHeader + opts, probe.payload.data(), probe.payload.size());
        store16(seg + 16, transport_checksum(ip, kProtoTcp, seg, seg_len));
        return total;
    }
    const std::size_t seg_len = kUdpHeader + probe.payload.size();
    const std::size_t total = kIpHeader + seg_len;
    if (total > out.size()) return 0;
    write_ipv4(ip, h, kProtoUdp, total);
    store16(seg, h.sport);
    store16(seg + 2, h.dport);
    store16(seg + 4, static_cast<std::uint16_t>(seg_len));
    store16(seg + 6, 0);
    if (!probe.payload.empty()) std::memcpy(seg + kUdpHeader, probe.payload.data(), probe.payload.size());
    std::uint16_t sum = transport_checksum(ip, kProtoUdp, seg, seg_len);
    store16(seg + 6, sum == 0 ? 0xffff : sum);
    return total;
}

Unreach unreach_from_icmp4(std::uint8_t code) {
    switch (code) {
        case 0: return Unreach::Net;
        case 1: return Unreach::Host;
        case 2: return Unreach::Proto;
        case 3: return Unreach::Port;
        case 9: return Unreach::NetProhibited;
        case 10: return Unreach::HostProhibited;
        case 13: return Unreach::AdminProhibited;
        default: return Unreach::Other;
    }
}

namespace {

struct Ipv4View {
    std::uint8_t proto = 0, ttl = 0;
    std::uint16_t id = 0;
    IpAddress src, dst;
    std::span<const std::uint8_t> payload;  // what follows the header, within total length
};

// Validates an IPv4 header. `allow_truncated`: for a header quoted inside an ICMP
// error, whose datagram is cut after 8 bytes of payload.
std::optional<Ipv4View> view_ipv4(std::span<const std::uint8_t> p, bool allow_truncated) {
    if (p.size() < kIpHeader || (p[0] >> 4) != 4) return std::nullopt;
    const std::size_t ihl = std::size_t(p[0] & 0x0f) * 4;
    if (ihl < kIpHeader || ihl > p.size()) return std::nullopt;
    std::size_t total = load16(p.data() + 2);
    if (total < ihl) return std::nullopt;
    if (total > p.size()) {
        if (!allow_truncated) return std::nullopt;
        total = p.size();
    }
    const std::uint16_t frag = load16(p.data() + 6);
    if ((frag & 0x1fff) != 0 || (frag & 0x2000) != 0) return std::nullopt;  // a fragment
    Ipv4View v;
    v.id = load16(p.data() + 4);
    v.ttl = p[8];
    v.proto = p[9];
    v.src.family = v.dst.family = Family::V4;
    std::memcpy(v.src.bytes.data(), p.data() + 12, 4);
    std::memcpy(v.dst.bytes.data(), p.data() + 16, 4);
    v.payload = p.subspan(ihl, total - ihl);
    return v;
}

std::optional<Answer> parse_icmp(const Ipv4View& outer) {
    const auto icmp = outer.payload;
    if (icmp.size() < 8 || icmp[0] != 3) return std::nullopt;  // destination unreachable only
    const auto quoted = view_ipv4(icmp.subspan(8), true);
    if (!quoted || quoted->payload.size() < 8) return std::nullopt;
    Answer a;
    a.quoted = true;
    a.target = quoted->dst;
    a.quoted_ip_id = quoted->id;
    const std::uint8_t* q = quoted->payload.data();
    a.our_port = load16(q);
    a.target_port = load16(q + 2);
    if (quoted->proto == kProtoTcp) {
        a.proto = Protocol::Tcp;
        a.seq = load32(q + 4);
    } else if (quoted->proto == kProtoUdp) {
        a.proto = Protocol::Udp;
    } else {
        return std::nullopt;
    }
    a.reply.kind = Reply::Kind::IcmpUnreach;
    a.reply.icmp_type = icmp[0];
    a.reply.icmp_code = icmp[1];
    a.reply.unreach = unreach_from_icmp4(icmp[1]);
    a.reply.ttl = outer.ttl;
    return a;
}

}  // namespace

std::optional<Answer> parse_ipv4_answer(std::span<const std::uint8_t> packet) {
    const auto ip = view_ipv4(packet, false);
    if (!ip) return std::nullopt;
    const auto seg = ip->payload;
    Answer a;
    a.target = ip->src;
    a.reply.ttl = ip->ttl;
    switch (ip->proto) {
        case kProtoTcp: {
            if (seg.size() < kTcpHeader) return std::nullopt;
            const std::size_t off = std::size_t(seg[12] >> 4) * 4;
            if (off < kTcpHeader || off > seg.size()) return std::nullopt;
            a.proto = Protocol::Tcp;
            a.target_port = load16(seg.data());
            a.our_port = load16(seg.data() + 2);
            a.seq = load32(seg.data() + 4);
            a.ack = load32(seg.data() + 8);
            a.reply.kind = Reply::Kind::Tcp;
            a.reply.tcp_flags = seg[13];
            a.reply.tcp_window = load16(seg.data() + 14);
            return a;
        }
        case kProtoUdp: {
            if (seg.size() < kUdpHeader) return std::nullopt;
            const std::size_t len = load16(seg.data() + 4);
            if (len < kUdpHeader || len > seg.size()) return std::nullopt;
            a.proto = Protocol::Udp;
            a.target_port = load16(seg.data());
            a.our_port = load16(seg.data() + 2);
            a.reply.kind = Reply::Kind::Udp;
            return a;
        }
        case kProtoIcmp: return parse_icmp(*ip);
        default: return std::nullopt;
    }
}

}  // namespace scanfw
