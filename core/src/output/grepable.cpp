// -oG: nmap's grepable lines, "Host: 198.18.0.2 ()\tPorts: 22/open/tcp//ssh///, ...".
#include <fmt/format.h>

#include "output/nmap_common.hpp"

namespace scanfw {

namespace {

// A field of a grepable port entry: a '/' would end it early, so it becomes '|', as
// nmap does (nmap leaves commas alone, and so does this).
std::string grep_field(std::string_view text) {
    std::string out = printable(text);
    for (char& c : out)
        if (c == '/') c = '|';
    return out;
}

class Grepable final : public NmapFormat {
public:
    using NmapFormat::NmapFormat;

private:
    void write_begin(std::FILE* out, const ScanInfo& info) override {
        fmt::print(out, "# {}\n", banner(info));
        if (info.verbosity > 0) {  // as nmap -v: "# Ports scanned: TCP(3;22,80,113) UDP(0;) ..."
            auto scanned = [&](Protocol p) {
                for (const auto& t : info.techniques)
                    if (t.protocol == p) return fmt::format("{};{}", t.ports.size(), port_ranges(t.ports));
                return std::string("0;");
            };
            fmt::print(out, "# Ports scanned: TCP({}) UDP({}) SCTP(0;) PROTOCOLS({})\n", scanned(Protocol::Tcp),
                       scanned(Protocol::Udp), scanned(Protocol::Ip));
        }
    }

    void write_host(std::FILE* out, const HostView& h, const std::vector<HostReport>& reports) override {
        // nmap's grepable output names a host by its reverse DNS name (HostName());
        // scanfw, with -n or none, by the name the user gave.
        const std::string name = !h.status ? "" : !h.status->ptr_name.empty() ? h.status->ptr_name : h.status->hostname;
        const std::string host = fmt::format("Host: {} ({})", h.host.str(), name);
        if (reports.empty()) {
            fmt::print(out, "{}\tStatus: Down\n", host);
            return;
        }
        fmt::print(out, "{}\tStatus: Up\n", host);
        for (const HostReport& r : reports) {
            if (r.scanned == 0) continue;
            std::string ports;
            for (const Result* p : r.ports) {
                // nmap's name as in normal output ("ssl|http", "http-alt?"), empty when
                // nothing names the port.
                const bool named = (p->service && !p->service->name.empty()) || service_name(p->port, p->protocol);
                const std::string service = named ? grep_field(service_column(*p, info().service_detection)) : "";
                const std::string version = p->service ? grep_field(version_text(*p->service)) : "";
                ports += fmt::format("{}{}/{}/{}//{}//{}/", ports.empty() ? "" : ", ", p->port, state_name(p->state),
                                     protocol_name(p->protocol), service, version);
            }
            fmt::print(out, "{}\tPorts: {}", host, ports);
            // Grepable output has room for one ignored state only (as in nmap).
            if (r.extraports.size() == 1)
                fmt::print(out, "\tIgnored State: {} ({})", state_name(r.extraports[0].state), r.extraports[0].count);
            if (!r.technique.empty()) fmt::print(out, "\tTechnique: {}", r.technique);
            fmt::print(out, "\n");
        }
    }

    void write_end(std::FILE* out, const ScanInfo&, const ScanSummary& s) override {
        if (!s.partial.empty()) fmt::print(out, "# {}\n", one_line(s.partial));
        fmt::print(out, "# scanfw {} at {} -- {}\n", done_word(s), date_text(std::chrono::system_clock::now()),
                   scanned_text(s));
    }
};

}  // namespace

std::unique_ptr<Output> make_grepable(const std::string& path, const DisplayOptions& d) {
    return std::make_unique<Grepable>(path, d);
}

}  // namespace scanfw
