// nmap's version detection (-sV) against many (address, port, protocol) at once,
// through one epoll loop of non-blocking sockets, IPv4 and IPv6.
//
// For each service, as nmap's service_scan.cc does:
//   - TCP: connect and wait for a banner (the NULL probe, its totalwaitms); then
//     the probes that list the port in `ports` (in file order), then the others
//     whose rarity is at most the intensity. After a softmatch only probes with a
//     match line for that service are sent. A response is matched against the
//     probe's own lines, then its fallbacks', then the NULL probe's. The NULL
//     probe's connection is reused for the next probe; other probes open a new one.
//   - A peer that closes (or resets) during the NULL probe without a byte, within
//     its tcpwrappedms, is "tcpwrapped".
//   - A hard match for "ssl" starts over through an SSL/TLS tunnel (OpenSSL, in the
//     same loop), where `sslports` orders the probes: https on any port comes out
//     as http with tunnel "ssl". "ssl/NAME" is NAME through a tunnel at once.
//   - UDP: the UDP probes that fit, each from a new socket, replies matched.
// A response is read up to 4 KiB and for at most the probe's wait, so a service
// that streams forever or says nothing costs no more. Ports in the file's Exclude
// line are not probed (ProberOptions::all_ports overrides, as --allports).
// scanfw::stop_requested() ends run() within about 100 ms.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "common/address.hpp"
#include "services/match.hpp"
#include "services/probe_db.hpp"

namespace scanfw::services {

struct ServiceTarget {
    IpAddress host;
    std::uint16_t port = 0;
    bool udp = false;
};

// How a service's detection ended (nmap's PROBESTATE_FINISHED_* and friends).
enum class ServiceOutcome { HardMatch, SoftMatch, TcpWrapped, NoMatch, Incomplete, Excluded };
const char* outcome_name(ServiceOutcome o);

struct ServiceResult {
    ServiceIdentity id;  // name empty unless identified ("tcpwrapped" for TcpWrapped)
    std::string tunnel;  // "ssl" when found through (or named as) an SSL tunnel, else ""
    std::string method;  // "probed" when identified, "table" otherwise: nmap's words
    int conf = 3;        // nmap's: 10 for a hard or soft match, 8 tcpwrapped, 3 otherwise
    bool identified = false;
    // The service sent something (any byte, a datagram): nmap then takes an
    // open|filtered port for open ("udp-response").
    bool answered = false;
    ServiceOutcome outcome = ServiceOutcome::NoMatch;
    std::string probe;  // the probe whose response matched, "" if none
};

struct ProberOptions {
    int intensity = 7;            // --version-intensity 0-9 (light = 2, all = 9)
    std::size_t parallelism = 0;  // services in progress at once; 0: from RLIMIT_NOFILE
    std::chrono::milliseconds connect_timeout{5000};  // nmap's, for a TCP connect
    std::chrono::milliseconds ssl_timeout{8000};      // nmap's, TCP connect and TLS handshake
    std::chrono::milliseconds max_wait{0};  // most one service may take in all; 0: no limit
    std::size_t max_response = 4096;        // bytes kept of one probe's response (nmap's)
    bool all_ports = false;                 // probe ports the Exclude line names too
};

class ServiceProber {
public:
    // The database must outlive the prober. Throws std::invalid_argument for an
    // intensity outside 0-9.
    ServiceProber(const ProbeDb& db, ProberOptions options = {});
    ~ServiceProber();

    using Done = std::function<void(const ServiceTarget&, const ServiceResult&)>;
    // Probes every target; `done` is called once per target as it finishes (from
    // this thread, in completion order). Returns how many were reported: fewer than
    // targets.size() only when stopped by scanfw::stop_requested(), in which case
    // the unfinished ones are not reported.
    std::size_t run(std::span<const ServiceTarget> targets, const Done& done);

    std::size_t parallelism() const { return parallelism_; }
    const ProberOptions& options() const { return options_; }
    const ProbeDb& db() const { return db_; }

private:
    friend class ServiceStream;
    class Loop;
    const ProbeDb& db_;
    ProberOptions options_;
    std::size_t parallelism_;
};

// Targets handed in one at a time, probed in the caller's loop. `done` is called
// once per target, from add() (a port the Exclude line names) or step(). The
// prober (and its database) must outlive the stream. stop_requested() is the
// caller's business here: step() goes on until told otherwise (abandon()).
class ServiceStream {
public:
    using Clock = std::chrono::steady_clock;
    ServiceStream(const ServiceProber& prober, ServiceProber::Done done);
    ~ServiceStream();
    ServiceStream(const ServiceStream&) = delete;
    ServiceStream& operator=(const ServiceStream&) = delete;

    // Queues a target; it starts at once when fewer than parallelism() are in progress.
    void add(const ServiceTarget& target);
    // Does what is due (sockets ready, probes timed out, queued targets to start),
    // waiting at most `wait` for something to happen.
    void step(std::chrono::milliseconds wait);
    // Readable (for poll()) when step() has sockets to look at.
    int fd() const;
    // When step() next has a timer due; Clock::time_point::max() when none.
    Clock::time_point next_due() const;
    // Targets added and not yet reported: queued ones and those in progress.
    std::size_t pending() const;
    std::size_t in_progress() const;
    // Closes every connection and forgets every target not yet reported.
    void abandon();

private:
    std::unique_ptr<ServiceProber::Loop> loop_;
};

}  // namespace scanfw::services
