// From a request (a profile, then the command line over it) to what the phases need:
// the techniques with their options and ports, the timing, host discovery, shards. Every
// contradiction in a request is found here, before anything is sent, and refused with
// a message that says what is wrong and what to do (exit 2).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/cli.hpp"
#include "engine/item.hpp"
#include "engine/order.hpp"
#include "engine/timing.hpp"
#include "plugin/plugins.hpp"
#include "targets/ports.hpp"

namespace scanfw {

// The request: the profile's settings with the command line's over them, and the
// plugin options of --plugin-arg and --scanflags folded in.
ScanConfig resolve_request(const CliOptions& opts);

// The ports to scan: -p, else --top-ports N, else nmap's 1000 most common (from
// nmap-services; without it, 1-1024). IP protocol scans default to 0-255.
PortSpec resolve_ports(const ScanConfig& cfg);

Timing resolve_timing(const ScanConfig& cfg);

// The shard of --shard K/N and --seed S; throws InputError for a bad shard or a shard
// without a seed.
Shard resolve_shard(const ScanConfig& cfg);

// nmap's default techniques: syn with raw sockets, connect without.
std::vector<PluginRequest> default_techniques(bool raw_allowed);
// nmap's default host discovery. On a local Ethernet segment: arp and nd; elsewhere,
// with raw sockets, ICMP echo, TCP SYN to 443, TCP ACK to 80, ICMP timestamp; without,
// a connect() to 80 and 443.
struct DefaultDiscovery {
    std::vector<PluginRequest> local;   // for hosts on a local segment
    std::vector<PluginRequest> remote;  // for the others
};
// `arp_ping` false (--disable-arp-ping): no ARP/ND of their own; hosts on a segment get
// the same probes as the others.
DefaultDiscovery default_discovery(bool raw_allowed, bool arp_ping = true);
// Discovery flags given (-PE, -PS..., a profile's `discovery:`): these probes for hosts
// behind a router, and, as nmap does, ARP and neighbour discovery for hosts on a local
// Ethernet segment when raw sockets can be opened, unless ARP or ND is among them.
DefaultDiscovery explicit_discovery(std::vector<PluginRequest> requests, bool raw_allowed, bool arp_ping = true);

// The scan's jobs: its port techniques, then its host techniques, each configured with
// its options and given its ports (port techniques) or probe ports (host techniques).
struct Jobs {
    std::vector<Job> jobs;
    std::vector<std::uint16_t> port_jobs, host_jobs;
    // In the default discovery, which host jobs are for hosts on a local segment.
    std::vector<bool> local_only, remote_only;
};
// Throws PluginError or InputError: an unknown plugin, a host technique asked for as a
// port technique or the reverse, an option for a plugin that is not run, a technique
// with no port of its protocol in the list, a protocol number over 255.
// `plugin_args`: --plugin-arg settings, each for a plugin that must be among the others.
Jobs make_jobs(const std::vector<PluginRequest>& port_requests, const std::vector<PluginRequest>& host_requests,
               const std::vector<std::pair<std::string, OptionSetting>>& plugin_args, const DefaultDiscovery* defaults,
               PluginRegistry& registry, const PortSpec& ports);

}  // namespace scanfw
