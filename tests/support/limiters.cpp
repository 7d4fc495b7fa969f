// The limiter models of limiters.hpp; each function names the kernel function and the
// section of docs/icmp-rate-limits.md it follows.
#include "support/limiters.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace scanfw::sim {

namespace {

constexpr std::int64_t kNsPerSec = 1'000'000'000;

// msecs_to_jiffies(): rounded up (proc_dointvec_ms_jiffies stores the sysctls so).
std::int64_t ms_to_ticks(std::int64_t ms, int hz) { return ms <= 0 ? 0 : (ms * hz + 999) / 1000; }

// FreeBSD / XNU bandlim reasons (netinet/icmp_var.h).
constexpr int kUnreach = 0, kEcho = 1, kRstClosed = 3, kUnreach6 = 5;

std::string mask6_text(const std::bitset<256>& m) {
    std::string out;
    for (int i = 0; i < 256;) {
        if (!m[i]) {
            ++i;
            continue;
        }
        int j = i;
        while (j + 1 < 256 && m[j + 1]) ++j;
        if (!out.empty()) out += ';';  // ',' separates parse()'s keys
        out += std::to_string(i);
        if (j > i) out += "-" + std::to_string(j);
        i = j + 1;
    }
    return out.empty() ? "none" : out;
}

std::optional<std::bitset<256>> parse_mask6(std::string_view s) {
    std::bitset<256> m;
    if (s == "none" || s.empty()) return m;
    while (!s.empty()) {
        const auto cut = s.find_first_of(";:");
        std::string_view item = s.substr(0, cut);
        s = cut == std::string_view::npos ? std::string_view{} : s.substr(cut + 1);
        int lo = 0, hi = 0;
        const auto dash = item.find('-');
        const auto a = item.substr(0, dash);
        if (std::from_chars(a.data(), a.data() + a.size(), lo).ec != std::errc{}) return std::nullopt;
        hi = lo;
        if (dash != std::string_view::npos) {
            const auto b = item.substr(dash + 1);
            if (std::from_chars(b.data(), b.data() + b.size(), hi).ec != std::errc{}) return std::nullopt;
        }
        if (lo < 0 || hi > 255 || lo > hi) return std::nullopt;
        for (int i = lo; i <= hi; ++i) m.set(i);
    }
    return m;
}

std::string_view os_name(LimiterSpec::Os os) {
    switch (os) {
        case LimiterSpec::Os::None: return "none";
        case LimiterSpec::Os::Linux: return "linux";
        case LimiterSpec::Os::FreeBsd: return "freebsd";
        case LimiterSpec::Os::Illumos: return "illumos";
        case LimiterSpec::Os::Xnu: return "xnu";
        case LimiterSpec::Os::Router: return "router";
    }
    return "?";
}

}  // namespace

std::string_view to_string(Emission e) {
    switch (e) {
        case Emission::Unreach4: return "unreach4";
        case Emission::Unreach6: return "unreach6";
        case Emission::Rst4: return "rst4";
        case Emission::Rst6: return "rst6";
        case Emission::EchoReply4: return "echoreply4";
        case Emission::EchoReply6: return "echoreply6";
        case Emission::Other4: return "other4";
        case Emission::Other6: return "other6";
    }
    return "?";
}

// ---- specs -------------------------------------------------------------------

std::bitset<256> LimiterSpec::default_ipv6_ratemask() {
    std::bitset<256> m;
    for (int t = 0; t <= 127; ++t) m.set(t);
    m.reset(2);  // Packet Too Big
    return m;
}

LimiterSpec LimiterSpec::none() { return {}; }

LimiterSpec LimiterSpec::linux_defaults(int hz) {
    LimiterSpec s;
    s.os = Os::Linux;
    s.hz = hz;
    return s;  // the field defaults are Linux 6.18.14+'s
}

LimiterSpec LimiterSpec::freebsd_defaults() {
    LimiterSpec s;
    s.os = Os::FreeBsd;
    s.hz = 1000;
    s.icmplim = 200;
    s.icmplim_jitter = 16;
    s.icmp6errppslim = 100;
    return s;
}

