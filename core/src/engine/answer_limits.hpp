// Answers a target's kernel rate-limits, whatever the limiter: when silence can be
// believed, and how to ask again the ports whose silence cannot be believed yet ("in
// doubt"). docs/icmp-rate-limits.md describes the limiters, read from the kernels.
//
// Two kinds of answer are limited: ICMP errors (every system: Linux per peer and in all,
// FreeBSD per second, routers) and the RSTs of closed TCP ports (FreeBSD, illumos, XNU;
// each kind has its own allowance). A probe whose answer the limiter held back is
// silent, and silence means something else (UDP: open|filtered, not closed; SYN:
// filtered, not closed). So a silent try counts only when it went while the target's
// limiter had room for an answer of each kind that matters ("covered"):
//  - witnessed (ICMP errors): a probe to the same host, from the same source address,
//    that left a little later drew such an answer. Not RSTs: a firewall's RSTs (pf's
//    return-rst, nftables' reject with tcp reset) pass no limiter, unlike the kernel's.
//    (FreeBSD's pf answers return-icmp past the limiter too: a port it rejects, beside
//    closed ports held back, would pass for a witness. README "States".) "A little": later by more than the path
//    reorders packets (measured from the order answers come back in), so that the
//    witness certainly came after the silent probe, and by little more, so that the
//    limiter can hardly have refilled in between;
//  - or after a quiet spell: no such answer seen from the host in the kPriorGap before
//    the try's own batch (and, where answers get lost, no probe that could have drawn
//    one: it may have been lost, unseen, after spending the allowance), nor one drawn by a
//    probe of the try's own batch (one ahead of it may have spent the one answer the
//    quiet refilled): kPriorGap is long enough for the slowest limiter (older XNU's, a
//    window of up to 2 s) to refill, however spent it was when the scan began.
// RSTs are doubted only from a host that has held one back (a late RST): silent TCP
// ports are the common case, and doubting each would cost every scan seconds. A host
// whose RST allowance is spent before the scan begins can so read closed ports as
// filtered until it first shows the limit (README "States").
// A port whose silence matters is concluded from silence only after as many covered
// tries as loss requires. Until then it waits in its host's doubt queue and is asked
// again in rounds: the ports likely to be silent first, then a port known to draw the
// limited answer (a witness per kind), sent once the round has left and the path's
// reordering time has passed. A round's size and the gap between rounds follow what
// the last round drew, so rounds pace themselves to the host's allowance, whatever its
// rate and burst; a random part of the gap keeps them out of step with a limiter's
// refill period. tests/sim runs this against every kernel's limiter.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <vector>

#include <absl/container/flat_hash_map.h>
#include <absl/container/inlined_vector.h>

#include "common/clock.hpp"
#include "engine/estimators.hpp"
#include "engine/item.hpp"

namespace scanfw {

enum class Limited : std::uint8_t { IcmpError, Rst };
inline constexpr std::size_t kLimitedKinds = 2;
constexpr std::uint8_t bit(Limited k) { return static_cast<std::uint8_t>(1u << static_cast<unsigned>(k)); }

class AnswerLimits {
public:
    // The slowest refill assumed of an unknown limiter: a little over the longest of
    // the kernels' (docs/icmp-rate-limits.md): older XNU's window of up to 2 s (Linux's
    // per-peer bucket refills an error a second, FreeBSD's window lasts a second).
    static constexpr auto kPriorGap = std::chrono::milliseconds(2100);
    static constexpr std::size_t kMaxRound = 120;  // doubt ports per round (a batch has 128)
    // A probe may wait this long in the send queue (so a quiet spell is reckoned this
    // much longer).
    static constexpr auto kSendLag = std::chrono::milliseconds(250);

