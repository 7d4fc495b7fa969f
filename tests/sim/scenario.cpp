#include "sim/scenario.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace scanfw::sim {

namespace {

using namespace std::chrono_literals;

class Draw {
public:
    explicit Draw(std::uint64_t seed) : rng_(seed ^ 0x5ca1ab1e5eedull) {}
    double uniform(double a = 0, double b = 1) { return std::uniform_real_distribution<>(a, b)(rng_); }
    bool chance(double p) { return uniform() < p; }
    int between(int a, int b) { return std::uniform_int_distribution<>(a, b)(rng_); }
    // Log-uniform: as likely between 1 and 10 as between 10 and 100.
    double log_uniform(double a, double b) { return std::exp(uniform(std::log(a), std::log(b))); }
    Duration millis(double a, double b) {
        return std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::milli>(log_uniform(a, b)));
    }
    template <class T>
    const T& pick(const std::vector<T>& v) { return v[static_cast<std::size_t>(between(0, int(v.size()) - 1))]; }
    std::mt19937_64& rng() { return rng_; }

private:
    std::mt19937_64 rng_;
};

// A port's behaviour, by the kind of host (a server, a firewalled one, a rejecting one).
Behaviour tcp_behaviour(Draw& d, int profile) {
    const double x = d.uniform();
    switch (profile) {
        case 0: return x < .2 ? Behaviour::Open : x < .85 ? Behaviour::Closed : x < .93 ? Behaviour::Drop
                                                                                : x < .97 ? Behaviour::RejectAdmin
                                                                                          : Behaviour::RejectReset;
        case 1: return x < .15 ? Behaviour::Open : x < .2 ? Behaviour::Closed : Behaviour::Drop;
        default: return x < .1 ? Behaviour::Open : x < .2 ? Behaviour::Closed : x < .9 ? Behaviour::RejectAdmin
                                                                                   : Behaviour::RejectReset;
    }
}
Behaviour udp_behaviour(Draw& d, int profile) {
    const double x = d.uniform();
    switch (profile) {
        case 0: return x < .12 ? Behaviour::Open : x < .16 ? Behaviour::OpenSilent : x < .9 ? Behaviour::Closed
                                                                                   : x < .95 ? Behaviour::Drop
                                                                                             : Behaviour::RejectAdmin;
        case 1: return x < .1 ? Behaviour::Open : x < .2 ? Behaviour::Closed : Behaviour::Drop;
        default: return x < .1 ? Behaviour::Open : x < .2 ? Behaviour::Closed : Behaviour::RejectAdmin;
    }
}

LimiterSpec limiter(Draw& d) {
    LimiterSpec s;
    const double x = d.uniform();
    if (x < .35) {
        static const std::vector<int> hz{100, 250, 300, 1000};
        s = LimiterSpec::linux_defaults(d.pick(hz));
        if (d.chance(.15)) s.icmp_ratelimit_ms = 0;  // the global bucket alone
        if (d.chance(.15)) s.icmp_msgs_per_sec = 200;
    } else if (x < .5) {
        s = LimiterSpec::freebsd_defaults();
    } else if (x < .58) {
        s = LimiterSpec::illumos_defaults();
    } else if (x < .63) {
        s = LimiterSpec::xnu_defaults(d.chance(.3));
    } else if (x < .73) {
        s = LimiterSpec::router_defaults();
    } else {
        s = LimiterSpec::none();
    }
    // A scan right after another: the allowance spent, or part of it.
    const double y = d.uniform();
    s.spent = y < .5 ? 0 : y < .75 ? 1 : d.uniform();
    return s;
}

Path path(Draw& d, int level) {
    Path p;
    // Round trips up to what the timing template waits at most (-T5: 300 ms), rarely more.
    const double max_rtt_ms = level >= 5 ? 300 : level == 4 ? 1250 : 1000;
    const double rtt_ms = d.chance(.02) ? d.uniform(max_rtt_ms, 2 * max_rtt_ms) : d.log_uniform(0.1, max_rtt_ms / 2);
    p.delay = std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::milli>(rtt_ms / 2));
    if (d.chance(.4)) p.jitter = d.millis(0.01, std::max(0.02, std::min(rtt_ms / 2, 20.0)));
    // Reordering: none on most paths, microseconds on some (a target's receive queues),
    // up to 2 ms on a few (parallel links of unequal length).
    const double r = d.uniform();
    if (r > .6) {
        p.reorder = r < .9 ? d.millis(0.001, 0.05) : d.millis(0.05, 2);
        p.reorder_chance = d.log_uniform(0.001, 0.05);
    }
    if (d.chance(.5)) {
        p.loss_out = d.chance(.8) ? d.uniform(0, 0.3) : 0;
        p.loss_back = d.chance(.8) ? d.uniform(0, 0.3) : 0;
    }
    if (d.chance(.1)) p.duplicate = d.uniform(0, 0.05);
    return p;
}

