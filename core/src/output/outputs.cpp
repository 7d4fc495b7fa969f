// What every output shares: states, names, escaping, files, the fan-out to the
// outputs and the choice of them. The formats: table.cpp, json.cpp, xml.cpp,
// grepable.cpp, normal.cpp.
#include "output/outputs.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <map>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/errors.hpp"
#include "common/service_names.hpp"

namespace scanfw {

std::string ScanInfo::command_line() const {
    std::string out;
    for (const auto& a : argv) out += (out.empty() ? "" : " ") + a;
    return out;
}

bool possibly_open(State s) { return s == State::Open || s == State::OpenFiltered || s == State::Unfiltered; }

bool ignored_state(State s, std::size_t ports_in_state, bool open_only) {
    if (s == State::Open) return false;
    if (open_only && !possibly_open(s)) return true;
    return ports_in_state > 25;
}

std::optional<std::string> service_name(std::uint16_t port, Protocol proto) {
    const auto name = ServiceNames::get().name(port, proto);
    if (!name) return std::nullopt;
    return std::string(*name);
}

std::string service_column(const Result& r, bool version_scan) {
    const std::string tunnel = r.service && !r.service->tunnel.empty() ? printable(r.service->tunnel) + "/" : "";
    const std::string name = r.service && !r.service->name.empty() ? printable(r.service->name)
                                                                   : service_name(r.port, r.protocol).value_or("");
    if (name.empty() || name == "unknown") return tunnel + "unknown";
    const bool unsure = version_scan && r.state == State::Open && (!r.service || r.service->conf <= 5);
    return tunnel + name + (unsure ? "?" : "");
}

std::string version_text(const ServiceInfo& s) {
    std::string out = printable(s.product);
    if (!s.version.empty()) out += (out.empty() ? "" : " ") + printable(s.version);
    if (!s.extrainfo.empty()) out += (out.empty() ? "(" : " (") + printable(s.extrainfo) + ")";
    return out;
}

std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        const auto b = static_cast<unsigned char>(c);
        out += b >= 0x20 && b < 0x7f ? c : '.';
    }
    return out;
}

std::string date_text(std::chrono::system_clock::time_point t) {
    return fmt::format("{:%a %b %d %H:%M:%S %Y}", fmt::localtime(std::chrono::system_clock::to_time_t(t)));
}

std::string addresses_text(const ScanSummary& s) {
    const std::uint64_t concluded = s.up + s.down;
    const char* noun = s.hosts == 1 ? "IP address" : "IP addresses";
    if (s.interrupted && concluded < s.hosts) return fmt::format("{} of {} {}", concluded, s.hosts, noun);
    return fmt::format("{} {}", s.hosts, noun);
}

double concluded_share(const ScanInfo& info, std::uint64_t results, std::uint64_t up, std::uint64_t down) {
    std::uint64_t per_host = 0;
    for (const auto& t : info.techniques) per_host += t.ports.size();
    const double shards = std::max<std::uint32_t>(info.shards, 1);
    const double total = static_cast<double>(info.targets) * static_cast<double>(std::max<std::uint64_t>(per_host, 1)) / shards;
    const double concluded = per_host == 0 ? static_cast<double>(up + down)
                                           : static_cast<double>(results) + static_cast<double>(down * per_host);
    return total > 0 ? std::clamp(concluded / total, 0.0, 1.0) : 1.0;
}

std::string host_label(const HostView& h) {
    if (h.status && !h.status->hostname.empty()) return fmt::format("{} ({})", printable(h.status->hostname), h.host.str());
    if (h.status && !h.status->ptr_name.empty()) return fmt::format("{} ({})", printable(h.status->ptr_name), h.host.str());
    return h.host.str();
}

std::optional<std::string> rdns_line(const HostView& h) {
    if (!h.status || h.status->hostname.empty() || h.status->ptr_name.empty() ||
        h.status->ptr_name == h.status->hostname)
        return std::nullopt;
    return fmt::format("rDNS record for {}: {}", h.host.str(), printable(h.status->ptr_name));
}

namespace {

// Appends the valid UTF-8 sequences of `text` through `put` (code point, bytes), and
// '?' in place of each byte that starts no valid sequence.
template <typename Put>
void for_each_utf8(std::string_view text, Put put) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto b = static_cast<unsigned char>(text[i]);
        std::size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
        char32_t cp = len == 1 ? b : len == 2 ? b & 0x1F : len == 3 ? b & 0x0F : b & 0x07;
        bool ok = len > 0 && i + len <= text.size();
        for (std::size_t k = 1; ok && k < len; ++k) {
            const auto c = static_cast<unsigned char>(text[i + k]);
            ok = (c >> 6) == 0x2;
            cp = (cp << 6) | (c & 0x3F);
        }
        // Overlong forms, surrogates and values past U+10FFFF are not valid either.
        static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
        ok = ok && cp >= kMin[len] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
        if (ok) {
            put(cp, text.substr(i, len));
            i += len;
        } else {
            put(U'?', std::string_view("?"));
            ++i;
        }
    }
}

}  // namespace

