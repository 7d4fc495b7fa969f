// Names of ports and IP protocols as nmap prints them: ports from nmap's own
// nmap-services when it is installed (Debian's nmap-common), else from /etc/services;
// IP protocol numbers from /etc/protocols. nmap-services also gives each port's open
// frequency, which --top-ports and -F use.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <absl/container/flat_hash_map.h>

#include "scanfw/plugin_api.hpp"

namespace scanfw {

class ServiceNames {
public:
    // Loaded once, from $SCANFW_NMAP_SERVICES, /usr/share/nmap/nmap-services, or
    // /etc/services (in that order: the first that can be read).
    static const ServiceNames& get();
    // The same from a file of either format (for tests).
    static ServiceNames load(const std::string& services_file, const std::string& protocols_file);

    // The name of a TCP/UDP port, or of an IP protocol (Protocol::Ip); nullopt: none.
    std::optional<std::string_view> name(std::uint16_t port, Protocol p) const;
    // Every port of `p` called `name` ("http": 80, 8008, ...), sorted.
    std::vector<std::uint16_t> ports_named(std::string_view name, Protocol p) const;
    // The `n` ports of `p` most often found open, most frequent first; empty when the
    // file has no frequencies (/etc/services).
    std::vector<std::uint16_t> top(std::size_t n, Protocol p) const;
    bool has_frequencies() const { return frequencies_; }
    const std::string& source() const { return source_; }

private:
    struct Entry {
        std::string name;
        double frequency = 0;
    };
    using Key = std::uint32_t;  // protocol << 16 | port
    static Key key(std::uint16_t port, Protocol p) { return std::uint32_t(p) << 16 | port; }
    absl::flat_hash_map<Key, Entry> ports_;
    std::vector<std::string> protocols_ = std::vector<std::string>(256);
    bool frequencies_ = false;
    std::string source_;
};

}  // namespace scanfw
