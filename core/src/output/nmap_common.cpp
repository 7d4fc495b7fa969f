#include "output/nmap_common.hpp"

#include <fmt/format.h>

namespace scanfw {

std::int64_t epoch(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string scanned_text(const ScanSummary& s) {
    return fmt::format("{} ({} host{} up) scanned in {:.2f} seconds", addresses_text(s), s.up, s.up == 1 ? "" : "s",
                       s.seconds);
}

const char* done_word(const ScanSummary& s) { return s.interrupted ? "interrupted" : "done"; }

std::string one_line(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    return out;
}

std::string banner(const ScanInfo& info) {
    return fmt::format("scanfw {} scan initiated {} as: {}", SCANFW_VERSION, date_text(info.started),
                       one_line(info.command_line()));
}

void NmapFormat::begin(const ScanInfo& info) {
    info_ = info;
    groups_ = std::make_unique<ReportGroups>(info_);
    write_begin(file_.get(), info_);
    file_.flush();
}

void NmapFormat::host(const HostView& h) {
    const bool up = !h.status || h.status->up;
    // Hosts that are down are listed only with -v, as nmap does.
    if (!up && display_.verbosity < 1) return;
    std::vector<HostReport> reports;
    if (up) {
        reports = groups_->reports(h, display_.open_only);
        if (reports.empty()) return;  // --open: nothing to show
    }
    write_host(file_.get(), h, reports);
}

void NmapFormat::end(const ScanSummary& s) {
    write_end(file_.get(), info_, s);
    file_.close();
}

}  // namespace scanfw
