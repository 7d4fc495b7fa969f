// nmap's nmap-service-probes, read at run time (Debian's nmap-common installs it as
// /usr/share/nmap/nmap-service-probes): the probes -sV sends and the patterns that
// name what answered. Format: https://nmap.org/book/vscan-fileformat.html
//
//   Exclude T:9100-9107                       once, before any Probe
//   Probe TCP|UDP NAME q|STRING| [no-payload]  STRING with nmap's escapes
//   match|softmatch SERVICE m|REGEX|[is] [p/..../ v/.../ i/ h/ o/ d/ cpe:/.../a]
//   ports 21,23,1000-1010   sslports 443   rarity 1-9   fallback NAME,NAME
//   totalwaitms 100-300000  tcpwrappedms 100-300000
//
// Every error is an InputError "FILE:LINE: what is wrong". Patterns are compiled
// with PCRE2 when the file loads (so a bad one is reported with its line) and
// JIT-compiled at their first use.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scanfw/plugin_api.hpp"  // Protocol
#include "services/regex.hpp"

namespace scanfw::services {

// Debian's place for the file.
inline constexpr const char* kDefaultProbesPath = "/usr/share/nmap/nmap-service-probes";

// The version templates of a match line, as written (before $1.. are expanded).
// An absent template is nullopt; "p//" is an empty one.
struct VersionTemplates {
    std::optional<std::string> product, version, info, hostname, ostype, devicetype;
    std::vector<std::string> cpe;  // each "cpe:/PART:...", in file order
};

struct Match {
    std::string service;  // "http", "ssl/http", ...
    bool soft = false;    // softmatch: the service, but keep probing for the version
    bool caseless = false, dotall = false;  // the i and s flags
    std::string pattern;  // the regex as written between the delimiters
    VersionTemplates templates;
    int line = 0;
    Regex regex;
};

struct Probe {
    Protocol protocol = Protocol::Tcp;
    std::string name;
    std::string payload;  // unescaped; empty for the NULL probe
    bool no_payload = false;  // nmap: not to be used as a port-scan payload
    std::vector<std::uint16_t> ports, sslports;  // sorted, unique
    int rarity = 5;  // nmap's default when the probe has no rarity line
    std::chrono::milliseconds total_wait{5000};  // nmap's defaults
    std::chrono::milliseconds tcp_wrapped{2000};
    std::vector<Match> matches;
    // Where a response to this probe is matched, in order: itself, its fallback
    // probes, then (TCP) the NULL probe. Pointers into the same database.
    std::vector<const Probe*> fallbacks;
    std::vector<std::string> services;  // the distinct services its matches name
    int line = 0;

    bool is_null() const { return payload.empty(); }
    // Whether the probe lists the port in `ports` (or `sslports` inside an SSL tunnel).
    bool lists_port(std::uint16_t port, bool ssl) const;
    // Whether any of its match lines names `service` (softmatch narrowing).
    bool can_detect(std::string_view service) const;
};

class ProbeDb {
public:
    // Reads and parses a file; throws InputError ("FILE: cannot read: ..." or
    // "FILE:LINE: ...").
    static ProbeDb load(const std::filesystem::path& path = kDefaultProbesPath);
    // Parses text; `name` stands for the file in messages.
    static ProbeDb parse(std::string_view text, const std::string& name);

    ProbeDb(ProbeDb&&) noexcept = default;
    ProbeDb& operator=(ProbeDb&&) noexcept = default;
    ProbeDb(const ProbeDb&) = delete;  // the probes point at each other
    ProbeDb& operator=(const ProbeDb&) = delete;

    // Every probe in file order, the NULL probe included.
    const std::vector<Probe>& probes() const { return *probes_; }
    const Probe* null_probe() const { return null_; }
    // The first probe of that name for that protocol, else of any protocol (as
    // nmap resolves fallbacks); nullptr when none.
    const Probe* find(std::string_view name, Protocol protocol) const;
    // Ports the Exclude line keeps out of version detection.
    bool excluded(std::uint16_t port, Protocol protocol) const;
    std::size_t match_count() const;
    const std::string& source() const { return source_; }

    // JIT-compiles every pattern now (otherwise each is compiled at its first use).
    void compile_all() const;

private:
    ProbeDb() = default;
    friend class ProbeFileParser;

    std::string source_;
    // Behind a pointer so that moving the database keeps the addresses the probes'
    // fallback lists hold.
    std::unique_ptr<std::vector<Probe>> probes_ = std::make_unique<std::vector<Probe>>();
    const Probe* null_ = nullptr;
    std::vector<std::uint16_t> exclude_tcp_, exclude_udp_;  // sorted
};

}  // namespace scanfw::services