LimiterSpec LimiterSpec::illumos_defaults() {
    LimiterSpec s;
    s.os = Os::Illumos;
    s.hz = 100;
    return s;
}

LimiterSpec LimiterSpec::xnu_defaults(bool embedded) {
    LimiterSpec s;
    s.os = Os::Xnu;
    s.icmplim = embedded ? 50 : 250;  // CONFIG_ICMP_BANDLIM
    s.icmplim_jitter = 0;
    s.icmp6errppslim = 500;           // XNU's in6_proto.c (not in the doc)
    return s;
}

LimiterSpec LimiterSpec::router_defaults() {
    LimiterSpec s;
    s.os = Os::Router;
    return s;
}

std::string LimiterSpec::describe() const {
    std::ostringstream o;
    o << os_name(os);
    char sep = ':';
    auto kv = [&](std::string_view k, const auto& v) {
        o << sep << k << '=' << v;
        sep = ',';
    };
    switch (os) {
        case Os::None: break;
        case Os::Linux: {
            kv("hz", hz);
            kv("icmp_ratelimit_ms", icmp_ratelimit_ms);
            std::ostringstream m;
            m << "0x" << std::hex << icmp_ratemask;
            kv("icmp_ratemask", m.str());
            kv("icmp_msgs_per_sec", icmp_msgs_per_sec);
            kv("icmp_msgs_burst", icmp_msgs_burst);
            kv("ipv6_ratelimit_ms", ipv6_ratelimit_ms);
            kv("ipv6_ratemask", mask6_text(ipv6_ratemask));
            if (ipv6_route_prefix >= 0) kv("ipv6_route_prefix", ipv6_route_prefix);
            if (!random_cost) kv("random_cost", 0);
            if (global_credit) kv("global_credit", *global_credit);
            break;
        }
        case Os::FreeBsd:
            kv("hz", hz);
            kv("icmplim", icmplim);
            kv("icmplim_jitter", icmplim_jitter);
            if (initial_jitter != 0) kv("initial_jitter", initial_jitter);
            kv("icmp6errppslim", icmp6errppslim);
            if (udp_blackhole) kv("udp_blackhole", 1);
            if (tcp_blackhole) kv("tcp_blackhole", 2);
            break;
        case Os::Illumos:
            kv("hz", hz);
            kv("err_interval_ms", err_interval_ms);
            kv("err_burst", err_burst);
            kv("rst_sent_rate", rst_sent_rate);
            break;
        case Os::Xnu:
            kv("icmplim", icmplim);
            kv("icmp6errppslim", icmp6errppslim);
            break;
        case Os::Router:
            kv("interval_ms", interval_ms);
            kv("burst", burst);
            kv("interval6_ms", interval6_ms);
            kv("burst6", burst6);
            break;
    }
    if (os != Os::None) kv("spent", spent);
    return o.str();
}

