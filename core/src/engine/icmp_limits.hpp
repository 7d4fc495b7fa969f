// ICMP error rate limits, whatever the limiter: when silence can be believed, and how
// to ask again the ports whose silence cannot be believed yet ("in doubt").
//
// Every operating system limits the ICMP errors it sends (Linux: 6 at once, then one a
// second per peer, and 50 at once, then 1000 a second in all; FreeBSD: 200 a second).
// A probe whose error the limiter swallowed is silent, and silence means something
// else than the error (UDP: open|filtered, not closed). So a silent try counts only
// when it was sent while the target's limiter had room for an error ("covered"):
//  - witnessed: a later probe to the same host, from the same source address and in
//    the same send batch (so it arrived right after, in order), drew an ICMP error;
//    the limiter had room for it, so it had room for the silent one before it;
//  - or after a quiet spell: no error from the host for kPriorGap (and kPriorGap since
//    its first probe), long enough for the slowest common limiter (Linux's per-peer
//    one, a second per error) to refill, however spent it was when the scan began.
// A port whose silence matters is concluded from silence only after as many covered
// tries as loss requires. Until then it waits in its host's doubt queue, and is asked
// again in rounds: one send batch per host, the ports likely to be silent first and a
// port known to answer with an error last (the witness). A round's size and the gap
// between rounds follow what the last round drew (more when the witness answered,
// fewer and later when errors ran out), so rounds pace themselves to the host's
// allowance, whatever its rate and burst. The engine unit tests run this against
// simulated token buckets (Linux per-peer and global, FreeBSD's per-second window).
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <queue>
#include <vector>

#include <absl/container/flat_hash_map.h>
#include <absl/container/inlined_vector.h>

#include "common/clock.hpp"
#include "engine/estimators.hpp"
#include "engine/item.hpp"

namespace scanfw {

// Where a try went: its send batch (one sendmmsg) and its place in it. Probes of one
// batch reach a target in order.
struct SendMark {
    std::uint64_t batch = 0;
    std::uint16_t index = 0;
};

class IcmpLimits {
public:
    // The slowest refill assumed of an unknown limiter: a little over Linux's per-peer
    // default of one error a second.
    static constexpr auto kPriorGap = std::chrono::milliseconds(1100);
    static constexpr std::size_t kMaxRound = 120;  // doubt ports per round (a batch has 128)

    // An ICMP error came for the try of an item sent at `sent`, from source `source`, at
    // `mark`. `late`: the item had a silent try before (evidence of a limit).
    void error(const IpAddress& host, std::uint16_t source, SendMark mark, Clock::time_point sent, bool late);
    // Whether a silent try, sent at `sent` (the item's first at `first_sent`), went while
    // the host's limiter had room for an error.
    bool covered(const IpAddress& host, std::uint16_t source, SendMark mark, Clock::time_point sent,
                 Clock::time_point first_sent) const;
    // A covered silent try's port later answered with an error: the network lost it.
    void covered_miss() { ++covered_misses_; }
    void counted_covered() { ++covered_tries_; }
    // Covered tries a port needs before its silence is believed: as loss requires.
    int needed(const LossControl& loss) const;

    // A port that answered with an ICMP error, kept as a witness for rounds.
    void add_witness(const Item& item);

    // The doubt queue. `likely_silent`: the port had a covered silent try already.
    void enqueue(const Item& item, bool likely_silent, Clock::time_point first_sent, Clock::time_point now);
    struct Round {
        IpAddress host;
        std::vector<Item> items;      // in send order
        std::optional<Item> witness;  // sent last
        std::uint32_t number = 0;     // the host's rounds before this one
    };
    // A round that is due by `now`, taken out of its queue; false when none is.
    bool next_round(Clock::time_point now, Round& out);
    // When the next round will be due (Clock::time_point::max() when none).
    Clock::time_point next_round_time() const;
    // Each probe of a round as it ends: it drew an error, or not (silence, or another
    // answer); `witness`: it was the round's witness.
    void round_result(const IpAddress& host, bool error, bool witness, Clock::time_point now);
    bool in_doubt(const IpAddress& host) const;

    // What was learned, for -v and the JSON summary.
    struct Estimate {
        IpAddress host;
        double rate = 0;   // errors a second let through while the host was asked in rounds
        std::uint32_t burst = 0;  // errors at the start, within 20 ms of the first
        double cost = 0;   // seconds the host's ports spent in doubt
        std::uint64_t errors = 0, late = 0;
    };
    std::vector<Estimate> limited_hosts() const;
    // Errors a second the host has let through in its rounds so far (0: not known yet),
    // for the progress line's time left.
    double round_rate(const IpAddress& host, Clock::time_point now) const;

private:
    struct BatchMax {  // the latest probe of a batch (from a source) that drew an error
        std::uint64_t batch = 0;
        std::uint16_t source = 0, index = 0;
        bool used = false;
    };
    struct Host {  // made at a host's first error, or first port in doubt
        Clock::time_point latest_first_sent{};  // of the ports queued (for the prior)
        // Send times of the probes that drew the last errors, for the prior.
        std::array<Clock::time_point, 16> error_sent{};
        std::uint8_t errors_kept = 0, error_head = 0;
        Clock::time_point last_error_sent{};
        std::array<BatchMax, 8> batches{};
        std::uint8_t batch_head = 0;
        absl::InlinedVector<Item, 4> witnesses;
        std::deque<Item> likely_silent, others;
        // The current round.
        bool in_round = false, witness_ok = false;
        std::uint16_t outstanding = 0, round_errors = 0;
        std::uint16_t size = 4;
        std::uint32_t rounds = 0;
        Clock::duration gap{};
        Clock::time_point next_round{};
        // Statistics.
        std::uint64_t errors = 0, late = 0, round_errors_total = 0;
        Clock::time_point first_error{}, doubt_start{}, doubt_end{}, rounds_start{};
        std::uint32_t burst = 0;
        bool doubted = false;
    };
    bool prior_covered(const Host* h, Clock::time_point sent, Clock::time_point first_sent) const;
    void schedule(const IpAddress& addr, Host& h, Clock::time_point when);

    absl::flat_hash_map<IpAddress, Host, IpAddressHash> hosts_;
    // Rounds due, earliest first (stale entries are skipped).
    using Due = std::pair<Clock::time_point, IpAddress>;
    std::priority_queue<Due, std::vector<Due>, std::greater<>> due_;
    std::uint64_t covered_tries_ = 0, covered_misses_ = 0;
};

}  // namespace scanfw
