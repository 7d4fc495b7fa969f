// -oN: nmap's normal output, a PORT STATE SERVICE [VERSION] [REASON] table per host.
#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "output/nmap_common.hpp"

namespace scanfw {

namespace {

class Normal final : public NmapFormat {
public:
    using NmapFormat::NmapFormat;

private:
    void write_begin(std::FILE* out, const ScanInfo& info) override { fmt::print(out, "# {}\n", banner(info)); }

    void write_host(std::FILE* out, const HostView& h, const std::vector<HostReport>& reports) override {
        const bool reason = display().show_reason;
        const std::string label = host_label(h);
        if (reports.empty()) {
            fmt::print(out, "scanfw scan report for {} [host down{}]\n", label,
                       reason && h.status ? ", received " + std::string(h.status->reason) : "");
            return;
        }
        const HostStatus s = h.status.value_or(HostStatus{});
        for (const HostReport& r : reports) {
            fmt::print(out, "scanfw {}scan report for {}\n", r.technique.empty() ? "" : r.technique + " ", label);
            fmt::print(out, "Host is up{}{}.\n", reason ? ", received " + std::string(s.reason) : "",
                       r.srtt_us ? fmt::format(" ({} latency)", latency_text(r.srtt_us)) : "");
            if (const auto rdns = rdns_line(h)) fmt::print(out, "{}\n", *rdns);
            if (r.scanned > 0) write_ports(out, h, r);
            if (s.mac) fmt::print(out, "MAC Address: {} ({})\n", mac_text(*s.mac), mac_vendor(*s.mac));
            write_service_info(out, r);
            if (r.scanned > 0) fmt::print(out, "\n");
        }
    }

    void write_ports(std::FILE* out, const HostView& h, const HostReport& r) {
        const bool reason = display().show_reason;
        std::string not_shown;
        for (const auto& e : r.extraports)
            for (const auto& er : e.reasons)
                not_shown += fmt::format("{}{} {} {} ports ({})", not_shown.empty() ? "" : ", ", er.ports.size(),
                                         state_name(e.state), protocol_name(er.protocol), er.reason);
        if (r.ports.empty()) {
            fmt::print(out, "All {} scanned ports on {} are in ignored states.\nNot shown: {}\n", r.scanned,
                       host_label(h), not_shown);
            return;
        }
        if (not_shown.empty()) fmt::print(out, "\n");
        else fmt::print(out, "Not shown: {}\n", not_shown);
        const bool versions = info().service_detection;
        const bool ip = !r.ports.empty() && r.ports.front()->protocol == Protocol::Ip;
        std::vector<std::vector<std::string>> rows;
        rows.push_back({ip ? "PROTOCOL" : "PORT", "STATE", "SERVICE"});
        if (reason) rows.back().push_back("REASON");
        if (versions) rows.back().push_back("VERSION");
        for (const Result* p : r.ports) {
            rows.push_back({p->protocol == Protocol::Ip ? fmt::format("{}", p->port)
                                                        : fmt::format("{}/{}", p->port, protocol_name(p->protocol)),
                             std::string(state_name(p->state)), service_column(*p, versions)});
            if (reason) rows.back().push_back(p->ttl ? fmt::format("{} ttl {}", p->reason, p->ttl) : std::string(p->reason));
            if (versions) rows.back().push_back(p->service ? version_text(*p->service) : "");
        }
        fmt::print(out, "{}", align_columns(rows));
    }

    // nmap's "Service Info: Host: ...; OS: ...; CPE: ..." line after the ports: each
    // value once, in the order of the ports that first give it, as nmap lists them.
    static void write_service_info(std::FILE* out, const HostReport& r) {
        std::vector<std::string> hosts, oses, devices, cpes;
        auto insert = [](std::vector<std::string>& v, std::string text) {
            if (std::find(v.begin(), v.end(), text) == v.end()) v.push_back(std::move(text));
        };
        for (const Result* p : r.ports) {
            if (!p->service) continue;
            if (!p->service->hostname.empty()) insert(hosts, printable(p->service->hostname));
            if (!p->service->ostype.empty()) insert(oses, printable(p->service->ostype));
            if (!p->service->devicetype.empty()) insert(devices, printable(p->service->devicetype));
            for (const auto& c : p->service->cpe)
                if (c.rfind("cpe:/o", 0) == 0) insert(cpes, printable(c));
        }
        std::string parts;
        auto add = [&](const char* one, const char* many, const std::vector<std::string>& v) {
            if (v.empty()) return;
            parts += fmt::format("{}{}: {}", parts.empty() ? "" : "; ", v.size() == 1 ? one : many, fmt::join(v, ", "));
        };
        add("Host", "Hosts", hosts);
        add("OS", "OSs", oses);
        add("Device", "Devices", devices);
        add("CPE", "CPE", cpes);
        if (!parts.empty()) fmt::print(out, "Service Info: {}\n", parts);
    }

    void write_end(std::FILE* out, const ScanInfo& info, const ScanSummary& s) override {
        if (info.service_detection)
            fmt::print(out, "Service detection performed with nmap's service probes.\n");
        if (!s.partial.empty()) fmt::print(out, "{}\n", s.partial);
        fmt::print(out, "# scanfw {} at {} -- {}\n", done_word(s), date_text(std::chrono::system_clock::now()),
                   scanned_text(s));
    }
};

}  // namespace

std::unique_ptr<Output> make_normal(const std::string& path, const DisplayOptions& d) {
    return std::make_unique<Normal>(path, d);
}

}  // namespace scanfw