std::optional<LimiterSpec> LimiterSpec::parse(std::string_view text, std::string* error) {
    auto fail = [&](const std::string& why) -> std::optional<LimiterSpec> {
        if (error) *error = why;
        return std::nullopt;
    };
    const auto colon = text.find(':');
    const std::string_view name = text.substr(0, colon);
    LimiterSpec s;
    if (name == "none") s = none();
    else if (name == "linux") s = linux_defaults();
    else if (name == "freebsd") s = freebsd_defaults();
    else if (name == "illumos" || name == "solaris") s = illumos_defaults();
    else if (name == "xnu") s = xnu_defaults();
    else if (name == "router") s = router_defaults();
    else return fail("unknown OS '" + std::string(name) + "' (none linux freebsd illumos xnu router)");
    std::string_view rest = colon == std::string_view::npos ? std::string_view{} : text.substr(colon + 1);
    while (!rest.empty()) {
        const auto comma = rest.find(',');
        const std::string_view item = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        const auto eq = item.find('=');
        if (eq == std::string_view::npos) return fail("'" + std::string(item) + "' is not key=value");
        const std::string key(item.substr(0, eq));
        const std::string_view value = item.substr(eq + 1);
        if (key == "ipv6_ratemask") {
            const auto m = parse_mask6(value);
            if (!m) return fail("bad ipv6_ratemask '" + std::string(value) + "' (e.g. 0-1;3-127)");
            s.ipv6_ratemask = *m;
            continue;
        }
        if (key == "spent") {
            try {
                s.spent = std::stod(std::string(value));
            } catch (const std::exception&) {
                return fail("bad spent '" + std::string(value) + "'");
            }
            if (!(s.spent >= 0 && s.spent <= 1)) return fail("spent must be within 0..1");
            continue;
        }
        long long v = 0;
        const int base = value.starts_with("0x") ? 16 : 10;
        const auto digits = base == 16 ? value.substr(2) : value;
        const auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
        if (ec != std::errc{} || p != digits.data() + digits.size())
            return fail("bad value for " + key + ": '" + std::string(value) + "'");
        const int i = static_cast<int>(v);
        if (key == "hz") s.hz = i;
        else if (key == "icmp_ratelimit_ms") s.icmp_ratelimit_ms = i;
        else if (key == "icmp_ratemask") s.icmp_ratemask = static_cast<std::uint32_t>(v);
        else if (key == "icmp_msgs_per_sec") s.icmp_msgs_per_sec = i;
        else if (key == "icmp_msgs_burst") s.icmp_msgs_burst = i;
        else if (key == "ipv6_ratelimit_ms") s.ipv6_ratelimit_ms = i;
        else if (key == "ipv6_route_prefix") s.ipv6_route_prefix = i;
        else if (key == "random_cost") s.random_cost = i != 0;
        else if (key == "global_credit") s.global_credit = i;
        else if (key == "icmplim") s.icmplim = i;
        else if (key == "icmplim_jitter") s.icmplim_jitter = i;
        else if (key == "initial_jitter") s.initial_jitter = i;
        else if (key == "icmp6errppslim") s.icmp6errppslim = i;
        else if (key == "udp_blackhole") s.udp_blackhole = i != 0;
        else if (key == "tcp_blackhole") {
            if (i != 0 && i != 2) return fail("tcp_blackhole: 0 or 2 (1 drops RSTs to SYNs only, not modelled)");
            s.tcp_blackhole = i == 2;
        } else if (key == "err_interval_ms") s.err_interval_ms = i;
        else if (key == "err_burst") s.err_burst = i;
        else if (key == "rst_sent_rate") s.rst_sent_rate = i;
        else if (key == "interval_ms") s.interval_ms = i;
        else if (key == "burst") s.burst = i;
        else if (key == "interval6_ms") s.interval6_ms = i;
        else if (key == "burst6") s.burst6 = i;
        else return fail("unknown key '" + key + "'");
    }
    if (s.hz <= 0) return fail("hz must be positive");
    return s;
}

// ---- the limiter ---------------------------------------------------------------