    // A limited answer came for a try of `item`, from source `source`: the try it
    // answers left between `sent_from` and `sent_to` (an item retransmitted, or no longer
    // in flight, leaves it unsure which try drew it). `late`: the item had a silent try
    // before (evidence of a limit). An ICMP error's port becomes a witness.
    void limited(Limited kind, const Item& item, std::uint16_t source, Clock::time_point sent_from,
                 Clock::time_point sent_to, bool late);
    // A probe that may have drawn a limited answer of `kinds` the scanner cannot see (a
    // connect() closed after the kernel sent its SYN again), between `from` and `to`:
    // no quiet spell then; no witness either.
    void unseen(const IpAddress& host, std::uint8_t kinds, Clock::time_point from, Clock::time_point to);
    // Whether the host has held back an answer of this kind (a late one came).
    bool shows_limit(Limited kind, const IpAddress& host) const;
    // Told when a host first shows a limit of a kind (for -v, and the scan simulation).
    using Shown = std::function<void(const IpAddress&, Limited)>;
    void on_shown(Shown f) { shown_ = std::move(f); }
    // Any answer from a host the limits know: for how much its path reorders packets.
    void answered(const IpAddress& host, Clock::time_point departed, Clock::time_point arrived);
    // A probe whose answer a limiter may hold back was queued for `host` at `at`: a quiet
    // spell is a time the host got none (an answer it drew may have been lost unseen).
    // Its place in its burst (probes to the host less than a millisecond apart): 0 when
    // it opens one.
    std::uint16_t probed(const IpAddress& host, Clock::time_point at);
    // Whether a silent try, sent at `sent` (the item's first at `first_sent`), went while
    // the host's limiter had room for an answer of `kind`.
    // `lossless`: no answer has been lost so far (measured): then a quiet spell is one
    // without an answer seen, else one without a probe that could have drawn one. It
    // covers only the first tries of their burst (`in_burst`, the try's place in it:
    // below quiet_allowance()): the quiet refilled that many answers at least, and the
    // probes ahead of the try in its burst may have drawn them and lost them (seed
    // 47661: a round of 30 ports to a router's 1-token bucket, the one answer lost on
    // the way back, 29 ports read covered), or drawn them late, after the try's silence
    // was judged (seed 37820, on a lossless path).
    bool covered(Limited kind, const IpAddress& host, std::uint16_t source, Clock::time_point sent,
                 Clock::time_point first_sent, bool lossless, std::uint16_t in_burst) const;
    // A covered silent try's port later answered: the network lost it.
    void covered_miss() { ++covered_misses_; }
    // A silent try of `host` counted covered (in its current round, if it has one).
    void counted_covered(const IpAddress& host);
    // Covered tries a port of `host` needs before its silence is believed: `base`, the
    // tries its host's loss requires, or more if the share of covered tries proven wrong
    // does, or the chance that a witness of the host is wrong.
    int needed(int base, const LossControl& loss, const IpAddress& host) const;

    // The doubt queue. `kinds`: the limited answers its silence must be covered for;
    // `likely_silent`: it had a covered silent try already; `from_round`: its try was in
    // the host's current round (call this before round_result): when the round drew
    // nothing (the allowance was spent), its ports go first next time, in the same
    // order, so that the next answer the limiter allows goes to the same port, and not
    // always to another's.
    void enqueue(const Item& item, std::uint8_t kinds, bool likely_silent, bool from_round,
                 Clock::time_point first_sent, Clock::time_point now);
    struct Round {
        IpAddress host;
        std::vector<Item> items;                        // in send order
        absl::InlinedVector<Item, kLimitedKinds> witnesses;  // sent after them (see witness_gap)
        std::uint32_t number = 0;                       // the host's rounds before this one
    };
    // A round that is due by `now`, taken out of its queue; false when none is.
    bool next_round(Clock::time_point now, Round& out);
    // When the next round will be due (Clock::time_point::max() when none).
    Clock::time_point next_round_time() const;
    // Each probe of a round as it ends: the limited answer it drew, if any (none:
    // silence, or another answer); `witness`: it was one of the round's witnesses.
    void round_result(const IpAddress& host, std::optional<Limited> answer, bool witness, Clock::time_point now);
    bool in_doubt(const IpAddress& host) const;
    // How long after a probe to `host` a witness must leave to come after it for sure.
    Clock::duration witness_gap(const IpAddress& host) const;
    // Whether witnesses may cover the host's tries: the path reorders little enough
    // that the limiter can hardly refill between a try and its witness.
    bool witnesses_usable(const IpAddress& host) const;

