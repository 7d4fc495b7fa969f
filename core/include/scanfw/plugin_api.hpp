// scanfw plugin API: the whole contract between the core and a scan technique.
//
// A technique is a shared object under plugins/<name>/ that defines one class
// deriving from scanfw::Technique and names it with SCANFW_PLUGIN(Class).
// The core sends the probe a technique describes, matches replies to probes,
// retransmits, paces and reports; the technique only says what to send and
// what a reply (or silence) means. It knows nothing of threads, rates or outputs.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include <boost/config.hpp>

// Bump on any change to the types below. The loader refuses a plugin built
// against another version.
#ifndef SCANFW_PLUGIN_API_VERSION
#define SCANFW_PLUGIN_API_VERSION 1
#endif

namespace scanfw {

inline constexpr std::uint32_t kPluginApiVersion = SCANFW_PLUGIN_API_VERSION;

enum class Protocol : std::uint8_t { Tcp, Udp };

// How the core carries a probe.
enum class Transport : std::uint8_t {
    RawTcp,   // a hand-built TCP segment through a raw socket, replies from pcap
    RawUdp,   // a hand-built UDP datagram through a raw socket, replies from pcap
    Connect,  // the connect() system call; needs no privileges
};

// nmap's state names, exactly.
enum class PortState : std::uint8_t {
    Undecided,  // "this reply settles nothing": keep waiting / retransmitting
    Open,
    Closed,
    Filtered,
    Unfiltered,
    OpenFiltered,
};

// What an ICMP/ICMPv6 destination-unreachable said, family-independent.
enum class Unreach : std::uint8_t {
    None,
    Net,             // ICMP 3/0, ICMPv6 1/0
    Host,            // ICMP 3/1, ICMPv6 1/3
    Proto,           // ICMP 3/2
    Port,            // ICMP 3/3, ICMPv6 1/4
    NetProhibited,   // ICMP 3/9
    HostProhibited,  // ICMP 3/10
    AdminProhibited, // ICMP 3/13, ICMPv6 1/1
    Other,           // any other code
};

// What came back for a probe, already matched to it by the core.
struct Reply {
    enum class Kind : std::uint8_t {
        Silence,      // nothing, after the last retransmission timed out
        Tcp,          // a TCP segment from the probed port
        Udp,          // a UDP datagram from the probed port
        IcmpUnreach,  // a destination-unreachable quoting our probe
        Connect,      // the outcome of connect(): see connect_errno
    };
    Kind kind = Kind::Silence;
    std::uint8_t tcp_flags = 0;    // Kind::Tcp
    std::uint16_t tcp_window = 0;  // Kind::Tcp
    Unreach unreach = Unreach::None;  // Kind::IcmpUnreach
    std::uint8_t icmp_type = 0;       // Kind::IcmpUnreach, as on the wire
    std::uint8_t icmp_code = 0;
    int connect_errno = 0;  // Kind::Connect: 0 when the connection was established
    std::uint8_t ttl = 0;   // of the reply's IP header, when there is one
};

struct Verdict {
    PortState state = PortState::Undecided;
    const char* reason = "";  // nmap's reason names: "syn-ack", "reset", "no-response", ...
};

// What to send for one port. Spans must point at storage that outlives the plugin
// call (static data in the plugin).
struct Probe {
    std::uint8_t tcp_flags = 0;              // RawTcp
    std::uint16_t tcp_window = 1024;         // RawTcp
    std::span<const std::uint8_t> tcp_options{};  // RawTcp, a multiple of 4 bytes
    std::span<const std::uint8_t> payload{};      // RawUdp (or RawTcp data)
};

struct Description {
    std::string_view name;         // [a-z0-9_-]+, and the plugin's file name
    std::string_view description;  // one line
    std::string_view version;      // the plugin's own version
    Protocol protocol;
    Transport transport;
};

// A technique: a flat, stateless contract. All methods may be called from any thread.
class Technique {
public:
    virtual ~Technique() = default;
    virtual Description describe() const = 0;
    virtual Probe probe(std::uint16_t port) const = 0;
    virtual Verdict classify(const Reply& reply) const = 0;
};

namespace tcp_flag {
inline constexpr std::uint8_t FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10, URG = 0x20;
}

// Helpers shared by techniques: nmap's reason name for an unreachable.
constexpr const char* unreach_reason(Unreach u) {
    switch (u) {
        case Unreach::Net: return "net-unreach";
        case Unreach::Host: return "host-unreach";
        case Unreach::Proto: return "proto-unreach";
        case Unreach::Port: return "port-unreach";
        case Unreach::NetProhibited: return "net-prohibited";
        case Unreach::HostProhibited: return "host-prohibited";
        case Unreach::AdminProhibited: return "admin-prohibited";
        case Unreach::Other: return "unreach";
        case Unreach::None: break;
    }
    return "";
}

// The unreachables that mean "filtered" for a TCP probe
// (ICMP 3/1, 3/2, 3/3, 3/9, 3/10, 3/13 and their ICMPv6 equivalents).
constexpr bool tcp_filtering_unreach(Unreach u) {
    switch (u) {
        case Unreach::Host: case Unreach::Proto: case Unreach::Port:
        case Unreach::NetProhibited: case Unreach::HostProhibited: case Unreach::AdminProhibited:
            return true;
        default:
            return false;
    }
}

// What an ICMP unreachable says of a TCP probe: filtered for the codes above,
// nothing (keep waiting) for others.
constexpr Verdict tcp_unreach_verdict(const Reply& r) {
    if (tcp_filtering_unreach(r.unreach)) return {PortState::Filtered, unreach_reason(r.unreach)};
    return {};
}

}  // namespace scanfw

// Names the plugin's Technique class and bakes in the API version it was built against.
#define SCANFW_PLUGIN(TechniqueClass)                                                     \
    extern "C" BOOST_SYMBOL_EXPORT const std::uint32_t scanfw_plugin_api_version =        \
        SCANFW_PLUGIN_API_VERSION;                                                        \
    extern "C" BOOST_SYMBOL_EXPORT const scanfw::Technique* scanfw_plugin() {             \
        static const TechniqueClass instance;                                             \
        return &instance;                                                                 \
    }