Machine machine(Draw& d) {
    Machine m;
    if (d.chance(.35)) {
        m.engine_pause = d.uniform(0, 0.1);
        m.engine_pause_max = d.millis(1, 500);
    }
    if (d.chance(.25)) {
        m.capture_pause = d.uniform(0, 0.005);
        m.capture_pause_max = d.millis(1, 200);
    }
    if (d.chance(.25)) {
        m.sender_pause = d.uniform(0, 0.005);
        m.sender_pause_max = d.millis(1, 200);
    }
    if (d.chance(.15)) m.capture_ring = static_cast<std::size_t>(d.log_uniform(16, 4096));
    return m;
}

std::string join(const std::vector<std::uint16_t>& v) { return fmt::format("{}", fmt::join(v, ",")); }

std::vector<std::uint16_t> ports(Draw& d, int n) {
    static const std::vector<std::uint16_t> common{7,   21,  22,  23,   25,   53,   80,   110,  111,  123,
                                                   135, 137, 139, 143,  161,  162,  443,  445,  500,  514,
                                                   993, 995, 1723, 3306, 3389, 5900, 8080, 8443, 40125};
    std::set<std::uint16_t> s;
    while (static_cast<int>(s.size()) < n)
        s.insert(d.chance(.5) ? d.pick(common) : static_cast<std::uint16_t>(d.between(1, 65535)));
    return {s.begin(), s.end()};
}

}  // namespace

