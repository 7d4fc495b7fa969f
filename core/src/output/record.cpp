// -oJ, the scan's record: the writer, and the reader --resume and merge use.
#include "output/record.hpp"

#include <filesystem>
#include <fstream>
#include <map>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/errors.hpp"
#include "common/intern.hpp"
#include "targets/ports.hpp"

namespace scanfw {

using nlohmann::json;

namespace {

std::string utc(std::chrono::system_clock::time_point t) {
    return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(t)));
}

std::string json_text(std::string_view s) { return fmt::format("\"{}\"", json_escape(s)); }

std::string json_list(const std::vector<std::string>& items) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + json_text(items[i]);
    return out + "]";
}

Protocol protocol_of(std::string_view name, const std::string& where) {
    if (name == "tcp") return Protocol::Tcp;
    if (name == "udp") return Protocol::Udp;
    if (name == "ip") return Protocol::Ip;
    throw InputError(fmt::format("{}: unknown protocol '{}'", where, name));
}

State state_of(std::string_view name, const std::string& where) {
    for (State s : {State::Open, State::Closed, State::Filtered, State::Unfiltered, State::OpenFiltered, State::Up,
                    State::Down})
        if (state_name(s) == name) return s;
    throw InputError(fmt::format("{}: unknown state '{}'", where, name));
}

}  // namespace

std::string header_json(const ScanInfo& info) {
    std::string techniques;
    for (const auto& t : info.techniques)
        techniques += fmt::format(R"({}{{"name":{},"protocol":"{}","ports":"{}"}})", techniques.empty() ? "" : ",",
                                  json_text(t.name), protocol_name(t.protocol), port_ranges(t.ports));
    std::string out = fmt::format(
        R"({{"type":"scan","scanner":"scanfw","version":"{}","argv":{},"start":"{}","techniques":[{}],)"
        R"("targets":{},"targets_digest":"{}","targets_count":{},"discovery":{},"service_detection":{})",
        SCANFW_VERSION, json_list(info.argv), utc(info.started), techniques, json_text(info.targets_text),
        info.targets_digest, info.targets, json_list(info.discovery), info.service_detection);
    if (info.seed) out += fmt::format(R"(,"seed":{})", *info.seed);
    if (info.shards > 1) out += fmt::format(R"(,"shard":"{}/{}","shard_unit":"{}")", info.shard, info.shards, info.shard_unit);
    return out + "}";
}

ScanInfo parse_header_json(const std::string& line, const std::string& where) {
    const auto j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("type", "") != "scan")
        throw InputError(fmt::format("{}: not the first line of a scanfw record (-oJ of scanfw 0.2 or later)", where));
    ScanInfo info;
    try {
        for (const auto& a : j.at("argv")) info.argv.push_back(a.get<std::string>());
        for (const auto& t : j.at("techniques")) {
            ScanTechnique st;
            st.name = t.at("name").get<std::string>();
            st.protocol = protocol_of(t.at("protocol").get<std::string>(), where);
            const std::string ports = t.at("ports").get<std::string>();
            if (!ports.empty()) {
                const PortSpec spec = parse_ports(ports);
                st.ports = spec.tcp;
            }
            info.techniques.push_back(std::move(st));
        }
        info.targets_text = j.value("targets", "");
        info.targets_digest = j.value("targets_digest", "");
        info.targets = j.value("targets_count", std::uint64_t{0});
        for (const auto& d : j.value("discovery", json::array())) info.discovery.push_back(d.get<std::string>());
        info.service_detection = j.value("service_detection", false);
        if (j.contains("seed")) info.seed = j.at("seed").get<std::uint64_t>();
        if (j.contains("shard")) {
            const std::string shard = j.at("shard").get<std::string>();
            if (std::sscanf(shard.c_str(), "%u/%u", &info.shard, &info.shards) != 2)
                throw InputError(fmt::format("{}: bad shard '{}'", where, shard));
            info.shard_unit = j.value("shard_unit", "pair");
        }
        const std::string start = j.value("start", "");
        std::tm tm{};
        if (strptime(start.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm))
            info.started = std::chrono::system_clock::from_time_t(timegm(&tm));
    } catch (const json::exception& e) {
        throw InputError(fmt::format("{}: the record's first line lacks a field: {}", where, e.what()));
    } catch (const InputError& e) {
        throw InputError(fmt::format("{}: {}", where, e.what()));
    }
    return info;
}

