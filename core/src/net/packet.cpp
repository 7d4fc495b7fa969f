#include "net/packet.hpp"

#include <array>
#include <cstring>

#include "scanfw/wire.hpp"

namespace scanfw {

using wire::get16;
using wire::get32;
using wire::put16;
using wire::put32;
namespace ip = wire::ip_proto;
namespace icmp = wire::icmp_type;

namespace {
constexpr std::size_t kIpHeader = 20, kIp6Header = 40;

std::uint32_t sum16(const std::uint8_t* p, std::size_t n, std::uint32_t acc = 0) {
    for (; n > 1; p += 2, n -= 2) acc += get16(p);
    if (n) acc += std::uint32_t(p[0]) << 8;
    return acc;
}
std::uint16_t fold(std::uint32_t acc) {
    while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
    return static_cast<std::uint16_t>(~acc);
}

// The pseudo-header's share of a TCP/UDP/ICMPv6 checksum (RFC 9293 3.1, RFC 8200 8.1).
std::uint32_t pseudo_header(const IpAddress& src, const IpAddress& dst, std::uint8_t protocol, std::size_t len) {
    const std::size_t n = src.family == Family::V4 ? 4 : 16;
    std::uint32_t acc = sum16(src.bytes.data(), n);
    acc = sum16(dst.bytes.data(), n, acc);
    return acc + protocol + static_cast<std::uint32_t>(len);
}

void fill_checksum(const IpHeader& h, std::uint8_t* seg, std::size_t len) {
    auto at = [&](std::size_t off, std::uint16_t v) {
        if (off + 2 <= len) put16(seg + off, v);
    };
    switch (h.protocol) {
        case ip::TCP:
            if (len < 20) return;
            at(16, 0);
            at(16, fold(sum16(seg, len, pseudo_header(h.src, h.dst, h.protocol, len))));
            break;
        case ip::UDP: {
            if (len < 8) return;
            at(6, 0);
            std::uint16_t sum = fold(sum16(seg, len, pseudo_header(h.src, h.dst, h.protocol, len)));
            at(6, sum == 0 ? 0xffff : sum);  // 0 means "no checksum" in UDP
            break;
        }
        case ip::ICMPV6:
            if (len < 4) return;
            at(2, 0);
            at(2, fold(sum16(seg, len, pseudo_header(h.src, h.dst, h.protocol, len))));
            break;
        case ip::ICMP:
        case ip::IGMP:
            if (len < 4 || h.dst.family != Family::V4) return;
            at(2, 0);
            at(2, fold(sum16(seg, len)));
            break;
        case ip::SCTP: {
            if (len < 12) return;
            put32(seg + 8, 0);
            const std::uint32_t crc = crc32c({seg, len});
            // The CRC goes on the wire in little-endian byte order (RFC 9260 Appendix A).
            seg[8] = static_cast<std::uint8_t>(crc);
            seg[9] = static_cast<std::uint8_t>(crc >> 8);
            seg[10] = static_cast<std::uint8_t>(crc >> 16);
            seg[11] = static_cast<std::uint8_t>(crc >> 24);
            break;
        }
        default: break;
    }
}

}  // namespace

std::uint16_t internet_checksum(std::span<const std::uint8_t> bytes, std::uint32_t initial) {
    return fold(sum16(bytes.data(), bytes.size(), initial));
}

std::uint32_t crc32c(std::span<const std::uint8_t> bytes) {
    static const auto table = [] {
        std::array<std::uint32_t, 256> t{};
        for (std::uint32_t i = 0; i < 256; ++i) {
            std::uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
            t[i] = c;
        }
        return t;
    }();
    std::uint32_t crc = 0xffffffffu;
    for (std::uint8_t b : bytes) crc = table[(crc ^ b) & 0xff] ^ (crc >> 8);
    return ~crc;
}

std::size_t ip_header_size(Family f) { return f == Family::V4 ? kIpHeader : kIp6Header; }

std::size_t finish_ip_packet(const IpHeader& h, std::span<std::uint8_t> packet, std::size_t payload_len) {
    if (h.src.family != h.dst.family) return 0;
    const std::size_t header = ip_header_size(h.dst.family), total = header + payload_len;
    if (total > packet.size() || total > 0xffff) return 0;
    std::uint8_t* p = packet.data();
    fill_checksum(h, p + header, payload_len);
    if (h.dst.family == Family::V4) {
        p[0] = 0x45;
        p[1] = 0;
        put16(p + 2, static_cast<std::uint16_t>(total));
        put16(p + 4, h.id);
        put16(p + 6, 0);
        p[8] = h.ttl;
        p[9] = h.protocol;
        put16(p + 10, 0);
        std::memcpy(p + 12, h.src.bytes.data(), 4);
        std::memcpy(p + 16, h.dst.bytes.data(), 4);
        put16(p + 10, fold(sum16(p, kIpHeader)));
    } else {
        put32(p, 0x60000000u | h.id);  // version 6; the flow label carries the probe's id
        put16(p + 4, static_cast<std::uint16_t>(payload_len));
        p[6] = h.protocol;
        p[7] = h.ttl;
        std::memcpy(p + 8, h.src.bytes.data(), 16);
        std::memcpy(p + 24, h.dst.bytes.data(), 16);
    }
    return total;
}

IpAddress solicited_node(const IpAddress& target) {
    IpAddress a;
    a.family = Family::V6;
    a.bytes = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, target.bytes[13], target.bytes[14], target.bytes[15]};
    return a;
}

