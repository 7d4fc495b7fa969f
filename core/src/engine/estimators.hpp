// What the engine measures as it goes: the send rate's token bucket, round-trip times
// and loss. Each a small class of its own, tested without a network
// (tests/unit/estimators_test.cpp).
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <deque>
#include <optional>

#include <absl/container/flat_hash_map.h>
#include <functional>

#include "common/address.hpp"
#include "common/clock.hpp"
#include "engine/timing.hpp"

namespace scanfw {

// An upper bound of a share seen as `k` of `n`: Wilson's score interval at z = 2, above
// the true share but with probability about 2.3 % for any n (the earlier (k+3)/(n+3) was
// a bound for a few answers only: of hundreds, it was the plain share, below the truth
// half the time, and a lossy host's ports got a try or two less than its loss needs;
// seed 209827). With k = 0 it is 4/(n+4).
inline double upper_share(double k, double n) {
    if (n <= 0) return 1.0;
    constexpr double z = 2.0, z2 = z * z;
    const double p = k / n;
    const double centre = p + z2 / (2 * n), spread = z * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n));
    return std::min(1.0, (centre + spread) / (1 + z2 / n));
}

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

// Each host's own loss, for the tries its ports get: a scan's hosts sit behind paths
// of their own, and the scan's loss (LossControl) is an average that a lossy host's
// few answers barely move. A host's estimate counts once one of its answers needed a
// retransmission, and it is an upper one, as the scan's (upper_share() of its late
// answers): one late answer of four already says 0.71.
// A host with no late answer has the scan's loss. `shown` is told of a host's first
// late answer (the simulation's checker: what the engine could know).
class HostLoss {
public:
    using Shown = std::function<void(const IpAddress&)>;
    void on_shown(Shown f) { shown_ = std::move(f); }

    void answered(const IpAddress& host, bool late) {
        auto it = hosts_.find(host);
        if (it == hosts_.end()) {
            if (hosts_.size() >= kMaxHosts) return;
            it = hosts_.emplace(host, Count{}).first;
        }
        Count& c = it->second;
        if (late && c.late == 0 && shown_) shown_(host);
        c.answers = static_cast<std::uint16_t>(std::min<int>(c.answers + 1, 0xffff));
        c.late = static_cast<std::uint16_t>(std::min<int>(c.late + late, 0xffff));
    }
    std::optional<double> loss(const IpAddress& host) const {
        const auto it = hosts_.find(host);
        if (it == hosts_.end() || it->second.late == 0) return std::nullopt;
        return upper_share(it->second.late, it->second.answers);
    }

private:
    static constexpr std::size_t kMaxHosts = 1 << 18;  // hosts beyond have the scan's loss
    struct Count {
        std::uint16_t answers = 0, late = 0;
    };
    absl::flat_hash_map<IpAddress, Count, IpAddressHash> hosts_;
    Shown shown_;
};

// Loss and congestion, from the answers. An answer to a first try is "fresh"; one
// that needed a retransmission is "late" and means a probe or its answer was lost.
//  - The tries a port gets grow with the loss so that it is missed with probability
//    below 1e-5 (adaptive_retries): see max_tries().
//  - Every interval the send rate grows by a quarter, and halves instead when the late
//    fraction jumps well above its running average (loss that comes with speed:
//    congestion) or the capture drops packets. Steady random loss raises the average
//    with it, so it does not slow the scan down. It never halves below kFloor probes a
//    second (or the rate asked for, if lower): so few answers cannot fill the capture
//    buffer, so drops there come from other traffic (a flood), and slowing down would
//    only stall the scan.
// Answers a limiter holds back (ICMP errors, a RST-limited host's RSTs) are not
// counted: that is not loss (the scheduler leaves them out).
class LossControl {
public:
    LossControl(const Timing& t, Clock::time_point now) : timing_(t), rate_(t.rate), window_start_(now) {}

    // An answer that needed `tries`, seen at `now`. A fresh one counts toward the
    // tries only after `settle` (the wait for a try's answer): the answers of the same
    // probes' cohort that needed a retransmission come that much later, and counted at
    // once, fresh answers made a scan's first estimates of loss too low (the first
    // ports' silences concluded on them).
    void answered(int tries, Clock::time_point now = {}, Clock::duration settle = {}) {
        ++(tries == 1 ? window_fresh_ : window_late_);
        if (tries == 1 && settle > Clock::duration::zero()) {
            const Clock::time_point at = now + settle;
            if (!settling_.empty() && at - settling_.back().first < kSettleSlot) ++settling_.back().second;
            else settling_.emplace_back(at, 1);
            return;
        }
        count(tries, 1);
    }
    // The fresh answers whose wait is over (before max_tries() and loss()).
    void settle(Clock::time_point now) {
        while (!settling_.empty() && settling_.front().first <= now) {
            count(1, settling_.front().second);
            settling_.pop_front();
        }
    }

