// Pieces both engines share: the scan order and the rate limit.
#pragma once

#include <algorithm>
#include <cmath>
#include <chrono>
#include <functional>
#include <optional>
#include <cstdint>
#include <vector>

#include <absl/container/flat_hash_map.h>

#include "net/tag.hpp"
#include "scan/engine.hpp"
#include "targets/targets.hpp"

namespace scanfw {

using Clock = std::chrono::steady_clock;

// Walks targets x ports in a keyed random order, so no host sees a burst of
// consecutive ports and the order can be split into shards later.
class ScanOrder {
public:
    using Skip = std::function<bool(const IpAddress&, std::uint16_t)>;

    ScanOrder(const TargetSet& targets, const std::vector<std::uint16_t>& ports, const SipKey& key, Skip skip = {})
        : targets_(targets), ports_(ports), perm_(targets.size() * ports.size(), key), skip_(std::move(skip)) {}
    bool done() const { return next_ >= perm_.size(); }
    std::uint64_t total() const { return perm_.size(); }
    std::uint64_t position() const { return next_; }

    // The next (host, port) that is not to be skipped; false when there is none.
    bool next(IpAddress& host, std::uint16_t& port) {
        while (next_ < perm_.size()) {
            const std::uint64_t i = perm_(next_++);
            host = targets_.at(i / ports_.size());
            port = ports_[i % ports_.size()];
            if (!skip_ || !skip_(host, port)) return true;
        }
        return false;
    }

private:
    const TargetSet& targets_;
    const std::vector<std::uint16_t>& ports_;
    Permutation perm_;
    Skip skip_;
    std::uint64_t next_ = 0;
};

// A token bucket: `rate` sends per second, with a small burst so batches can form.
class RateLimiter {
public:
    explicit RateLimiter(double rate) : last_(Clock::now()) {
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
    // When the next whole token will be there.
    Clock::time_point next_token(Clock::time_point now) {
        refill(now);
        if (tokens_ >= 1.0) return now;
        return now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>((1.0 - tokens_) / rate_));
    }

private:
    void refill(Clock::time_point now) {
        tokens_ = std::min(burst_, tokens_ + std::chrono::duration<double>(now - last_).count() * rate_);
        last_ = now;
    }
    double rate_ = 1, burst_ = 1, tokens_ = 0;
    Clock::time_point last_;
};

// Round-trip times as TCP measures them (RFC 6298): a smoothed mean and variation,
// per host and for the whole scan; a host without samples uses the scan's.
class RttEstimator {
public:
    explicit RttEstimator(const Timing& t) : timing_(t) {}

    void sample(const IpAddress& host, Clock::duration rtt) {
        const double us = std::chrono::duration<double, std::micro>(rtt).count();
        update(global_, us);
        if (auto it = hosts_.find(host); it != hosts_.end()) update(it->second, us);
        else if (hosts_.size() < kMaxHosts) update(hosts_[host], us);
    }
    // Whether any round trip has been measured yet; until then timeout() is the
    // initial one, which the first answers usually shorten a lot: the engines then
    // look again at what is in flight (see next_check).
    bool measured() const { return global_.samples > 0; }

    // A probe sent at `sent` to `host` is unanswered at `now`: when its wait ends by
    // the estimate of now (which may have grown since it was sent), or nullopt when
    // it has ended.
    std::optional<Clock::time_point> next_check(const IpAddress& host, Clock::time_point sent,
                                                Clock::time_point now) const {
        const Clock::time_point deadline = sent + timeout(host);
        if (deadline <= now) return std::nullopt;
        return deadline;
    }

    // How long to wait for an answer from `host`.
    Clock::duration timeout(const IpAddress& host) const {
        const auto it = hosts_.find(host);
        const Srtt& s = it != hosts_.end() ? it->second : global_;
        if (s.samples == 0) return timing_.timeout;
        const auto t = std::chrono::microseconds(static_cast<std::int64_t>(s.srtt + 4 * s.rttvar));
        return std::clamp<Clock::duration>(t, timing_.min_timeout, timing_.max_timeout);
    }

private:
    static constexpr std::size_t kMaxHosts = 1 << 20;
    struct Srtt {
        double srtt = 0, rttvar = 0;
        std::uint32_t samples = 0;
    };
    static void update(Srtt& s, double us) {
        if (s.samples++ == 0) {
            s.srtt = us;
            s.rttvar = us / 2;
        } else {
            s.rttvar = 0.75 * s.rttvar + 0.25 * std::abs(s.srtt - us);
            s.srtt = 0.875 * s.srtt + 0.125 * us;
        }
    }
    const Timing& timing_;
    Srtt global_;
    absl::flat_hash_map<IpAddress, Srtt, IpAddressHash> hosts_;
};

// Loss and congestion, from the answers. An answer to a first try is "fresh"; one
// that needed a retransmission is "late" and means a probe or its answer was lost.
//  - The late fraction estimates the loss rate; the tries allowed grow with it so
//    that a port is missed with probability below 1e-5 (adaptive_retries).
//  - Every interval the send rate grows by a quarter, and halves instead when the
//    late fraction jumps well above its running average (loss that comes with
//    speed: congestion) or the capture drops packets. Steady random loss raises the
//    average with it, so it does not slow the scan down.
class LossControl {
public:
    explicit LossControl(const Timing& t) : timing_(t), rate_(t.rate) {}

    void answered(int tries) { ++(tries == 1 ? window_fresh_ : window_late_); }

    int max_tries() const {
        const int base = timing_.retries + 1;
        if (!timing_.adaptive_retries || total_fresh_ + total_late_ < 20) return base;
        const double p = static_cast<double>(total_late_) / static_cast<double>(total_fresh_ + total_late_);
        if (p <= 0) return base;
        const int needed = static_cast<int>(std::ceil(std::log(1e-5) / std::log(std::min(p, 0.9))));
        return std::clamp(needed, base, timing_.max_retries + 1);
    }

    // Called often; returns the rate to send at now. `capture_drops` is only asked
    // for once an interval.
    template <class DropCount>
    double update(Clock::time_point now, DropCount&& capture_drops_now) {
        if (now - window_start_ < kInterval) return rate_;
        const std::uint64_t capture_drops = capture_drops_now();
        const std::uint64_t n = window_fresh_ + window_late_;
        const bool dropped = capture_drops > last_drops_;
        bool congested = dropped;
        if (n >= 50) {
            const double late = static_cast<double>(window_late_) / static_cast<double>(n);
            congested = congested || late > average_late_ + kJump;
            average_late_ = 0.8 * average_late_ + 0.2 * late;
        }
        rate_ = congested ? std::max(timing_.min_rate, rate_ * 0.5) : std::min(timing_.rate, rate_ * 1.25);
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
    const Timing& timing_;
    double rate_;
    double average_late_ = 0;
    std::uint64_t window_fresh_ = 0, window_late_ = 0, total_fresh_ = 0, total_late_ = 0, last_drops_ = 0;
    Clock::time_point window_start_ = Clock::now();
};

struct EndpointKey {
    IpAddress host;
    std::uint16_t port;
    bool operator==(const EndpointKey&) const = default;
};
struct EndpointKeyHash {
    std::size_t operator()(const EndpointKey& k) const noexcept {
        return IpAddressHash{}(k.host) ^ (std::uint64_t{k.port} * 0x9e3779b97f4a7c15ull);
    }
};

}  // namespace scanfw
