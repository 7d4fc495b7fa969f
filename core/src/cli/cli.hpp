// The command line: what the user asked for, before plugins, ports and targets are
// resolved. nmap's spellings work as they do in nmap (-sS, -sU, -Pn, -sn, -PS22,80,
// -T4, -oA, -iL, ...).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli/config.hpp"
#include "common/address.hpp"

namespace scanfw {

struct CliOptions {
    ScanConfig scan;                     // from flags; overrides the profile's
    std::optional<std::string> profile;  // --profile FILE|NAME
    std::vector<std::string> plugin_dirs;
    // --plugin-arg PLUGIN.OPTION=VALUE, in the order given.
    std::vector<std::pair<std::string, OptionSetting>> plugin_args;
    std::optional<std::string> scanflags;  // --scanflags FLAGS
    std::optional<Family> name_family;     // -4 / -6: what hostnames resolve to
    std::optional<std::string> user;       // --user NAME: run as NAME once sockets are open
    std::optional<std::string> resume;     // --resume FILE: continue the scan FILE (-oJ) records
    bool quiet = false;                    // --quiet: no progress line
    bool list_plugins = false;
    bool list_targets = false;  // -sL: list the targets, scan nothing
    bool dry_run = false;  // --dry-run: check everything, send nothing
    int verbosity = 0;     // -v, -vv, -vvv
    std::vector<std::string> argv;  // as given, the program name first

    // `scanfw merge [outputs] FILES...`
    bool merge = false;
    std::vector<std::string> merge_files;
    bool allow_partial = false;

    // Whether anything but --resume (and output display flags) asks for a scan.
    bool only_resume() const;
};

// Parses argv. Returns the exit code to leave with (0 for --help/--version, 2 for bad
// usage, after saying why), or -1 to go on.
int parse_command_line(int argc, const char* const* argv, CliOptions& out);
int parse_command_line(const std::vector<std::string>& argv, CliOptions& out);

// nmap's short spellings (-sS, -oJ FILE, -PS22,80, ...) as the long options the parser
// knows.
std::vector<std::string> normalize_nmap_style(const std::vector<std::string>& args);

}  // namespace scanfw
