// scanfw/wire.hpp: the headers a technique writes and reads, as small value types that
// read like their RFCs. Network byte order on the wire, host order in the fields.
// write() returns the bytes written, 0 when `out` is too small; checksums are left
// zero (the core fills them in). read() checks every length against the bytes given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

#include "scanfw/plugin_api.hpp"

namespace scanfw::wire {

inline void put16(std::uint8_t* p, std::uint16_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}
inline void put32(std::uint8_t* p, std::uint32_t v) {
    put16(p, static_cast<std::uint16_t>(v >> 16));
    put16(p + 2, static_cast<std::uint16_t>(v));
}
inline std::uint16_t get16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
inline std::uint32_t get32(const std::uint8_t* p) { return std::uint32_t{get16(p)} << 16 | get16(p + 2); }

// IP protocol numbers.
namespace ip_proto {
inline constexpr std::uint8_t ICMP = 1, IGMP = 2, TCP = 6, UDP = 17, ICMPV6 = 58, SCTP = 132;
}

// ICMP (RFC 792) and ICMPv6 (RFC 4443, RFC 4861) message types.
namespace icmp_type {
inline constexpr std::uint8_t EchoReply = 0, Unreach = 3, Echo = 8, Timestamp = 13, TimestampReply = 14,
                              AddressMask = 17, AddressMaskReply = 18;
inline constexpr std::uint8_t V6Unreach = 1, V6ParamProblem = 4, V6Echo = 128, V6EchoReply = 129,
                              NeighborSolicit = 135, NeighborAdvert = 136;
}  // namespace icmp_type

// TCP header (RFC 9293 3.1).
struct Tcp {
    std::uint16_t sport = 0, dport = 0;
    std::uint32_t seq = 0, ack = 0;
    std::uint8_t flags = 0;
    std::uint16_t window = 1024;
    std::uint16_t urgent = 0;
    std::span<const std::uint8_t> options{};  // a multiple of 4 bytes, at most 40
    std::span<const std::uint8_t> payload{};

    // A probe of ctx.port carrying the core's tag: source port, sequence number, and
    // acknowledgement number (used when ACK is set).
    static Tcp probe(const ProbeContext& ctx, std::uint8_t flags, std::span<const std::uint8_t> options = {}) {
        Tcp t;
        t.sport = ctx.tag.sport;
        t.dport = ctx.port;
        t.seq = ctx.tag.seq;
        t.ack = (flags & tcp_flag::ACK) ? ctx.tag.ack : 0;
        t.flags = flags;
        t.options = options;
        return t;
    }

    std::size_t write(std::span<std::uint8_t> out) const {
        if (options.size() % 4 != 0 || options.size() > 40) return 0;
        const std::size_t header = 20 + options.size(), total = header + payload.size();
        if (out.size() < total) return 0;
        std::uint8_t* p = out.data();
        put16(p, sport);
        put16(p + 2, dport);
        put32(p + 4, seq);
        put32(p + 8, ack);
        p[12] = static_cast<std::uint8_t>((header / 4) << 4);
        p[13] = flags;
        put16(p + 14, window);
        put16(p + 16, 0);  // checksum: the core's
        put16(p + 18, urgent);
        if (!options.empty()) std::memcpy(p + 20, options.data(), options.size());
        if (!payload.empty()) std::memcpy(p + header, payload.data(), payload.size());
        return total;
    }

    static std::optional<Tcp> read(std::span<const std::uint8_t> in) {
        if (in.size() < 20) return std::nullopt;
        const std::size_t header = std::size_t(in[12] >> 4) * 4;
        if (header < 20 || header > in.size()) return std::nullopt;
        Tcp t;
        t.sport = get16(in.data());
        t.dport = get16(in.data() + 2);
        t.seq = get32(in.data() + 4);
        t.ack = get32(in.data() + 8);
        t.flags = in[13];
        t.window = get16(in.data() + 14);
        t.urgent = get16(in.data() + 18);
        t.options = in.subspan(20, header - 20);
        t.payload = in.subspan(header);
        return t;
    }
};

// UDP header (RFC 768).
struct Udp {
    std::uint16_t sport = 0, dport = 0;
    std::span<const std::uint8_t> payload{};