MacAddress ipv6_multicast_mac(const IpAddress& group) {
    return {0x33, 0x33, group.bytes[12], group.bytes[13], group.bytes[14], group.bytes[15]};
}

std::size_t finish_nd_packet(const IpAddress& src, const IpAddress& target, std::span<std::uint8_t> packet,
                             std::size_t icmp_len) {
    IpHeader h{src, solicited_node(target), ip::ICMPV6, 0, 255};
    return finish_ip_packet(h, packet, icmp_len);
}

Unreach unreach_from_icmp4(std::uint8_t type, std::uint8_t code) {
    if (type != icmp::Unreach) return Unreach::Other;  // time exceeded
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

Unreach unreach_from_icmp6(std::uint8_t type, std::uint8_t code) {
    if (type == icmp::V6ParamProblem) return code == 1 ? Unreach::Proto : Unreach::Other;  // unrecognised next header
    if (type != icmp::V6Unreach) return Unreach::Other;  // time exceeded
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
    std::uint8_t protocol = 0, ttl = 0;
    std::uint16_t id = 0;
    IpAddress src, dst;
    std::size_t payload_off = 0, end = 0;  // within the bytes given
};

// `quoted`: a header inside an ICMP error, whose datagram is cut short.
std::optional<IpView> view_ipv4(std::span<const std::uint8_t> p, bool quoted) {
    if (p.size() < kIpHeader || (p[0] >> 4) != 4) return std::nullopt;
    const std::size_t ihl = std::size_t(p[0] & 0x0f) * 4;
    if (ihl < kIpHeader || ihl > p.size()) return std::nullopt;
    std::size_t total = get16(p.data() + 2);
    if (total < ihl) return std::nullopt;
    if (total > p.size()) {
        if (!quoted) return std::nullopt;
        total = p.size();
    }
    const std::uint16_t frag = get16(p.data() + 6);
    if ((frag & 0x1fff) != 0 || (frag & 0x2000) != 0) return std::nullopt;  // a fragment
    IpView v;
    v.id = get16(p.data() + 4);
    v.ttl = p[8];
    v.protocol = p[9];
    std::memcpy(v.src.bytes.data(), p.data() + 12, 4);
    std::memcpy(v.dst.bytes.data(), p.data() + 16, 4);
    v.payload_off = ihl;
    v.end = total;
    return v;
}

std::optional<IpView> view_ipv6(std::span<const std::uint8_t> p, bool quoted) {
    if (p.size() < kIp6Header || (p[0] >> 4) != 6) return std::nullopt;
    std::size_t end = kIp6Header + get16(p.data() + 4);
    if (end > p.size()) {
        if (!quoted) return std::nullopt;
        end = p.size();
    }
    IpView v;
    v.family = Family::V6;
    v.id = get16(p.data() + 2);
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
    if (off > end || next == 44) return std::nullopt;
    v.protocol = next;
    v.payload_off = off;
    v.end = end;
    return v;
}

std::optional<IpView> view_ip(std::span<const std::uint8_t> p, bool quoted) {
    if (p.empty()) return std::nullopt;
    switch (p[0] >> 4) {
        case 4: return view_ipv4(p, quoted);
        case 6: return view_ipv6(p, quoted);
        default: return std::nullopt;
    }
}

bool icmp_query_reply(Family f, std::uint8_t type) {
    if (f == Family::V4)
        return type == icmp::EchoReply || type == icmp::TimestampReply || type == icmp::AddressMaskReply;
    return type == icmp::V6EchoReply;
}

bool icmp_error(Family f, std::uint8_t type) {
    if (f == Family::V4) return type == icmp::Unreach || type == 11;  // time exceeded
    return type == icmp::V6Unreach || type == 3 || type == icmp::V6ParamProblem;
}

// The probe an ICMP error quotes, starting `at` bytes into the packet.
bool parse_quoted(std::span<const std::uint8_t> bytes, std::size_t at, Family family, Received& r) {
    const auto q = view_ip(bytes.subspan(at), true);
    if (!q || q->family != family) return false;
    r.quoted_off = static_cast<std::uint16_t>(at);
    r.quoted.src = q->src;
    r.quoted.dst = q->dst;
    r.quoted.protocol = q->protocol;
    r.quoted.id = q->id;
    const auto t = bytes.subspan(at + q->payload_off, q->end - q->payload_off);
    switch (q->protocol) {
        case ip::TCP:
        case ip::UDP:
        case ip::SCTP:
            if (t.size() < 8) return true;  // nothing of the ports: matched by the IP id only
            r.quoted.has_ports = true;
            r.quoted.sport = get16(t.data());
            r.quoted.dport = get16(t.data() + 2);
            r.quoted.seq = get32(t.data() + 4);
            return true;
        case ip::ICMP:
        case ip::ICMPV6:
            if (t.size() < 8) return true;
            r.quoted.has_icmp = true;
            r.quoted.icmp_type = t[0];
            r.quoted.icmp_id = get16(t.data() + 4);
            r.quoted.icmp_seq = get16(t.data() + 6);
            return true;
        default: return true;
    }
}

std::optional<Received> parse_ip(std::span<const std::uint8_t> bytes) {
    const auto v = view_ip(bytes, false);
    if (!v) return std::nullopt;
    Received r;
    r.family = v->family;
    r.src = v->src;
    r.dst = v->dst;
    r.protocol = v->protocol;
    r.ttl = v->ttl;
    r.transport_off = static_cast<std::uint16_t>(v->payload_off);
    r.end = static_cast<std::uint16_t>(v->end);
    const auto t = bytes.subspan(v->payload_off, v->end - v->payload_off);
    switch (v->protocol) {
        case ip::TCP: {
            const auto tcp = wire::Tcp::read(t);
            if (!tcp) return std::nullopt;
            r.what = Received::What::Tcp;
            r.sport = tcp->sport;
            r.dport = tcp->dport;
            r.seq = tcp->seq;
            r.ack = tcp->ack;
            r.tcp_flags = tcp->flags;
            r.tcp_window = tcp->window;
            r.payload_off = static_cast<std::uint16_t>(v->payload_off + (t.size() - tcp->payload.size()));
            r.payload_len = static_cast<std::uint16_t>(tcp->payload.size());
            return r;
        }
        case ip::UDP: {
            const auto udp = wire::Udp::read(t);
            if (!udp) return std::nullopt;
            r.what = Received::What::Udp;
            r.sport = udp->sport;
            r.dport = udp->dport;
            r.payload_off = static_cast<std::uint16_t>(v->payload_off + 8);
            r.payload_len = static_cast<std::uint16_t>(udp->payload.size());
            return r;
        }
        case ip::ICMP:
        case ip::ICMPV6: {
            if ((v->protocol == ip::ICMP) != (v->family == Family::V4) || t.size() < 8) return std::nullopt;
            r.icmp_type = t[0];
            r.icmp_code = t[1];
            r.icmp_id = get16(t.data() + 4);
            r.icmp_seq = get16(t.data() + 6);
            r.payload_off = static_cast<std::uint16_t>(v->payload_off + 8);
            if (icmp_query_reply(v->family, r.icmp_type)) {
                r.what = Received::What::IcmpReply;
                return r;
            }
            if (icmp_error(v->family, r.icmp_type)) {
                r.what = Received::What::IcmpError;
                r.unreach = v->family == Family::V4 ? unreach_from_icmp4(r.icmp_type, r.icmp_code)
                                                    : unreach_from_icmp6(r.icmp_type, r.icmp_code);
                if (!parse_quoted(bytes.first(v->end), v->payload_off + 8, v->family, r)) return std::nullopt;
                return r;
            }
            if (v->family == Family::V6 && r.icmp_type == icmp::NeighborAdvert) {
                // RFC 4861 4.4: 4 bytes of flags, the target address, then options.
                if (t.size() < 24) return std::nullopt;
                r.what = Received::What::Advert;
                r.about.family = Family::V6;
                std::memcpy(r.about.bytes.data(), t.data() + 8, 16);
                for (std::size_t off = 24; off + 8 <= t.size();) {
                    const std::size_t len = std::size_t(t[off + 1]) * 8;
                    if (len == 0 || off + len > t.size()) break;
                    if (t[off] == 2 && len >= 8) {  // target link-layer address
                        MacAddress m;
                        std::memcpy(m.data(), t.data() + off + 2, 6);
                        r.link_addr = m;
                    }
                    off += len;
                }
                return r;
            }
            return std::nullopt;
        }
        default:
            r.what = Received::What::OtherIp;
            r.payload_off = r.transport_off;
            return r;
    }
}

}  // namespace

std::optional<Received> parse_packet(std::span<const std::uint8_t> bytes, std::uint16_t ethertype) {
    switch (ethertype) {
        case 0x0800:
        case 0x86dd: {
            // The version nibble must agree with the link layer's word for it.
            auto r = parse_ip(bytes);
            if (r && (r->family == Family::V4) != (ethertype == 0x0800)) return std::nullopt;
            return r;
        }
        case 0x0806: {
            const auto arp = wire::Arp::read(bytes);
            if (!arp || arp->op != wire::Arp::Reply) return std::nullopt;
            Received r;
            r.what = Received::What::Arp;
            r.src = r.about = IpAddress::v4(get32(arp->sender_ip));
            r.dst = IpAddress::v4(get32(arp->target_ip));
            MacAddress m;
            std::memcpy(m.data(), arp->sender_mac, 6);
            r.link_addr = m;
            r.end = 28;
            return r;
        }
        default: return std::nullopt;
    }
}

}  // namespace scanfw