Limiter::Limiter(const LimiterSpec& spec, std::uint64_t seed, Clock::time_point start)
    : spec_(spec), rng_(seed), start_(start), latest_(start) {
    // Boot an hour and a random fraction of a second before the start: tick
    // boundaries anywhere relative to the simulation's times.
    const auto offset = std::chrono::seconds(3600) + std::chrono::nanoseconds(below(kNsPerSec));
    boot_ = start - std::chrono::duration_cast<Clock::duration>(offset);
    const double spent = std::clamp(spec_.spent, 0.0, 1.0);
    const std::int64_t hz = spec_.hz;
    const std::int64_t t0 = ticks(start);
    switch (spec_.os) {
        case LimiterSpec::Os::None: break;
        case LimiterSpec::Os::Linux:
            timeout4_ = ms_to_ticks(spec_.icmp_ratelimit_ms, spec_.hz);
            timeout6_ = ms_to_ticks(spec_.ipv6_ratelimit_ms, spec_.hz);
            if (spec_.ipv6_route_prefix >= 0 && spec_.ipv6_route_prefix < 128)
                timeout6_ >>= (128 - spec_.ipv6_route_prefix) >> 5;  // before 6.18.14 (doc 2.3)
            if (spec_.global_credit) {
                credit_ = *spec_.global_credit;
                stamp_ = t0 - 1000 * hz;  // long ago: the first refill adds a full second's worth
            } else if (spent == 0) {
                credit_ = 0;              // a new netns: credit 0, stamp 0 (far from now)
                stamp_ = t0 - 1000 * hz;
            } else {
                credit_ = static_cast<int>(std::lround((1 - spent) * spec_.icmp_msgs_burst));
                stamp_ = t0 - static_cast<std::int64_t>(below(static_cast<std::uint64_t>(std::max<std::int64_t>(hz / 50, 1))));
            }
            break;
        case LimiterSpec::Os::FreeBsd:
        case LimiterSpec::Os::Xnu: {
            jitter_ = spec_.os == LimiterSpec::Os::FreeBsd ? spec_.initial_jitter : 0;
            // XNU counts in whole seconds of net_uptime(); FreeBSD in ticks.
            const bool xnu = spec_.os == LimiterSpec::Os::Xnu;
            const std::int64_t now = xnu ? (start - boot_) / std::chrono::seconds(1) : t0;
            const std::int64_t period = xnu ? 1 : hz;
            const std::int64_t limit = spec_.icmplim + jitter_;
            for (auto& r : rates_) {
                r.start = now - 10 * period;  // the VNET's initialisation, long ago
                if (spent > 0) {
                    r.start = now - static_cast<std::int64_t>(below(static_cast<std::uint64_t>(period)));
                    r.count = spent >= 1 ? limit + 1 : static_cast<std::int64_t>(std::floor(spent * limit));
                    r.over = spent >= 1 && !xnu;
                }
            }
            if (spent > 0) {
                icmp6_.used = true;
                icmp6_.last = now - static_cast<std::int64_t>(below(static_cast<std::uint64_t>(period)));
                icmp6_.count = static_cast<std::int64_t>(std::floor(spent * spec_.icmp6errppslim));
            }
            break;
        }
        case LimiterSpec::Os::Illumos: {
            const std::int64_t ms = t0 * (1000 / hz);
            if (spent > 0) {
                err_sent_ = static_cast<std::int64_t>(std::floor(spent * spec_.err_burst));
                err_last_ = ms;
                rst_.used = true;
                rst_.last = t0 - static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hz)));
                rst_.count = static_cast<std::int64_t>(std::floor(spent * spec_.rst_sent_rate)) + (spent >= 1 ? 1 : 0);
            }
            break;
        }
        case LimiterSpec::Os::Router: {
            const std::int64_t ms = (start - boot_) / std::chrono::milliseconds(1);
            bucket4_ = {static_cast<std::int64_t>(std::floor((1 - spent) * spec_.burst * spec_.interval_ms)), ms};
            bucket6_ = {static_cast<std::int64_t>(std::floor((1 - spent) * spec_.burst6 * spec_.interval6_ms)), ms};
            break;
        }
    }
}

std::uint64_t Limiter::below(std::uint64_t n) {
    // Rejection of the low values, as arc4random_uniform: every residue equally likely.
    if (n <= 1) return 0;
    const std::uint64_t threshold = (0 - n) % n;  // 2^64 mod n
    for (;;) {
        const std::uint64_t x = rng_();
        if (x >= threshold) return x % n;
    }
}

std::int64_t Limiter::ticks(Clock::time_point now) const {
    const std::int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - boot_).count();
    const std::int64_t hz = spec_.hz;
    // floor(ns * hz / 1e9) without overflow; floored for times before the boot too
    std::int64_t sec = ns / kNsPerSec, rem = ns % kNsPerSec;
    if (rem < 0) --sec, rem += kNsPerSec;
    return sec * hz + rem * hz / kNsPerSec;
}

bool Limiter::allow(Emission what, const IpAddress& peer, Clock::time_point now) {
    if (now < latest_) now = latest_;
    latest_ = now;
    const bool ok = decide(what, peer, now);
    ++(ok ? allowed_ : denied_);
    return ok;
}

