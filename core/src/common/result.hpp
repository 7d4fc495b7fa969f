// What a scan concludes: one Result per (host, port, technique), and one HostStatus
// per host (from host discovery, or "user-set" with -Pn), and where they go.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/address.hpp"
#include "scanfw/plugin_api.hpp"

namespace scanfw {

// What service detection (-sV) found on a port, in nmap's fields.
struct ServiceInfo {
    std::string name, product, version, extrainfo, hostname, ostype, devicetype;
    std::vector<std::string> cpe;
    std::string tunnel;           // "ssl" or empty
    std::string method = "table";  // "probed" when a probe identified it
    int conf = 3;
};

struct Result {
    IpAddress host;
    std::uint16_t port = 0;            // or protocol number (Protocol::Ip)
    Protocol protocol = Protocol::Tcp;  // Tcp, Udp or Ip
    std::string_view technique;         // the plugin's name
    State state = State::Undecided;
    std::string_view reason;
    std::uint8_t ttl = 0;      // of the reply; 0 when there was none
    std::uint32_t rtt_us = 0;  // 0 when unknown
    // With -sV; shared and apart, so that a result without one (nearly all) stays small.
    std::shared_ptr<const ServiceInfo> service;
};

using MacAddress = std::array<std::uint8_t, 6>;

// A host's status, before its ports. With -Pn every host is up, "user-set".
struct HostStatus {
    IpAddress host;
    bool up = true;
    std::string_view reason = "user-set";
    std::uint8_t ttl = 0;
    std::uint32_t rtt_us = 0;
    std::optional<MacAddress> mac;  // a host on a local Ethernet segment
    std::string hostname;            // the name the user gave, if any
    std::string ptr_name;            // its reverse DNS name (PTR record), unless -n
    bool update = false;  // more of a host already reported (its MAC or name, learned later)
};

// nmap's names: "open", "closed", "filtered", "unfiltered", "open|filtered", "up", "down".
std::string_view state_name(State s);
// "tcp", "udp", "ip" (and "icmp", "link" for host techniques).
std::string_view protocol_name(Protocol p);
// "9E:06:C8:D8:49:31", as nmap prints MAC addresses.
std::string mac_text(const MacAddress& mac);

// Receives results as they are decided.
class ResultSink {
public:
    virtual ~ResultSink() = default;
    virtual void on_host(const HostStatus&) {}
    virtual void on_result(const Result& r) = 0;
};

}  // namespace scanfw
