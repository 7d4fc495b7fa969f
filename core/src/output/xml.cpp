// -oX: nmap's XML, valid against nmap.dtd.
#include <fmt/format.h>

#include "output/nmap_common.hpp"

namespace scanfw {

namespace {

// Text for inside an XML comment, which may not hold "--": each '-' as nmap writes it.
std::string xml_comment_text(std::string_view text) {
    std::string out;
    for (char c : xml_escape(text)) out += c == '-' ? std::string("&#45;") : std::string(1, c);
    return out;
}

// The scan types nmap.dtd allows in scaninfo, among the technique names.
const char* nmap_scan_type(std::string_view name) {
    static constexpr std::pair<const char*, const char*> kTypes[] = {
        {"syn", "syn"}, {"ack", "ack"}, {"connect", "connect"}, {"null", "null"}, {"xmas", "xmas"},
        {"window", "window"}, {"maimon", "maimon"}, {"fin", "fin"}, {"udp", "udp"}, {"ipproto", "ipproto"}};
    for (const auto& [technique, type] : kTypes)
        if (name == technique) return type;
    return nullptr;
}

void write_service(std::FILE* out, const Result& r) {
    if (r.service) {
        const ServiceInfo& s = *r.service;
        fmt::print(out, "<service name=\"{}\"", xml_escape(s.name.empty() ? "unknown" : s.name));
        for (const auto& [attr, value] : {std::pair{"product", &s.product}, {"version", &s.version},
                                          {"extrainfo", &s.extrainfo}, {"hostname", &s.hostname},
                                          {"ostype", &s.ostype}, {"devicetype", &s.devicetype}})
            if (!value->empty()) fmt::print(out, " {}=\"{}\"", attr, xml_escape(*value));
        if (!s.tunnel.empty()) fmt::print(out, " tunnel=\"{}\"", xml_escape(s.tunnel));
        fmt::print(out, " method=\"{}\" conf=\"{}\"", xml_escape(s.method), s.conf);
        if (s.cpe.empty()) {
            fmt::print(out, "/>");
        } else {
            fmt::print(out, ">");
            for (const auto& c : s.cpe) fmt::print(out, "<cpe>{}</cpe>", xml_escape(c));
            fmt::print(out, "</service>");
        }
        return;
    }
    if (const auto name = service_name(r.port, r.protocol))
        fmt::print(out, "<service name=\"{}\" method=\"table\" conf=\"3\"/>", xml_escape(*name));
}

class Xml final : public NmapFormat {
public:
    using NmapFormat::NmapFormat;

private:
    void write_begin(std::FILE* out, const ScanInfo& info) override {
        const std::string args = info.command_line();
        fmt::print(out,
                   "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                   "<!DOCTYPE nmaprun>\n"
                   "<?xml-stylesheet href=\"file:///usr/share/nmap/nmap.xsl\" type=\"text/xsl\"?>\n"
                   "<!-- scanfw {} scan initiated {} as: {} -->\n"
                   "<nmaprun scanner=\"nmap\" args=\"{}\" start=\"{}\" startstr=\"{}\" version=\"{}\" "
                   "xmloutputversion=\"1.05\">\n",
                   SCANFW_VERSION, date_text(info.started), xml_comment_text(args), xml_escape(args),
                   epoch(info.started), date_text(info.started), SCANFW_VERSION);
        // nmap writes a scaninfo for a ping scan too (type "ping"); one per technique else.
        if (info.techniques.empty() && !info.discovery.empty())
            fmt::print(out, "<!-- host discovery only: {} -->\n", xml_comment_text(fmt::format("{}", fmt::join(info.discovery, ", "))));
        for (const auto& t : info.techniques) {
            if (t.ports.empty()) continue;
            const char* type = nmap_scan_type(t.name);
            if (!type) {
                fmt::print(out, "<!-- technique {}: not a scan type nmap.dtd knows, so no scaninfo -->\n",
                           xml_comment_text(t.name));
                continue;
            }
            fmt::print(out, "<scaninfo type=\"{}\" protocol=\"{}\" numservices=\"{}\" services=\"{}\"/>\n", type,
                       protocol_name(t.protocol), t.ports.size(), port_ranges(t.ports));
        }
        fmt::print(out, "<verbose level=\"{}\"/>\n<debugging level=\"0\"/>\n", std::min(info.verbosity, 5));
    }

