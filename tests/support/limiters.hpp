// Models of the ICMP error (and RST, echo reply) rate limiters of real kernels, for the
// deterministic simulation of whole scans: one Limiter per simulated host decides, for
// each message the host's kernel is about to send, whether the kernel would send it.
// Each model follows docs/icmp-rate-limits.md (the kernels' source, section by section)
// with the kernels' integer arithmetic and their random draws at the same points, from
// a seeded std::mt19937_64: the same spec, seed and calls give the same decisions.
//
//   sim::Limiter lim(sim::LimiterSpec::linux_defaults(), seed, time.now());
//   if (lim.allow(sim::Emission::Unreach4, probe_source, arrival)) send the unreachable
//
// Time: the kernel's clock counts from a boot instant placed before `start` by an offset
// drawn from the seed (an hour plus a uniform fraction of a second, in nanoseconds), so
// jiffy and tick boundaries fall anywhere relative to the simulation's times.
// ticks = floor((now - boot) * hz) in integers (Linux jiffies, FreeBSD ticks, illumos
// lbolt); XNU counts whole seconds. 32-bit wrap-around is not modelled (the doc's u32()
// matters only for a clock near its wrap). Time never goes back: a `now` earlier than
// one seen before is taken as the latest seen.
//
// Out of scope: loopback (simulated hosts are never reached over it), SMP races (the
// kernels' accepted races between CPUs), the reasons and rejects no caller here needs
// (FreeBSD timestamp replies, RSTs from open ports, SCTP), firewall rejects on systems
// other than Linux (see Emission).
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/address.hpp"
#include "common/clock.hpp"

namespace scanfw::sim {

// What the simulated host's kernel is about to send, and to whom (the probe's source).
//   Unreach4/6    the stack's own destination unreachable for a probe: a closed UDP
//                 port's port unreachable (also protocol unreachable). On Linux a
//                 netfilter "reject with icmp(x) ..." takes the same path and the same
//                 buckets (doc 1.7, 2.4), so Linux callers may use these for rejects too.
//   Rst4/6        the RST answering a segment to a closed TCP port
//   EchoReply4/6  the reply to an echo request
//   Other4/6      another ICMP error of the stack: ICMPv4 parameter problem or time
//                 exceeded (Linux limits them by icmp_ratemask bit 12/11: modelled as
//                 type 12), ICMPv6 parameter problem (type 4)
enum class Emission { Unreach4, Unreach6, Rst4, Rst6, EchoReply4, EchoReply6, Other4, Other6 };
std::string_view to_string(Emission);

struct LimiterSpec {
    enum class Os { None, Linux, FreeBsd, Illumos, Xnu, Router } os = Os::None;

    // The kernel's clock, ticks a second: Linux CONFIG_HZ (100, 250, 300, 1000),
    // FreeBSD kern.hz (1000), illumos hz (100; lbolt in ms is ticks * (1000 / hz)).
    int hz = 250;

    // Linux 6.18 (doc 1-2). Sysctls in their units; the ms ones become jiffies as the
    // kernel stores them (msecs_to_jiffies: rounded up).
    int icmp_ratelimit_ms = 1000;           // net.ipv4.icmp_ratelimit; 0: no per-peer limit
    std::uint32_t icmp_ratemask = 0x1818;   // net.ipv4.icmp_ratemask: types 3, 4, 11, 12
    int icmp_msgs_per_sec = 1000;           // global bucket (per netns), shared with IPv6
    int icmp_msgs_burst = 50;
    int ipv6_ratelimit_ms = 100;            // net.ipv6.icmp.ratelimit (HZ/10 since 6.18.14)
    std::bitset<256> ipv6_ratemask = default_ipv6_ratemask();  // "0-1,3-127"
    // Kernels before 6.18.14/7.0 divide the IPv6 interval by the prefix length of the
    // route back to the peer: tmo >>= (128 - plen) >> 5 (doc 2.3); -1: no scaling (6.18.14+).
    int ipv6_route_prefix = -1;
    // false: each error costs 1 global credit instead of uniform {0,1,2} (the cost
    // before 5.10, b38e7819cae9; the rest stays 6.18's). Only for the calibration's
    // negative control: a model without the kernel's randomness.
    bool random_cost = true;
    // Credit left in the global bucket with its stamp long ago: the bucket refills when
    // it runs dry, so up to credit + burst go out at once (the doc's "twice the burst
    // after a quiet spell"). Unset: from `spent` (below).
    std::optional<int> global_credit;

    // FreeBSD 14 (doc 3) and old XNU (4.1, whose limit is also icmplim)
    int icmplim = 200;                      // net.inet.icmp.icmplim (XNU: 250, iOS 50); 0: off
    int icmplim_jitter = 16;                // net.inet.icmp.icmplim_jitter (FreeBSD only)
    int initial_jitter = 0;                 // the current jitter: 0 after boot
    int icmp6errppslim = 100;               // net.inet6.icmp6.errppslimit (XNU: 500)
    bool udp_blackhole = false;             // net.inet.udp.blackhole: no port unreachable
    bool tcp_blackhole = false;             // net.inet.tcp.blackhole=2: no RST to closed ports

    // illumos / Solaris (doc 4.2): one bucket per IP stack for every ICMPv4/v6 error
    int err_interval_ms = 100;              // ip_icmp_err_interval
    int err_burst = 10;                     // ip_icmp_err_burst
    int rst_sent_rate = 40;                 // tcp_rst_sent_rate per second; 0: not limited

