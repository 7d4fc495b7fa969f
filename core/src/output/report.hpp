// What nmap reports for one host, shared by its three formats: the host's status and
// addresses, and its ports with the ignored states summarised ("Not shown: 1023 closed
// tcp ports (reset)").
//
// As nmap can run one TCP and one UDP technique together, the techniques of a scan are
// reported together when no two share a protocol (syn + udp: one report per host, as
// `nmap -sS -sU` writes). When two share one (syn + ack), each technique gets its own
// report per host, naming the technique.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "output/outputs.hpp"

namespace scanfw {

struct HostReport {
    struct ExtraReason {  // ports of one ignored state, protocol and reason
        std::string_view reason;
        Protocol protocol = Protocol::Tcp;
        std::vector<std::uint16_t> ports;  // sorted
    };
    struct Extra {  // one ignored state
        State state = State::Undecided;
        std::size_t count = 0;
        std::vector<ExtraReason> reasons;  // most ports first
    };
    const HostView* view = nullptr;
    std::string technique;         // empty unless each technique has its own reports
    std::uint32_t srtt_us = 0;     // the host's latency; 0 when unknown
    std::size_t scanned = 0;       // ports with a result
    std::vector<Extra> extraports;  // in nmap's order: closed, filtered, unfiltered, open|filtered
    std::vector<const Result*> ports;  // the others, TCP then UDP then IP protocols, by port
    bool up() const { return !view->status || view->status->up; }
};

class ReportGroups {
public:
    explicit ReportGroups(const ScanInfo& info);
    // The host's reports: one per group with results, or one without ports for a host
    // that has none (host discovery alone, a host that is down). With --open a host
    // with no port left to show has none.
    std::vector<HostReport> reports(const HostView& h, bool open_only) const;

private:
    std::vector<std::size_t> group_of_;     // technique index -> report group
    std::vector<std::string> group_name_;   // report group -> technique name, or empty
    std::map<std::string, std::size_t, std::less<>> technique_index_;
};

// "0.00031s": seconds with two significant digits, as nmap prints latencies.
std::string latency_text(std::uint32_t us);
// nmap's name for a MAC address's vendor, from nmap-mac-prefixes when installed.
std::string mac_vendor(const MacAddress& mac);

}  // namespace scanfw
