// The scan engines: they carry a technique's probes to every (target, port), match
// replies, retransmit, pace, and hand each final verdict to a ResultSink.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <vector>

#include "scanfw/plugins.hpp"
#include "scanfw/result.hpp"
#include "scanfw/targets.hpp"

namespace scanfw {

// The scan could not run (no privileges, no socket, no capture).
struct RuntimeError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Timing {
    std::chrono::milliseconds timeout{1000};  // wait for a reply to each try
    int retries = 2;                          // tries after the first
    std::uint64_t rate = 10000;               // probes per second, at most
};

// The raw socket and packet capture, which need privileges: opened once, before the
// process drops them (opaque here; core/src/raw_engine.cpp).
class RawIo;
// Throws RuntimeError naming what is missing (CAP_NET_RAW) and the way out.
std::shared_ptr<RawIo> open_raw_io();

struct ScanJob {
    std::shared_ptr<const Plugin> plugin;
    const TargetSet* targets = nullptr;
    std::vector<std::uint16_t> ports;
    Timing timing;
    RawIo* raw_io = nullptr;  // needed by raw techniques
    std::function<bool(const IpAddress&, std::uint16_t)> skip;  // (host, port) already done; may be empty
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