bool Limiter::decide(Emission what, const IpAddress& peer, Clock::time_point now) {
    switch (spec_.os) {
        case LimiterSpec::Os::None: return true;
        case LimiterSpec::Os::Linux: return linux_decide(what, peer, ticks(now));
        case LimiterSpec::Os::FreeBsd: return freebsd_decide(what, ticks(now));
        case LimiterSpec::Os::Illumos: return illumos_decide(what, ticks(now));
        case LimiterSpec::Os::Xnu: return xnu_decide(what, now);
        case LimiterSpec::Os::Router: return router_decide(what, (now - boot_) / std::chrono::milliseconds(1));
    }
    return true;
}

// ---- Linux 6.18 (doc 1.4-1.6, 2.4) ------------------------------------------------

bool Limiter::linux_decide(Emission what, const IpAddress& peer, std::int64_t j) {
    bool v6 = false;
    int type = 0, code = 0;
    switch (what) {
        case Emission::Rst4:
        case Emission::Rst6: return true;  // tcp_v{4,6}_send_reset(): no limiter (doc 1.7)
        case Emission::Unreach4: type = 3, code = 3; break;
        case Emission::Other4: type = 12; break;
        case Emission::EchoReply4: type = 0; break;
        case Emission::Unreach6: v6 = true, type = 1, code = 4; break;
        case Emission::Other6: v6 = true, type = 4; break;
        case Emission::EchoReply6: v6 = true, type = 129; break;
    }
    // icmpv4_mask_allow() / icmpv6_mask_allow(): a type outside the mask is not limited
    // at all (apply_ratelimit stays false: no bucket touched).
    const bool limited = v6 ? spec_.ipv6_ratemask.test(static_cast<std::size_t>(type))
                            : type <= 18 && !(type == 3 && code == 4) && ((spec_.icmp_ratemask >> type) & 1u);
    if (!limited) return true;
    // icmp_global_allow(): checked, not consumed.
    if (!linux_global_allow(j)) return false;
    // icmpv{4,6}_xrlim_allow(): the per-peer bucket (timeout 0: always allows; 6.18
    // creates the entry anyway, which changes nothing), then icmp_global_consume().
    const std::int64_t timeout = v6 ? timeout6_ : timeout4_;
    if (timeout > 0 && !linux_peer_allow(peer, timeout, j)) return false;
    const int cost = spec_.random_cost ? static_cast<int>(below(3)) : 1;  // get_random_u32_below(3)
    credit_ -= cost;
    return true;
}

bool Limiter::linux_global_allow(std::int64_t j) {
    if (credit_ > 0) return true;  // no refill while credit is positive
    const std::int64_t hz = spec_.hz;
    const std::int64_t delta = std::min<std::int64_t>(j - stamp_, hz);
    if (delta < hz / 50) return false;  // at most one refill per HZ/50
    const std::int64_t incr = std::int64_t{spec_.icmp_msgs_per_sec} * delta / hz;
    if (incr == 0) return false;
    stamp_ = j;
    credit_ = static_cast<int>(std::min<std::int64_t>(credit_ + incr, spec_.icmp_msgs_burst));
    return true;  // even if the credit is still <= 0
}

bool Limiter::linux_peer_allow(const IpAddress& peer, std::int64_t timeout, std::int64_t j) {
    // inet_getpeer(): a new entry has rate_tokens 0, rate_last = jiffies - 60*HZ.
    auto [it, fresh] = peers_.try_emplace(peer);
    LinuxPeer& p = it->second;
    const std::int64_t cap = 6 * timeout;  // XRLIM_BURST_FACTOR
    if (fresh) {
        const double spent = std::clamp(spec_.spent, 0.0, 1.0);
        if (spent > 0) {
            p.tokens = static_cast<std::int64_t>(std::floor((1 - spent) * static_cast<double>(cap)));
            p.last = ticks(start_);
        } else {
            p.tokens = 0;
            p.last = j - 60 * std::int64_t{spec_.hz};
        }
    }
    // inet_peer_xrlim_allow() (6.14+ form)
    std::int64_t token = p.tokens;
    const std::int64_t delta = j - p.last;
    if (delta != 0) {
        p.last = j;
        token = std::min(token + delta, cap);
    }
    bool ok = false;
    if (token >= timeout) {
        token -= timeout;
        ok = true;
    }
    p.tokens = token;
    return ok;
}