std::string xml_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for_each_utf8(text, [&](char32_t cp, std::string_view bytes) {
        switch (cp) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&apos;"; break;
            case '\t': out += "&#9;"; break;
            case '\n': out += "&#10;"; break;
            case '\r': out += "&#13;"; break;
            default:
                // XML 1.0 has no way to carry other C0 controls, U+FFFE or U+FFFF.
                if (cp < 0x20 || cp == 0xFFFE || cp == 0xFFFF) out += '?';
                else out += bytes;
        }
    });
    return out;
}

std::string json_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for_each_utf8(text, [&](char32_t cp, std::string_view bytes) {
        switch (cp) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (cp < 0x20) out += fmt::format("\\u{:04x}", static_cast<unsigned>(cp));
                else out += bytes;
        }
    });
    return out;
}

std::string port_ranges(const std::vector<std::uint16_t>& sorted_ports) {
    std::string out;
    for (std::size_t i = 0; i < sorted_ports.size();) {
        std::size_t j = i;
        while (j + 1 < sorted_ports.size() && sorted_ports[j + 1] == sorted_ports[j] + 1) ++j;
        if (!out.empty()) out += ',';
        out += j == i ? fmt::format("{}", sorted_ports[i]) : fmt::format("{}-{}", sorted_ports[i], sorted_ports[j]);
        i = j + 1;
    }
    return out;
}

std::string align_columns(const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> width;
    for (const auto& row : rows) {
        width.resize(std::max(width.size(), row.size()), 0);
        for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
    }
    // Cells are ASCII (states, reasons, service and technique names): padded by bytes.
    // A row whose last cells are empty (no VERSION) ends at its last text, as nmap's.
    std::string out;
    for (const auto& row : rows) {
        const std::size_t start = out.size();
        for (std::size_t i = 0; i < row.size(); ++i) {
            out += row[i];
            if (i + 1 < row.size()) out.append(width[i] - row[i].size() + 1, ' ');
        }
        while (out.size() > start && out.back() == ' ') out.pop_back();
        out += '\n';
    }
    return out;
}

OutputFile::OutputFile(const std::string& path, bool append) : path_(path) {
    f_ = path == "-" ? stdout : std::fopen(path.c_str(), append ? "a" : "w");
    if (f_) return;
    const int err = errno;
    // Denied after the switch to the user sudo was run by (or --user): say as whom.
    const std::string as = (err == EACCES || err == EPERM) && getuid() != 0
                               ? fmt::format(" (scanfw writes as uid {}, the user it runs as once its sockets are "
                                             "open; write where that user may, or keep root with --user root)",
                                             getuid())
                               : "";
    throw InputError(fmt::format("cannot write output file '{}': {}{}", path, std::strerror(err), as));
}

void create_output_files(const OutputFiles& files, uid_t uid, gid_t gid) {
    const OutputPaths p = output_paths(files);
    for (const auto* path : {&p.xml, &p.grepable, &p.normal, &p.json}) {
        if (!*path || **path == "-") continue;
        // New files only: an existing one keeps its owner, and the user's rights to it.
        const int fd = ::open((*path)->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) continue;  // exists, or cannot be made: the writer says why, later
        if (fchown(fd, uid, gid) != 0)
            spdlog::debug("output file '{}': cannot give it to uid {}: {}", **path, uid, std::strerror(errno));
        ::close(fd);
    }
}

OutputFile::~OutputFile() {
    if (f_ && f_ != stdout) std::fclose(f_);
}

void OutputFile::flush() {
    if (f_) std::fflush(f_);
}

void OutputFile::close() {
    if (!f_) return;
    const bool failed = std::fflush(f_) != 0 || std::ferror(f_) != 0;
    const bool close_failed = f_ != stdout && std::fclose(f_) != 0;
    f_ = nullptr;
    if (failed || close_failed) throw RuntimeError(fmt::format("writing output file '{}' failed", path_));
}

// What the outputs' spool keeps in memory before it writes a sorted run to disk. It
// adds to everything else a scan holds (the capture ring's 16 MiB, each host's round
// trips, ...): 4 MiB keeps a /16 x 256 ports with the table on stdout within S5's
// 64 MiB; the price is more runs to merge (about 230 of them, merged 16 at a time as
// they come), which costs a second or two at the end.
constexpr std::size_t kSpoolBudget = std::size_t{4} << 20;

void Outputs::count_hosts_once() {
    if (!spool_) spool_ = std::make_unique<Spool>(kSpoolBudget);
}

void Outputs::add(std::unique_ptr<Output> o) {
    if (o->wants_hosts() && !spool_) spool_ = std::make_unique<Spool>(kSpoolBudget);
    outputs_.push_back(std::move(o));
}