RecordHeader RecordReader::header(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw InputError(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
    std::string line;
    if (!std::getline(in, line)) throw InputError(fmt::format("{}: empty: no scanfw record in it", path));
    return {parse_header_json(line, fmt::format("{}:1", path)), path};
}

namespace {
RecordSummary summary_from(const json& j) {
    RecordSummary s;
    s.interrupted = j.value("interrupted", false);
    s.done = j.value("done", s.interrupted ? 0.0 : 1.0);
    s.seconds = j.value("elapsed", 0.0);
    s.hosts = j.value("hosts", std::uint64_t{0});
    s.results = j.value("results", std::uint64_t{0});
    return s;
}

// The last `bytes` of `path`, or all of it.
std::string file_tail(const std::string& path, std::streamoff bytes) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
    in.seekg(0, std::ios::end);
    const std::streamoff size = in.tellg();
    const std::streamoff from = std::max<std::streamoff>(0, size - bytes);
    in.seekg(from);
    std::string tail(static_cast<std::size_t>(size - from), '\0');
    in.read(tail.data(), size - from);
    return tail;
}

// The last line of `path` (of its last 64 KiB), without its newline.
std::string last_line(const std::string& path) {
    std::string tail = file_tail(path, 65536);
    while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) tail.pop_back();
    const auto nl = tail.rfind('\n');
    return nl == std::string::npos ? tail : tail.substr(nl + 1);
}
}  // namespace

std::optional<RecordSummary> RecordReader::summary(const std::string& path) {
    const auto j = json::parse(last_line(path), nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("type", "") != "summary") return std::nullopt;
    return summary_from(j);
}

void RecordReader::read(const std::string& path, const Callbacks& cb) {
    std::ifstream in(path);
    if (!in) throw InputError(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
    std::string line, next;
    bool have = static_cast<bool>(std::getline(in, line));
    for (std::size_t n = 1; have; ++n) {
        const bool last = !std::getline(in, next);
        const std::string where = fmt::format("{}:{}", path, n);
        if (line.find_first_not_of(" \t\r") == std::string::npos) {
            line.swap(next);
            have = !last;
            continue;
        }
        if (n == 1) {
            const ScanInfo info = parse_header_json(line, where);
            if (cb.header) cb.header(RecordHeader{info, path});
            line.swap(next);
            have = !last;
            continue;
        }
        const auto j = json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object()) {
            if (last) {  // cut short by a kill: everything before it stands
                spdlog::warn("{}: the last line is cut short; skipped", where);
                break;
            }
            throw InputError(fmt::format("{}: not a JSON object (is this scanfw's -oJ output?)", where));
        }
        try {
            const std::string type = j.value("type", "");
            if (type == "summary") {
                if (cb.summary) cb.summary(summary_from(j));
            } else if (type == "host") {
                HostStatus h;
                const auto a = IpAddress::parse(j.at("host").get<std::string>());
                if (!a) throw InputError(fmt::format("{}: bad host address", where));
                h.host = *a;
                h.up = j.at("status").get<std::string>() == "up";
                h.reason = intern(j.value("reason", ""));
                h.ttl = static_cast<std::uint8_t>(j.value("ttl", 0));
                h.rtt_us = j.value("rtt_us", 0u);
                h.hostname = j.value("hostname", "");
                h.ptr_name = j.value("ptr", "");
                h.update = j.value("update", false);
                if (j.contains("mac")) {
                    unsigned b[6];
                    if (std::sscanf(j.at("mac").get<std::string>().c_str(), "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2],
                                    &b[3], &b[4], &b[5]) == 6) {
                        MacAddress m;
                        for (int i = 0; i < 6; ++i) m[i] = static_cast<std::uint8_t>(b[i]);
                        h.mac = m;
                    }
                }
                if (cb.host) cb.host(h);
            } else if (type.empty() && j.contains("port")) {
                Result r;
                const auto a = IpAddress::parse(j.at("host").get<std::string>());
                const auto port = j.at("port").get<std::uint64_t>();
                if (!a || port > 65535) throw InputError(fmt::format("{}: bad host or port", where));
                r.host = *a;
                r.port = static_cast<std::uint16_t>(port);
                r.protocol = protocol_of(j.at("protocol").get<std::string>(), where);
                r.technique = intern(j.at("technique").get<std::string>());
                r.state = state_of(j.at("state").get<std::string>(), where);
                r.reason = intern(j.value("reason", ""));
                r.ttl = static_cast<std::uint8_t>(j.value("ttl", 0));
                r.rtt_us = j.value("rtt_us", 0u);
                if (j.contains("service")) {
                    ServiceInfo s;
                    s.name = j.value("service", "");
                    s.product = j.value("product", "");
                    s.version = j.value("version", "");
                    s.extrainfo = j.value("extrainfo", "");
                    s.hostname = j.value("service_hostname", "");
                    s.ostype = j.value("ostype", "");
                    s.devicetype = j.value("devicetype", "");
                    s.tunnel = j.value("tunnel", "");
                    s.method = j.value("method", "probed");
                    s.conf = j.value("conf", 10);
                    for (const auto& c : j.value("cpe", json::array())) s.cpe.push_back(c.get<std::string>());
                    r.service = std::make_shared<const ServiceInfo>(std::move(s));
                }
                if (cb.result) cb.result(r);
            } else {
                throw InputError(fmt::format("{}: not a line of a scanfw record", where));
            }
        } catch (const json::exception& e) {
            throw InputError(fmt::format("{}: a field is missing or of the wrong type: {}", where, e.what()));
        }
        line.swap(next);
        have = !last;
    }
}