// ---- FreeBSD 14 (doc 3) ----------------------------------------------------------

bool Limiter::freebsd_decide(Emission what, std::int64_t t) {
    switch (what) {
        case Emission::Unreach4:  // udp_input(): blackhole, then the bandlim
            return !spec_.udp_blackhole && freebsd_bandlim(kUnreach, t);
        case Emission::Unreach6:  // udp6_input(): blackhole, bandlim, then icmp6_error()'s ppsratecheck
            if (spec_.udp_blackhole || !freebsd_bandlim(kUnreach6, t)) return false;
            return pps_check(icmp6_, t, spec_.hz, spec_.icmp6errppslim);
        case Emission::Rst4:
        case Emission::Rst6:  // tcp_dropwithreset(), both families: one counter
            return !spec_.tcp_blackhole && freebsd_bandlim(kRstClosed, t);
        case Emission::EchoReply4: return freebsd_bandlim(kEcho, t);  // icmp_input()
        case Emission::EchoReply6: return true;  // icmp6_input(): no limiter (doc: none named)
        case Emission::Other4: return true;      // icmp_error() itself has no limiter
        case Emission::Other6: return pps_check(icmp6_, t, spec_.hz, spec_.icmp6errppslim);
    }
    return true;
}

bool Limiter::freebsd_bandlim(int which, std::int64_t t) {
    // badport_bandlim()
    if (spec_.icmplim == 0) return true;
    if (spec_.icmplim + jitter_ <= 0) jitter_ = 1 - spec_.icmplim;
    const std::int64_t limit = spec_.icmplim + jitter_;
    // counter_ratecheck()
    CounterRate& cr = rates_[which];
    std::int64_t val = cr.over ? -1 : 0;
    if (t - cr.start >= spec_.hz) {  // the first event at least 1 s after the window's start
        val = cr.count;
        cr.count = 0;
        cr.over = false;
        cr.start = t;
        if (val <= limit) val = 0;
    }
    cr.count += 1;  // denied events count too
    if (cr.over) {
        val = -1;
    } else if (cr.count > limit) {
        cr.over = true;
        val = -1;
    }
    // back in badport_bandlim(): a window just closed over its limit redraws the jitter
    if (val > 0 && spec_.icmplim_jitter > 0) {
        const auto j = static_cast<std::uint64_t>(spec_.icmplim_jitter);
        jitter_ = static_cast<int>(below(2 * j + 1)) - spec_.icmplim_jitter;  // arc4random_uniform(2J+1) - J
    }
    return val != -1;
}

// ppsratecheck() / eventratecheck() (FreeBSD kern_time.c, doc 3.4): a window starts at
// the first event `period` or more after the last window's start.
bool Limiter::pps_check(PpsRate& r, std::int64_t t, std::int64_t period, int maxpps) {
    if (!r.used || t - r.last >= period) {
        r.used = true;
        r.last = t;
        r.count = 1;
        return maxpps != 0;
    }
    ++r.count;
    return maxpps < 0 || r.count <= maxpps;
}

// ---- illumos (doc 4.2) -------------------------------------------------------------

bool Limiter::illumos_decide(Emission what, std::int64_t t) {
    const std::int64_t now = t * (1000 / spec_.hz);  // TICK_TO_MSEC(lbolt)
    switch (what) {
        case Emission::Unreach4:
        case Emission::Unreach6:
        case Emission::Other4:
        case Emission::Other6: {
            // icmp_err_rate_limit(): one bucket per IP stack, IPv4 and IPv6
            const std::int64_t interval = spec_.err_interval_ms;
            if (interval == 0) return true;
            if (err_last_ > now) err_last_ = 0, err_sent_ = 0;
            if (err_sent_ != 0) {
                const std::int64_t refilled = (now - err_last_) / interval;
                if (refilled > err_sent_) {
                    err_sent_ = 0;
                } else {
                    err_sent_ -= refilled;
                    err_last_ += refilled * interval;
                }
            }
            if (err_sent_ == 0) err_last_ = now;  // start of a new burst
            if (err_sent_ < spec_.err_burst) {
                ++err_sent_;
                return true;
            }
            return false;
        }
        case Emission::Rst4:
        case Emission::Rst6: {
            // tcp_send_rst_chk(): a new window at the first RST more than 1000 ms after
            // the window's start (lbolt 0 at boot: the first RST opens one)
            if (spec_.rst_sent_rate == 0) return true;
            const std::int64_t last = rst_.used ? rst_.last : 0;
            if ((t - last) * (1000 / spec_.hz) > 1000) {
                rst_.used = true;
                rst_.last = t;
                rst_.count = 1;
                return true;
            }
            return ++rst_.count <= spec_.rst_sent_rate;
        }
        case Emission::EchoReply4:
        case Emission::EchoReply6: return true;
    }
    return true;
}

