// What the engine measures as it goes: the send rate's token bucket, round-trip times
// and loss. Each a small class of its own, tested without a network
// (tests/unit/estimators_test.cpp).
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>

#include <absl/container/flat_hash_map.h>

#include "common/address.hpp"
#include "common/clock.hpp"
#include "engine/timing.hpp"

namespace scanfw {

// A token bucket: `rate` sends per second, with a small burst so batches can form.
class RateLimiter {
public:
    RateLimiter(double rate, Clock::time_point now) : last_(now) {
        set_rate(rate);
        tokens_ = burst_;
    }
    void set_rate(double rate) {
        rate_ = std::max(rate, 1e-6);
        burst_ = std::clamp(rate_ / 100.0, 1.0, 256.0);
        tokens_ = std::min(tokens_, burst_);
    }
    double rate() const { return rate_; }

    // How many sends may go now (at most `want`); they are taken.
    std::size_t take(std::size_t want, Clock::time_point now) {
        refill(now);
        const auto n = std::min<std::size_t>(want, static_cast<std::size_t>(tokens_));
        tokens_ -= static_cast<double>(n);
        return n;
    }
    // Sends that went regardless (a round must leave in one batch): later sends wait.
    void spend(std::size_t n, Clock::time_point now) {
        refill(now);
        tokens_ -= static_cast<double>(n);
    }
    // When the next whole token will be there.
    Clock::time_point next_token(Clock::time_point now) {
        refill(now);
        if (tokens_ >= 1.0) return now;
        // Rounded up, and at least a tick: a token a hair short is not there yet.
        const auto wait = std::chrono::ceil<Clock::duration>(std::chrono::duration<double>((1.0 - tokens_) / rate_));
        return now + std::max<Clock::duration>(wait, Clock::duration(1));
    }

private:
    void refill(Clock::time_point now) {
        if (now > last_) tokens_ = std::min(burst_, tokens_ + seconds(now - last_) * rate_);
        last_ = std::max(last_, now);
    }
    double rate_ = 1, burst_ = 1, tokens_ = 0;
    Clock::time_point last_;
};

// Round trips as TCP measures them (RFC 6298): a smoothed mean and variation per host,
// and for the whole scan. A host's wait follows its own samples; a host with none
// waits the initial timeout, as a new TCP connection does: never another host's,
// which may be much nearer. The scan's estimate only says how often to look again at
// such a host's probes, so that its first sample is used as soon as it comes.
class RttEstimator {
public:
    explicit RttEstimator(const Timing& t) : timing_(t) {}

    void sample(const IpAddress& host, Clock::duration rtt) {
        const double us = std::chrono::duration<double, std::micro>(rtt).count();
        update(global_, us);
        if (auto it = hosts_.find(host); it != hosts_.end()) update(it->second, us);
        else if (hosts_.size() < kMaxHosts) update(hosts_[host], us);
    }
    // Room for this many hosts' samples at once (at most kMaxHosts): a table that grows
    // by rehashing holds its old and new slots at once, 1.5 times its size.
    void reserve(std::uint64_t hosts) { hosts_.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(hosts, kMaxHosts))); }
    bool measured(const IpAddress& host) const { return hosts_.contains(host); }
    std::optional<Clock::duration> srtt(const IpAddress& host) const {
        const auto it = hosts_.find(host);
        if (it == hosts_.end()) return std::nullopt;
        return std::chrono::microseconds(static_cast<std::int64_t>(it->second.srtt));
    }

    // How long to wait for `host`'s kernel to answer a try.
    Clock::duration timeout(const IpAddress& host) const {
        const auto it = hosts_.find(host);
        if (it == hosts_.end()) return timing_.timeout;
        return bounded(it->second);
    }
    // How soon to look again at an unanswered probe to a host with no sample yet.
    Clock::duration recheck() const {
        return global_.samples == 0 ? Clock::duration(timing_.timeout) : bounded(global_);
    }
    // When to look at a probe sent at `sent` to `host` next: its deadline, or sooner
    // for a host that may get its first sample meanwhile: at the measured pace first,
    // then twice as long each look (each look is an entry in the engine's timer queue:
    // at -T5's pace of 5 ms a sweep of silent hosts spent half its time looking 50 times
    // at each try it would wait out anyway; now 7 times). A host measured soon after
    // the try, as a scanned host usually is, is caught as soon as before.
    Clock::time_point check_at(const IpAddress& host, Clock::time_point sent, Clock::time_point now) const {
        const Clock::time_point deadline = sent + timeout(host);
        if (measured(host)) return deadline;
        const Clock::time_point from = std::max(now, sent);
        return std::min(deadline, from + std::max(recheck(), from - sent));
    }

