// Where results go: the table on stdout, JSON Lines, and nmap's XML, grepable and
// normal formats. Every output sees begin(), each result as it is decided, then end(),
// also after an interrupt (ScanSummary::interrupted), so every file is complete.
#pragma once

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include <absl/container/flat_hash_map.h>
#include <absl/container/inlined_vector.h>

#include "cli/config.hpp"
#include "engine/item.hpp"
#include "plugin/plugins.hpp"
#include "targets/ports.hpp"
#include "common/result.hpp"

namespace scanfw {

// One technique of the scan as the outputs see it.
struct ScanTechnique {
    std::string name;  // the plugin's name; also nmap's scan type (syn, ack, udp, ...)
    Protocol protocol = Protocol::Tcp;
    std::vector<std::uint16_t> ports;  // sorted; empty when the technique has no ports to scan
};

struct ScanInfo {
    std::vector<ScanTechnique> techniques;  // in the order they run
    std::string command_line;
    std::chrono::system_clock::time_point started = std::chrono::system_clock::now();
    std::uint64_t targets = 0;  // addresses to scan
};

// The ScanInfo of a scan with these port techniques and targets.
ScanInfo make_scan_info(std::span<const Job> jobs, std::uint64_t targets, std::string command_line);

struct ScanSummary {
    std::uint64_t hosts = 0;    // addresses scanned (the targets)
    std::uint64_t results = 0;  // results decided
    double seconds = 0;
    bool interrupted = false;  // stopped by SIGINT/SIGTERM: some ports have no result
};

// What the user asked to see, for every output.
struct DisplayOptions {
    bool show_reason = false;  // --reason: reasons in the table and the normal output
    bool open_only = false;    // --open: only ports that are, or may be, open
    std::optional<std::string> resume_from = std::nullopt;  // --resume FILE: an -oJ to FILE appends to it
};

// The states --open keeps, as nmap does: open, open|filtered and unfiltered.
bool possibly_open(State s);

// nmap does not list a port whose state it summarises ("Not shown: 998 closed tcp
// ports"): a non-open state held by more than 25 of a host's ports, or with --open
// any state that is not possibly open.
bool ignored_state(State s, std::size_t ports_in_state, bool open_only);

// The service name for a port from /etc/services, nullopt when it has none.
std::optional<std::string> service_name(std::uint16_t port, Protocol proto);

// Text for an XML attribute or element: & < > " ' escaped; bytes that are not valid
// UTF-8, and control characters XML 1.0 cannot carry, become '?'.
std::string xml_escape(std::string_view text);

// Text for a JSON string (without the quotes); invalid UTF-8 becomes '?'.
std::string json_escape(std::string_view text);

// "22,80,1000-2000" for a sorted port list, as nmap writes them.
std::string port_ranges(const std::vector<std::uint16_t>& sorted_ports);

// Rows of cells as text columns, each padded to its widest cell and one space apart
// (the last not padded); every row ends with a newline.
std::string align_columns(const std::vector<std::vector<std::string>>& rows);

class Output : public ResultSink {
public:
    virtual void begin(const ScanInfo&) {}
    virtual void end(const ScanSummary&) {}
};

// Opens "-" as stdout, else the file (truncated). Throws InputError naming the path.
class OutputFile {
public:
    explicit OutputFile(const std::string& path, bool append = false);
    ~OutputFile();
    OutputFile(const OutputFile&) = delete;
    OutputFile& operator=(const OutputFile&) = delete;
    std::FILE* get() const { return f_; }
    const std::string& path() const { return path_; }
    void flush();  // after each complete piece, so the file is readable while the scan runs
    void close();  // flushes; throws RuntimeError on a write error

private:
    std::string path_;
    std::FILE* f_;
};

// -oJ: one JSON object per line and result (host, port, protocol, technique, state,
// reason, and ttl and rtt_us when there was a reply), then one summary object.
class JsonLinesOutput : public Output {
public:
    // `append`: continue a file an interrupted scan wrote (--resume): its summary line
    // is removed and the new results follow the old ones.
    JsonLinesOutput(const std::string& path, bool open_only, bool append = false);
    void begin(const ScanInfo& info) override { info_ = info; }
    void on_result(const Result& r) override;
    void end(const ScanSummary& s) override;

private:
    static constexpr auto kFlushEvery = std::chrono::milliseconds(200);
    OutputFile file_;
    bool open_only_;
    ScanInfo info_;
    std::map<State, std::uint64_t> states_;
    std::chrono::steady_clock::time_point last_flush_{};
};

// The table printed to stdout at the end: one block per host, one column per technique.
// Memory stays small on large scans: once a non-open state has more ports than the
// table would list for a host and technique, only its count is kept.
class TableOutput : public Output {
public:
    TableOutput(std::FILE* out, DisplayOptions display) : out_(out), display_(display) {}
    void begin(const ScanInfo& info) override;
    void on_result(const Result& r) override;
    void end(const ScanSummary& s) override;

private:
    // A host's record is kept until the end (hosts print in address order), so it is
    // small and, for a host with a few ports, allocates nothing: vectors with room
    // inside for what most hosts have, no maps (about 250 bytes).
    struct Entry {  // one technique's result for a port that may be listed
        std::uint16_t port = 0;
        Protocol protocol = Protocol::Tcp;
        State state = State::Undecided;
        std::uint16_t technique = 0;
        std::string_view reason;
    };
    struct Tally {  // one technique's ports of one state on one host
        std::uint16_t technique = 0;
        State state = State::Undecided;
        std::uint32_t ports = 0;
        absl::InlinedVector<std::pair<std::string_view, std::uint32_t>, 1> reasons;  // and how many ports gave each
    };
    struct Host {
        absl::InlinedVector<Entry, 4> listed;   // arrival order; grouped into rows when printed
        absl::InlinedVector<Tally, 2> tallies;  // sorted by (technique, state) when printed
        bool responded = false;
    };
    static const Tally* find_tally(const Host& host, std::size_t technique, State s);
    bool hidden(const Host& host, std::size_t technique, State s) const;
    void print_host(std::string& out, const IpAddress& addr, Host& host) const;

