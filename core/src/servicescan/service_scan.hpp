// The service scan phase (-sV): every port the port scan finds open (TCP open; UDP
// open or open|filtered) is identified with nmap's probes (services/) before its
// Result goes on to the outputs, so every output (the JSON record as results come,
// the nmap formats and the table host by host at the end) gets the service fields
// with the port itself.
//
// It streams: a port goes to the prober as soon as its verdict comes, and the
// probing runs in the port scan's own thread, between the engine's steps (the
// engine's waiter also polls the prober's sockets), then after the last chunk until
// every port is identified. Other results pass straight on. Memory is bounded: at
// most kBacklog ports wait for the prober; past that the port scan hands out no new
// items until the prober catches up (backlogged()).
//
// Ctrl-C: after a stop the prober gets half a second to finish what it has in
// progress (as the engine waits for answers in flight), at once on a second Ctrl-C
// (hurry); an open port still being identified then is not written at all, like an
// item in flight in the port scan, so --resume scans and identifies it again.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include <absl/container/flat_hash_map.h>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "engine/scheduler.hpp"
#include "services/prober.hpp"
#include "system/progress.hpp"

namespace scanfw {

// -sV's database: FILE (--service-db), else nmap's (/usr/share/nmap/nmap-service-probes,
// Debian's nmap-common). Read and compiled at run time, never copied. Throws
// InputError: nmap's file missing (install nmap-common, or --service-db), a file that
// cannot be read, or one that cannot be parsed ("FILE:LINE: ...").
services::ProbeDb load_service_db(const std::optional<std::string>& path);

class ServiceScan final : public ResultSink {
public:
    // Ports waiting for the prober (queued or in progress) before the port scan is held back.
    static constexpr std::size_t kBacklog = 16384;

    // `next`: where results go on. `shared_ports`: more than one technique of a
    // protocol (syn and connect): a port each finds open is probed once, and its
    // finding kept for the other (a bounded number of them).
    ServiceScan(const services::ServiceProber& prober, ResultSink& next, bool shared_ports);
    ~ServiceScan() override;

    void on_host(const HostStatus& h) override { next_.on_host(h); }
    void on_result(const Result& r) override;

    // Whether -sV identifies a port in this state.
    static bool wanted(const Result& r);

    // The engine's waiter: poll() on the engine's I/Os and the prober's sockets, then
    // the prober's work.
    Waiter waiter(const TimeSource& time);
    // True while kBacklog ports wait: the port scan should hand out no new item.
    bool backlogged() const { return stream_.pending() >= kBacklog; }
    // The prober's work that is due, waiting at most `wait` for some.
    void step(std::chrono::milliseconds wait);
    // Until every port handed in is identified, or a stop says otherwise (see above).
    void finish(Progress& progress);

    std::uint64_t identified() const { return identified_; }
    std::uint64_t probed() const { return probed_; }
    std::uint64_t dropped() const { return dropped_; }

private:
    struct Key {
        IpAddress host;
        std::uint16_t port = 0;
        bool udp = false;
        bool operator==(const Key&) const = default;
        template <class H>
        friend H AbslHashValue(H h, const Key& k) {
            return H::combine(std::move(h), IpAddressHash{}(k.host), k.port, k.udp);
        }
    };
    struct Found {
        ServiceInfo info;
        bool answered = false;
    };

    void done(const services::ServiceTarget& t, const services::ServiceResult& r);
    void pass(Result r, const Found& f);
    void note_stop();

    services::ServiceStream stream_;
    ResultSink& next_;
    bool shared_;
    absl::flat_hash_map<Key, std::vector<Result>> held_;  // ports in the prober, with their results
    absl::flat_hash_map<Key, Found> found_;                // shared_: what was found, for the other technique
    std::deque<Key> found_order_;                          // oldest first, to bound found_
    std::optional<Clock::time_point> stop_seen_;
    Clock::time_point last_step_{};
    std::uint64_t identified_ = 0, probed_ = 0, dropped_ = 0;
};

}  // namespace scanfw
