// What a scan is asked to do: filled from a YAML profile, then overridden by the
// command line. Unset optionals take the defaults in ScanConfig::resolved().
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scanfw {

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
    std::vector<std::string> plugins;
    std::optional<std::string> ports;          // nmap port syntax
    std::vector<std::string> targets;
    std::optional<std::chrono::milliseconds> timeout;
    std::optional<int> retries;
    std::optional<std::uint64_t> rate;         // probes per second, ceiling
    OutputConfig outputs;

    static constexpr const char* kDefaultPorts = "1-1024";

    // Fields set in `over` replace those here; lists replace when non-empty.
    void override_with(const ScanConfig& over);
};

// Durations in profiles and on the command line: "500ms", "2s", "1.5s", "1m", or a
// bare number of seconds. Returns nullopt when the text is not one.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// Loads a YAML profile. Throws InputError "FILE:LINE:COL: what is wrong" on an
// unknown key, a wrong type or a bad value; nothing else is checked here (ports and
// targets are parsed by their own parsers when the scan is planned).
ScanConfig load_profile(const std::string& path);

// The same from YAML text already in memory (load_profile reads the file and calls
// this); `name_for_errors` stands for the file in messages. Throws only InputError.
ScanConfig parse_profile(std::string_view yaml_text, const std::string& name_for_errors);

}  // namespace scanfw