    // Tries for a port to be missed with probability below 1e-5, between the
    // configured tries and the most allowed. A port of an unknown host is missed with
    // the chance E[p^T] over the hosts' losses p, which a few lossy hosts among many
    // clean ones set, not the mean loss: so it is read from how many tries the answers
    // needed. The share of answers that needed more than j tries estimates E[p^j]
    // (each level as an upper bound, upper_share()); beyond the deepest level that
    // five answers reached, each further try is taken to divide it by the largest
    // ratio between successive levels, which for a mix of hosts is the lossiest
    // hosts' loss. With no late answer, or too few,
    // that is the share of late answers (as one bound); with fewer than 20 answers,
    // that too if one was late, else the configured tries. `host_loss`: a host's own
    // loss, if it has shown more.
    int max_tries(std::optional<double> host_loss = std::nullopt) const {
        if (cached_ == 0) cached_ = scan_tries();
        return std::max(cached_, host_loss ? tries_for(*host_loss) : 0);
    }
    // The share of answers that needed a retransmission, as an upper bound
    // (upper_share(): above the truth but 2.3 % of the time), so that a
    // scan's first few answers do not promise less loss than there is. nullopt until
    // 20 answers have come or one was late.
    std::optional<double> loss() const {
        if (answers_ < 20 && by_try_[0] == answers_) return std::nullopt;
        return level(1);
    }
    // None measured: no answer needed a retransmission so far, of many.
    bool lossless() const { return answers_ >= 20 && by_try_[0] == answers_; }
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
        window_fresh_ = window_late_ = 0;
        last_drops_ = capture_drops;
        window_start_ = now;
        return rate_;
    }

private:
    static constexpr auto kInterval = std::chrono::milliseconds(100);
    static constexpr double kJump = 0.25;  // this much more loss than usual: congestion
    static constexpr double kFloor = 100;  // probes a second
    static constexpr int kLevels = 64;     // answers by try: the last counts all later ones
    static constexpr auto kSettleSlot = std::chrono::milliseconds(5);
    void count(int tries, std::uint64_t n) {
        by_try_[static_cast<std::size_t>(std::clamp(tries, 1, kLevels)) - 1] += n;
        answers_ += n;
        cached_ = 0;
    }
    // Answers that needed more than `j` tries, as an upper bound of their share.
    double level(int j) const {
        std::uint64_t more = 0;
        for (int k = j; k < kLevels; ++k) more += by_try_[static_cast<std::size_t>(k)];
        return upper_share(static_cast<double>(more), static_cast<double>(answers_));
    }
    std::uint64_t reached(int j) const {
        std::uint64_t more = 0;
        for (int k = j; k < kLevels; ++k) more += by_try_[static_cast<std::size_t>(k)];
        return more;
    }
    int scan_tries() const {
        const int most = timing_.max_retries + 1;
        if (answers_ < 20) return tries_for(loss());
        int deepest = 0;  // the deepest level five answers reached
        double ratio = 0;
        for (int j = 1; j < most && reached(j) >= 5; ++j) {
            deepest = j;
            ratio = std::max(ratio, level(j) / (j == 1 ? 1.0 : level(j - 1)));
        }
        if (deepest == 0) return tries_for(level(1));
        if (!timing_.adaptive_retries) return tries_for(std::nullopt);
        int t = 1;
        double miss = level(1);
        for (; t < most && miss > 1e-5; ++t) miss = t < deepest ? level(t + 1) : miss * std::min(ratio, 0.9);
        return std::clamp(t, timing_.retries + 1, most);
    }
    const Timing& timing_;
    double rate_;
    double average_late_ = 0;
    std::uint64_t window_fresh_ = 0, window_late_ = 0, last_drops_ = 0, answers_ = 0;
    std::array<std::uint64_t, kLevels> by_try_{};
    std::deque<std::pair<Clock::time_point, std::uint64_t>> settling_;  // fresh answers: when they count, how many
    mutable int cached_ = 0;  // max_tries() of the answers so far; 0: to compute
    Clock::time_point window_start_;
};

}  // namespace scanfw
