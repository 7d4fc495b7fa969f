// Where results go: a JSON Lines stream and the nmap-like table on stdout.
// Every output sees begin(), each result as it is decided, then end().
#pragma once

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "scanfw/plugins.hpp"
#include "scanfw/result.hpp"

namespace scanfw {

struct ScanInfo {
    std::vector<std::shared_ptr<const Plugin>> plugins;  // in the order they run
    std::string command_line;
    std::chrono::system_clock::time_point started;
};

struct ScanSummary {
    std::uint64_t hosts = 0;
    std::uint64_t results = 0;
    double seconds = 0;
    bool interrupted = false;  // stopped by SIGINT/SIGTERM: some ports have no result
};

class Output : public ResultSink {
public:
    virtual void begin(const ScanInfo&) {}
    virtual void end(const ScanSummary&) {}
};

// Opens "-" as stdout, else the file (truncated). Throws InputError naming the path.
class OutputFile {
public:
    explicit OutputFile(const std::string& path);
    ~OutputFile();
    OutputFile(const OutputFile&) = delete;
    OutputFile& operator=(const OutputFile&) = delete;
    std::FILE* get() const { return f_; }
    const std::string& path() const { return path_; }
    void close();  // flushes; throws RuntimeError on a write error

private:
    std::string path_;
    std::FILE* f_;
};

// One JSON object per line and result: host, port, protocol, technique, state, reason.
class JsonLinesOutput : public Output {
public:
    explicit JsonLinesOutput(const std::string& path) : file_(path) {}
    void on_result(const Result& r) override;
    void end(const ScanSummary&) override { file_.close(); }

private:
    OutputFile file_;
};

// The table printed to stdout at the end: one block per host, one column per technique.
class TableOutput : public Output {
public:
    explicit TableOutput(std::FILE* out, bool show_reason) : out_(out), show_reason_(show_reason) {}
    void begin(const ScanInfo& info) override;
    void on_result(const Result& r) override;
    void end(const ScanSummary& s) override;

private:
    struct Cell {
        PortState state = PortState::Undecided;
        std::string_view reason;
    };
    using Row = std::vector<Cell>;  // one cell per technique
    struct Host {
        std::map<std::pair<Protocol, std::uint16_t>, Row> rows;
        bool responded = false;
    };
    void print_host(const IpAddress& addr, const Host& host);

    std::FILE* out_;
    bool show_reason_;
    std::vector<std::string> techniques_;
    std::map<std::string_view, std::size_t> column_;
    std::map<IpAddress, Host> hosts_;
};

// Sends each result to every output.
class Outputs : public ResultSink {
public:
    void add(std::unique_ptr<Output> o) { outputs_.push_back(std::move(o)); }
    void begin(const ScanInfo& info) { for (auto& o : outputs_) o->begin(info); }
    void on_result(const Result& r) override { for (auto& o : outputs_) o->on_result(r); }
    void end(const ScanSummary& s) { for (auto& o : outputs_) o->end(s); }

private:
    std::vector<std::unique_ptr<Output>> outputs_;
};

// The service name for a port from /etc/services, or "unknown".
std::string service_name(std::uint16_t port, Protocol proto);

}  // namespace scanfw
