// The table on stdout: one block per host; with several techniques, one column each.
#include <algorithm>

#include <fmt/format.h>

#include "scanfw/output.hpp"

namespace scanfw {

void TableOutput::begin(const ScanInfo& info) {
    for (const auto& t : info.techniques) {
        column_.emplace(t.name, techniques_.size());
        techniques_.emplace_back(t.name);
    }
}

void TableOutput::on_result(const Result& r) {
    Host& host = hosts_[r.host];
    Row& row = host.rows[{r.protocol, r.port}];
    row.resize(techniques_.size());
    const auto column = column_.find(r.technique);
    if (column == column_.end()) return;  // a technique the scan did not announce
    row[column->second] = Cell{r.state, r.reason};
    if (r.reason != "no-response") host.responded = true;
}

namespace {
// Up to this many hosts, every host gets a block, even one that never answered.
constexpr std::size_t kAlwaysShowHosts = 16;
}  // namespace

void TableOutput::print_host(const IpAddress& addr, const Host& host) {
    const std::size_t n = techniques_.size();
    // Per technique: how many ports are in each state, and the reason most seen for it.
    std::vector<std::map<PortState, std::size_t>> counts(n);
    std::vector<std::map<PortState, std::map<std::string_view, std::size_t>>> reasons(n);
    for (const auto& [key, row] : host.rows)
        for (std::size_t t = 0; t < n; ++t)
            if (row[t].state != PortState::Undecided) {
                ++counts[t][row[t].state];
                ++reasons[t][row[t].state][row[t].reason];
            }
    auto hidden = [&](std::size_t t, PortState s) {
        return ignored_state(s, counts[t][s], display_.open_only);
    };
    std::vector<const std::pair<const std::pair<Protocol, std::uint16_t>, Row>*> shown;
    std::size_t not_shown = 0;
    for (const auto& entry : host.rows) {
        bool hide = true;
        for (std::size_t t = 0; t < n; ++t)
            if (entry.second[t].state != PortState::Undecided && !hidden(t, entry.second[t].state)) hide = false;
        if (hide) ++not_shown;
        else shown.push_back(&entry);
    }

    if (shown.empty() && display_.open_only) return;  // --open: as nmap, no block for a host with none
    fmt::print(out_, "scanfw scan report for {}\n", addr.str());
    if (not_shown > 0) {
        std::vector<std::string> parts;
        for (std::size_t t = 0; t < n; ++t)
            for (const auto& [state, count] : counts[t])
                if (hidden(t, state)) {
                    const auto& rs = reasons[t][state];
                    const auto top = std::max_element(rs.begin(), rs.end(),
                                                      [](auto& a, auto& b) { return a.second < b.second; });
                    parts.push_back(n == 1 ? fmt::format("{} {} ports ({})", count, state_name(state), top->first)
                                           : fmt::format("{}: {} {}", techniques_[t], count, state_name(state)));
                }
        std::string joined;
        for (const auto& p : parts) joined += (joined.empty() ? "" : ", ") + p;
        if (n == 1) fmt::print(out_, "Not shown: {}\n", joined);
        else fmt::print(out_, "Not shown: {} ports ({})\n", not_shown, joined);
    }
    if (shown.empty()) {
        fmt::print(out_, "All {} scanned ports are in the states above\n\n", host.rows.size());
        return;
    }

    // Lay the table out: one line of cells per row, padded to the widest cell per column.
    std::vector<std::vector<std::string>> lines;
    std::vector<std::string> header{"PORT"};
    if (n == 1) header.insert(header.end(), {"STATE", "SERVICE", "REASON"});
    else {
        header.push_back("SERVICE");
        header.insert(header.end(), techniques_.begin(), techniques_.end());
    }
    lines.push_back(header);
    for (const auto* entry : shown) {
        const auto [proto, port] = entry->first;
        std::vector<std::string> line{fmt::format("{}/{}", port, protocol_name(proto))};
        const std::string service = service_name(port, proto).value_or("unknown");
        if (n == 1) {
            line.insert(line.end(), {std::string(state_name(entry->second[0].state)), service,
                                     std::string(entry->second[0].reason)});
        } else {
            line.push_back(service);
            for (const Cell& c : entry->second) {
                if (c.state == PortState::Undecided) line.emplace_back("-");
                else if (display_.show_reason) line.push_back(fmt::format("{} ({})", state_name(c.state), c.reason));
                else line.emplace_back(state_name(c.state));
            }
        }
        lines.push_back(std::move(line));
    }
    fmt::print(out_, "{}\n", align_columns(lines));
}

void TableOutput::end(const ScanSummary& s) {
    std::size_t silent = 0;
    for (const auto& [addr, host] : hosts_) {
        if (host.responded || hosts_.size() <= kAlwaysShowHosts) print_host(addr, host);
        else ++silent;
    }
    if (silent > 0)
        fmt::print(out_, "{} host(s) gave no response on any port (all filtered or open|filtered)\n", silent);
    fmt::print(out_, "scanfw {}: {} IP address{} scanned with {} technique{}, {} results in {:.2f} seconds\n",
               s.interrupted ? "interrupted" : "done", s.hosts, s.hosts == 1 ? "" : "es", techniques_.size(),
               techniques_.size() == 1 ? "" : "s", s.results, s.seconds);
    std::fflush(out_);
}

}  // namespace scanfw
