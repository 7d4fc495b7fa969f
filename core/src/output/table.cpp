// The table on stdout: one block per host; with several techniques, one column each.
#include <endian.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <iterator>
#include <optional>
#include <span>
#include <thread>
#include <tuple>

#include <fmt/format.h>

#include "output/output.hpp"

namespace scanfw {

void TableOutput::begin(const ScanInfo& info) {
    hosts_.reserve(std::min<std::uint64_t>(info.targets, 1 << 16));  // no rehashing of a /16
    for (const auto& t : info.techniques) {
        column_.emplace(t.name, techniques_.size());
        techniques_.emplace_back(t.name);
        protocols_.push_back(t.protocol);
    }
}

void TableOutput::on_result(const Result& r) {
    const auto column = column_.find(r.technique);
    if (column == column_.end()) return;  // a technique the scan did not announce
    const auto t = static_cast<std::uint16_t>(column->second);
    Host& host = hosts_[r.host];
    if (r.reason != "no-response") host.responded = true;
    auto tally = std::find_if(host.tallies.begin(), host.tallies.end(),
                              [&](const Tally& x) { return x.technique == t && x.state == r.state; });
    if (tally == host.tallies.end()) tally = host.tallies.insert(tally, Tally{t, r.state, 0, {}});
    ++tally->ports;
    auto reason = std::find_if(tally->reasons.begin(), tally->reasons.end(),
                               [&](const auto& x) { return x.first == r.reason; });
    if (reason == tally->reasons.end()) tally->reasons.emplace_back(r.reason, 1);
    else ++reason->second;
    if (ignored_state(r.state, tally->ports, display_.open_only)) {
        // Summarised, never listed: the first time, forget the ports of this state
        // listed so far; from here on nothing of it is stored.
        if (tally->ports == 26)
            host.listed.erase(std::remove_if(host.listed.begin(), host.listed.end(),
                                             [&](const Entry& e) { return e.technique == t && e.state == r.state; }),
                              host.listed.end());
        return;
    }
    host.listed.push_back(Entry{r.port, r.protocol, r.state, t, r.reason});
}

const TableOutput::Tally* TableOutput::find_tally(const Host& host, std::size_t t, State s) {
    for (const Tally& x : host.tallies)
        if (x.technique == t && x.state == s) return &x;
    return nullptr;
}

bool TableOutput::hidden(const Host& host, std::size_t t, State s) const {
    const Tally* tally = find_tally(host, t, s);
    return ignored_state(s, tally ? tally->ports : 0, display_.open_only);
}

namespace {
// Up to this many hosts, every host gets a block, even one that never answered.
constexpr std::size_t kAlwaysShowHosts = 16;

// The most common reason; on a tie, the first in alphabetical order.
std::string_view top_reason(std::span<const std::pair<std::string_view, std::uint32_t>> reasons) {
    std::string_view best;
    std::uint32_t most = 0;
    for (const auto& [reason, n] : reasons)
        if (n > most || (n == most && reason < best)) {
            best = reason;
            most = n;
        }
    return best;
}
}  // namespace

void TableOutput::print_host(std::string& out, const IpAddress& addr, Host& host) const {
    auto put = std::back_inserter(out);
    const std::size_t n = techniques_.size();
    const auto by_technique_and_state = [](const Tally& a, const Tally& b) {
        return std::pair(a.technique, a.state) < std::pair(b.technique, b.state);
    };
    if (!std::is_sorted(host.tallies.begin(), host.tallies.end(), by_technique_and_state))
        std::sort(host.tallies.begin(), host.tallies.end(), by_technique_and_state);
    // A cell that was summarised away shows its technique's summarised state, when
    // the technique has only one.
    auto only_hidden_state = [&](std::size_t t) {
        std::optional<State> only;
        for (const Tally& tally : host.tallies)
            if (tally.technique == t && hidden(host, t, tally.state)) {
                if (only) return std::optional<State>{};
                only = tally.state;
            }
        return only;
    };
    // Rows: the listed results grouped by port, one cell per technique (a port reported
    // twice keeps its last result).
    const auto by_port = [](const Entry& a, const Entry& b) {
        return std::tuple(a.protocol, a.port, a.technique) < std::tuple(b.protocol, b.port, b.technique);
    };
    if (!std::is_sorted(host.listed.begin(), host.listed.end(), by_port))
        std::stable_sort(host.listed.begin(), host.listed.end(), by_port);
    struct Row {
        Protocol protocol;
        std::uint16_t port;
        std::vector<const Entry*> cells;  // per technique; null: no result listed
    };
    std::vector<Row> shown;
    for (std::size_t i = 0; i < host.listed.size();) {
        Row row{host.listed[i].protocol, host.listed[i].port, std::vector<const Entry*>(n, nullptr)};
        bool hide = true;
        for (; i < host.listed.size() && host.listed[i].protocol == row.protocol && host.listed[i].port == row.port;
             ++i) {
            const Entry& e = host.listed[i];
            row.cells[e.technique] = &e;
            if (e.state != State::Undecided && !hidden(host, e.technique, e.state)) hide = false;
        }
        if (!hide) shown.push_back(std::move(row));
    }
    // Ports scanned on this host: per protocol, the most any technique of it scanned.
    std::uint64_t scanned_tcp = 0, scanned_udp = 0;
    for (std::size_t t = 0; t < n; ++t) {
        std::uint64_t ports = 0;
        for (const Tally& tally : host.tallies)
            if (tally.technique == t) ports += tally.ports;
        std::uint64_t& scanned = protocols_[t] == Protocol::Tcp ? scanned_tcp : scanned_udp;
        scanned = std::max(scanned, ports);
    }
    const std::uint64_t total = scanned_tcp + scanned_udp;
    const std::uint64_t not_shown = total - shown.size();

    if (shown.empty() && display_.open_only) return;  // --open: as nmap, no block for a host with none
    fmt::format_to(put, "scanfw scan report for {}\n", addr.str());
    if (not_shown > 0) {
        std::vector<std::string> parts;
        for (const Tally& tally : host.tallies)
            if (hidden(host, tally.technique, tally.state))
                parts.push_back(n == 1 ? fmt::format("{} {} ports ({})", tally.ports, state_name(tally.state),
                                                     top_reason(tally.reasons))
                                       : fmt::format("{}: {} {}", techniques_[tally.technique], tally.ports,
                                                     state_name(tally.state)));
        std::string joined;
        for (const auto& p : parts) joined += (joined.empty() ? "" : ", ") + p;
        if (n == 1) fmt::format_to(put, "Not shown: {}\n", joined);
        else fmt::format_to(put, "Not shown: {} ports ({})\n", not_shown, joined);
    }
    if (shown.empty()) {
        fmt::format_to(put, "All {} scanned ports are in the states above\n\n", total);
        return;
    }

    // Lay the table out: one line of cells per row, padded to the widest cell per column.
    std::vector<std::vector<std::string>> lines;
    lines.reserve(shown.size() + 1);
    std::vector<std::string> header{"PORT"};
    if (n == 1) header.insert(header.end(), {"STATE", "SERVICE", "REASON"});
    else {
        header.push_back("SERVICE");
        header.insert(header.end(), techniques_.begin(), techniques_.end());
    }
    const std::size_t columns = header.size();
    lines.push_back(std::move(header));
    for (const Row& row : shown) {
        std::vector<std::string> line;
        line.reserve(columns);
        line.push_back(fmt::format("{}/{}", row.port, protocol_name(row.protocol)));
        const std::string service = service_name(row.port, row.protocol).value_or("unknown");
        if (n == 1) {
            line.insert(line.end(), {std::string(state_name(row.cells[0]->state)), service,
                                     std::string(row.cells[0]->reason)});
        } else {
            line.push_back(service);
            for (std::size_t t = 0; t < n; ++t) {
                State state = row.cells[t] ? row.cells[t]->state : State::Undecided;
                const std::string_view reason = row.cells[t] ? row.cells[t]->reason : std::string_view{};
                if (state == State::Undecided && protocols_[t] == row.protocol)
                    if (const auto only = only_hidden_state(t)) state = *only;
                if (state == State::Undecided) line.emplace_back("-");
                else if (display_.show_reason && !reason.empty())
                    line.push_back(fmt::format("{} ({})", state_name(state), reason));
                else line.emplace_back(state_name(state));
            }
        }
        lines.push_back(std::move(line));
    }
    out += align_columns(lines);
    out += '\n';
}

void TableOutput::end(const ScanSummary& s) {
    std::size_t silent = 0;
    // In address order (as IpAddress's <=>: family, then the bytes), sorted by
    // integer keys: comparing the addresses byte by byte was most of the sort.
    using Key = std::tuple<Family, std::uint64_t, std::uint64_t>;
    std::vector<std::pair<Key, std::pair<const IpAddress, Host>*>> order;
    order.reserve(hosts_.size());
    for (auto& entry : hosts_) {
        std::uint64_t hi = 0, lo = 0;
        std::memcpy(&hi, entry.first.bytes.data(), 8);
        std::memcpy(&lo, entry.first.bytes.data() + 8, 8);
        order.push_back({Key{entry.first.family, be64toh(hi), be64toh(lo)}, &entry});
    }
    std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<std::pair<const IpAddress, Host>*> shown;
    for (auto& [key, entry] : order) {
        if (entry->second.responded || hosts_.size() <= kAlwaysShowHosts) shown.push_back(entry);
        else ++silent;
    }
    // Formatting is most of the time here: a chunk of hosts at a time, its two
    // halves on two threads (the scan is over, the cores are free), written in order.
    auto format = [&](std::size_t from, std::size_t to, std::string& text) {
        for (std::size_t i = from; i < to; ++i) print_host(text, shown[i]->first, shown[i]->second);
    };
    constexpr std::size_t kChunk = 8192, kWorthAThread = 512;
    for (std::size_t from = 0; from < shown.size(); from += kChunk) {
        const std::size_t to = std::min(shown.size(), from + kChunk);
        const std::size_t mid = to - from >= kWorthAThread ? from + (to - from) / 2 : to;
        std::string first, second;
        {
            std::jthread helper;
            if (mid < to) helper = std::jthread([&] { format(mid, to, second); });
            format(from, mid, first);
        }
        std::fwrite(first.data(), 1, first.size(), out_);
        std::fwrite(second.data(), 1, second.size(), out_);
    }
    if (silent > 0)
        fmt::print(out_, "{} host(s) gave no response on any port (all filtered or open|filtered)\n", silent);
    fmt::print(out_, "scanfw {}: {} IP address{} scanned with {} technique{}, {} results in {:.2f} seconds\n",
               s.interrupted ? "interrupted" : "done", s.hosts, s.hosts == 1 ? "" : "es", techniques_.size(),
               techniques_.size() == 1 ? "" : "s", s.results, s.seconds);
    std::fflush(out_);
}

}  // namespace scanfw
