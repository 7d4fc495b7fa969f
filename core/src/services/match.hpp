// Matching a response against a probe's match lines, and filling in the version
// fields from the templates, as nmap does (service_scan.cc): the first line that
// matches wins, looking at the probe's own lines, then its fallbacks', then (TCP)
// the NULL probe's. A template that cannot be filled ($9 with fewer groups, a field
// over nmap's size) leaves that field empty; the match itself still counts.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services/probe_db.hpp"

namespace scanfw::services {

// What a match says about a service. Fields hold at most nmap's sizes (product,
// version, hostname 79 bytes; extrainfo 255; ostype, devicetype 31; each CPE 79)
// and are made printable by printable_field(): no control bytes, no escape
// sequences, nothing after a NUL.
struct ServiceIdentity {
    std::string name;  // "ssh", "http", ... (the prober reports "ssl/http" as http with tunnel ssl)
    std::string product, version, extrainfo, hostname, ostype, devicetype;
    std::vector<std::string> cpe;  // "cpe:/a:...", "cpe:/h:...", "cpe:/o:..." (at most one each, in that order)

    bool operator==(const ServiceIdentity&) const = default;
};

struct MatchResult {
    ServiceIdentity id;
    bool soft = false;  // id.name is the service as the line writes it, "ssl/..." included
    const Match* match = nullptr;
    const Probe* matched_in = nullptr;  // the probe whose line matched (the probe itself or a fallback)
};

// nmap's buffer sizes for the fields (including the C string's NUL).
inline constexpr std::size_t kProductSize = 80, kVersionSize = 80, kInfoSize = 256, kHostnameSize = 80,
                             kOstypeSize = 32, kDevicetypeSize = 32, kCpeSize = 80;

// Tests one match line; nullopt when it does not match.
std::optional<MatchResult> test_match(const Match& match, std::string_view response);

// The first match for a response to `probe`, through its fallback list.
std::optional<MatchResult> find_match(const Probe& probe, std::string_view response);

// Fills one template with the groups of a match of `subject`: $1..$9, $P(n)
// (printable bytes only), $SUBST(n,"find","replace"), $I(n,">") / $I(n,"<") (an
// unsigned integer from up to 8 bytes, big or little endian). `cpe` applies nmap's
// CPE transform to each substitution. nullopt when nmap would leave the field
// empty: an unknown or malformed $ command, a group the pattern lacks or did not
// set, or a result of `size` bytes or more. Trailing blanks and commas are dropped.
std::optional<std::string> expand_template(std::string_view tmpl, std::string_view subject, const Captures& groups,
                                           std::size_t size, bool cpe = false);

}  // namespace scanfw::services