private:
    static constexpr std::size_t kMaxHosts = 1 << 18;  // about 16 MiB; hosts beyond wait the initial timeout
    // Microseconds as float (exact to the microsecond up to 16 s): 32 bytes a host with
    // its key, where doubles took 48 (a /16 is 65536 of them).
    struct Srtt {
        float srtt = 0, rttvar = 0;
        std::uint32_t samples = 0;
    };
    // RFC 6298's SRTT + max(G, 4 RTTVAR): on a path whose round trips barely vary, an
    // answer a hair slower than the mean would otherwise miss its try's deadline (and a
    // port whose every try it missed would read filtered). G: a quarter of the mean,
    // and 2 ms at the least.
    Clock::duration bounded(const Srtt& s) const {
        const double slack = std::max({4.0 * s.rttvar, s.srtt / 4.0, 2000.0});
        const auto t = std::chrono::microseconds(static_cast<std::int64_t>(s.srtt + slack));
        return std::clamp<Clock::duration>(t, timing_.min_timeout, timing_.max_timeout);
    }
    static void update(Srtt& s, double us) {
        if (s.samples++ == 0) {
            s.srtt = static_cast<float>(us);
            s.rttvar = static_cast<float>(us / 2);
        } else {
            s.rttvar = static_cast<float>(0.75 * s.rttvar + 0.25 * std::abs(s.srtt - us));
            s.srtt = static_cast<float>(0.875 * s.srtt + 0.125 * us);
        }
    }
    const Timing& timing_;
    Srtt global_;
    absl::flat_hash_map<IpAddress, Srtt, IpAddressHash> hosts_;
};

// Loss and congestion, from the answers. An answer to a first try is "fresh"; one
// that needed a retransmission is "late" and means a probe or its answer was lost.
//  - The late fraction estimates the loss rate; the tries allowed grow with it so that
//    a port is missed with probability below 1e-5 (adaptive_retries).
//  - Every interval the send rate grows by a quarter, and halves instead when the late
//    fraction jumps well above its running average (loss that comes with speed:
//    congestion) or the capture drops packets. Steady random loss raises the average
//    with it, so it does not slow the scan down. It never halves below kFloor probes a
//    second (or the rate asked for, if lower): so few answers cannot fill the capture
//    buffer, so drops there come from other traffic (a flood), and slowing down would
//    only stall the scan.
// ICMP errors are not counted: rate limits hold them back, which is not loss.
class LossControl {
public:
    LossControl(const Timing& t, Clock::time_point now) : timing_(t), rate_(t.rate), window_start_(now) {}

    void answered(int tries) { ++(tries == 1 ? window_fresh_ : window_late_); }

    // Tries for a probe to be missed with probability below 1e-5 at the loss measured,
    // between the configured tries and the most allowed.
    int max_tries() const { return tries_for(loss()); }
    std::optional<double> loss() const {
        const std::uint64_t n = total_fresh_ + total_late_;
        if (n < 20) return std::nullopt;
        return static_cast<double>(total_late_) / static_cast<double>(n);
    }
    int tries_for(std::optional<double> p) const {
        const int base = timing_.retries + 1;
        if (!timing_.adaptive_retries || !p || *p <= 0) return base;
        const int needed = static_cast<int>(std::ceil(std::log(1e-5) / std::log(std::min(*p, 0.9))));
        return std::clamp(needed, base, timing_.max_retries + 1);
    }

    // Called often; returns the rate to send at now. `capture_drops` is only asked for
    // once an interval.
    template <class DropCount>
    double update(Clock::time_point now, DropCount&& capture_drops_now) {
        if (now - window_start_ < kInterval) return rate_;
        const std::uint64_t capture_drops = capture_drops_now();
        const std::uint64_t n = window_fresh_ + window_late_;
        bool congested = capture_drops > last_drops_;
        if (n >= 50) {
            const double late = static_cast<double>(window_late_) / static_cast<double>(n);
            congested = congested || late > average_late_ + kJump;
            average_late_ = 0.8 * average_late_ + 0.2 * late;
        }
        const double floor = std::max(timing_.min_rate, std::min(timing_.rate, kFloor));
        rate_ = congested ? std::max(floor, rate_ * 0.5) : std::min(timing_.rate, rate_ * 1.25);
        total_fresh_ += window_fresh_;
        total_late_ += window_late_;
        window_fresh_ = window_late_ = 0;
        last_drops_ = capture_drops;
        window_start_ = now;
        return rate_;
    }

private:
    static constexpr auto kInterval = std::chrono::milliseconds(100);
    static constexpr double kJump = 0.25;  // this much more loss than usual: congestion
    static constexpr double kFloor = 100;  // probes a second
    const Timing& timing_;
    double rate_;
    double average_late_ = 0;
    std::uint64_t window_fresh_ = 0, window_late_ = 0, total_fresh_ = 0, total_late_ = 0, last_drops_ = 0;
    Clock::time_point window_start_;
};

}  // namespace scanfw
