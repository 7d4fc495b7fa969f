// The table on stdout: one block per host; with several techniques, one column each.
#include <algorithm>

#include <fmt/format.h>

#include "scanfw/output.hpp"

namespace scanfw {

void TableOutput::begin(const ScanInfo& info) {
    for (const auto& t : info.techniques) {
        column_.emplace(t.name, techniques_.size());
        techniques_.emplace_back(t.name);
        protocols_.push_back(t.protocol);
    }
}

void TableOutput::on_result(const Result& r) {
    const auto column = column_.find(r.technique);
    if (column == column_.end()) return;  // a technique the scan did not announce
    const std::size_t t = column->second;
    Host& host = hosts_[r.host];
    if (r.reason != "no-response") host.responded = true;
    host.tallies.resize(techniques_.size());
    Tally& tally = host.tallies[t][r.state];
    ++tally.ports;
    ++tally.reasons[r.reason];
    if (hidden(host, t, r.state)) {
        // Summarised, never listed: forget the ports of this state listed so far.
        if (tally.ports == 26) {  // the first time: from here on nothing of it is stored
            for (auto it = host.rows.begin(); it != host.rows.end();) {
                if (it->second[t].state == r.state) it->second[t] = Cell{};
                const bool empty = std::all_of(it->second.begin(), it->second.end(),
                                               [](const Cell& c) { return c.state == PortState::Undecided; });
                it = empty ? host.rows.erase(it) : std::next(it);
            }
        }
        return;
    }
    Row& row = host.rows[{r.protocol, r.port}];
    row.resize(techniques_.size());
    row[t] = Cell{r.state, r.reason};
}

bool TableOutput::hidden(const Host& host, std::size_t t, PortState s) const {
    if (t >= host.tallies.size()) return false;
    const auto it = host.tallies[t].find(s);
    return ignored_state(s, it == host.tallies[t].end() ? 0 : it->second.ports, display_.open_only);
}

namespace {
// Up to this many hosts, every host gets a block, even one that never answered.
constexpr std::size_t kAlwaysShowHosts = 16;
}  // namespace

void TableOutput::print_host(const IpAddress& addr, const Host& host) {
    const std::size_t n = techniques_.size();
    // A cell that was summarised away shows its technique's summarised state, when
    // the technique has only one.
    auto only_hidden_state = [&](std::size_t t) {
        std::optional<PortState> only;
        for (const auto& [state, tally] : host.tallies[t])
            if (hidden(host, t, state)) {
                if (only) return std::optional<PortState>{};
                only = state;
            }
        return only;
    };
    std::vector<const std::pair<const std::pair<Protocol, std::uint16_t>, Row>*> shown;
    for (const auto& entry : host.rows) {
        bool hide = true;
        for (std::size_t t = 0; t < n; ++t)
            if (entry.second[t].state != PortState::Undecided && !hidden(host, t, entry.second[t].state)) hide = false;
        if (!hide) shown.push_back(&entry);
    }
    // Ports scanned on this host: per protocol, the most any technique of it scanned.
    std::map<Protocol, std::uint64_t> scanned;
    for (std::size_t t = 0; t < n; ++t) {
        std::uint64_t ports = 0;
        for (const auto& [state, tally] : host.tallies[t]) ports += tally.ports;
        scanned[protocols_[t]] = std::max(scanned[protocols_[t]], ports);
    }
    std::uint64_t total = 0;
    for (const auto& [proto, ports] : scanned) total += ports;
    const std::uint64_t not_shown = total - shown.size();

    if (shown.empty() && display_.open_only) return;  // --open: as nmap, no block for a host with none
    fmt::print(out_, "scanfw scan report for {}\n", addr.str());
    if (not_shown > 0) {
        std::vector<std::string> parts;
        for (std::size_t t = 0; t < n; ++t)
            for (const auto& [state, tally] : host.tallies[t])
                if (hidden(host, t, state)) {
                    const auto& rs = tally.reasons;
                    const auto top = std::max_element(rs.begin(), rs.end(),
                                                      [](auto& a, auto& b) { return a.second < b.second; });
                    parts.push_back(n == 1 ? fmt::format("{} {} ports ({})", tally.ports, state_name(state), top->first)
                                           : fmt::format("{}: {} {}", techniques_[t], tally.ports, state_name(state)));
                }
        std::string joined;
        for (const auto& p : parts) joined += (joined.empty() ? "" : ", ") + p;
        if (n == 1) fmt::print(out_, "Not shown: {}\n", joined);
        else fmt::print(out_, "Not shown: {} ports ({})\n", not_shown, joined);
    }
    if (shown.empty()) {
        fmt::print(out_, "All {} scanned ports are in the states above\n\n", total);
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
            for (std::size_t t = 0; t < n; ++t) {
                Cell c = entry->second[t];
                if (c.state == PortState::Undecided && protocols_[t] == proto)
                    if (const auto state = only_hidden_state(t)) c.state = *state;
                if (c.state == PortState::Undecided) line.emplace_back("-");
                else if (display_.show_reason && !c.reason.empty())
                    line.push_back(fmt::format("{} ({})", state_name(c.state), c.reason));
                else line.emplace_back(state_name(c.state));
            }
        }
        lines.push_back(std::move(line));
    }
    fmt::print(out_, "{}\n", align_columns(lines));
}

void TableOutput::end(const ScanSummary& s) {
    std::size_t silent = 0;
    std::vector<const std::pair<const IpAddress, Host>*> order;
    order.reserve(hosts_.size());
    for (const auto& entry : hosts_) order.push_back(&entry);
    std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->first < b->first; });
    for (const auto* entry : order) {
        const auto& [addr, host] = *entry;
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
