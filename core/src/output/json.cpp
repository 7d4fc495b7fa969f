// -oJ: JSON Lines. One object per result as it is decided, then a summary object.
#include <fstream>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "output/output.hpp"

namespace scanfw {

void JsonLinesOutput::on_result(const Result& r) {
    ++states_[r.state];
    if (open_only_ && !possibly_open(r.state)) return;
    // Addresses and plugin names ([a-z0-9_-]) need no escaping; a plugin's reason might.
    std::FILE* f = file_.get();
    fmt::print(f, R"({{"host":"{}","port":{},"protocol":"{}","technique":"{}","state":"{}","reason":"{}")",
               r.host.str(), r.port, protocol_name(r.protocol), r.technique, state_name(r.state),
               json_escape(r.reason));
    if (r.ttl) fmt::print(f, R"(,"ttl":{})", r.ttl);
    if (r.rtt_us) fmt::print(f, R"(,"rtt_us":{})", r.rtt_us);
    std::fputs("}\n", f);
    // Streamed, but not a system call per result: out within kFlushEvery.
    const auto now = std::chrono::steady_clock::now();
    if (now - last_flush_ >= kFlushEvery) {
        std::fflush(f);
        last_flush_ = now;
    }
}

namespace {
// Rewrites an -oJ file without its summary line(s), before results are appended.
std::string without_summary(const std::string& path) {
    std::ifstream in(path);
    std::string kept, line;
    while (std::getline(in, line))
        if (line.find(R"("type":"summary")") == std::string::npos) kept += line + "\n";
    std::ofstream(path, std::ios::trunc) << kept;
    return path;
}
}  // namespace

JsonLinesOutput::JsonLinesOutput(const std::string& path, bool open_only, bool append)
    : file_(append && path != "-" ? without_summary(path) : path, append), open_only_(open_only) {}

void JsonLinesOutput::end(const ScanSummary& s) {
    const auto utc = [](std::chrono::system_clock::time_point t) {
        return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(t)));
    };
    std::string techniques, states;
    for (const auto& t : info_.techniques)
        techniques += fmt::format(R"({}"{}")", techniques.empty() ? "" : ",", t.name);
    for (const auto& [state, count] : states_)
        states += fmt::format(R"({}"{}":{})", states.empty() ? "" : ",", state_name(state), count);
    fmt::print(file_.get(),
               R"({{"type":"summary","scanner":"scanfw","version":"{}","args":"{}","start":"{}","end":"{}",)"
               R"("elapsed":{:.2f},"hosts":{},"techniques":[{}],"results":{},"states":{{{}}},"interrupted":{}}})"
               "\n",
               SCANFW_VERSION, json_escape(info_.command_line), utc(info_.started),
               utc(std::chrono::system_clock::now()), s.seconds, s.hosts, techniques, s.results, states,
               s.interrupted);
    file_.close();
}

}  // namespace scanfw
