// The phases of a scan for each chunk of targets, in one engine: host discovery
// (discovery/), each host found up handed at once to the port scan (portscan/), with
// -sV each open port handed at once to service detection (servicescan/), and every
// result on to the outputs. main.cpp builds what the pipeline needs; the pipeline
// knows no command line and no output format.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "cli/plan.hpp"
#include "common/clock.hpp"
#include "common/result.hpp"
#include "engine/order.hpp"
#include "engine/scheduler.hpp"
#include "engine/timing.hpp"
#include "net/routes.hpp"
#include "output/outputs.hpp"
#include "portscan/done_items.hpp"
#include "services/prober.hpp"
#include "system/progress.hpp"
#include "targets/target_source.hpp"

namespace scanfw {

class ServiceScan;

class Pipeline {
public:
    struct Setup {
        const Jobs& plan;
        std::vector<ProbeIo*> io_of_job;  // the carrier of each job
        Sources& sources;
        Routes& routes;
        const Timing& timing;
        Shard shard;
        SipKey seed;
        const DoneItems& done;  // --resume: items the record holds already
        Progress& progress;
        const services::ServiceProber* prober = nullptr;  // -sV
        // The clock and the wait for answers: the real ones unless set (the scan
        // simulation runs the pipeline on simulated time).
        const TimeSource* clock = nullptr;
        Waiter wait;
        AnswerLimits::Shown limits_shown;  // told when a host first shows a limit
        HostLoss::Shown loss_shown;        // told when a host's first answer needed a retransmission
        bool sequential = false;           // -r: each host's ports in order
        bool announce_open = false;        // -v: "Discovered open port 22/tcp on 198.18.0.2" on stdout, as nmap
    };
    Pipeline(Setup setup, ResultSink& out) : s_(std::move(setup)), out_(out) {}

    // Every chunk of `targets`, until they are done or a stop is asked for.
    void run(TargetSource& targets);

    // Results written (a port still being identified when a stop came is not).
    std::uint64_t results() const { return results_ - dropped_; }
    // The share of the scan's items handed out, for an interrupted scan's summary.
    double done_share() const {
        return items_total_ ? static_cast<double>(items_done_) / static_cast<double>(items_total_) : 1;
    }
    const std::vector<LimitedHost>& limited() const { return limited_; }

private:
    void run_chunk(const TargetSet& chunk, std::uint64_t chunk_no);
    Waiter waiter();

    Setup s_;
    ResultSink& out_;
    ServiceScan* services_ = nullptr;  // during run(), with -sV
    RealTime real_time_;
    const TimeSource& time_ = s_.clock ? *s_.clock : real_time_;
    std::uint64_t results_ = 0, dropped_ = 0, items_total_ = 0, items_done_ = 0;
    std::vector<LimitedHost> limited_;
};

}  // namespace scanfw
