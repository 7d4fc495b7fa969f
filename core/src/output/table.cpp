// The table on stdout: one block per host in address order; with several techniques,
// one column each, side by side.
#include <algorithm>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "output/outputs.hpp"
#include "output/report.hpp"

namespace scanfw {

namespace {

// Up to this many hosts, every host scanned with -Pn gets a block, even one that never
// answered; beyond, those are counted in one line.
constexpr std::size_t kAlwaysShowHosts = 16;

// The most common reason of these results; on a tie, the first in alphabetical order.
std::string_view top_reason(const std::vector<const Result*>& results) {
    std::map<std::string_view, std::size_t> counts;
    for (const Result* r : results) ++counts[r->reason];
    std::string_view best;
    std::size_t most = 0;
    for (const auto& [reason, n] : counts)
        if (n > most) {
            best = reason;
            most = n;
        }
    return best;
}

std::string plural(std::uint64_t n, std::string_view one, std::string_view many) {
    return fmt::format("{} {}", n, n == 1 ? one : many);
}

class Table final : public Output {
public:
    Table(std::FILE* out, const DisplayOptions& d) : out_(out), display_(d) {}
    bool wants_hosts() const override { return true; }

    void begin(const ScanInfo& info) override {
        info_ = info;
        for (const auto& t : info_.techniques) column_.emplace(t.name, column_.size());
    }

    void host(const HostView& h) override {
        ++hosts_;
        const bool up = !h.status || h.status->up;
        if (!up) return;  // down hosts are counted in the last line
        const bool assumed_up = !h.status || h.status->reason == "user-set";  // -Pn
        if (assumed_up && !h.results.empty() && silent(h) && !few_hosts()) {  // no answer at all
            ++silent_;
            return;
        }
        const std::string text = block(h);
        std::fwrite(text.data(), 1, text.size(), out_);
    }

    void end(const ScanSummary& s) override {
        if (silent_ > 0)
            fmt::print(out_, "{} gave no response on any port (all filtered or open|filtered)\n",
                       plural(silent_, "host", "hosts"));
        if (!s.partial.empty()) fmt::print(out_, "{}\n", s.partial);
        const std::size_t n = info_.techniques.size();
        fmt::print(out_, "scanfw {}: {} ({} up) scanned", s.interrupted ? "interrupted" : "done", addresses_text(s),
                   plural(s.up, "host", "hosts"));
        if (n > 0) fmt::print(out_, " with {}, {}", plural(n, "technique", "techniques"), plural(s.results, "result", "results"));
        fmt::print(out_, " in {:.2f} seconds\n", s.seconds);
        std::fflush(out_);
    }

private:
    bool few_hosts() const { return info_.targets <= kAlwaysShowHosts; }
    static bool silent(const HostView& h) {
        return std::all_of(h.results.begin(), h.results.end(), [](const Result& r) { return r.reason == "no-response"; });
    }