namespace {

// A record to be continued (--resume): its summary, and a last line a kill cut short,
// are cut off, so that what is appended follows its last whole result.
std::string without_summary(const std::string& path) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    if (!f) return path;  // opening it to append reports the problem
    f.seekg(0, std::ios::end);
    const std::streamoff size = f.tellg();
    std::streamoff keep = size;
    // Look at the last lines, from the end: at most the summary and one cut-short line.
    for (int lines = 0; lines < 2 && keep > 0; ++lines) {
        std::streamoff start = keep - 1;
        if (start > 0) {
            // The line ends at keep (exclusive); find where it begins.
            std::streamoff p = start - 1;
            for (; p >= 0; --p) {
                f.seekg(p);
                if (f.get() == '\n') break;
            }
            start = p + 1;
        }
        f.seekg(start);
        std::string line(static_cast<std::size_t>(keep - start), '\0');
        f.read(line.data(), keep - start);
        const bool whole = !line.empty() && line.back() == '\n';
        const bool summary = line.find(R"("type":"summary")") != std::string::npos;
        if (!summary && whole && json::parse(line, nullptr, false).is_object()) break;
        keep = start;
    }
    f.close();
    if (keep != size) std::filesystem::resize_file(path, static_cast<std::uintmax_t>(keep));
    return path;
}

// -oJ: one JSON object per line, as they come; flushed every 200 ms at most. A resume
// into the record it resumes (however its path is spelt) appends to it; into another
// file, it writes the record's lines there first, as they are replayed.
class JsonLines final : public Output {
public:
    JsonLines(const std::string& path, const DisplayOptions& d)
        : JsonLines(path, d, d.append_json && same_file(*d.append_json, path)) {}
    JsonLines(const std::string& path, const DisplayOptions& d, bool append)
        : file_(append ? without_summary(path) : path, append),
          open_only_(d.open_only),
          append_(append),
          host_ordered_(d.host_ordered_json) {}

    // A merge of shards writes the record host by host from the spool: each host's
    // status once (the shards of a -Pn scan each report the hosts they probed), then its
    // results, in address order.
    bool wants_hosts() const override { return host_ordered_; }
    void host(const HostView& v) override {
        if (v.status) write_host(*v.status);
        for (const Result& r : v.results)
            if (!open_only_ || possibly_open(r.state)) write_result(r);
    }

    void begin(const ScanInfo& info) override {
        info_ = info;
        // A resumed scan appends to its own record, which says what the scan is already.
        if (!append_) fmt::print(file_.get(), "{}\n", header_json(info));
        file_.flush();
    }

    void on_host(const HostStatus& h) override {
        if (!written_as_they_come()) return;
        write_host(h);
    }