// ---- old XNU (doc 4.1) -------------------------------------------------------------

bool Limiter::xnu_decide(Emission what, Clock::time_point now) {
    const std::int64_t secs = (now - boot_) / std::chrono::seconds(1);  // net_uptime()
    auto bandlim = [&](int which) {
        // badport_bandlim(): reset when the whole seconds differ by more than 1
        if (spec_.icmplim <= 0) return true;
        CounterRate& r = rates_[which];
        if (secs - r.start > 1) {
            r.start = secs;
            r.count = 0;
        }
        return ++r.count <= spec_.icmplim;
    };
    auto pps6 = [&] {
        // ppsratecheck() with net_uptime2timeval() (whole seconds; the lines after the
        // reset test not read: the NetBSD form, count < maxpps then count++, assumed)
        if (!icmp6_.used || secs - icmp6_.last >= 1) {
            icmp6_.used = true;
            icmp6_.last = secs;
            icmp6_.count = 1;
            return true;
        }
        const bool ok = spec_.icmp6errppslim < 0 || icmp6_.count < spec_.icmp6errppslim;
        ++icmp6_.count;
        return ok;
    };
    switch (what) {
        case Emission::Unreach4: return bandlim(kUnreach);
        case Emission::EchoReply4: return bandlim(kEcho);
        case Emission::Rst4:
        case Emission::Rst6: return bandlim(kRstClosed);
        case Emission::Unreach6:
        case Emission::Other6: return pps6();
        case Emission::Other4:
        case Emission::EchoReply6: return true;
    }
    return true;
}

// ---- router (doc 4.4; a token bucket in ms, not read from source) -------------------

bool Limiter::router_decide(Emission what, std::int64_t ms) {
    Bucket* b = nullptr;
    std::int64_t interval = 0, size = 0;
    switch (what) {
        case Emission::Unreach4: b = &bucket4_, interval = spec_.interval_ms, size = spec_.burst; break;
        case Emission::Unreach6:
        case Emission::Other6: b = &bucket6_, interval = spec_.interval6_ms, size = spec_.burst6; break;
        default: return true;
    }
    if (interval <= 0) return true;
    b->tokens = std::min(b->tokens + (ms - b->last), size * interval);
    b->last = ms;
    if (b->tokens < interval) return false;
    b->tokens -= interval;
    return true;
}

std::string Limiter::state() const {
    std::ostringstream o;
    o << spec_.describe() << " allowed=" << allowed_ << " denied=" << denied_;
    switch (spec_.os) {
        case LimiterSpec::Os::Linux: o << " credit=" << credit_ << " stamp=" << stamp_ << " peers=" << peers_.size(); break;
        case LimiterSpec::Os::FreeBsd:
            o << " jitter=" << jitter_ << " unreach=" << rates_[kUnreach].count << " rst=" << rates_[kRstClosed].count
              << " icmp6=" << icmp6_.count;
            break;
        case LimiterSpec::Os::Illumos: o << " err_sent=" << err_sent_ << " rst=" << rst_.count; break;
        case LimiterSpec::Os::Xnu: o << " unreach=" << rates_[kUnreach].count << " icmp6=" << icmp6_.count; break;
        case LimiterSpec::Os::Router: o << " tokens4=" << bucket4_.tokens << " tokens6=" << bucket6_.tokens; break;
        case LimiterSpec::Os::None: break;
    }
    return o.str();
}

}  // namespace scanfw::sim
