// What nmap's three formats share: the banner, the closing line, the file, and the
// reports of each host (report.hpp). Layouts follow nmap 7.93's, so that tools that
// read nmap's files read these.
#pragma once

#include <memory>
#include <string>

#include "output/outputs.hpp"
#include "output/report.hpp"

namespace scanfw {

class NmapFormat : public Output {
public:
    NmapFormat(const std::string& path, const DisplayOptions& d) : file_(path), display_(d) {}
    bool wants_hosts() const final { return true; }
    void begin(const ScanInfo& info) final;
    void host(const HostView& h) final;
    void end(const ScanSummary& s) final;

protected:
    virtual void write_begin(std::FILE* out, const ScanInfo& info) = 0;
    // One host: its reports (none for a host that is down).
    virtual void write_host(std::FILE* out, const HostView& h, const std::vector<HostReport>& reports) = 0;
    virtual void write_end(std::FILE* out, const ScanInfo& info, const ScanSummary& s) = 0;

    const DisplayOptions& display() const { return display_; }
    const ScanInfo& info() const { return info_; }

private:
    OutputFile file_;
    DisplayOptions display_;
    ScanInfo info_;
    std::unique_ptr<ReportGroups> groups_;
};

// "scanfw 0.2.0 scan initiated Wed Nov 25 14:35:03 2026 as: ARGS"
std::string banner(const ScanInfo& info);
// "1 IP address (1 host up) scanned in 1.31 seconds"
std::string scanned_text(const ScanSummary& s);
// "done", or "interrupted"
const char* done_word(const ScanSummary& s);
std::int64_t epoch(std::chrono::system_clock::time_point t);
// The command line on one line, for the "# ... as: ARGS" comments.
std::string one_line(std::string_view text);

}  // namespace scanfw
