// scanfw plugin API, version 2: the whole contract between the core and a technique.
//
// A technique is a shared object in plugins/<name>/ with one class deriving from
// scanfw::Technique, named with SCANFW_PLUGIN(Class). The core does everything around
// a probe: targets and their order, pacing, retransmission, the keyed tag that proves
// a reply answers this scan, capture, matching and every output. The technique says
// what to send and what a reply, or silence, means. It keeps no state and knows
// nothing of threads, rates, retries or output formats.
//
// Two kinds of technique:
//  - a port technique probes a port of a host (syn, udp, ...): open, closed, ...;
//  - a host technique probes a host (icmp-echo, arp, ...): up or down. Each host gets
//    one probe per entry of probe_ports() (tcp-syn-ping: its `ports` option).
//
// scanfw/wire.hpp has small value types for the headers a technique writes and reads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

// Bump on any change to the types below. The loader refuses a plugin built against
// another version, naming both.
#ifndef SCANFW_PLUGIN_API_VERSION
#define SCANFW_PLUGIN_API_VERSION 2
#endif

namespace scanfw {

inline constexpr std::uint32_t kPluginApiVersion = SCANFW_PLUGIN_API_VERSION;

// ---- What a technique is -----------------------------------------------------------

enum class Kind : std::uint8_t {
    Port,  // probes (host, port); results are port states
    Host,  // probes a host; results are Up or Down
};

// What the probes are made of, and so which answers the core captures for them.
enum class Protocol : std::uint8_t {
    Tcp,   // TCP segments; ports are TCP ports
    Udp,   // UDP datagrams; ports are UDP ports
    Icmp,  // ICMP queries (echo, timestamp, address mask) to IPv4 targets, ICMPv6 to IPv6
    Ip,    // any IP protocol: the "port" is the protocol number, 0-255 (nmap -sO)
    Link,  // the local Ethernet segment: ARP to IPv4 targets, neighbour discovery to IPv6
};

// How the core carries a probe.
enum class Carrier : std::uint8_t {
    Packet,   // the bytes probe() writes; needs CAP_NET_RAW
    Connect,  // the operating system's connect() to (host, port), TCP only; needs nothing
};

// nmap's state names, exactly.
enum class State : std::uint8_t {
    Undecided,  // this reply settles nothing: keep waiting, or retransmitting
    Open,
    Closed,
    Filtered,
    Unfiltered,
    OpenFiltered,
    Up,    // host techniques
    Down,  // host techniques
};

// ---- Options ------------------------------------------------------------------------
// A technique declares its options as a static member and takes their values in its
// constructor:
//     static constexpr OptionSpec kOptions[] = {{"flags", OptionType::Text, "SYN", "TCP flags to set"}};
//     explicit Scanflags(const Options& options);
// Users set them in a profile (plugins: [{name: scanflags, options: {flags: FINACK}}])
// or with --plugin-arg scanflags.flags=FINACK; --list-plugins shows them.

enum class OptionType : std::uint8_t {
    Flag,    // true/false, yes/no, on/off, 1/0
    Number,  // a decimal integer
    Text,    // any text
    Ports,   // a port list in nmap's syntax: 22,80,1000-2000
};

struct OptionSpec {
    std::string_view name;           // [a-z0-9_-]+
    OptionType type = OptionType::Text;
    std::string_view default_value;  // as a user would write it; must be valid
    std::string_view help;           // one line
};

// The options a technique runs with: every declared option, set or defaulted, each
// already checked against its type by the core.
class Options {
public:
    struct Value {
        std::string name, text;            // text: as given
        std::int64_t number = 0;           // Number; Flag: 1 or 0
        std::vector<std::uint16_t> ports;  // Ports: sorted, unique
    };
    std::vector<Value> values;