    // Router (doc 4.4, not read from source): a token bucket of `burst` messages,
    // one more every interval_ms, in ms; unreachables over IPv4 (Cisco's "ip icmp
    // rate-limit unreachable" 500 ms), every ICMPv6 error (Cisco "ipv6 icmp
    // error-interval", Brocade/HPE: 100 ms, bucket 10). 0 ms: not limited.
    int interval_ms = 500;
    int burst = 1;
    int interval6_ms = 100;
    int burst6 = 10;

    // 0..1: how much of the allowance is used up when the simulation starts (a scan
    // right after another from the same source addresses). 0 is a host that sent no
    // limited message for a long time (Linux: a new network namespace). Otherwise:
    //   Linux     every peer bucket, when first used, holds (1 - spent) x 6 x timeout
    //             tokens as of `start` (plus what accrued since); the global credit is
    //             round((1 - spent) x burst), last refilled within the 20 ms (HZ/50)
    //             before `start` (a scan keeps it refilling)
    //   FreeBSD   every reason's one-second window (and ICMPv6's) started within the
    //   XNU       second before `start` and has counted floor(spent x limit) events;
    //             spent = 1: limit + 1, the window is over its limit (the next window's
    //             first event then redraws the jitter, FreeBSD)
    //   illumos   floor(spent x burst) errors of the burst are used, as of `start`; the
    //             RST window as FreeBSD's
    //   Router    the buckets hold (1 - spent) of their capacity at `start`
    double spent = 0;

    static LimiterSpec none();
    static LimiterSpec linux_defaults(int hz = 250);
    static LimiterSpec freebsd_defaults();
    static LimiterSpec illumos_defaults();
    static LimiterSpec xnu_defaults(bool embedded = false);  // macOS 250/s, iOS 50/s
    static LimiterSpec router_defaults();

    // One line naming the OS and the fields it uses, e.g.
    // "linux:hz=250,icmp_ratelimit_ms=1000,...,spent=0"; parse() reads it back.
    std::string describe() const;
    // "OS[:key=value,...]": the OS's defaults, then the keys given (those describe()
    // writes; ipv6_ratemask as "0-1,3-127"). nullopt and `error` set on a bad spec.
    static std::optional<LimiterSpec> parse(std::string_view text, std::string* error = nullptr);

    static std::bitset<256> default_ipv6_ratemask();
};

class Limiter {  // one per simulated host (network namespace / machine)
public:
    Limiter(const LimiterSpec&, std::uint64_t seed, Clock::time_point start);

    // Whether the host's kernel sends `what` to `peer` at `now`; charges the limiter
    // exactly as the kernel does (denied messages too, where the kernel counts them).
    bool allow(Emission what, const IpAddress& peer, Clock::time_point now);

    std::uint64_t allowed() const { return allowed_; }
    std::uint64_t denied() const { return denied_; }
    const LimiterSpec& spec() const { return spec_; }

    // For tests and reports.
    Clock::time_point boot() const { return boot_; }
    std::int64_t ticks(Clock::time_point now) const;  // floor((now - boot) * hz)
    int linux_global_credit() const { return credit_; }
    std::string state() const;                         // one line

private:
    struct LinuxPeer {
        std::int64_t tokens = 0;  // rate_tokens, in jiffies
        std::int64_t last = 0;    // rate_last
    };
    struct CounterRate {           // FreeBSD counter_ratecheck() state
        std::int64_t count = 0, start = 0;
        bool over = false;
    };
    struct PpsRate {               // ppsratecheck() state
        std::int64_t count = 0, last = 0;
        bool used = false;
    };
    struct Bucket {                // router: tokens in ms
        std::int64_t tokens = 0, last = 0;
    };

    bool decide(Emission what, const IpAddress& peer, Clock::time_point now);
    bool linux_decide(Emission what, const IpAddress& peer, std::int64_t j);
    bool linux_global_allow(std::int64_t j);
    bool linux_peer_allow(const IpAddress& peer, std::int64_t timeout, std::int64_t j);
    bool freebsd_decide(Emission what, std::int64_t t);
    bool freebsd_bandlim(int which, std::int64_t t);
    bool illumos_decide(Emission what, std::int64_t t);
    bool xnu_decide(Emission what, Clock::time_point now);
    bool router_decide(Emission what, std::int64_t ms);
    static bool pps_check(PpsRate& r, std::int64_t t, std::int64_t period, int maxpps);
    std::uint64_t below(std::uint64_t n);  // uniform in [0, n), unbiased

    LimiterSpec spec_;
    std::mt19937_64 rng_;
    Clock::time_point boot_, start_, latest_;
    std::uint64_t allowed_ = 0, denied_ = 0;

    // Linux
    std::int64_t timeout4_ = 0, timeout6_ = 0;  // jiffies
    int credit_ = 0;
    std::int64_t stamp_ = 0;
    std::unordered_map<IpAddress, LinuxPeer, IpAddressHash> peers_;
    std::int64_t peer_tokens_at_start_ = -1;     // -1: new peers as the kernel makes them
    // FreeBSD (reasons 0 ICMP_UNREACH, 1 ICMP_ECHO, 3 RST_CLOSEDPORT, 5 ICMP6_UNREACH)
    // and XNU (0, 1, 3; start in seconds)
    CounterRate rates_[7];
    int jitter_ = 0;
    PpsRate icmp6_;
    // illumos
    std::int64_t err_sent_ = 0, err_last_ = 0;  // ms
    PpsRate rst_;
    // Router
    Bucket bucket4_, bucket6_;
};

}  // namespace scanfw::sim