Outputs::~Outputs() {
    if (!open_) return;
    ScanSummary s;
    s.hosts = info_.targets;
    s.results = results_;
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    s.interrupted = true;
    try {
        end(s);
    } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
    }
}

void Outputs::begin(const ScanInfo& info) {
    open_ = true;
    info_ = info;
    started_ = std::chrono::steady_clock::now();
    for (auto& o : outputs_) o->begin(info);
}

bool Outputs::count_host(const HostStatus& h) {
    if (resumed_) {
        const auto it = recorded_up_.find(h.host);
        if (it == recorded_up_.end()) {
            if (replaying_) recorded_up_.emplace(h.host, h.up);
        } else {
            if (it->second || !h.up) return false;
            it->second = true;  // down then, up now: counted up instead
            --down_;
        }
    }
    ++(h.up ? up_ : down_);
    return true;
}

void Outputs::on_host(const HostStatus& h) {
    if (!h.update && !count_host(h)) return;
    if (spool_) spool_->add(h);
    for (auto& o : outputs_) o->on_host(h);
}

void Outputs::on_result(const Result& r) {
    ++results_;
    if (spool_) spool_->add(r);
    for (auto& o : outputs_) o->on_result(r);
}

void Outputs::replaying(bool on) {
    replaying_ = on;
    resumed_ = resumed_ || on;
    for (auto& o : outputs_) o->replaying(on);
}

void Outputs::end(ScanSummary s) {
    open_ = false;
    s.up = up_;
    s.down = down_;
    std::exception_ptr first;
    if (spool_) {
        try {
            // Each host once: the counts come from here.
            s.up = s.down = 0;
            spool_->for_each_host([&](const HostView& h) {
                if (h.status) ++(h.status->up ? s.up : s.down);
                else ++s.up;
                for (auto& o : outputs_)
                    if (o->wants_hosts()) o->host(h);
            });
        } catch (...) {
            first = std::current_exception();
        }
        spool_.reset();
    }
    if (s.interrupted) s.done = concluded_share(info_, s.results, s.up, s.down);
    for (auto& o : outputs_) {
        try {
            o->end(s);
        } catch (...) {
            if (!first) first = std::current_exception();
        }
    }
    if (first) std::rethrow_exception(first);
}

OutputPaths output_paths(const OutputFiles& files) {
    auto path = [&](const std::optional<std::string>& given, const char* extension) -> std::optional<std::string> {
        if (given) return given;
        if (files.all) return *files.all + extension;
        return std::nullopt;
    };
    return {path(files.xml, ".xml"), path(files.grepable, ".gnmap"), path(files.normal, ".nmap"),
            path(files.json, ".jsonl")};
}

bool same_file(const std::string& a, const std::string& b) {
    if (a == b) return true;
    if (a == "-" || b == "-") return false;
    std::error_code ea, eb;
    if (std::filesystem::equivalent(a, b, ea)) return true;
    const auto ca = std::filesystem::weakly_canonical(a, ea), cb = std::filesystem::weakly_canonical(b, eb);
    return !ea && !eb && ca == cb;
}

void check_output_files(const OutputFiles& files) {
    if (files.all && *files.all == "-")
        throw InputError("-oA needs a base file name: it writes four files, not stdout");
    const OutputPaths p = output_paths(files);
    int to_stdout = 0;
    std::map<std::string, const char*> seen;
    const std::pair<const std::optional<std::string>*, const char*> named[] = {
        {&p.xml, "-oX"}, {&p.grepable, "-oG"}, {&p.normal, "-oN"}, {&p.json, "-oJ"}};
    for (const auto& [path, flag] : named) {
        if (!*path) continue;
        if (**path == "-") {
            ++to_stdout;
            continue;
        }
        if (const auto [at, fresh] = seen.emplace(**path, flag); !fresh)
            throw InputError(fmt::format("{} and {} would both write '{}', and one would be lost: give each its own "
                                         "file",
                                         at->second, flag, **path));
    }
    if (to_stdout > 1) throw InputError("only one output can go to stdout ('-')");
}

Outputs make_outputs(const OutputFiles& files, const DisplayOptions& display) {
    check_output_files(files);
    const OutputPaths p = output_paths(files);
    const bool to_stdout = (p.xml && *p.xml == "-") || (p.grepable && *p.grepable == "-") ||
                           (p.normal && *p.normal == "-") || (p.json && *p.json == "-");
    Outputs outputs;
    if (p.xml) outputs.add(make_xml(*p.xml, display));
    if (p.grepable) outputs.add(make_grepable(*p.grepable, display));
    if (p.normal) outputs.add(make_normal(*p.normal, display));
    if (p.json) outputs.add(make_json_lines(*p.json, display));
    if (!to_stdout) outputs.add(make_table(stdout, display));
    outputs.table_on_stdout_ = !to_stdout;
    return outputs;
}

}  // namespace scanfw
