// What a scan is asked to do: every setting, filled from a YAML profile, then
// overridden by the command line (which has a flag for each key). Unset optionals take
// their defaults when the scan is planned (main.cpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugin/plugins.hpp"

namespace scanfw {

// A technique to run, with its options: `syn`, or `{name: scanflags, options: {flags: FINACK}}`.
struct PluginRequest {
    std::string name;
    std::vector<OptionSetting> options;
    std::string where{};  // "profile.yaml:3:12" when it came from a profile, for messages
    bool operator==(const PluginRequest& o) const { return name == o.name && options == o.options; }
};

// The names of requested plugins, in order.
std::vector<std::string> plugin_names(const std::vector<PluginRequest>& requests);

struct OutputConfig {
    std::optional<std::string> json;      // -oJ: JSON Lines file, "-" for stdout
    std::optional<std::string> xml;       // -oX: nmap XML
    std::optional<std::string> grepable;  // -oG: nmap grepable
    std::optional<std::string> normal;    // -oN: nmap normal output
    std::optional<std::string> all;       // -oA BASE: BASE.xml, .gnmap, .nmap, .jsonl
};

struct ScanConfig {
    std::optional<std::string> name;         // the profile's own name, informative
    std::optional<std::string> description;  // informative
    std::vector<PluginRequest> plugins;      // port techniques
    // Host discovery: nullopt = the default set; an empty list = none (-Pn); else
    // these host techniques. `ping_only`: -sn, discovery and no port scan.
    std::optional<std::vector<PluginRequest>> discovery;
    std::optional<bool> ping_only;
    std::optional<bool> disable_arp_ping;  // --disable-arp-ping: no ARP/ND of its own on a segment
    std::optional<std::string> ports;  // nmap port syntax
    std::optional<std::uint32_t> top_ports;  // --top-ports N, -F (100)
    std::vector<std::string> targets;
    std::optional<std::string> input_list;  // -iL FILE
    std::vector<std::string> exclude;       // --exclude LIST
    std::optional<std::string> exclude_file;
    std::optional<int> timing;              // -T0 .. -T5
    std::optional<std::chrono::milliseconds> timeout;
    // nmap's --min-rtt-timeout, --max-rtt-timeout, --initial-rtt-timeout: the bounds of
    // a try's wait once round trips are measured, and the wait before they are.
    std::optional<std::chrono::milliseconds> min_rtt_timeout, max_rtt_timeout, initial_rtt_timeout;
    std::optional<int> retries;
    std::optional<int> max_retries;
    std::optional<double> rate;  // probes per second, ceiling
    std::optional<double> min_rate;
    std::optional<bool> defeat_icmp_ratelimit;
    std::vector<std::string> source_ip;  // --source-ip: addresses, ranges, prefixes
    std::optional<bool> service;         // -sV
    std::optional<int> version_intensity;
    std::optional<std::string> service_db;
    std::optional<std::uint64_t> seed;
    std::optional<bool> sequential;  // -r: ports in order, not in a random one
    std::optional<std::string> interface;  // -e: send and connect through this interface
    // Reverse DNS: "up" the hosts found up (nmap's default), "all" every target (-R),
    // "never" (-n); `dns_servers` instead of /etc/resolv.conf's (--dns-servers).
    std::optional<std::string> reverse_dns;
    std::vector<std::string> dns_servers;
    std::optional<std::string> shard;  // "K/N"
    std::optional<bool> reason;
    std::optional<bool> open;
    OutputConfig outputs;

    // Fields set in `over` replace those here; lists replace when non-empty.
    void override_with(const ScanConfig& over);
};

// Durations in profiles and on the command line: "500ms", "2s", "1.5s", "1m", or a
// bare number of seconds. Returns nullopt when the text is not one.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
// A rate: "10000", "1e5", "2.5" (probes per second). nullopt when not a positive number.
std::optional<double> parse_rate(std::string_view text);
// "scanflags.flags=FINACK" as --plugin-arg takes it; throws InputError.
std::pair<std::string, OptionSetting> parse_plugin_arg(std::string_view text);

// Loads a YAML profile, by path or by the name of a shipped one ("quick-tcp":
// <prefix>/share/scanfw/profiles/quick-tcp.yaml). Throws InputError "FILE:LINE:COL: what
// is wrong" on an unknown key, a wrong type or a bad value.
ScanConfig load_profile(const std::string& path_or_name);
// Where a profile name leads: the file, or nullopt when there is no such profile.
std::optional<std::string> find_profile(const std::string& path_or_name);
// The folder of the shipped profiles.
std::string profile_dir();

// The same from YAML text already in memory; `name_for_errors` stands for the file in
// messages. Throws only InputError.
ScanConfig parse_profile(std::string_view yaml_text, const std::string& name_for_errors);

}  // namespace scanfw