    std::FILE* out_;
    DisplayOptions display_;
    std::vector<std::string> techniques_;
    std::vector<Protocol> protocols_;  // per technique
    std::map<std::string, std::size_t, std::less<>> column_;
    absl::flat_hash_map<IpAddress, Host, IpAddressHash> hosts_;  // printed in address order
};

// What nmap reports for one host: its ports, with the ignored states summarised.
struct HostReport {
    struct Port {
        std::uint16_t port = 0;
        Protocol protocol = Protocol::Tcp;
        State state = State::Undecided;
        std::uint8_t ttl = 0;
        std::string_view reason;
    };
    struct ExtraReason {  // ports of one ignored state, protocol and reason
        std::string_view reason;
        Protocol protocol = Protocol::Tcp;
        std::vector<std::uint16_t> ports;  // sorted
    };
    struct Extra {  // one ignored state
        State state = State::Undecided;
        std::size_t count = 0;
        std::vector<ExtraReason> reasons;  // most ports first
    };
    IpAddress host;
    std::string technique;  // empty unless each technique has its own reports (see HostReportOutput)
    std::chrono::system_clock::time_point first, last;  // of its results
    std::uint32_t srtt_us = 0;  // mean round trip of the replies; 0 when none
    std::size_t scanned = 0;    // ports with a result
    std::vector<Extra> extraports;  // in nmap's order: closed, filtered, unfiltered, open|filtered
    std::vector<Port> ports;        // the others, TCP then UDP, by port
};

// The base of nmap's three formats: collects each host's results and writes the
// host as soon as all its ports have one (so files grow while the scan runs), and
// at end() whatever an interrupt left incomplete.
//
// Reports: as nmap can run one TCP and one UDP technique together, the techniques of
// a scan are reported together when no two share a protocol (syn + udp: one report
// per host, as `nmap -sS -sU` writes). When two share one (syn + ack), each technique
// gets its own report per host, naming the technique.
class HostReportOutput : public Output {
public:
    HostReportOutput(const std::string& path, bool open_only) : file_(path), open_only_(open_only) {}
    void begin(const ScanInfo& info) final;
    void on_result(const Result& r) final;
    void end(const ScanSummary& s) final;

protected:
    virtual void write_begin(std::FILE* out, const ScanInfo& info) = 0;
    virtual void write_host(std::FILE* out, const HostReport& host) = 0;
    // hosts_up: addresses that got at least one result.
    virtual void write_end(std::FILE* out, const ScanInfo& info, const ScanSummary& s, std::uint64_t hosts_up) = 0;

private:
    struct Pending {
        std::vector<HostReport::Port> ports;
        std::chrono::system_clock::time_point first, last;
        std::uint64_t rtt_sum = 0;
        std::uint32_t replies = 0;
    };
    void report(const IpAddress& host, std::size_t group, Pending& pending);

