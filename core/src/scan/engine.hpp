// The scan engines: they carry a technique's probes to every (target, port), match
// replies, retransmit, pace, and hand each final verdict to a ResultSink.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <vector>

#include "plugin/plugins.hpp"
#include "system/progress.hpp"
#include "output/result.hpp"
#include "targets/targets.hpp"

namespace scanfw {

// The scan could not run (no privileges, no socket, no capture).
struct RuntimeError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// How fast and how patiently to scan. The engines adapt within these bounds: each
// host's measured round-trip time sets its timeout (between min_timeout and
// max_timeout; `timeout` until there is a sample), measured loss raises the retries
// from `retries` up to `max_retries` (when adaptive_retries), and the send rate
// backs off from `rate` when replies stop keeping up, never below `min_rate`.
struct Timing {
    std::chrono::milliseconds timeout{1000};
    std::chrono::milliseconds min_timeout{10};  // a floor for fast links (see timing_template)
    std::chrono::milliseconds max_timeout{10000};
    int retries = 2;
    int max_retries = 10;
    bool adaptive_retries = true;
    double rate = 10000;   // probes per second, at most
    double min_rate = 0;   // probes per second, at least
    bool defeat_icmp_ratelimit = false;  // UDP: do not wait out a target's ICMP rate limit
};

// nmap's -T0 .. -T5 as starting points; explicit flags override them.
Timing timing_template(int level);

// The raw socket and packet capture, which need privileges: opened once, before the
// process drops them (opaque here; core/src/raw_engine.cpp).
class RawIo;
// `probes`: about how many probes the scan will send (it sizes the capture's
// buffer). Throws RuntimeError naming what is missing (CAP_NET_RAW) and the way out.
std::shared_ptr<RawIo> open_raw_io(std::uint64_t probes);

struct ScanJob {
    std::shared_ptr<const Plugin> plugin;
    const TargetSet* targets = nullptr;
    std::vector<std::uint16_t> ports;
    Timing timing;
    RawIo* raw_io = nullptr;  // needed by raw techniques
    std::function<bool(const IpAddress&, std::uint16_t)> skip;  // (host, port) already done; may be empty
    Progress* progress = nullptr;  // may be null
};

// Runs one technique over all targets and ports; every (target, port) gets exactly
// one on_result call, unless the scan is interrupted (stop_requested()): then the
// engine stops sending, waits briefly for replies in flight and returns, and the
// ports it had not finished get none.
void run_scan(const ScanJob& job, ResultSink& sink);

// The engines behind run_scan, one per kind of transport.
void run_raw_scan(const ScanJob& job, ResultSink& sink);
void run_connect_scan(const ScanJob& job, ResultSink& sink);

}  // namespace scanfw