    void write_host(std::FILE* out, const HostView& h, const std::vector<HostReport>& reports) override {
        const auto status = [&](std::FILE* o) {
            const HostStatus s = h.status.value_or(HostStatus{});
            fmt::print(o, "<status state=\"{}\" reason=\"{}\" reason_ttl=\"{}\"/>\n", s.up ? "up" : "down",
                       xml_escape(s.reason), s.ttl);
            fmt::print(o, "<address addr=\"{}\" addrtype=\"{}\"/>\n", h.host.str(),
                       h.host.family == Family::V6 ? "ipv6" : "ipv4");
            if (s.mac) {
                const std::string vendor = mac_vendor(*s.mac);
                fmt::print(o, "<address addr=\"{}\" addrtype=\"mac\"{}/>\n", mac_text(*s.mac),
                           vendor == "Unknown" ? "" : fmt::format(" vendor=\"{}\"", xml_escape(vendor)));
            }
            fmt::print(o, "<hostnames>\n");
            if (!s.hostname.empty()) fmt::print(o, "<hostname name=\"{}\" type=\"user\"/>\n", xml_escape(s.hostname));
            if (!s.ptr_name.empty()) fmt::print(o, "<hostname name=\"{}\" type=\"PTR\"/>\n", xml_escape(s.ptr_name));
            fmt::print(o, "</hostnames>\n");
        };
        if (reports.empty()) {  // down
            fmt::print(out, "<host>");
            status(out);
            fmt::print(out, "</host>\n");
            return;
        }
        const auto now = epoch(std::chrono::system_clock::now()), started = epoch(info().started);
        for (const HostReport& r : reports) {
            if (r.scanned == 0) {  // host discovery only
                fmt::print(out, "<host>");
                status(out);
                fmt::print(out, "</host>\n");
                continue;
            }
            fmt::print(out, "<host starttime=\"{}\" endtime=\"{}\"", started, now);
            if (!r.technique.empty()) fmt::print(out, " comment=\"{} scan\"", xml_escape(r.technique));
            fmt::print(out, ">");
            status(out);
            fmt::print(out, "<ports>");
            for (const auto& e : r.extraports) {
                fmt::print(out, "<extraports state=\"{}\" count=\"{}\">\n", state_name(e.state), e.count);
                for (const auto& er : e.reasons)
                    fmt::print(out, "<extrareasons reason=\"{}\" count=\"{}\" proto=\"{}\" ports=\"{}\"/>\n",
                               xml_escape(er.reason), er.ports.size(), protocol_name(er.protocol), port_ranges(er.ports));
                fmt::print(out, "</extraports>\n");
            }
            for (const Result* p : r.ports) {
                fmt::print(out, "<port protocol=\"{}\" portid=\"{}\"><state state=\"{}\" reason=\"{}\" reason_ttl=\"{}\"/>",
                           protocol_name(p->protocol), p->port, state_name(p->state), xml_escape(p->reason), p->ttl);
                write_service(out, *p);
                fmt::print(out, "</port>\n");
            }
            fmt::print(out, "</ports>\n</host>\n");
        }
    }

    void write_end(std::FILE* out, const ScanInfo&, const ScanSummary& s) override {
        const auto now = std::chrono::system_clock::now();
        fmt::print(out,
                   "<runstats><finished time=\"{}\" timestr=\"{}\" summary=\"scanfw {} at {}; {}{}\" elapsed=\"{:.2f}\"",
                   epoch(now), date_text(now), done_word(s), date_text(now), scanned_text(s),
                   s.partial.empty() ? "" : "; " + xml_escape(s.partial), s.seconds);
        if (s.interrupted)
            fmt::print(out, " exit=\"error\" errormsg=\"interrupted: the scan stopped before every port had a result\"");
        else if (!s.partial.empty())
            fmt::print(out, " exit=\"error\" errormsg=\"{}\"", xml_escape(s.partial));
        else
            fmt::print(out, " exit=\"success\"");
        // As nmap's: the hosts concluded, up or down (a host not yet concluded when a
        // scan stopped is neither).
        fmt::print(out, "/><hosts up=\"{}\" down=\"{}\" total=\"{}\"/>\n</runstats>\n</nmaprun>\n", s.up, s.down,
                   s.up + s.down);
    }
};

}  // namespace

std::unique_ptr<Output> make_xml(const std::string& path, const DisplayOptions& d) {
    return std::make_unique<Xml>(path, d);
}

}  // namespace scanfw
