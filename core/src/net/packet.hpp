// Packets on the wire: building IPv4 TCP/UDP probes and parsing what comes back.
// Parsing is defensive: every length is checked against the captured bytes, and
// anything malformed (bad IHL or data offset, truncation, fragments) is rejected.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "common/address.hpp"
#include "scanfw/plugin_api.hpp"

namespace scanfw {

// The fields of one probe, as the transport builds it.
struct ProbeHeader {
    IpAddress src, dst;
    std::uint16_t sport = 0, dport = 0;
    std::uint32_t seq = 0, ack = 0;  // TCP
    std::uint16_t ip_id = 0;
    std::uint8_t ttl = 64;
};

inline constexpr std::size_t kMaxProbeSize = 1500;

// Writes an IPv4 or IPv6 packet (by the addresses' family) carrying TCP or UDP, with
// checksums filled in, into out and returns its length, or 0 when it does not fit.
std::size_t build_probe(Protocol proto, const ProbeHeader& h, const Probe& probe, std::span<std::uint8_t> out);

// A packet that may answer one of our probes, reduced to what matching needs.
// For an ICMP error the addresses and ports are those of the quoted probe, so
// `target`/`target_port` always name the probed end and `our_port` ours.
struct Answer {
    Protocol proto = Protocol::Tcp;
    IpAddress target;
    std::uint16_t target_port = 0;
    std::uint16_t our_port = 0;
    bool quoted = false;           // true: from an ICMP error quoting our probe
    std::uint32_t seq = 0, ack = 0;  // TCP: outer segment's, or the quoted probe's seq in `seq`
    std::uint16_t quoted_ip_id = 0;  // quoted: the probe's IP id
    Reply reply;
};

// Parses one IPv4 packet (starting at the IP header). Returns nullopt for anything
// that cannot be an answer to a TCP/UDP probe.
std::optional<Answer> parse_ipv4_answer(std::span<const std::uint8_t> packet);

// Parses one IPv6 packet (starting at the IPv6 header); hop-by-hop, routing and
// destination-options headers are skipped, fragments rejected.
std::optional<Answer> parse_ipv6_answer(std::span<const std::uint8_t> packet);

// Either of the above, by the version nibble.
std::optional<Answer> parse_ip_answer(std::span<const std::uint8_t> packet);

// Maps ICMPv4 and ICMPv6 destination-unreachable codes.
Unreach unreach_from_icmp4(std::uint8_t code);
Unreach unreach_from_icmp6(std::uint8_t code);

}  // namespace scanfw