Scenario draw_scenario(std::uint64_t seed) {
    Draw d(seed);
    Scenario sc;
    sc.seed = seed;
    const bool v6 = d.chance(.15);
    // The size: most scenarios small, some wide and shallow.
    const double shape = d.uniform();
    const int hosts = shape < .6 ? d.between(1, 4) : shape < .9 ? d.between(5, 50) : d.between(100, 1000);
    const int per_proto = shape < .6 ? d.between(1, 40) : shape < .9 ? d.between(1, 8) : d.between(1, 2);

    // Timing first: the slowest templates only for the smallest scans.
    const double t = d.uniform();
    sc.timing_level = t < .5 ? 3 : t < .7 ? 4 : t < .82 ? 5 : t < .9 ? 2 : 3;
    if (hosts * per_proto <= 4 && d.chance(.1)) sc.timing_level = d.between(0, 1);

    // Techniques: one to three, each at most once.
    static const std::vector<std::string> all{"syn", "udp", "connect", "null", "fin", "xmas", "ack", "window", "maimon"};
    static const std::vector<double> weight{.25, .25, .1, .06, .05, .05, .08, .05, .05};
    std::set<std::string> techniques;
    const int count = d.chance(.6) ? 1 : d.chance(.7) ? 2 : 3;
    while (static_cast<int>(techniques.size()) < count)
        techniques.insert(all[std::discrete_distribution<>(weight.begin(), weight.end())(d.rng())]);
    const bool tcp = std::any_of(techniques.begin(), techniques.end(), [](const auto& s) { return s != "udp"; });
    const bool udp = techniques.count("udp") > 0;

    const auto tcp_ports = ports(d, per_proto), udp_ports = ports(d, per_proto);
    std::string spec;
    if (tcp) spec += "T:" + join(tcp_ports);
    if (udp) spec += std::string(spec.empty() ? "" : ",") + "U:" + join(udp_ports);

    // The targets: the first `hosts` addresses of a block; the rest of it has no host.
    int prefix = 32;
    while ((1 << (32 - prefix)) < hosts) --prefix;
    const bool same_limiter = d.chance(.7), same_path = d.chance(.7);
    const LimiterSpec lim = limiter(d);
    const Path shared = path(d, sc.timing_level);
    for (int i = 0; i < hosts; ++i) {
        HostSpec h;
        if (v6) {
            h.addr = *IpAddress::parse("fd00:5eed:4::");
            h.addr.bytes[14] = static_cast<std::uint8_t>(i >> 8);
            h.addr.bytes[15] = static_cast<std::uint8_t>(i);
        } else {
            h.addr = IpAddress::v4((198u << 24 | 18u << 16 | 4u << 8) + static_cast<std::uint32_t>(i));
        }
        h.up = d.chance(.85);
        const int profile = d.chance(.7) ? 0 : d.chance(.5) ? 1 : 2;
        h.tcp_default = profile == 1 ? Behaviour::Drop : profile == 2 ? Behaviour::RejectAdmin : Behaviour::Closed;
        h.udp_default = h.tcp_default;
        for (const auto p : tcp_ports) h.tcp[p] = tcp_behaviour(d, profile);
        for (const auto p : udp_ports) {
            h.udp[p] = udp_behaviour(d, profile);
            if (h.udp[p] == Behaviour::Open) {
                const double s = d.uniform();
                h.service_delay[p] = s < .8 ? d.millis(0.01, 5) : s < .95 ? d.millis(5, 500) : d.millis(500, 2500);
            }
        }
        // Discovery's ports (443 and 80) as the profile has them.
        for (const std::uint16_t p : {80, 443})
            if (!h.tcp.count(p)) h.tcp[p] = tcp_behaviour(d, profile);
        h.icmp_echo = d.chance(profile == 1 ? .3 : .85);
        h.icmp_timestamp = d.chance(profile == 1 ? .2 : .7);
        h.limiter = same_limiter ? lim : limiter(d);
        h.path = same_path ? shared : path(d, sc.timing_level);
        sc.hosts.push_back(std::move(h));
    }

    sc.sources.push_back(*IpAddress::parse(v6 ? "fd00:5eed::1" : "198.18.0.1"));
    if (d.chance(.12)) {
        const int n = d.between(2, 8);
        sc.sources.clear();
        for (int i = 1; i <= n; ++i)
            sc.sources.push_back(*IpAddress::parse(v6 ? fmt::format("fd00:5eed::ff:{:x}", i) : fmt::format("198.19.255.{}", i)));
    }
    sc.machine = machine(d);

    // The command line.
    std::string target = v6 ? fmt::format("fd00:5eed:4::/{}", 128 - (32 - prefix))
                            : fmt::format("198.18.4.0/{}", prefix);
    sc.args = {"--plugin", fmt::format("{}", fmt::join(techniques, ",")), "-p", spec, "-T", std::to_string(sc.timing_level)};
    const double disc = d.uniform();
    if (disc < .3) {
        sc.args.push_back("-Pn");
    } else if (disc < .45) {
        static const std::vector<std::string> probes{"icmp-echo", "icmp-timestamp", "tcp-syn-ping:443",
                                                     "tcp-ack-ping:80", "tcp-syn-ping:22,80", "udp-ping"};
        const int n = d.between(1, 2);
        for (int i = 0; i < n; ++i) {
            sc.args.push_back("--discover");
            sc.args.push_back(d.pick(probes));
        }
    }
    if (d.chance(.15)) {
        sc.args.push_back("--max-retries");
        sc.args.push_back(std::to_string(d.between(0, 10)));
    }
    if (d.chance(.1)) {
        sc.args.push_back("--min-rate");
        sc.args.push_back(std::to_string(d.between(10, 5000)));
    }
    sc.args.push_back(target);
    return sc;
}

std::string Scenario::command() const {
    std::string s = "scanfw";
    for (const auto& a : args) s += " " + a;
    if (sources.size() > 1) {
        s += " --source-ip ";
        for (std::size_t i = 0; i < sources.size(); ++i) s += (i ? "," : "") + sources[i].str();
    }
    return s;
}

std::string Scenario::describe() const {
    int up = 0;
    for (const auto& h : hosts) up += h.up;
    const HostSpec& h0 = hosts.front();
    return fmt::format("seed {}: {} | {} hosts ({} up), first host: limiter {}, delay {:.3f} ms jitter {:.3f} ms "
                       "reorder {:.3f} ms ({:.3f}) loss {:.2f}/{:.2f} dup {:.2f} | machine: engine stalls {:.3f} (<= {:.0f} ms), capture "
                       "stalls {:.4f}/ms (<= {:.0f} ms), sender stalls {:.4f}/ms (<= {:.0f} ms), ring {}",
                       seed, command(), hosts.size(), up, h0.limiter.describe(),
                       seconds(h0.path.delay) * 1e3, seconds(h0.path.jitter) * 1e3, seconds(h0.path.reorder) * 1e3,
                       h0.path.reorder_chance, h0.path.loss_out,
                       h0.path.loss_back, h0.path.duplicate, machine.engine_pause,
                       seconds(machine.engine_pause_max) * 1e3, machine.capture_pause,
                       seconds(machine.capture_pause_max) * 1e3, machine.sender_pause,
                       seconds(machine.sender_pause_max) * 1e3, machine.capture_ring);
}

}  // namespace scanfw::sim