    void on_result(const Result& r) override {
        ++states_[r.state];
        if (!written_as_they_come() || (open_only_ && !possibly_open(r.state))) return;
        write_result(r);
    }

    void replaying(bool on) override { replaying_ = on; }

private:
    // Not what the record continued holds already, nor what host() writes (a merge).
    bool written_as_they_come() const { return !host_ordered_ && !(replaying_ && append_); }

    void write_host(const HostStatus& h) {
        std::FILE* f = file_.get();
        fmt::print(f, R"({{"type":"host","host":"{}","status":"{}","reason":{})", h.host.str(), h.up ? "up" : "down",
                   json_text(h.reason));
        if (h.ttl) fmt::print(f, R"(,"ttl":{})", h.ttl);
        if (h.rtt_us) fmt::print(f, R"(,"rtt_us":{})", h.rtt_us);
        if (h.mac) fmt::print(f, R"(,"mac":"{}")", mac_text(*h.mac));
        if (!h.hostname.empty()) fmt::print(f, R"(,"hostname":{})", json_text(h.hostname));
        if (!h.ptr_name.empty()) fmt::print(f, R"(,"ptr":{})", json_text(h.ptr_name));
        if (h.update) fmt::print(f, R"(,"update":true)");
        std::fputs("}\n", f);
        maybe_flush();
    }

    void write_result(const Result& r) {
        std::FILE* f = file_.get();
        fmt::print(f, R"({{"host":"{}","port":{},"protocol":"{}","technique":"{}","state":"{}","reason":{})", r.host.str(),
                   r.port, protocol_name(r.protocol), r.technique, state_name(r.state), json_text(r.reason));
        if (r.ttl) fmt::print(f, R"(,"ttl":{})", r.ttl);
        if (r.rtt_us) fmt::print(f, R"(,"rtt_us":{})", r.rtt_us);
        if (r.service) {
            const ServiceInfo& s = *r.service;
            fmt::print(f, R"(,"service":{},"product":{},"version":{},"extrainfo":{},"tunnel":{},"method":"{}","conf":{})",
                       json_text(s.name), json_text(s.product), json_text(s.version), json_text(s.extrainfo), json_text(s.tunnel),
                       json_escape(s.method), s.conf);
            if (!s.hostname.empty()) fmt::print(f, R"(,"service_hostname":{})", json_text(s.hostname));
            if (!s.ostype.empty()) fmt::print(f, R"(,"ostype":{})", json_text(s.ostype));
            if (!s.devicetype.empty()) fmt::print(f, R"(,"devicetype":{})", json_text(s.devicetype));
            std::vector<std::string> cpe(s.cpe.begin(), s.cpe.end());
            fmt::print(f, R"(,"cpe":{})", json_list(cpe));
        }
        std::fputs("}\n", f);
        maybe_flush();
    }

public:
    void end(const ScanSummary& s) override {
        std::string states, limited;
        for (const auto& [state, count] : states_)
            states += fmt::format(R"({}"{}":{})", states.empty() ? "" : ",", state_name(state), count);
        for (const auto& l : s.limited)
            limited += fmt::format(R"({}{{"host":"{}","rate":{:.1f},"burst":{},"cost_s":{:.2f}}})", limited.empty() ? "" : ",",
                                   l.host.str(), l.rate, l.burst, l.cost);
        std::vector<std::string> techniques;
        for (const auto& t : info_.techniques) techniques.push_back(t.name);
        fmt::print(file_.get(),
                   R"({{"type":"summary","scanner":"scanfw","version":"{}","args":{},"start":"{}","end":"{}",)"
                   R"("elapsed":{:.2f},"hosts":{},"up":{},"down":{},"techniques":{},"results":{},"states":{{{}}},)"
                   R"("icmp_limited":[{}],"done":{:.4f},"interrupted":{})",
                   SCANFW_VERSION, json_text(info_.command_line()), utc(info_.started), utc(std::chrono::system_clock::now()),
                   s.seconds, s.hosts, s.up, s.down, json_list(techniques), s.results, states, limited, s.done,
                   s.interrupted);
        if (info_.seed) fmt::print(file_.get(), R"(,"seed":{})", *info_.seed);
        if (info_.shards > 1) fmt::print(file_.get(), R"(,"shard":"{}/{}")", info_.shard, info_.shards);
        if (!s.partial.empty()) fmt::print(file_.get(), R"(,"partial":{})", json_text(s.partial));
        std::fputs("}\n", file_.get());
        file_.close();
    }

private:
    void maybe_flush() {
        // Streamed, but not a system call per line: out within 200 ms.
        const auto now = std::chrono::steady_clock::now();
        if (now - last_flush_ >= std::chrono::milliseconds(200)) {
            std::fflush(file_.get());
            last_flush_ = now;
        }
    }
    OutputFile file_;
    bool open_only_, append_, host_ordered_;
    bool replaying_ = false;
    ScanInfo info_;
    std::map<State, std::uint64_t> states_;
    std::chrono::steady_clock::time_point last_flush_{};
};

}  // namespace