    OutputFile file_;
    bool open_only_;
    ScanInfo info_;
    std::vector<std::size_t> group_of_;        // technique index -> report group
    std::vector<std::size_t> group_ports_;     // report group -> results per host
    std::vector<std::string> group_name_;      // report group -> technique name, or empty
    std::map<std::string, std::size_t, std::less<>> technique_index_;
    std::map<std::pair<std::size_t, IpAddress>, Pending> pending_;
    std::unordered_set<IpAddress, IpAddressHash> hosts_up_;
};

// -oX: nmap's XML, valid against nmap.dtd.
class XmlOutput final : public HostReportOutput {
public:
    using HostReportOutput::HostReportOutput;

private:
    void write_begin(std::FILE* out, const ScanInfo& info) override;
    void write_host(std::FILE* out, const HostReport& host) override;
    void write_end(std::FILE* out, const ScanInfo& info, const ScanSummary& s, std::uint64_t hosts_up) override;
};

// -oG: nmap's grepable lines, "Host: 198.18.0.2 ()\tPorts: 22/open/tcp//ssh///, ...".
class GrepableOutput final : public HostReportOutput {
public:
    using HostReportOutput::HostReportOutput;

private:
    void write_begin(std::FILE* out, const ScanInfo& info) override;
    void write_host(std::FILE* out, const HostReport& host) override;
    void write_end(std::FILE* out, const ScanInfo& info, const ScanSummary& s, std::uint64_t hosts_up) override;
};

// -oN: nmap's normal output, a PORT STATE SERVICE [REASON] table per host.
class NormalOutput final : public HostReportOutput {
public:
    NormalOutput(const std::string& path, DisplayOptions display)
        : HostReportOutput(path, display.open_only), show_reason_(display.show_reason) {}

private:
    void write_begin(std::FILE* out, const ScanInfo& info) override;
    void write_host(std::FILE* out, const HostReport& host) override;
    void write_end(std::FILE* out, const ScanInfo& info, const ScanSummary& s, std::uint64_t hosts_up) override;
    bool show_reason_;
};

// Sends each result to every output.
class Outputs : public ResultSink {
public:
    Outputs() = default;
    Outputs(Outputs&&) = default;
    Outputs& operator=(Outputs&&) = default;
    // A scan that began and was never ended (an error stopped it) still gets its
    // files closed: as an interrupted scan, with the results they had.
    ~Outputs() override;

    void add(std::unique_ptr<Output> o) { outputs_.push_back(std::move(o)); }
    void begin(const ScanInfo& info);
    void on_result(const Result& r) override;
    // Ends every output, even when one fails; then rethrows the first failure.
    void end(const ScanSummary& s);
    std::size_t size() const { return outputs_.size(); }

private:
    std::vector<std::unique_ptr<Output>> outputs_;
    bool open_ = false;  // begun and not ended
    std::uint64_t targets_ = 0, results_ = 0;
    std::chrono::steady_clock::time_point started_;
};

// The outputs asked for: each file of `files` (-oA BASE gives BASE.xml, .gnmap, .nmap
// and .jsonl; -oX/-oG/-oN/-oJ given too take precedence), and the table on stdout
// unless an output goes there ("-"). Throws InputError when two outputs want stdout,
// for -oA -, or when a file cannot be created.
Outputs make_outputs(const OutputConfig& files, const DisplayOptions& display);

}  // namespace scanfw