    std::string block(const HostView& h) {
        const std::size_t n = info_.techniques.size();
        // Each technique's results by state, to know which states are summarised.
        std::map<std::pair<std::size_t, State>, std::vector<const Result*>> by_state;
        std::map<std::tuple<Protocol, std::uint16_t>, std::vector<const Result*>> rows;  // cells per technique
        for (const Result& r : h.results) {
            const auto c = column_.find(r.technique);
            if (c == column_.end()) continue;
            by_state[{c->second, r.state}].push_back(&r);
            auto& row = rows[{r.protocol, r.port}];
            row.resize(n, nullptr);
            row[c->second] = &r;  // a port reported twice keeps its last result
        }
        auto hidden = [&](std::size_t t, State s) {
            const auto it = by_state.find({t, s});
            return ignored_state(s, it == by_state.end() ? 0 : it->second.size(), display_.open_only);
        };
        // A row is shown when any of its cells is; the rest are summarised, per technique
        // and state, so that the counts add up to the ports not shown.
        std::vector<std::pair<std::tuple<Protocol, std::uint16_t>, const std::vector<const Result*>*>> shown;
        std::map<std::pair<std::size_t, State>, std::vector<const Result*>> not_shown;
        std::size_t rows_hidden = 0;
        for (const auto& [key, cells] : rows) {
            const bool show = std::any_of(cells.begin(), cells.end(), [&](const Result* c) {
                return c && !hidden(column_.at(std::string(c->technique)), c->state);
            });
            if (show) {
                shown.emplace_back(key, &cells);
                continue;
            }
            ++rows_hidden;
            for (std::size_t t = 0; t < n; ++t)
                if (cells[t]) not_shown[{t, cells[t]->state}].push_back(cells[t]);
        }
        if (shown.empty() && display_.open_only && n > 0) return {};  // --open: as nmap, no block for a host with none

        std::string out = fmt::format("scanfw scan report for {}\n", host_label(h));
        if (h.status) {
            std::uint64_t rtt = 0, replies = 0;
            for (const Result& r : h.results)
                if (r.rtt_us) {
                    rtt += r.rtt_us;
                    ++replies;
                }
            const std::uint32_t latency = replies ? static_cast<std::uint32_t>(rtt / replies) : h.status->rtt_us;
            out += fmt::format("Host is up{}{}.\n", display_.show_reason ? ", received " + std::string(h.status->reason) : "",
                               latency ? fmt::format(" ({} latency)", latency_text(latency)) : "");
            if (const auto rdns = rdns_line(h)) out += *rdns + "\n";
        }
        if (rows_hidden > 0) {
            std::vector<std::string> parts;
            for (const auto& [key, results] : not_shown)
                parts.push_back(n == 1 ? fmt::format("{} ({})", plural(results.size(), std::string(state_name(key.second)) + " port",
                                                                       std::string(state_name(key.second)) + " ports"),
                                                     top_reason(results))
                                       : fmt::format("{}: {} {}", info_.techniques[key.first].name, results.size(),
                                                     state_name(key.second)));
            std::string joined;
            for (const auto& p : parts) joined += (joined.empty() ? "" : ", ") + p;
            if (n == 1) out += fmt::format("Not shown: {}\n", joined);
            else out += fmt::format("Not shown: {} ({})\n", plural(rows_hidden, "port", "ports"), joined);
        }
        if (shown.empty() && n > 0) {
            out += fmt::format("All {} scanned are in the states above\n", plural(rows.size(), "port", "ports"));
        } else if (!shown.empty()) {
            const bool versions = info_.service_detection;
            std::vector<std::vector<std::string>> lines;
            std::vector<std::string> header{"PORT"};
            if (n == 1) header.insert(header.end(), {"STATE", "SERVICE"});
            else header.push_back("SERVICE");
            if (n == 1) header.push_back("REASON");
            else
                for (const auto& t : info_.techniques) header.push_back(t.name);
            if (versions) header.push_back("VERSION");
            lines.push_back(std::move(header));
            for (const auto& [key, cells] : shown) {
                const auto& [protocol, port] = key;
                const Result* first = *std::find_if(cells->begin(), cells->end(), [](const Result* c) { return c; });
                const Result* with_service = first;
                for (const Result* c : *cells)
                    if (c && c->service) with_service = c;
                std::vector<std::string> line{protocol == Protocol::Ip ? fmt::format("{}/ip", port)
                                                                       : fmt::format("{}/{}", port, protocol_name(protocol))};
                if (n == 1) {
                    line.insert(line.end(), {std::string(state_name(first->state)), service_column(*with_service, versions),
                                             std::string(first->reason)});
                } else {
                    line.push_back(service_column(*with_service, versions));
                    for (std::size_t t = 0; t < n; ++t) {
                        const Result* c = (*cells)[t];
                        if (!c) line.emplace_back("-");
                        else if (display_.show_reason && !c->reason.empty())
                            line.push_back(fmt::format("{} ({})", state_name(c->state), c->reason));
                        else line.emplace_back(state_name(c->state));
                    }
                }
                if (versions) line.push_back(with_service->service ? version_text(*with_service->service) : "");
                lines.push_back(std::move(line));
            }
            out += align_columns(lines);
        }
        if (h.status && h.status->mac)
            out += fmt::format("MAC Address: {} ({})\n", mac_text(*h.status->mac), mac_vendor(*h.status->mac));
        if (n > 0) out += '\n';
        return out;
    }

    std::FILE* out_;
    DisplayOptions display_;
    ScanInfo info_;
    std::map<std::string, std::size_t, std::less<>> column_;
    std::uint64_t hosts_ = 0, silent_ = 0;
};

}  // namespace

std::unique_ptr<Output> make_table(std::FILE* out, const DisplayOptions& d) { return std::make_unique<Table>(out, d); }

}  // namespace scanfw