std::unique_ptr<Output> make_json_lines(const std::string& path, const DisplayOptions& d) {
    return std::make_unique<JsonLines>(path, d);
}

void check_resumable(const std::string& file, const ScanInfo& was, const ScanInfo& now) {
    // "syn on tcp ports 1-65535 and udp on udp ports 53"
    auto describe = [](const ScanInfo& i) {
        std::vector<std::string> parts;
        for (const auto& t : i.techniques)
            parts.push_back(fmt::format("{} on {} ports {}", t.name, protocol_name(t.protocol), port_ranges(t.ports)));
        return parts.empty() ? std::string("no port scan") : fmt::format("{}", fmt::join(parts, " and "));
    };
    if (describe(was) != describe(now))
        throw InputError(fmt::format("--resume {}: the record is of another scan: it ran {}, this command runs {} "
                                     "(resume with the recorded command: --resume {} alone)",
                                     file, describe(was), describe(now), file));
    if (was.targets_digest != now.targets_digest || was.targets != now.targets)
        throw InputError(fmt::format("--resume {}: the record is of other targets ({} addresses: {}) than this scan "
                                     "({} addresses: {})",
                                     file, was.targets, was.targets_text, now.targets, now.targets_text));
    if (was.shard != now.shard || was.shards != now.shards)
        throw InputError(fmt::format("--resume {}: the record is shard {}/{}, this scan shard {}/{}", file, was.shard,
                                     was.shards, now.shard, now.shards));
}

namespace {

// Whether `path`, the output of `flag`, holds a finished scan: a record whose summary
// says it was not interrupted, an XML whose runstats say exit="success", a normal or
// grepable output whose last line says "done" (scanfw's or nmap's).
bool holds_finished_scan(const std::string& path, std::string_view flag) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return false;
    if (flag == "-oJ") {
        const auto s = RecordReader::summary(path);
        return s && !s->interrupted;
    }
    if (flag == "-oX") {
        const std::string tail = file_tail(path, 4096);
        const auto finished = tail.rfind("<finished ");
        return finished != std::string::npos && tail.find(R"(exit="success")", finished) != std::string::npos;
    }
    const std::string last = last_line(path);
    return last.starts_with("# scanfw done at ") || last.starts_with("# Nmap done at ");
}

}  // namespace

void check_resume_outputs(const OutputFiles& files, const std::string& record) {
    const OutputPaths p = output_paths(files);
    const std::pair<const std::optional<std::string>*, const char*> named[] = {
        {&p.xml, "-oX"}, {&p.grepable, "-oG"}, {&p.normal, "-oN"}, {&p.json, "-oJ"}};
    for (const auto& [path, flag] : named) {
        if (!*path || **path == "-") continue;
        const bool is_record = same_file(**path, record);
        if (is_record && path != &p.json)
            throw InputError(fmt::format("--resume {}: {} {} would write over the record it resumes: give {} another file",
                                         record, flag, **path, flag));
        if (!holds_finished_scan(**path, flag)) continue;
        if (is_record)
            throw InputError(fmt::format("--resume {}: the scan is finished (its summary says so), so there is nothing "
                                         "to resume; `scanfw merge -oA BASE {}` writes its outputs again",
                                         record, record));
        throw InputError(fmt::format("--resume {}: {} {} holds a finished scan, which a resume never replaces: give the "
                                     "resume outputs of its own (-oA NEW, -oJ NEW.jsonl) or move {} away",
                                     record, flag, **path, **path));
    }
}

}  // namespace scanfw
