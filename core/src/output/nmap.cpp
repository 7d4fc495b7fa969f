// nmap's three formats: XML (-oX), grepable (-oG) and normal (-oN), and the host
// reports they share. Layouts follow nmap 7.93's, so tools that read nmap read these.
#include <algorithm>
#include <cmath>
#include <tuple>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "output/output.hpp"

namespace scanfw {

namespace {

using Clock = std::chrono::system_clock;

std::int64_t epoch(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// "Wed Nov 25 14:23:14 2026", local time, as nmap writes dates.
std::string date_text(Clock::time_point t) {
    return fmt::format("{:%a %b %d %H:%M:%S %Y}", fmt::localtime(Clock::to_time_t(t)));
}

// "1 IP address (1 host up) scanned in 1.31 seconds"
std::string scanned_text(const ScanSummary& s, std::uint64_t hosts_up) {
    return fmt::format("{} IP address{} ({} host{} up) scanned in {:.2f} seconds", s.hosts, s.hosts == 1 ? "" : "es",
                       hosts_up, hosts_up == 1 ? "" : "s", s.seconds);
}

const char* done_word(const ScanSummary& s) { return s.interrupted ? "interrupted" : "done"; }

// The command line on one line, for the "# ... as: ARGS" comments.
std::string one_line(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    return out;
}

std::string banner(const ScanInfo& info) {
    return fmt::format("scanfw {} scan initiated {} as: {}", SCANFW_VERSION, date_text(info.started),
                       one_line(info.command_line));
}

// Seconds with two significant digits and no exponent: 0.000052, 0.0000050, 0.13.
std::string latency_text(std::uint32_t us) {
    const double s = us / 1e6;
    const int decimals = std::max(0, 1 - static_cast<int>(std::floor(std::log10(s))));
    return fmt::format("{:.{}f}s", s, decimals);
}

// Text for inside an XML comment, which may not hold "--": each '-' as nmap writes it.
std::string xml_comment_text(std::string_view text) {
    std::string out;
    for (char c : xml_escape(text)) out += c == '-' ? std::string("&#45;") : std::string(1, c);
    return out;
}

// The scan types nmap.dtd allows in scaninfo, among the technique names.
bool nmap_scan_type(std::string_view name) {
    for (const char* t : {"syn", "ack", "connect", "null", "xmas", "window", "maimon", "fin", "udp"})
        if (name == t) return true;
    return false;
}

}  // namespace

// ---- host reports --------------------------------------------------------------

void HostReportOutput::begin(const ScanInfo& info) {
    info_ = info;
    std::map<Protocol, int> per_protocol;
    bool shared = false;
    for (const auto& t : info_.techniques)
        if (!t.ports.empty() && ++per_protocol[t.protocol] > 1) shared = true;
    for (std::size_t i = 0; i < info_.techniques.size(); ++i) {
        const auto& t = info_.techniques[i];
        technique_index_.emplace(t.name, i);
        if (shared || group_ports_.empty()) {
            group_ports_.push_back(0);
            group_name_.push_back(shared ? t.name : "");
        }
        group_of_.push_back(group_ports_.size() - 1);
        group_ports_.back() += t.ports.size();
    }
    write_begin(file_.get(), info_);
    file_.flush();
}

void HostReportOutput::on_result(const Result& r) {
    const auto technique = technique_index_.find(r.technique);
    if (technique == technique_index_.end()) return;  // a technique the scan did not announce
    const std::size_t group = group_of_[technique->second];
    hosts_up_.insert(r.host);
    const auto key = std::make_pair(group, r.host);
    Pending& p = pending_[key];
    const auto now = Clock::now();
    if (p.ports.empty()) p.first = now;
    p.last = now;
    p.ports.push_back({r.port, r.protocol, r.state, r.ttl, r.reason});
    if (r.rtt_us) {
        p.rtt_sum += r.rtt_us;
        ++p.replies;
    }
    if (p.ports.size() >= group_ports_[group]) {
        report(r.host, group, p);
        pending_.erase(key);
    }
}

void HostReportOutput::end(const ScanSummary& s) {
    // After an interrupt some hosts have only some of their ports: report those.
    for (auto& [key, p] : pending_) report(key.second, key.first, p);
    pending_.clear();
    write_end(file_.get(), info_, s, hosts_up_.size());
    file_.close();
}

void HostReportOutput::report(const IpAddress& host, std::size_t group, Pending& p) {
    HostReport h;
    h.host = host;
    h.technique = group_name_[group];
    h.first = p.first;
    h.last = p.last;
    h.srtt_us = p.replies ? static_cast<std::uint32_t>(p.rtt_sum / p.replies) : 0;
    h.scanned = p.ports.size();
    std::sort(p.ports.begin(), p.ports.end(),
              [](const auto& a, const auto& b) { return std::tie(a.protocol, a.port) < std::tie(b.protocol, b.port); });

    std::map<State, std::size_t> counts;
    for (const auto& port : p.ports) ++counts[port.state];
    // nmap's order for the summarised states.
    for (State s : {State::Closed, State::Filtered, State::Unfiltered, State::OpenFiltered})
        if (counts[s] > 0 && ignored_state(s, counts[s], open_only_)) h.extraports.push_back({s, counts[s], {}});
    for (const auto& port : p.ports) {
        const auto extra = std::find_if(h.extraports.begin(), h.extraports.end(),
                                        [&](const auto& e) { return e.state == port.state; });
        if (extra == h.extraports.end()) {
            h.ports.push_back(port);
            continue;
        }
        auto reason = std::find_if(extra->reasons.begin(), extra->reasons.end(), [&](const auto& r) {
            return r.reason == port.reason && r.protocol == port.protocol;
        });
        if (reason == extra->reasons.end()) {
            extra->reasons.push_back({port.reason, port.protocol, {}});
            reason = std::prev(extra->reasons.end());
        }
        reason->ports.push_back(port.port);
    }
    for (auto& e : h.extraports)
        std::stable_sort(e.reasons.begin(), e.reasons.end(),
                         [](const auto& a, const auto& b) { return a.ports.size() > b.ports.size(); });

    if (open_only_ && h.ports.empty()) return;  // --open: as nmap, a host with none is left out
    write_host(file_.get(), h);
    file_.flush();
}

// ---- XML -------------------------------------------------------------------------

void XmlOutput::write_begin(std::FILE* out, const ScanInfo& info) {
    fmt::print(out,
               "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<!DOCTYPE nmaprun>\n"
               "<?xml-stylesheet href=\"file:///usr/share/nmap/nmap.xsl\" type=\"text/xsl\"?>\n"
               "<!-- scanfw {} scan initiated {} as: {} -->\n"
               "<nmaprun scanner=\"nmap\" args=\"{}\" start=\"{}\" startstr=\"{}\" version=\"{}\" "
               "xmloutputversion=\"1.05\">\n",
               SCANFW_VERSION, date_text(info.started), xml_comment_text(info.command_line),
               xml_escape(info.command_line), epoch(info.started), date_text(info.started), SCANFW_VERSION);
    for (const auto& t : info.techniques) {
        if (t.ports.empty()) continue;
        if (!nmap_scan_type(t.name)) {
            fmt::print(out, "<!-- technique {}: not a scan type nmap.dtd knows, so no scaninfo -->\n",
                       xml_comment_text(t.name));
            continue;
        }
        fmt::print(out, "<scaninfo type=\"{}\" protocol=\"{}\" numservices=\"{}\" services=\"{}\"/>\n", t.name,
                   protocol_name(t.protocol), t.ports.size(), port_ranges(t.ports));
    }
    fmt::print(out, "<verbose level=\"0\"/>\n<debugging level=\"0\"/>\n");
}

void XmlOutput::write_host(std::FILE* out, const HostReport& h) {
    fmt::print(out, "<host starttime=\"{}\" endtime=\"{}\"", epoch(h.first), epoch(h.last));
    if (!h.technique.empty()) fmt::print(out, " comment=\"{} scan\"", xml_escape(h.technique));
    // scanfw does no host discovery: every host is up, as with nmap -Pn.
    fmt::print(out,
               "><status state=\"up\" reason=\"user-set\" reason_ttl=\"0\"/>\n"
               "<address addr=\"{}\" addrtype=\"{}\"/>\n"
               "<hostnames>\n</hostnames>\n<ports>",
               h.host.str(), h.host.family == Family::V6 ? "ipv6" : "ipv4");
    for (const auto& e : h.extraports) {
        fmt::print(out, "<extraports state=\"{}\" count=\"{}\">\n", state_name(e.state), e.count);
        for (const auto& r : e.reasons)
            fmt::print(out, "<extrareasons reason=\"{}\" count=\"{}\" proto=\"{}\" ports=\"{}\"/>\n",
                       xml_escape(r.reason), r.ports.size(), protocol_name(r.protocol), port_ranges(r.ports));
        fmt::print(out, "</extraports>\n");
    }
    for (const auto& p : h.ports) {
        fmt::print(out, "<port protocol=\"{}\" portid=\"{}\"><state state=\"{}\" reason=\"{}\" reason_ttl=\"{}\"/>",
                   protocol_name(p.protocol), p.port, state_name(p.state), xml_escape(p.reason), p.ttl);
        if (const auto service = service_name(p.port, p.protocol))
            fmt::print(out, "<service name=\"{}\" method=\"table\" conf=\"3\"/>", xml_escape(*service));
        fmt::print(out, "</port>\n");
    }
    fmt::print(out, "</ports>\n</host>\n");
}

void XmlOutput::write_end(std::FILE* out, const ScanInfo&, const ScanSummary& s, std::uint64_t hosts_up) {
    const auto now = Clock::now();
    fmt::print(out, "<runstats><finished time=\"{}\" timestr=\"{}\" summary=\"scanfw {} at {}; {}\" elapsed=\"{:.2f}\"",
               epoch(now), date_text(now), done_word(s), date_text(now), scanned_text(s, hosts_up), s.seconds);
    if (s.interrupted)
        fmt::print(out, " exit=\"error\" errormsg=\"interrupted: the scan stopped before every port had a result\"");
    else
        fmt::print(out, " exit=\"success\"");
    fmt::print(out, "/><hosts up=\"{}\" down=\"0\" total=\"{}\"/>\n</runstats>\n</nmaprun>\n", hosts_up, s.hosts);
}

// ---- grepable ----------------------------------------------------------------------

void GrepableOutput::write_begin(std::FILE* out, const ScanInfo& info) { fmt::print(out, "# {}\n", banner(info)); }

void GrepableOutput::write_host(std::FILE* out, const HostReport& h) {
    const std::string host = h.host.str();
    fmt::print(out, "Host: {} ()\tStatus: Up\n", host);
    std::string ports;
    for (const auto& p : h.ports)
        ports += fmt::format("{}{}/{}/{}//{}///", ports.empty() ? "" : ", ", p.port, state_name(p.state),
                             protocol_name(p.protocol), service_name(p.port, p.protocol).value_or(""));
    fmt::print(out, "Host: {} ()\tPorts: {}", host, ports);
    // Grepable output has room for one ignored state only (as in nmap).
    if (h.extraports.size() == 1)
        fmt::print(out, "\tIgnored State: {} ({})", state_name(h.extraports[0].state), h.extraports[0].count);
    if (!h.technique.empty()) fmt::print(out, "\tTechnique: {}", h.technique);
    fmt::print(out, "\n");
}

void GrepableOutput::write_end(std::FILE* out, const ScanInfo&, const ScanSummary& s, std::uint64_t hosts_up) {
    fmt::print(out, "# scanfw {} at {} -- {}\n", done_word(s), date_text(Clock::now()), scanned_text(s, hosts_up));
}

// ---- normal ------------------------------------------------------------------------

void NormalOutput::write_begin(std::FILE* out, const ScanInfo& info) { fmt::print(out, "# {}\n", banner(info)); }

void NormalOutput::write_host(std::FILE* out, const HostReport& h) {
    const std::string host = h.host.str();
    fmt::print(out, "scanfw {}scan report for {}\n", h.technique.empty() ? "" : h.technique + " ", host);
    fmt::print(out, "Host is up{}{}.\n", show_reason_ ? ", received user-set" : "",
               h.srtt_us ? fmt::format(" ({} latency)", latency_text(h.srtt_us)) : "");

    std::string not_shown;
    for (const auto& e : h.extraports)
        for (const auto& r : e.reasons)
            not_shown += fmt::format("{}{} {} {} ports ({})", not_shown.empty() ? "" : ", ", r.ports.size(),
                                     state_name(e.state), protocol_name(r.protocol), r.reason);
    if (h.ports.empty()) {
        fmt::print(out, "All {} scanned ports on {} are in ignored states.\nNot shown: {}\n\n", h.scanned, host,
                   not_shown);
        return;
    }
    if (not_shown.empty()) fmt::print(out, "\n");
    else fmt::print(out, "Not shown: {}\n", not_shown);

    std::vector<std::vector<std::string>> rows;
    rows.push_back({"PORT", "STATE", "SERVICE"});
    if (show_reason_) rows.back().push_back("REASON");
    for (const auto& p : h.ports) {
        rows.push_back({fmt::format("{}/{}", p.port, protocol_name(p.protocol)), std::string(state_name(p.state)),
                        service_name(p.port, p.protocol).value_or("unknown")});
        if (show_reason_)
            rows.back().push_back(p.ttl ? fmt::format("{} ttl {}", p.reason, p.ttl) : std::string(p.reason));
    }
    fmt::print(out, "{}\n", align_columns(rows));
}

void NormalOutput::write_end(std::FILE* out, const ScanInfo&, const ScanSummary& s, std::uint64_t hosts_up) {
    fmt::print(out, "# scanfw {} at {} -- {}\n", done_word(s), date_text(Clock::now()), scanned_text(s, hosts_up));
}

}  // namespace scanfw