    static Udp probe(const ProbeContext& ctx, std::span<const std::uint8_t> payload = {}) {
        return Udp{ctx.tag.sport, ctx.port, payload};
    }

    std::size_t write(std::span<std::uint8_t> out) const {
        const std::size_t total = 8 + payload.size();
        if (out.size() < total || total > 0xffff) return 0;
        put16(out.data(), sport);
        put16(out.data() + 2, dport);
        put16(out.data() + 4, static_cast<std::uint16_t>(total));
        put16(out.data() + 6, 0);
        if (!payload.empty()) std::memcpy(out.data() + 8, payload.data(), payload.size());
        return total;
    }

    static std::optional<Udp> read(std::span<const std::uint8_t> in) {
        if (in.size() < 8) return std::nullopt;
        const std::size_t len = get16(in.data() + 4);
        if (len < 8 || len > in.size()) return std::nullopt;
        return Udp{get16(in.data()), get16(in.data() + 2), in.subspan(8, len - 8)};
    }
};

// An ICMP or ICMPv6 message: type, code, the 4 bytes after the checksum (identifier
// and sequence number for queries), and the body.
struct Icmp {
    std::uint8_t type = 0, code = 0;
    std::uint16_t id = 0, seq = 0;
    std::span<const std::uint8_t> body{};

    // A query of `type` carrying the core's tag as identifier and sequence number.
    static Icmp query(const ProbeContext& ctx, std::uint8_t type, std::span<const std::uint8_t> body = {}) {
        return Icmp{type, 0, ctx.tag.icmp_id, ctx.tag.icmp_seq, body};
    }

    std::size_t write(std::span<std::uint8_t> out) const {
        const std::size_t total = 8 + body.size();
        if (out.size() < total) return 0;
        out[0] = type;
        out[1] = code;
        put16(out.data() + 2, 0);  // checksum: the core's
        put16(out.data() + 4, id);
        put16(out.data() + 6, seq);
        if (!body.empty()) std::memcpy(out.data() + 8, body.data(), body.size());
        return total;
    }

    static std::optional<Icmp> read(std::span<const std::uint8_t> in) {
        if (in.size() < 8) return std::nullopt;
        return Icmp{in[0], in[1], get16(in.data() + 4), get16(in.data() + 6), in.subspan(8)};
    }
};

// ARP for IPv4 over Ethernet (RFC 826).
struct Arp {
    static constexpr std::uint16_t Request = 1, Reply = 2;
    std::uint16_t op = Request;
    std::uint8_t sender_mac[6] = {}, sender_ip[4] = {}, target_mac[6] = {}, target_ip[4] = {};

    // "Who has ctx.dst? Tell ctx.src" from our interface's MAC.
    static Arp request(const ProbeContext& ctx) {
        Arp a;
        std::memcpy(a.sender_mac, ctx.src_mac.data(), 6);
        std::memcpy(a.sender_ip, ctx.src.data(), 4);
        std::memcpy(a.target_ip, ctx.dst.data(), 4);
        return a;
    }

    std::size_t write(std::span<std::uint8_t> out) const {
        if (out.size() < 28) return 0;
        std::uint8_t* p = out.data();
        put16(p, 1);          // hardware: Ethernet
        put16(p + 2, 0x0800);  // protocol: IPv4
        p[4] = 6;
        p[5] = 4;
        put16(p + 6, op);
        std::memcpy(p + 8, sender_mac, 6);
        std::memcpy(p + 14, sender_ip, 4);
        std::memcpy(p + 18, target_mac, 6);
        std::memcpy(p + 24, target_ip, 4);
        return 28;
    }

    static std::optional<Arp> read(std::span<const std::uint8_t> in) {
        if (in.size() < 28 || get16(in.data()) != 1 || get16(in.data() + 2) != 0x0800 || in[4] != 6 || in[5] != 4)
            return std::nullopt;
        Arp a;
        a.op = get16(in.data() + 6);
        std::memcpy(a.sender_mac, in.data() + 8, 6);
        std::memcpy(a.sender_ip, in.data() + 14, 4);
        std::memcpy(a.target_mac, in.data() + 18, 6);
        std::memcpy(a.target_ip, in.data() + 24, 4);
        return a;
    }
};

}  // namespace scanfw::wire
