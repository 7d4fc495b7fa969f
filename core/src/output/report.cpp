#include "output/report.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <tuple>

#include <absl/container/flat_hash_map.h>
#include <fmt/format.h>

namespace scanfw {

ReportGroups::ReportGroups(const ScanInfo& info) {
    std::map<Protocol, int> per_protocol;
    bool shared = false;
    for (const auto& t : info.techniques)
        if (!t.ports.empty() && ++per_protocol[t.protocol] > 1) shared = true;
    for (std::size_t i = 0; i < info.techniques.size(); ++i) {
        const auto& t = info.techniques[i];
        technique_index_.emplace(t.name, i);
        if (shared || group_name_.empty()) group_name_.push_back(shared ? t.name : "");
        group_of_.push_back(group_name_.size() - 1);
    }
}

std::vector<HostReport> ReportGroups::reports(const HostView& view, bool open_only) const {
    // The host's results by report group.
    std::vector<std::vector<const Result*>> groups(std::max<std::size_t>(group_name_.size(), 1));
    for (const Result& r : view.results) {
        const auto t = technique_index_.find(r.technique);
        if (t == technique_index_.end()) continue;  // a technique the scan did not announce
        groups[group_of_[t->second]].push_back(&r);
    }
    std::vector<HostReport> out;
    for (std::size_t g = 0; g < groups.size(); ++g) {
        auto& ports = groups[g];
        if (ports.empty() && !(g == 0 && view.results.empty())) continue;
        HostReport h;
        h.view = &view;
        h.technique = g < group_name_.size() ? group_name_[g] : "";
        h.scanned = ports.size();
        std::uint64_t rtt = 0, replies = 0;
        for (const Result* r : ports)
            if (r->rtt_us) {
                rtt += r->rtt_us;
                ++replies;
            }
        h.srtt_us = replies ? static_cast<std::uint32_t>(rtt / replies) : view.status ? view.status->rtt_us : 0;
        std::stable_sort(ports.begin(), ports.end(), [](const Result* a, const Result* b) {
            return std::tie(a->protocol, a->port) < std::tie(b->protocol, b->port);
        });
        std::map<State, std::size_t> counts;
        for (const Result* p : ports) ++counts[p->state];
        // nmap's order for the summarised states.
        for (State s : {State::Closed, State::Filtered, State::Unfiltered, State::OpenFiltered})
            if (counts[s] > 0 && ignored_state(s, counts[s], open_only)) h.extraports.push_back({s, counts[s], {}});
        for (const Result* p : ports) {
            const auto extra = std::find_if(h.extraports.begin(), h.extraports.end(),
                                            [&](const auto& e) { return e.state == p->state; });
            if (extra == h.extraports.end()) {
                h.ports.push_back(p);
                continue;
            }
            auto reason = std::find_if(extra->reasons.begin(), extra->reasons.end(), [&](const auto& r) {
                return r.reason == p->reason && r.protocol == p->protocol;
            });
            if (reason == extra->reasons.end()) {
                extra->reasons.push_back({p->reason, p->protocol, {}});
                reason = std::prev(extra->reasons.end());
            }
            reason->ports.push_back(p->port);
        }
        for (auto& e : h.extraports)
            std::stable_sort(e.reasons.begin(), e.reasons.end(),
                             [](const auto& a, const auto& b) { return a.ports.size() > b.ports.size(); });
        if (open_only && h.ports.empty()) continue;  // --open: as nmap, a host with none is left out
        out.push_back(std::move(h));
    }
    return out;
}

std::string latency_text(std::uint32_t us) {
    const double s = us / 1e6;
    const int decimals = std::max(0, 1 - static_cast<int>(std::floor(std::log10(s))));
    return fmt::format("{:.{}f}s", s, decimals);
}

std::string mac_vendor(const MacAddress& mac) {
    // nmap-mac-prefixes: "9C04EB Apple" lines, read once at first use.
    static const auto vendors = [] {
        absl::flat_hash_map<std::uint32_t, std::string> v;
        std::ifstream in("/usr/share/nmap/nmap-mac-prefixes");
        for (std::string line; std::getline(in, line);) {
            if (line.size() < 8 || line[0] == '#') continue;
            try {
                v.emplace(static_cast<std::uint32_t>(std::stoul(line.substr(0, 6), nullptr, 16)), line.substr(7));
            } catch (const std::exception&) {
            }
        }
        return v;
    }();
    const auto it = vendors.find(std::uint32_t(mac[0]) << 16 | std::uint32_t(mac[1]) << 8 | mac[2]);
    return it == vendors.end() ? "Unknown" : it->second;
}

}  // namespace scanfw
