#include "net/packet.hpp"

#include <cstring>

namespace scanfw {

namespace {

constexpr std::uint8_t kProtoIcmp = 1, kProtoTcp = 6, kProtoUdp = 17, kProtoIcmp6 = 58;
constexpr std::size_t kIpHeader = 20, kIp6Header = 40, kTcpHeader = 20, kUdpHeader = 8;

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

// IPv6 header, no extension headers.
void write_ipv6(std::uint8_t* p, const ProbeHeader& h, std::uint8_t proto, std::size_t payload_len) {
    store32(p, 0x60000000u | h.ip_id);  // version 6; the flow label carries the probe's id
    store16(p + 4, static_cast<std::uint16_t>(payload_len));
    p[6] = proto;
    p[7] = h.ttl;
    std::memcpy(p + 8, h.src.bytes.data(), 16);
    std::memcpy(p + 24, h.dst.bytes.data(), 16);
}

// The transport checksum over the pseudo-header (RFC 793 / RFC 8200 8.1) and the
// segment at `seg`.
std::uint16_t transport_checksum(const ProbeHeader& h, std::uint8_t proto, const std::uint8_t* seg, std::size_t len) {
    const std::size_t addr_len = h.src.family == Family::V4 ? 4 : 16;
    std::uint32_t acc = sum16(h.src.bytes.data(), addr_len);
    acc = sum16(h.dst.bytes.data(), addr_len, acc);
    acc += proto;
    acc += static_cast<std::uint32_t>(len);
    return fold(sum16(seg, len, acc));
}

}  // namespace

std::size_t build_probe(Protocol proto, const ProbeHeader& h, const Probe& probe, std::span<std::uint8_t> out) {
    if (h.src.family != h.dst.family) return 0;
    const bool v4 = h.src.family == Family::V4;
    const std::size_t ip_len = v4 ? kIpHeader : kIp6Header;
    const std::uint8_t ip_proto = proto == Protocol::Tcp ? kProtoTcp : kProtoUdp;
    const std::size_t opts = proto == Protocol::Tcp ? probe.tcp_options.size() : 0;
    if (opts % 4 != 0 || opts > 40) return 0;
    const std::size_t header = proto == Protocol::Tcp ? kTcpHeader + opts : kUdpHeader;
    const std::size_t seg_len = header + probe.payload.size();
    const std::size_t total = ip_len + seg_len;
    if (total > out.size()) return 0;

    std::uint8_t* ip = out.data();
    std::uint8_t* seg = ip + ip_len;
    if (v4) write_ipv4(ip, h, ip_proto, total);
    else write_ipv6(ip, h, ip_proto, seg_len);
    store16(seg, h.sport);
    store16(seg + 2, h.dport);
    if (proto == Protocol::Tcp) {
        store32(seg + 4, h.seq);
        store32(seg + 8, h.ack);
        seg[12] = static_cast<std::uint8_t>((header / 4) << 4);
        seg[13] = probe.tcp_flags;
        store16(seg + 14, probe.tcp_window);
        store16(seg + 16, 0);
        store16(seg + 18, 0);  // urgent pointer
        if (opts) std::memcpy(seg + kTcpHeader, probe.tcp_options.data(), opts);
    } else {
        store16(seg + 4, static_cast<std::uint16_t>(seg_len));
        store16(seg + 6, 0);
    }
    if (!probe.payload.empty()) std::memcpy(seg + header, probe.payload.data(), probe.payload.size());
    std::uint16_t sum = transport_checksum(h, ip_proto, seg, seg_len);
    if (proto == Protocol::Udp && sum == 0) sum = 0xffff;  // 0 means "no checksum" in UDP
    store16(seg + (proto == Protocol::Tcp ? 16 : 6), sum);
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

Unreach unreach_from_icmp6(std::uint8_t code) {
    switch (code) {
        case 0: return Unreach::Net;              // no route to destination
        case 1: return Unreach::AdminProhibited;  // communication administratively prohibited
        case 3: return Unreach::Host;             // address unreachable
        case 4: return Unreach::Port;             // port unreachable
        case 5: case 6: return Unreach::AdminProhibited;  // source policy, reject route
        default: return Unreach::Other;
    }
}

namespace {

// The parts of an IP header (either family) that matching needs.
struct IpView {
    Family family = Family::V4;
    std::uint8_t proto = 0, ttl = 0;
    std::uint16_t id = 0;  // IPv4 id, or the low 16 bits of the IPv6 flow label
    IpAddress src, dst;
    std::span<const std::uint8_t> payload;  // what follows the headers, within the stated length
};

// `allow_truncated`: for a header quoted inside an ICMP error, whose datagram is cut short.
std::optional<IpView> view_ipv4(std::span<const std::uint8_t> p, bool allow_truncated) {
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
    IpView v;
    v.id = load16(p.data() + 4);
    v.ttl = p[8];
    v.proto = p[9];
    std::memcpy(v.src.bytes.data(), p.data() + 12, 4);
    std::memcpy(v.dst.bytes.data(), p.data() + 16, 4);
    v.payload = p.subspan(ihl, total - ihl);
    return v;
}

std::optional<IpView> view_ipv6(std::span<const std::uint8_t> p, bool allow_truncated) {
    if (p.size() < kIp6Header || (p[0] >> 4) != 6) return std::nullopt;
    std::size_t end = kIp6Header + load16(p.data() + 4);
    if (end > p.size()) {
        if (!allow_truncated) return std::nullopt;
        end = p.size();
    }
    IpView v;
    v.family = Family::V6;
    v.id = load16(p.data() + 2);
    v.ttl = p[7];
    v.src.family = v.dst.family = Family::V6;
    std::memcpy(v.src.bytes.data(), p.data() + 8, 16);
    std::memcpy(v.dst.bytes.data(), p.data() + 24, 16);
    std::uint8_t next = p[6];
    std::size_t off = kIp6Header;
    // Skip hop-by-hop (0), routing (43) and destination options (60); a fragment
    // header (44) or anything else unknown ends the walk.
    for (int hops = 0; next == 0 || next == 43 || next == 60; ++hops) {
        if (hops == 8 || off + 8 > end) return std::nullopt;
        const std::size_t len = (std::size_t(p[off + 1]) + 1) * 8;
        next = p[off];
        off += len;
    }
    if (off > end) return std::nullopt;
    v.proto = next;
    v.payload = p.subspan(off, end - off);
    return v;
}

std::optional<IpView> view_ip(std::span<const std::uint8_t> p, bool allow_truncated) {
    if (p.empty()) return std::nullopt;
    switch (p[0] >> 4) {
        case 4: return view_ipv4(p, allow_truncated);
        case 6: return view_ipv6(p, allow_truncated);
        default: return std::nullopt;
    }
}

// A destination unreachable (ICMP 3 or ICMPv6 1) quoting one of our probes.
std::optional<Answer> parse_icmp_error(const IpView& outer) {
    const auto icmp = outer.payload;
    const bool v4 = outer.family == Family::V4;
    if (icmp.size() < 8 || icmp[0] != (v4 ? 3 : 1)) return std::nullopt;
    const auto quoted = view_ip(icmp.subspan(8), true);
    if (!quoted || quoted->family != outer.family || quoted->payload.size() < 8) return std::nullopt;
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
    a.reply.unreach = v4 ? unreach_from_icmp4(icmp[1]) : unreach_from_icmp6(icmp[1]);
    a.reply.ttl = outer.ttl;
    return a;
}

std::optional<Answer> parse_answer(const IpView& ip) {
    const auto seg = ip.payload;
    Answer a;
    a.target = ip.src;
    a.reply.ttl = ip.ttl;
    switch (ip.proto) {
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
        case kProtoIcmp:
            if (ip.family != Family::V4) return std::nullopt;
            return parse_icmp_error(ip);
        case kProtoIcmp6:
            if (ip.family != Family::V6) return std::nullopt;
            return parse_icmp_error(ip);
        default: return std::nullopt;
    }
}

}  // namespace

std::optional<Answer> parse_ipv4_answer(std::span<const std::uint8_t> packet) {
    const auto ip = view_ipv4(packet, false);
    return ip ? parse_answer(*ip) : std::nullopt;
}

std::optional<Answer> parse_ipv6_answer(std::span<const std::uint8_t> packet) {
    const auto ip = view_ipv6(packet, false);
    return ip ? parse_answer(*ip) : std::nullopt;
}

std::optional<Answer> parse_ip_answer(std::span<const std::uint8_t> packet) {
    const auto ip = view_ip(packet, false);
    return ip ? parse_answer(*ip) : std::nullopt;
}

}  // namespace scanfw