    // What was learned, for -v and the JSON summary.
    struct Estimate {
        IpAddress host;
        double rate = 0;          // limited answers a second let through while the host was asked in rounds
        std::uint32_t burst = 0;  // limited answers at the start, within 20 ms of the first
        double cost = 0;          // seconds the host's ports spent in doubt
        std::uint64_t answers = 0, late = 0;
        std::uint8_t kinds = 0;  // of the answers held back (bits of Limited)
    };
    std::vector<Estimate> limited_hosts() const;
    // Limited answers a second the host has let through in its rounds so far (0: not
    // known yet), for the progress line's time left.
    double round_rate(const IpAddress& host, Clock::time_point now) const;

private:
    struct Sent {  // when the probe that drew a limited answer left: between from and to
        Clock::time_point from{}, to{};
        std::uint16_t source = 0;
        Limited kind = Limited::IcmpError;
        bool seen = true;  // false: one that may have come, unseen (unseen())
    };
    // A host's doubt queue and rounds: made at its first port in doubt or first witness
    // (a scan of a /16 that draws a RST from every host makes none).
    struct Doubt {
        Clock::time_point latest_first_sent{};  // of the ports queued (for the prior)
        absl::InlinedVector<std::pair<Limited, Item>, 4> witnesses;
        std::deque<Item> likely_silent, others;
        std::vector<Item> round_order;                 // the current round's ports, as sent
        std::vector<std::pair<Item, bool>> returning;  // its ports in doubt still (likely silent?)
        std::uint8_t kinds = 0;                        // of the ports queued
        // The current round.
        bool in_round = false, witness_ok = false;
        std::uint16_t outstanding = 0, round_answers = 0;
        std::uint16_t round_port_answers = 0;  // of them, drawn by the round's ports (not its witnesses)
        std::uint16_t round_covered = 0;       // the round's silent tries counted covered
        std::array<std::uint16_t, kLimitedKinds> round_by{};         // this round's answers, by kind
        std::array<std::uint64_t, kLimitedKinds> rounds_total_by{};  // all rounds' answers, by kind
        std::uint16_t size = 4;
        std::uint32_t rounds = 0;
        Clock::duration gap{};
        Clock::time_point next_round{};
        // Statistics.
        std::uint64_t round_answers_total = 0;
        Clock::time_point doubt_start{}, doubt_end{}, rounds_start{};
        bool doubted = false;
    };
    // Made at a host's first limited answer, or first port in doubt: a hundred bytes or
    // so, and the doubt queue only where a port is in doubt (65,536 hosts answering a
    // RST each held 1.2 KiB apiece and 330 MiB in all, BENCHMARKS.md S2).
    struct Host {
        static constexpr std::size_t kKept = 32;
        std::vector<Sent> answers;  // the last kKept limited answers' probes (a ring, from head)
        std::uint8_t head = 0;
        std::uint8_t late_kinds = 0;
        Clock::time_point last_answer_sent{};
        // Reordering: the latest departure among the probes answered so far, and the
        // most an answer's probe left before it.
        Clock::time_point latest_departed{};
        Clock::duration reorder{};
        Clock::duration fastest = Clock::duration::max();  // the shortest round trip seen
        // Statistics.
        std::uint64_t answers_total = 0, late = 0;
        Clock::time_point first_answer{};
        std::uint32_t burst = 0;
        std::unique_ptr<Doubt> doubt;
        Doubt& queue() {
            if (!doubt) doubt = std::make_unique<Doubt>();
            return *doubt;
        }
        bool in_round() const { return doubt && doubt->in_round; }
    };
    bool prior_covered(const Host* h, Limited kind, const IpAddress& host, Clock::time_point sent,
                       Clock::time_point first_sent, bool lossless, std::uint16_t in_burst) const;
    Clock::time_point last_probe(const IpAddress& host) const;
    void schedule(const IpAddress& addr, Host& host, Clock::time_point when);
    static void take_round_items(Doubt& d, bool blind, Round& out);
    double refill_chance(const IpAddress& host) const;  // of a witness: see kMaxRefillChance
    static void add_witness(Host& h, Limited kind, const Item& item);
    static void keep(Host& h, const Sent& s);
    static void pace(Doubt& d, bool wasted);
    static void requeue(Doubt& d);

    absl::flat_hash_map<IpAddress, Host, IpAddressHash> hosts_;
    // The latest bursts of probes each host got (a burst: probes queued within 1 ms of
    // each other), newest last.
    struct Burst {
        Clock::time_point from{}, to{};
        std::uint16_t count = 0;  // probes in it
    };
    using Bursts = std::array<Burst, 8>;
    absl::flat_hash_map<IpAddress, Bursts, IpAddressHash> bursts_;
    bool quiet_before(const IpAddress& host, Clock::time_point sent) const;
    static std::uint16_t quiet_allowance(Limited kind);
    // Rounds due, earliest first (stale entries are skipped).
    using Due = std::pair<Clock::time_point, IpAddress>;
    std::priority_queue<Due, std::vector<Due>, std::greater<>> due_;
    std::uint64_t covered_tries_ = 0, covered_misses_ = 0;
    Clock::duration reorder_{};  // the most any host's path reordered
    std::minstd_rand rng_{0x5eed};  // rounds' jitter (round_result): the same for every run
    Shown shown_;
};

}  // namespace scanfw
