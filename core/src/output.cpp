#include "scanfw/output.hpp"

#include <netdb.h>
#include <netinet/in.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "scanfw/engine.hpp"
#include "scanfw/ports.hpp"

namespace scanfw {

std::string_view state_name(PortState s) {
    switch (s) {
        case PortState::Open: return "open";
        case PortState::Closed: return "closed";
        case PortState::Filtered: return "filtered";
        case PortState::Unfiltered: return "unfiltered";
        case PortState::OpenFiltered: return "open|filtered";
        case PortState::Undecided: break;
    }
    return "unknown";
}

std::string_view protocol_name(Protocol p) { return p == Protocol::Tcp ? "tcp" : "udp"; }

std::string service_name(std::uint16_t port, Protocol proto) {
    // getservbyport() is not thread-safe; outputs print from one thread.
    const servent* s = getservbyport(htons(port), proto == Protocol::Tcp ? "tcp" : "udp");
    return s ? s->s_name : "unknown";
}

OutputFile::OutputFile(const std::string& path) : path_(path) {
    f_ = path == "-" ? stdout : std::fopen(path.c_str(), "w");
    if (!f_) throw InputError(fmt::format("cannot write output file '{}': {}", path, std::strerror(errno)));
}

OutputFile::~OutputFile() {
    if (f_ && f_ != stdout) std::fclose(f_);
}

void OutputFile::close() {
    if (!f_) return;
    const bool failed = std::fflush(f_) != 0 || std::ferror(f_) != 0;
    if (f_ != stdout) std::fclose(f_);
    f_ = nullptr;
    if (failed) throw RuntimeError(fmt::format("writing output file '{}' failed", path_));
}

void JsonLinesOutput::on_result(const Result& r) {
    // Every field is a plain token (address, name, state), so no escaping is needed.
    fmt::print(file_.get(),
               R"({{"host":"{}","port":{},"protocol":"{}","technique":"{}","state":"{}","reason":"{}")",
               r.host.str(), r.port, protocol_name(r.protocol), r.technique, state_name(r.state), r.reason);
    if (r.ttl) fmt::print(file_.get(), R"(,"ttl":{})", r.ttl);
    if (r.rtt_us) fmt::print(file_.get(), R"(,"rtt_us":{})", r.rtt_us);
    std::fputs("}\n", file_.get());
}

void TableOutput::begin(const ScanInfo& info) {
    for (const auto& p : info.plugins) {
        column_.emplace(p->info().name, techniques_.size());
        techniques_.emplace_back(p->info().name);
    }
}

void TableOutput::on_result(const Result& r) {
    Host& host = hosts_[r.host];
    Row& row = host.rows[{r.protocol, r.port}];
    row.resize(techniques_.size());
    row[column_.at(r.technique)] = Cell{r.state, r.reason};
    if (r.reason != "no-response") host.responded = true;
}

namespace {
// nmap hides a non-open state when more than this many ports share it.
constexpr std::size_t kHideThreshold = 25;
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
        return s != PortState::Open && counts[t][s] > kHideThreshold;
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
        const std::string service = service_name(port, proto);
        if (n == 1) {
            line.insert(line.end(), {std::string(state_name(entry->second[0].state)), service,
                                     std::string(entry->second[0].reason)});
        } else {
            line.push_back(service);
            for (const Cell& c : entry->second) {
                if (c.state == PortState::Undecided) line.emplace_back("-");
                else if (show_reason_) line.push_back(fmt::format("{} ({})", state_name(c.state), c.reason));
                else line.emplace_back(state_name(c.state));
            }
        }
        lines.push_back(std::move(line));
    }
    std::vector<std::size_t> width(header.size(), 0);
    for (const auto& l : lines)
        for (std::size_t i = 0; i < l.size(); ++i) width[i] = std::max(width[i], l[i].size());
    for (const auto& l : lines) {
        std::string text;
        for (std::size_t i = 0; i < l.size(); ++i)
            text += i + 1 == l.size() ? l[i] : fmt::format("{:<{}} ", l[i], width[i]);
        fmt::print(out_, "{}\n", text);
    }
    fmt::print(out_, "\n");
}

void TableOutput::end(const ScanSummary& s) {
    std::size_t silent = 0;
    for (const auto& [addr, host] : hosts_) {
        if (host.responded || hosts_.size() <= kAlwaysShowHosts) print_host(addr, host);
        else ++silent;
    }
    if (silent > 0) fmt::print(out_, "{} host(s) gave no response on any port (all filtered or open|filtered)\n", silent);
    fmt::print(out_, "scanfw done: {} IP address{} scanned with {} technique{}, {} results in {:.2f} seconds\n",
               s.hosts, s.hosts == 1 ? "" : "es", techniques_.size(), techniques_.size() == 1 ? "" : "s", s.results,
               s.seconds);
    std::fflush(out_);
}

}  // namespace scanfw
