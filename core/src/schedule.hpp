// Pieces both engines share: the scan order and the rate limit.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <cstdint>
#include <vector>

#include "scanfw/cookie.hpp"
#include "scanfw/targets.hpp"

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
    explicit RateLimiter(std::uint64_t rate)
        : rate_(static_cast<double>(std::max<std::uint64_t>(rate, 1))),
          burst_(std::clamp(rate_ / 100.0, 1.0, 256.0)), tokens_(burst_), last_(Clock::now()) {}

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
    double rate_, burst_, tokens_;
    Clock::time_point last_;
};

struct EndpointKey {
    IpAddress host;
    std::uint16_t port;
    bool operator==(const EndpointKey&) const = default;
};
struct EndpointKeyHash {
    std::size_t operator()(const EndpointKey& k) const noexcept { return IpAddressHash{}(k.host) * 31 + k.port; }
};

}  // namespace scanfw