    const Value& get(std::string_view name) const {
        for (const auto& v : values)
            if (v.name == name) return v;
        throw std::out_of_range("no option '" + std::string(name) + "' was declared");
    }
    std::string_view text(std::string_view name) const { return get(name).text; }
    std::int64_t number(std::string_view name) const { return get(name).number; }
    bool flag(std::string_view name) const { return get(name).number != 0; }
    const std::vector<std::uint16_t>& ports(std::string_view name) const { return get(name).ports; }
};

// Thrown by a technique's constructor for a value of the right type that it cannot
// use ("flags: no TCP flag called 'FOO'"). The core reports it naming the plugin and
// the option, and exits 2.
struct OptionError : std::runtime_error {
    OptionError(std::string option_name, const std::string& why)
        : std::runtime_error(why), option(std::move(option_name)) {}
    std::string option;
};

// ---- The description ------------------------------------------------------------------

struct Description {
    std::string_view name;         // [a-z0-9_-]+, and the plugin's file name
    std::string_view description;  // one line
    std::string_view version;      // the plugin's own version
    Kind kind = Kind::Port;
    Protocol protocol = Protocol::Tcp;
    Carrier carrier = Carrier::Packet;
    // The target families it can probe (ARP: IPv4 only; neighbour discovery: IPv6 only).
    bool ipv4 = true;
    bool ipv6 = true;
    // An application answers these probes (a UDP service), not the target's kernel:
    // silence is believed only after as long as an application may take (the
    // timing template's application wait), however fast the kernel's round trips are.
    bool answered_by_applications = false;
};

// ---- Building a probe -----------------------------------------------------------------

// The core's keyed numbers for one probe: a hash of the scan's secret key, the
// technique, both addresses and the port. A reply is accepted only if it carries them
// back, which the core checks before any technique sees it:
//  - TCP: our source port `sport` and sequence number `seq` (and `ack` as the
//    acknowledgement number of a probe with ACK set), as replies echo them;
//  - UDP: our source port `sport`;
//  - ICMP and ICMPv6 queries: the identifier `icmp_id` and sequence number `icmp_seq`;
//  - an ICMP error quoting a probe: the IP id the core gives every probe, and the
//    fields above in the quoted header.
// Put them where your protocol carries them (wire::Tcp::probe does for TCP); the core
// refuses a TCP, UDP or ICMP probe that lacks them. The local link and IP protocols
// other than TCP, UDP and ICMP have no room for a tag: their replies are matched by
// addresses and protocol alone.
struct Tag {
    std::uint16_t sport = 0;
    std::uint32_t seq = 0, ack = 0;
    std::uint16_t icmp_id = 0, icmp_seq = 0;
};

struct ProbeContext {
    std::uint16_t port = 0;                  // the probed port, protocol number, or probe port
    bool ipv6 = false;                       // the target's family
    std::span<const std::uint8_t> src, dst;  // our address and the target's (4 or 16 bytes)
    std::span<const std::uint8_t> src_mac;   // Link: our interface's MAC (6 bytes)
    Tag tag;
};

// ---- Reading a reply ------------------------------------------------------------------

// What an ICMP/ICMPv6 error said, family-independent.
enum class Unreach : std::uint8_t {
    None,
    Net,              // ICMP 3/0, ICMPv6 1/0
    Host,             // ICMP 3/1, ICMPv6 1/3
    Proto,            // ICMP 3/2, ICMPv6 4/1 (unrecognised next header)
    Port,             // ICMP 3/3, ICMPv6 1/4
    NetProhibited,    // ICMP 3/9
    HostProhibited,   // ICMP 3/10
    AdminProhibited,  // ICMP 3/13, ICMPv6 1/1, 1/5, 1/6
    Other,            // any other code
};

// What came back for a probe, already matched to it by the core.
struct Reply {
    enum class Kind : std::uint8_t {
        Silence,    // nothing, after the last try's wait
        Tcp,        // a TCP segment from the probed port
        Udp,        // a UDP datagram from the probed port
        Icmp,       // an ICMP/ICMPv6 query reply: echo, timestamp or address mask reply
        IcmpError,  // an ICMP/ICMPv6 error quoting the probe: see `unreach`
        Ip,         // Protocol::Ip: a packet of the probed protocol from the target
        Link,       // an ARP reply or neighbour advertisement from the target
        Connect,    // Carrier::Connect: the outcome of connect(), see `connect_errno`
    };
    Kind kind = Kind::Silence;
    std::uint8_t ttl = 0;          // of the reply's IP header (IPv6: hop limit)
    std::uint8_t tcp_flags = 0;    // Tcp
    std::uint16_t tcp_window = 0;  // Tcp
    std::uint8_t icmp_type = 0;    // Icmp, IcmpError: as on the wire
    std::uint8_t icmp_code = 0;
    Unreach unreach = Unreach::None;  // IcmpError
    std::uint8_t ip_protocol = 0;     // Ip, IcmpError: the reply's (quoted) IP protocol
    int connect_errno = 0;            // Connect: 0 when the connection was established
    // The whole matched packet, up to the capture length (256 bytes); valid only during
    // classify():
    std::span<const std::uint8_t> packet;     // from the IP header (Link: the ARP packet)
    std::span<const std::uint8_t> transport;  // the transport or ICMP header and the rest
    std::span<const std::uint8_t> payload;    // what follows the transport header
    std::span<const std::uint8_t> quoted;     // IcmpError: the quoted packet, from its IP header
};

struct Verdict {
    State state = State::Undecided;
    const char* reason = "";  // nmap's reason names: "syn-ack", "reset", "echo-reply", ...
};

// ---- The technique --------------------------------------------------------------------

// A flat contract. A technique with options takes them in its constructor
// (`explicit MyTechnique(const Options&)`); otherwise it is default-constructed. All
// methods are const and may be called from any thread.
class Technique {
public:
    virtual ~Technique() = default;
    virtual Description describe() const = 0;

