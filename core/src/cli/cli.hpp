// The command line: what the user asked for, before plugins, ports and targets
// are resolved.
#pragma once

#include <string>
#include <vector>

#include "common/address.hpp"
#include "cli/config.hpp"

namespace scanfw {

struct CliOptions {
    ScanConfig scan;                     // from flags; overrides the profile's
    std::optional<std::string> profile;  // --profile FILE
    std::vector<std::string> plugin_dirs;
    std::optional<Family> name_family;  // -4 / -6: what hostnames resolve to
    std::optional<std::string> input_list;    // -iL FILE
    std::vector<std::string> exclude;         // --exclude LIST (repeatable)
    std::optional<std::string> exclude_file;  // --excludefile FILE
    std::optional<std::string> user;          // --user NAME: run as NAME once sockets are open
    std::optional<std::string> resume;        // --resume FILE: skip what FILE (-oJ) has
    std::optional<int> timing_level;          // -T0 .. -T5
    std::optional<double> min_rate;           // --min-rate N
    std::optional<int> max_retries;           // --max-retries N: the ceiling of adaptive retries
    bool defeat_icmp_ratelimit = false;       // --defeat-icmp-ratelimit
    bool quiet = false;                       // --quiet: no progress line
    bool list_plugins = false;
    bool show_reason = false;  // --reason
    bool open_only = false;    // --open
    int verbosity = 0;  // -v, -vv
    std::string command_line;
};

// Parses argv. Returns the exit code to leave with (0 for --help/--version, 2 for
// bad usage, after printing why), or -1 to go on and scan.
int parse_command_line(int argc, const char* const* argv, CliOptions& out);

// nmap's multi-letter short options (-oJ FILE, -iL FILE) become long ones for the parser.
std::vector<std::string> normalize_nmap_style(const std::vector<std::string>& args);

}  // namespace scanfw
