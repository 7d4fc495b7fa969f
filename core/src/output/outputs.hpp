// Where results go: the table on stdout, JSON Lines (the scan's record: resume and
// merge read it back), and nmap's XML, grepable and normal formats. JSON Lines is
// written as results come in; the table and nmap's formats write each host whole, in
// address order, at the end, from a spool that keeps memory bounded (spool.hpp).
// Every output sees begin(), then the hosts and results, then end(), also after an
// interrupt (ScanSummary::interrupted), so every file is complete and well formed.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <absl/container/flat_hash_map.h>

#include "common/result.hpp"
#include "output/spool.hpp"

namespace scanfw {

// One technique of the scan as the outputs see it.
struct ScanTechnique {
    std::string name;  // the plugin's name; also nmap's scan type (syn, ack, udp, ...)
    Protocol protocol = Protocol::Tcp;
    std::vector<std::uint16_t> ports;  // sorted; empty when the technique has no ports to scan
};

// What the scan was: written first into the record, and what merge and --resume check.
struct ScanInfo {
    std::vector<ScanTechnique> techniques;  // the port techniques, in the order given
    std::vector<std::string> argv;          // the command line
    std::chrono::system_clock::time_point started = std::chrono::system_clock::now();
    std::uint64_t targets = 0;   // addresses to scan (unique, not excluded)
    std::string targets_text;    // the targets as given, when short
    std::string targets_digest;  // of the targets, -iL list and exclusions
    std::optional<std::uint64_t> seed;
    std::uint32_t shard = 1, shards = 1;
    std::string shard_unit = "pair";       // "pair" (-Pn) or "host" (with discovery)
    std::vector<std::string> discovery;    // the host techniques; empty: -Pn
    bool service_detection = false;        // -sV
    int verbosity = 0;

    std::string command_line() const;  // argv joined, for the banners
};

struct LimitedHost {  // a host whose ICMP errors were rate-limited
    IpAddress host;
    double rate = 0;
    std::uint32_t burst = 0;
    double cost = 0;
};

struct ScanSummary {
    std::uint64_t hosts = 0;    // addresses scanned (the targets)
    std::uint64_t up = 0, down = 0;
    std::uint64_t results = 0;  // results decided
    double seconds = 0;
    bool interrupted = false;   // stopped by SIGINT/SIGTERM: some ports have no result
    double done = 1;            // the share of the scan's items that got a result
    std::vector<LimitedHost> limited;
    std::string partial;        // merge --allow-partial: what is missing, said in every output
};

// What the user asked to see, for every output.
struct DisplayOptions {
    bool show_reason = false;  // --reason: reasons in the table and the normal output
    bool open_only = false;    // --open: only ports that are, or may be, open
    int verbosity = 0;         // -v: hosts that are down are listed too
    std::optional<std::string> append_json;  // --resume FILE: an -oJ to FILE (same_file) continues it
    bool host_ordered_json = false;  // scanfw merge: -oJ host by host in address order, each status once
};

// The states --open keeps, as nmap does: open, open|filtered and unfiltered.
bool possibly_open(State s);
// nmap does not list a port whose state it summarises ("Not shown: 998 closed tcp
// ports"): a non-open state held by more than 25 of a host's ports, or with --open any
// state that is not possibly open.
bool ignored_state(State s, std::size_t ports_in_state, bool open_only);
// A port's service name (nmap-services, else /etc/services), or an IP protocol's.
std::optional<std::string> service_name(std::uint16_t port, Protocol proto);
// What the service column shows, as nmap's normal output (Port::getNmapServiceName):
// -sV's finding ("ssl/http"), else the table's name; with -sV (`version_scan`) an open
// port named only by the table gets a "?" ("http-alt?"); no name at all is "unknown".
std::string service_column(const Result& r, bool version_scan = false);
// -sV's VERSION column: product, version and extrainfo as nmap joins them.
std::string version_text(const ServiceInfo& s);

// Text for an XML attribute or element: & < > " ' escaped; bytes that are not valid
// UTF-8, and control characters XML 1.0 cannot carry, become '?'.
std::string xml_escape(std::string_view text);
// Text for a JSON string (without the quotes); invalid UTF-8 becomes '?'.
std::string json_escape(std::string_view text);
// Text for a terminal or a report: control characters and invalid UTF-8 as '.', as nmap.
std::string printable(std::string_view text);
// "22,80,1000-2000" for a sorted port list, as nmap writes them.
std::string port_ranges(const std::vector<std::uint16_t>& sorted_ports);
// Rows of cells as text columns, each padded to its widest cell and one space apart
// (the last not padded); every row ends with a newline.
std::string align_columns(const std::vector<std::vector<std::string>>& rows);
// "8 IP addresses", as the closing lines count a scan's targets; "2 of 8 IP addresses"
// for an interrupted scan that concluded only 2 of them (found up or down), as nmap
// counts the hosts it scanned.
std::string addresses_text(const ScanSummary& s);
// The share of a scan's items (host, port, technique) concluded: its results, and all
// the items of each host found down; for host discovery alone (no port technique), the
// share of its hosts concluded. A shard's own share is the whole's over the shards.
double concluded_share(const ScanInfo& info, std::uint64_t results, std::uint64_t up, std::uint64_t down);
// "Wed Nov 25 14:23:14 2026", local time, as nmap writes dates.
std::string date_text(std::chrono::system_clock::time_point t);
// "web.example (198.18.0.2)" when the user gave a name, else the reverse DNS name in
// its place, else "198.18.0.2" (nmap's NameIP).
std::string host_label(const HostView& h);
// nmap's "rDNS record for 198.18.0.2: web.example" under a host's heading, when the
// user gave a name and its reverse DNS name is another.
std::optional<std::string> rdns_line(const HostView& h);

class Output {
public:
    virtual ~Output() = default;
    virtual void begin(const ScanInfo&) {}
    // As they come (JSON Lines).
    virtual void on_host(const HostStatus&) {}
    virtual void on_result(const Result&) {}
    // Host-ordered formats: each host, whole, in address order, before end().
    virtual bool wants_hosts() const { return false; }
    virtual void host(const HostView&) {}
    // --resume: what follows is replayed from the scan's own record (which an -oJ
    // appending to it must not write again).
    virtual void replaying(bool) {}
    virtual void end(const ScanSummary&) {}
};

// Opens "-" as stdout, else the file (truncated, or appended to). Throws InputError
// naming the path.
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

// Sends each host and result to every output, through the spool for those that want
// whole hosts.
class Outputs final : public ResultSink {
public:
    Outputs() = default;
    Outputs(Outputs&&) = default;
    Outputs& operator=(Outputs&&) = default;
    // A scan that began and was never ended (an error stopped it) still gets its files
    // closed: as an interrupted scan, with the results they had.
    ~Outputs() override;

