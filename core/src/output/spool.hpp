// Results held for the outputs that write whole hosts in address order (the table and
// nmap's formats), in bounded memory however large the scan: records collect in a
// buffer; a full buffer is sorted by host and written to a temporary file (a run); at
// the end the runs are merged, as sort(1) does, and each host comes out once, whole,
// in address order. A scan that fits in the buffer never touches the disk. Runs are
// merged 16 at a time into longer ones as they pile up, so the files open at once stay
// few however large the scan (a /16 x 65535 ports makes thousands of runs).
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace scanfw {

// One host with everything the scan found about it.
struct HostView {
    IpAddress host;
    std::optional<HostStatus> status;  // none: only results came (an interrupted -Pn scan)
    std::vector<Result> results;       // in the order they came
};

class Spool {
public:
    // `budget`: bytes of records kept in memory before a run goes to disk.
    explicit Spool(std::size_t budget = std::size_t{16} << 20);
    ~Spool();
    Spool(const Spool&) = delete;
    Spool& operator=(const Spool&) = delete;

    void add(const HostStatus& status);
    void add(const Result& result);

    // Every host, in address order, each once. Throws RuntimeError when a run cannot be
    // written or read back.
    void for_each_host(const std::function<void(const HostView&)>& f);

    // Sorted runs written to disk so far, and how many are open now: runs are merged
    // 16 at a time as they pile up (as sort(1) does), so a scan of any size keeps a
    // few dozen files open at most.
    std::size_t runs() const { return runs_written_; }
    std::size_t open_runs() const { return runs_.size(); }

private:
    struct Run;
    void spill();
    void compact();
    void put_key(const IpAddress& host, std::uint8_t kind);
    void sort_buffer();

    std::size_t budget_;
    std::vector<std::uint8_t> buf_;
    std::vector<std::uint32_t> offsets_;  // of each record in buf_
    std::uint32_t seq_ = 0;               // arrival order, kept within a host
    std::vector<std::unique_ptr<Run>> runs_;  // each with its level: 0 spilled, L+1 merged from level L
    std::size_t runs_written_ = 0;
};

}  // namespace scanfw