    // Host techniques: the probe ports each host is probed on; one probe each.
    virtual std::vector<std::uint16_t> probe_ports() const { return {0}; }

    // Carrier::Packet: writes what follows the IP header into `out` and returns its
    // length (0 for an empty IP payload, which only Protocol::Ip may send; the core
    // refuses a TCP, UDP, ICMP or Link probe without its header). For Tcp, Udp, Icmp and Ip that is the
    // transport header and payload; the core writes the IP header (its protocol is the
    // probed number for Ip) and fills in the checksums of TCP, UDP, ICMP, ICMPv6, IGMP
    // and SCTP: leave them zero. For Link: the ARP packet (sent in an Ethernet
    // broadcast), or for IPv6 targets the ICMPv6 neighbour solicitation (sent to the
    // target's solicited-node address with hop limit 255).
    virtual std::size_t probe(const ProbeContext&, std::span<std::uint8_t>) const { return 0; }

    // What a matched reply, or silence after the last try, means. Return {} to keep
    // waiting: the core then retransmits until the tries are used up.
    virtual Verdict classify(const Reply& reply) const = 0;
};

// ---- Helpers shared by techniques -------------------------------------------------------

namespace tcp_flag {
inline constexpr std::uint8_t FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10, URG = 0x20, ECE = 0x40,
                              CWR = 0x80;
}

// nmap's reason name for an unreachable.
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

// The unreachables that mean "filtered" for a TCP probe (ICMP 3/1, 3/2, 3/3, 3/9, 3/10,
// 3/13 and their ICMPv6 equivalents).
constexpr bool tcp_filtering_unreach(Unreach u) {
    switch (u) {
        case Unreach::Host: case Unreach::Proto: case Unreach::Port:
        case Unreach::NetProhibited: case Unreach::HostProhibited: case Unreach::AdminProhibited:
            return true;
        default:
            return false;
    }
}

// What an ICMP error says of a TCP probe: filtered for the codes above, nothing else.
constexpr Verdict tcp_unreach_verdict(const Reply& r) {
    if (tcp_filtering_unreach(r.unreach)) return {State::Filtered, unreach_reason(r.unreach)};
    return {};
}

// What the RST-or-silence scans (NULL, FIN, Xmas, Maimon) conclude: a closed port
// answers a segment without RST with a reset, an open one drops a segment that has
// neither SYN, RST nor ACK (RFC 9293 3.10.7).
constexpr Verdict rfc793_verdict(const Reply& r) {
    switch (r.kind) {
        case Reply::Kind::Tcp:
            if (r.tcp_flags & tcp_flag::RST) return {State::Closed, "reset"};
            return {};
        case Reply::Kind::IcmpError: return tcp_unreach_verdict(r);
        case Reply::Kind::Silence: return {State::OpenFiltered, "no-response"};
        default: return {};
    }
}

namespace detail {
template <class T>
Technique* create(const Options& options) {
    if constexpr (std::is_constructible_v<T, const Options&>) return new T(options);
    else return new T();
}
template <class T>
const OptionSpec* options_of(std::size_t* count) {
    if constexpr (requires { T::kOptions; }) {
        *count = std::size(T::kOptions);
        return T::kOptions;
    } else {
        *count = 0;
        return nullptr;
    }
}
}  // namespace detail

}  // namespace scanfw

// Names the plugin's Technique class and bakes in the API version it was built against.
// The core creates an instance with the declared defaults to describe the plugin, and
// one per scan with the options the user set.
#define SCANFW_PLUGIN(TechniqueClass)                                                            \
    extern "C" __attribute__((visibility("default"))) const std::uint32_t                        \
        scanfw_plugin_api_version = SCANFW_PLUGIN_API_VERSION;                                   \
    extern "C" __attribute__((visibility("default"))) const scanfw::OptionSpec*                  \
    scanfw_plugin_options(std::size_t* count) {                                                  \
        return ::scanfw::detail::options_of<TechniqueClass>(count);                              \
    }                                                                                            \
    extern "C" __attribute__((visibility("default"))) scanfw::Technique* scanfw_plugin_create(   \
        const scanfw::Options& options) {                                                        \
        return ::scanfw::detail::create<TechniqueClass>(options);                                \
    }