    void add(std::unique_ptr<Output> o);
    // Count hosts up and down from the spool (each host once, however many status
    // records it has: a merge of shards), making one if no output needs it.
    void count_hosts_once();
    void begin(const ScanInfo& info);
    void on_host(const HostStatus& h) override;
    void on_result(const Result& r) override;
    // --resume: what follows is the record replayed. From then on a host the record
    // reported is not reported again (discovery finds it up again), unless it was down
    // and is up now (as the spool takes it).
    void replaying(bool on);
    // Ends every output, even when one fails; then rethrows the first failure. Fills in
    // the summary's up and down counts, and for an interrupted scan the share done.
    void end(ScanSummary s);
    std::size_t size() const { return outputs_.size(); }
    // Whether stdout has the table (not an -oX/-oG/-oN/-oJ given as '-'): then lines
    // such as -v's "Discovered open port" may go there too.
    bool table_on_stdout() const { return table_on_stdout_; }
    std::uint64_t results() const { return results_; }

private:
    bool count_host(const HostStatus& h);  // false: the record reported it already

    std::vector<std::unique_ptr<Output>> outputs_;
    std::unique_ptr<Spool> spool_;
    bool resumed_ = false, replaying_ = false;
    absl::flat_hash_map<IpAddress, bool, IpAddressHash> recorded_up_;  // --resume: the record's hosts, up or not
    bool open_ = false;  // begun and not ended
    bool table_on_stdout_ = false;
    friend Outputs make_outputs(const struct OutputFiles& files, const DisplayOptions& display);
    ScanInfo info_;
    std::uint64_t results_ = 0, up_ = 0, down_ = 0;
    std::chrono::steady_clock::time_point started_;
};

struct OutputFiles {
    std::optional<std::string> json;      // -oJ: JSON Lines file, "-" for stdout
    std::optional<std::string> xml;       // -oX: nmap XML
    std::optional<std::string> grepable;  // -oG: nmap grepable
    std::optional<std::string> normal;    // -oN: nmap normal output
    std::optional<std::string> all;       // -oA BASE: BASE.xml, .gnmap, .nmap, .jsonl
};

// Where each format goes: -oX, -oG, -oN, -oJ as given, else -oA BASE's file.
struct OutputPaths {
    std::optional<std::string> xml, grepable, normal, json;
};
OutputPaths output_paths(const OutputFiles& files);
// Whether two paths name one file ("r.jsonl", "./r.jsonl", a link to it); "-" is stdout.
bool same_file(const std::string& a, const std::string& b);

// The outputs asked for: each file (-oA BASE gives BASE.xml, .gnmap, .nmap and .jsonl;
// -oX/-oG/-oN/-oJ given too take precedence), and the table on stdout unless an output
// goes there ("-"). Throws InputError when two outputs want stdout or one file, for
// -oA -, or when a file cannot be created.
Outputs make_outputs(const OutputFiles& files, const DisplayOptions& display);
// make_outputs()'s refusals alone, for checking the command line before the scan starts.
void check_output_files(const OutputFiles& files);
// Creates the output files that do not exist yet, empty and owned by uid:gid: called
// while still root, before the switch to the user sudo was run by (or --user), so
// that the scan can write them where only root may create files, as nmap can.
void create_output_files(const OutputFiles& files, uid_t uid, gid_t gid);

// The formats (output/*.cpp).
std::unique_ptr<Output> make_json_lines(const std::string& path, const DisplayOptions& d);
std::unique_ptr<Output> make_table(std::FILE* out, const DisplayOptions& d);
std::unique_ptr<Output> make_xml(const std::string& path, const DisplayOptions& d);
std::unique_ptr<Output> make_grepable(const std::string& path, const DisplayOptions& d);
std::unique_ptr<Output> make_normal(const std::string& path, const DisplayOptions& d);

}  // namespace scanfw
