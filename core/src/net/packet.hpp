// Packets on the wire: the IP header the core puts around a technique's probe (with
// the checksums), and a defensive parser for what comes back. Every length is checked
// against the captured bytes; anything malformed (bad IHL or data offset, truncation,
// fragments) is rejected.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "common/address.hpp"
#include "common/result.hpp"
#include "scanfw/plugin_api.hpp"

namespace scanfw {

inline constexpr std::size_t kMaxProbeSize = 1500;

// The IP header of one probe.
struct IpHeader {
    IpAddress src, dst;
    std::uint8_t protocol = 0;
    std::uint16_t id = 0;  // IPv4 id, or the low 16 bits of the IPv6 flow label
    std::uint8_t ttl = 64;
};

// Bytes of IP header a probe of this family gets (no options, no extension headers).
std::size_t ip_header_size(Family f);

// `packet` holds `payload_len` bytes of payload after ip_header_size() bytes of room:
// writes the header, fills in the payload's checksum when its protocol has one the
// core knows (TCP, UDP, ICMP, ICMPv6, IGMP, SCTP) and returns the packet's length, or
// 0 when it does not fit.
std::size_t finish_ip_packet(const IpHeader& h, std::span<std::uint8_t> packet, std::size_t payload_len);

// The IPv6 neighbour-discovery packet for a solicitation: `icmp` (the ICMPv6 message a
// Link technique wrote) goes in an IPv6 header to the target's solicited-node address
// with hop limit 255. Returns the packet's length (header included) or 0.
std::size_t finish_nd_packet(const IpAddress& src, const IpAddress& target, std::span<std::uint8_t> packet,
                             std::size_t icmp_len);
IpAddress solicited_node(const IpAddress& target);  // ff02::1:ffXX:XXXX
MacAddress ipv6_multicast_mac(const IpAddress& group);  // 33:33:XX:XX:XX:XX

// The checksum of RFC 1071 over bytes (as the ICMP checksum is).
std::uint16_t internet_checksum(std::span<const std::uint8_t> bytes, std::uint32_t initial = 0);
// CRC32c (Castagnoli), as SCTP's checksum (RFC 9260 Appendix A).
std::uint32_t crc32c(std::span<const std::uint8_t> bytes);

// What arrived, reduced to what matching needs.
struct Received {
    enum class What : std::uint8_t {
        Tcp,        // a TCP segment
        Udp,        // a UDP datagram
        IcmpReply,  // an ICMP echo, timestamp or mask reply; ICMPv6 echo reply
        IcmpError,  // ICMP destination unreachable / time exceeded, ICMPv6 1, 3, 4, quoting a packet
        OtherIp,    // any other IP protocol
        Arp,        // an ARP reply
        Advert,     // an ICMPv6 neighbour advertisement
    };
    What what = What::OtherIp;
    Family family = Family::V4;
    IpAddress src, dst;          // of the packet: src is the sender
    std::uint8_t protocol = 0;   // the IP protocol (ARP: 0)
    std::uint8_t ttl = 0;
    // Tcp, Udp: ports; Tcp: numbers and flags.
    std::uint16_t sport = 0, dport = 0;
    std::uint32_t seq = 0, ack = 0;
    std::uint8_t tcp_flags = 0;
    std::uint16_t tcp_window = 0;
    std::uint16_t payload_len = 0;  // TCP/UDP data bytes (a SYN/FIN counts one more for TCP acks)
    // Icmp*: the message.
    std::uint8_t icmp_type = 0, icmp_code = 0;
    std::uint16_t icmp_id = 0, icmp_seq = 0;
    Unreach unreach = Unreach::None;
    // IcmpError: the quoted probe (its src is ours, its dst the target).
    struct Quoted {
        IpAddress src, dst;
        std::uint8_t protocol = 0;
        std::uint16_t id = 0;
        bool has_ports = false;  // TCP/UDP/SCTP: 8 bytes of ports (and TCP seq) were quoted
        std::uint16_t sport = 0, dport = 0;
        std::uint32_t seq = 0;
        bool has_icmp = false;  // ICMP query: type, id, seq were quoted
        std::uint8_t icmp_type = 0;
        std::uint16_t icmp_id = 0, icmp_seq = 0;
    } quoted;
    // Arp / Advert: who answered for which address, and its MAC when given.
    IpAddress about;
    std::optional<MacAddress> link_addr;
    // Where the parts are in the bytes parsed (offsets from their start).
    std::uint16_t transport_off = 0, payload_off = 0, quoted_off = 0, end = 0;
};

// Parses one packet that starts at its network header: ethertype 0x0800 (IPv4),
// 0x86dd (IPv6) or 0x0806 (ARP). Returns nullopt for anything malformed or of no use.
std::optional<Received> parse_packet(std::span<const std::uint8_t> bytes, std::uint16_t ethertype);

// Maps ICMPv4 and ICMPv6 error codes.
Unreach unreach_from_icmp4(std::uint8_t type, std::uint8_t code);
Unreach unreach_from_icmp6(std::uint8_t type, std::uint8_t code);

}  // namespace scanfw
