#include "engine/answer_limits.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <spdlog/spdlog.h>

namespace scanfw {

namespace {
using std::chrono::microseconds;
constexpr auto kMinGap = std::chrono::milliseconds(20);  // Linux's global bucket refills every 20 ms at most
constexpr auto kBurstWindow = std::chrono::milliseconds(20);
constexpr std::size_t kSilentPerRound = 32;  // likely-silent ports a round takes besides its size
constexpr int kMinCovered = 3;  // covered tries a port needs at least (needed())
// A witness leaves at least this long after what it covers (departure times are known
// to a few microseconds), more on a path that reorders; and covers only what left at
// most kWitnessWindow before that: the less time between them, the less a limiter can
// refill in between.
constexpr auto kMinWitnessGap = microseconds(20);
constexpr auto kWitnessWindow = microseconds(400);
// A witness is wrong when the limiter refilled between the try and it: Linux's global
// credit refills once in 20 ms at most (kMinGap), so with the chance (gap + window) /
// 20 ms. A port needs as many covered tries as make that chance, repeated, below 1e-5
// (three with no reordering: 0.42 ms, 2.1 %); past a chance of a quarter (a path that
// reorders by 2.3 ms or more: nine tries), witnesses are not used, and quiet spells
// cover alone (seed 108809: witnesses 161 ms after their tries, on a path whose jitter
// reorders by tens of ms, covered two ports whose every ICMP error was held back).
constexpr double kMaxRefillChance = 0.25;
constexpr double kMissedAtMost = 1e-5;
// Probes queued within this of each other are one burst.
constexpr auto kBurstGap = std::chrono::milliseconds(1);
}  // namespace

void AnswerLimits::limited(Limited kind, const Item& item, std::uint16_t source, Clock::time_point sent_from,
                           Clock::time_point sent_to, bool late) {
    Host& h = hosts_[item.host];
    if (late)
        SPDLOG_TRACE("{} port {} (job {}): a late {}", item.host.str(), item.port, item.job,
                     kind == Limited::Rst ? "RST" : "ICMP error");
    SPDLOG_TRACE("{} port {} (job {}): a limited {} for a probe sent {:.6f}-{:.6f}", item.host.str(), item.port,
                 item.job, kind == Limited::Rst ? "RST" : "ICMP error", seconds(sent_from.time_since_epoch()),
                 seconds(sent_to.time_since_epoch()));
    add_witness(h, kind, item);
    if (h.answers_total++ == 0) h.first_answer = sent_to;
    if (sent_to - h.first_answer <= kBurstWindow) ++h.burst;
    if (late) {
        ++h.late;
        if (!(h.late_kinds & bit(kind)) && shown_) shown_(item.host, kind);
        h.late_kinds |= bit(kind);
    }
    if (h.in_round()) ++h.doubt->round_answers_total;
    keep(h, {sent_from, sent_to, source, kind});
    h.last_answer_sent = std::max(h.last_answer_sent, sent_to);
}

void AnswerLimits::keep(Host& h, const Sent& s) {
    if (h.answers.size() < Host::kKept) {
        h.answers.push_back(s);
        return;
    }
    h.answers[h.head] = s;
    h.head = static_cast<std::uint8_t>((h.head + 1) % Host::kKept);
}

void AnswerLimits::unseen(const IpAddress& host, std::uint8_t kinds, Clock::time_point from, Clock::time_point to) {
    SPDLOG_TRACE("{}: an answer may have come unseen, for a probe sent {:.6f}-{:.6f}", host.str(), seconds(from.time_since_epoch()), seconds(to.time_since_epoch()));
    Host& h = hosts_[host];
    for (std::size_t k = 0; k < kLimitedKinds; ++k)
        if (kinds & bit(static_cast<Limited>(k))) keep(h, {from, to, 0, static_cast<Limited>(k), false});
}

void AnswerLimits::answered(const IpAddress& host, Clock::time_point departed, Clock::time_point came) {
    const auto it = hosts_.find(host);
    if (it == hosts_.end()) return;
    Host& h = it->second;
    const Clock::duration trip = came - departed;
    h.fastest = std::min(h.fastest, trip);
    // Answers are taken in the order they came: one whose probe left before another
    // answered probe was overtaken on the way there or back, by as much as it left
    // earlier; but not by more than its trip was slower than the fastest, which bounds
    // an error of the departures: read off a batch's sendmmsg call in proportion, one is
    // late by as long as the sender was preempted in the call (seen: a 13 us trip
    // overtaken by 2 ms on a veth). With exact departures the bound never binds: the
    // overtaken trip was at least that much slower than the one that overtook it.
    if (departed < h.latest_departed) {
        h.reorder = std::max(h.reorder, std::min(h.latest_departed - departed, trip - h.fastest));
        reorder_ = std::max(reorder_, h.reorder);
    } else {
        h.latest_departed = departed;
    }
}

Clock::duration AnswerLimits::witness_gap(const IpAddress& host) const {
    const auto it = hosts_.find(host);
    const Clock::duration own = it == hosts_.end() ? Clock::duration{} : it->second.reorder;
    return kMinWitnessGap + 2 * std::max(own, reorder_);
}

double AnswerLimits::refill_chance(const IpAddress& host) const {
    return seconds(witness_gap(host) + kWitnessWindow) / seconds(kMinGap);
}

bool AnswerLimits::witnesses_usable(const IpAddress& host) const { return refill_chance(host) <= kMaxRefillChance; }

std::uint16_t AnswerLimits::probed(const IpAddress& host, Clock::time_point at) {
    Bursts& b = bursts_[host];
    if (b.back().to != Clock::time_point{} && at <= b.back().to + kBurstGap) {
        b.back().to = std::max(b.back().to, at);
        if (b.back().count < std::numeric_limits<std::uint16_t>::max()) ++b.back().count;
        return static_cast<std::uint16_t>(b.back().count - 1);
    }
    std::rotate(b.begin(), b.begin() + 1, b.end());
    b.back() = {at, at, 1};
    return 0;
}

std::uint16_t AnswerLimits::quiet_allowance(Limited kind) {
    // What every limiter the engine knows lets through after kPriorGap of quiet
    // (docs/icmp-rate-limits.md): ICMP errors, one (a router's bucket of one a 500 ms);
    // RSTs, illumos' 40 a second, FreeBSD's 200 less its jitter: 16 is safe for both.
    return kind == Limited::Rst ? 16 : 1;
}

// Whether the host got no probe in the quiet spell before `sent`, but for the burst
// `sent` is in (and what a reordering path may put ahead of it).
bool AnswerLimits::quiet_before(const IpAddress& host, Clock::time_point sent) const {
    const auto it = bursts_.find(host);
    if (it == bursts_.end()) return true;
    const Clock::time_point from = sent - kPriorGap - kSendLag, to = sent + 2 * reorder_;
    for (const Burst& b : it->second) {
        if (b.to == Clock::time_point{}) return true;  // older bursts: none (every one is kept)
        const bool own = b.from - kBurstGap <= sent && sent <= b.to + kBurstGap;
        if (!own && b.to >= from && b.from <= to) return false;
    }
    // Every burst kept is within the spell or after: older ones may have been too.
    return it->second.front().to < from;
}

bool AnswerLimits::prior_covered(const Host* hp, Limited kind, const IpAddress& host, Clock::time_point sent,
                                 Clock::time_point first_sent, bool lossless, std::uint16_t in_burst) const {
    // However spent the limiter was when the port was first probed (another scan just
    // before), it has refilled a gap later, if nothing spent it since.
    if (sent < first_sent + kPriorGap || in_burst >= quiet_allowance(kind) || (!lossless && !quiet_before(host, sent)))
        return false;
    if (!hp) return true;  // no limited answer from this host so far
    const Host& h = *hp;
    const Clock::time_point from = sent - kPriorGap, to = sent + 2 * std::max(h.reorder, reorder_);
    bool whole = h.answers.size() < Host::kKept;  // every answer is kept
    for (const Sent& a : h.answers) {
        // An answer of this kind drawn within the gap, or by a probe sent with this one
        // (ahead of it, or overtaking it on the way), may have spent what the gap refilled.
        if (a.kind == kind && a.to >= from && a.from <= to) return false;
        if (a.to < from) whole = true;  // the answers kept reach back past the gap
    }
    return whole;
}

bool AnswerLimits::covered(Limited kind, const IpAddress& host, std::uint16_t source, Clock::time_point sent,
                           Clock::time_point first_sent, bool lossless, std::uint16_t in_burst) const {
    const auto it = hosts_.find(host);
    if (it == hosts_.end()) return prior_covered(nullptr, kind, host, sent, first_sent, lossless, in_burst);
    const Host& h = it->second;
    // RSTs are covered by quiet spells only (see the header).
    if (kind == Limited::Rst || !witnesses_usable(host))
        return prior_covered(&h, kind, host, sent, first_sent, lossless, in_burst);
    const Clock::time_point earliest = sent + witness_gap(host), latest = earliest + kWitnessWindow;
    for (const Sent& a : h.answers) {
        if (a.seen && a.kind == kind && a.source == source && a.from >= earliest && a.to <= latest) {
            SPDLOG_TRACE("{}: try sent {:.6f} witnessed by one sent {:.6f}-{:.6f}", host.str(),
                         seconds(sent.time_since_epoch()), seconds(a.from.time_since_epoch()),
                         seconds(a.to.time_since_epoch()));
            return true;
        }
    }
    const bool prior = prior_covered(&h, kind, host, sent, first_sent, lossless, in_burst);
    if (prior) SPDLOG_TRACE("{}: try sent {:.6f} covered by a quiet spell", host.str(), seconds(sent.time_since_epoch()));
    return prior;
}

void AnswerLimits::counted_covered(const IpAddress& host) {
    ++covered_tries_;
    if (const auto it = hosts_.find(host); it != hosts_.end() && it->second.in_round()) ++it->second.doubt->round_covered;
}

int AnswerLimits::needed(int base, const LossControl& loss, const IpAddress& host) const {
    // A covered try may still be wrong when its port's answer was lost, or when another
    // probe's answer spent the allowance and was lost on the way (the quiet spell was
    // not quiet): both need a loss, so as many covered tries as the loss of answers
    // requires, or as the share of covered tries whose port answered after all does.
    // And three at least, whatever --max-retries says (it bounds retransmissions for
    // loss), and as many as a witness's chance of being wrong calls for (kMaxRefillChance;
    // seeds 29340, 35389 read one witnessed try enough).
    base = std::max(base, kMinCovered);
    if (witnesses_usable(host)) {
        const double chance = refill_chance(host);
        base = std::max(base, static_cast<int>(std::ceil(std::log(kMissedAtMost) / std::log(chance))));
    }
    if (covered_tries_ < 20) return base;
    return std::max(base, loss.tries_for(static_cast<double>(covered_misses_) / static_cast<double>(covered_tries_)));
}

void AnswerLimits::add_witness(Host& h, Limited kind, const Item& item) {
    if (kind == Limited::Rst) return;  // see covered()
    auto& witnesses = h.queue().witnesses;
    for (const auto& [k, w] : witnesses)
        if (k == kind && w == item) return;
    const auto of_kind = std::count_if(witnesses.begin(), witnesses.end(), [&](const auto& w) { return w.first == kind; });
    if (of_kind >= 2 || witnesses.size() >= 4) return;
    witnesses.emplace_back(kind, item);
}

Clock::time_point AnswerLimits::last_probe(const IpAddress& host) const {
    const auto it = bursts_.find(host);
    return it == bursts_.end() ? Clock::time_point{} : it->second.back().to;
}

bool AnswerLimits::shows_limit(Limited kind, const IpAddress& host) const {
    const auto it = hosts_.find(host);
    return it != hosts_.end() && (it->second.late_kinds & bit(kind));
}

void AnswerLimits::schedule(const IpAddress& addr, Host& host, Clock::time_point when) {
    // A host with no witness for a kind its ports need: its round waits for the prior,
    // as long as quiet_before() reckons it (the send lag too: 2.1 s after the last
    // round, every round to a host with a RST limit was 0.25 s short of a quiet spell,
    // and its silent TCP ports went on in rounds until kMaxTries).
    Doubt& h = *host.doubt;
    std::uint8_t have = 0;
    if (witnesses_usable(addr))
        for (const auto& [k, w] : h.witnesses) have |= bit(k);
    if ((h.kinds & ~have) != 0)
        when = std::max({when, h.latest_first_sent + kPriorGap, host.last_answer_sent + kPriorGap,
                         last_probe(addr) + kPriorGap + kSendLag});
    h.next_round = when;
    due_.push({when, addr});
}

void AnswerLimits::enqueue(const Item& item, std::uint8_t kinds, bool likely_silent, bool from_round,
                           Clock::time_point first_sent, Clock::time_point now) {
    Host& host = hosts_[item.host];
    Doubt& h = host.queue();
    h.latest_first_sent = std::max(h.latest_first_sent, first_sent);
    h.kinds |= kinds;
    if (from_round && h.in_round) {
        h.returning.emplace_back(item, likely_silent);  // placed when the round ends
        return;
    }
    (likely_silent ? h.likely_silent : h.others).push_back(item);
    if (!h.doubted) {
        h.doubted = true;
        h.doubt_start = now;
    }
    const bool queued = h.likely_silent.size() + h.others.size() > 1;
    if (!h.in_round && !queued) schedule(item.host, host, std::max(now, h.next_round));
}

bool AnswerLimits::in_doubt(const IpAddress& host) const {
    const auto it = hosts_.find(host);
    if (it == hosts_.end() || !it->second.doubt) return false;
    const Doubt& d = *it->second.doubt;
    return d.in_round || !d.likely_silent.empty() || !d.others.empty();
}

Clock::time_point AnswerLimits::next_round_time() const {
    return due_.empty() ? Clock::time_point::max() : due_.top().first;
}

void AnswerLimits::take_round_items(Doubt& h, bool blind, Round& out) {
    // Likely-silent ports first: a witness after them that draws an answer covers them.
    // A host with no witness gets all its ports at once, in a quiet moment. With
    // witnesses, the round's size counts the ports likely to draw an answer (they spend
    // the allowance); the likely-silent ones spend none, so up to kSilentPerRound of them
    // go besides, and one answer after them covers them all. Not more: a port that only
    // seemed silent (its answer was held back) is asked again in every round it is in.
    const std::size_t size = blind ? kMaxRound : h.size;
    const std::size_t silent_room =
        blind ? size
              : std::min<std::size_t>(std::max<std::size_t>(size, kSilentPerRound),
                                      kMaxRound - std::min<std::size_t>(size, h.others.size()));
    while (out.items.size() < silent_room && !h.likely_silent.empty()) {
        out.items.push_back(h.likely_silent.front());
        h.likely_silent.pop_front();
    }
    const std::size_t others_end = blind ? size : std::min<std::size_t>(kMaxRound, out.items.size() + size);
    while (out.items.size() < others_end && !h.others.empty()) {
        out.items.push_back(h.others.front());
        h.others.pop_front();
    }
}

bool AnswerLimits::next_round(Clock::time_point now, Round& out) {
    while (!due_.empty() && due_.top().first <= now) {
        const auto [when, addr] = due_.top();
        due_.pop();
        auto it = hosts_.find(addr);
        if (it == hosts_.end() || !it->second.doubt) continue;
        Doubt& h = *it->second.doubt;
        if (h.in_round || h.next_round != when || (h.likely_silent.empty() && h.others.empty())) continue;
        out.host = addr;
        out.items.clear();
        out.witnesses.clear();
        SPDLOG_TRACE("round of {}: {} likely silent, {} others queued, size {}, gap {:.3f}", addr.str(),
                     h.likely_silent.size(), h.others.size(), h.size, seconds(h.gap));
        const bool usable = witnesses_usable(addr);
        take_round_items(h, h.witnesses.empty() || !usable, out);
        h.round_order = out.items;
        h.returning.clear();
        // A witness of each kind the ports need, rotating through them so that one that
        // stopped answering is not asked forever; none while its answer could not cover
        // (the path's reordering not measured yet: it would only spend the allowance).
        for (std::size_t k = 0; usable && k < kLimitedKinds; ++k) {
            const auto kind = static_cast<Limited>(k);
            if (!(h.kinds & bit(kind))) continue;
            const auto w = std::find_if(h.witnesses.begin(), h.witnesses.end(), [&](const auto& x) { return x.first == kind; });
            if (w == h.witnesses.end()) continue;
            out.witnesses.push_back(w->second);
            std::rotate(w, w + 1, h.witnesses.end());
        }
        if (h.rounds_start == Clock::time_point{}) h.rounds_start = now;
        out.number = h.rounds++;
        h.in_round = true;
        h.witness_ok = !out.witnesses.empty();
        h.outstanding = static_cast<std::uint16_t>(out.items.size() + out.witnesses.size());
        return true;
    }
    return false;
}

void AnswerLimits::round_result(const IpAddress& host, std::optional<Limited> answer, bool witness,
                                Clock::time_point now) {
    auto it = hosts_.find(host);
    if (it == hosts_.end() || !it->second.in_round()) return;
    Doubt& h = *it->second.doubt;
    if (answer) {
        ++h.round_answers;
        if (!witness) ++h.round_port_answers;
        ++h.round_by[static_cast<std::size_t>(*answer)];
        ++h.rounds_total_by[static_cast<std::size_t>(*answer)];
    }
    if (witness && !answer) h.witness_ok = false;
    if (h.outstanding > 0 && --h.outstanding > 0) return;
    h.in_round = false;
    // A round that got nothing done: none of its ports answered or was covered.
    const bool wasted = h.round_port_answers == 0 && h.round_covered == 0 && !h.returning.empty();
    requeue(h);
    pace(h, wasted);
    if (h.likely_silent.empty() && h.others.empty()) {
        h.doubt_end = now;
        h.kinds = 0;
        return;
    }
    // Plus a random part of the gap: rounds a whole number of a limiter's refill
    // period apart (a router's 500 ms: 160 ms and a round, then 320 ms and a round) kept
    // meeting the refill between a round's last port and its witness, which then drew
    // the answer the port's probe would have had, and covered it falsely, every time.
    const auto spread = std::max<Clock::duration>(h.gap, kMinGap) / 2;
    const auto jitter = Clock::duration(static_cast<Clock::rep>(
        static_cast<double>(spread.count()) * std::uniform_real_distribution<double>(0, 1)(rng_)));
    schedule(host, it->second, now + h.gap + jitter);
}

// The round is over: its ports still in doubt go back, in the order they went, first
// when it drew nothing (so that the next answer allowed is the same port's), last else.
void AnswerLimits::requeue(Doubt& h) {
    const auto position = [&](const Item& item) {
        return std::find(h.round_order.begin(), h.round_order.end(), item) - h.round_order.begin();
    };
    std::sort(h.returning.begin(), h.returning.end(),
              [&](const auto& a, const auto& b) { return position(a.first) < position(b.first); });
    if (h.round_answers == 0) {
        for (auto it = h.returning.rbegin(); it != h.returning.rend(); ++it)
            (it->second ? h.likely_silent : h.others).push_front(it->first);
    } else {
        for (const auto& [item, silent] : h.returning) (silent ? h.likely_silent : h.others).push_back(item);
    }
    h.returning.clear();
    h.round_order.clear();
}

// The round is over: pace the next one to what this one drew.
void AnswerLimits::pace(Doubt& h, bool wasted) {
    if (h.round_answers == 0 || wasted) {
        // Nothing came back: the allowance is spent. Wait longer (as many may go when it
        // has refilled: the round came too soon, not with too many). Also when only the
        // witness drew an answer and covered none of the ports: it came too late, and
        // the answer it drew refilled after they went (seed 26705: a
        // router's one a 500 ms, rounds 300 ms apart, the witness drawing every other
        // refill and the port none in 200 tries).
        h.gap = std::min<Clock::duration>(std::max<Clock::duration>(h.gap * 2, kMinGap), kPriorGap);
    } else if (h.witness_ok || h.witnesses.empty()) {
        // The witnesses, last, still drew answers: there was room for more.
        h.size = static_cast<std::uint16_t>(std::min<std::size_t>(kMaxRound, h.size + std::max(1, h.size / 2)));
        h.gap = h.gap / 2 < kMinGap / 2 ? Clock::duration{} : h.gap / 2;
    } else {
        // It ran out on the way: as many as came back, as often.
        h.size = static_cast<std::uint16_t>(std::clamp<int>(h.round_answers, 1, kMaxRound));
    }
    h.round_answers = 0;
    h.round_port_answers = 0;
    h.round_covered = 0;
    h.round_by = {};
}

double AnswerLimits::round_rate(const IpAddress& host, Clock::time_point now) const {
    const auto it = hosts_.find(host);
    if (it == hosts_.end() || !it->second.doubt) return 0;
    const Doubt& d = *it->second.doubt;
    if (d.rounds_start == Clock::time_point{} || now <= d.rounds_start) return 0;
    return static_cast<double>(d.round_answers_total) / seconds(now - d.rounds_start);
}

std::vector<AnswerLimits::Estimate> AnswerLimits::limited_hosts() const {
    std::vector<Estimate> out;
    for (const auto& [addr, h] : hosts_) {
        // Limited: answers held back often enough that loss does not explain it.
        if (h.late < 3 || h.late * 4 < h.answers_total) continue;
        Estimate e;
        e.host = addr;
        e.answers = h.answers_total;
        e.late = h.late;
        e.burst = h.burst;
        e.kinds = h.late_kinds;
        if (const Doubt* d = h.doubt.get()) {
            if (d->rounds_start != Clock::time_point{} && d->doubt_end > d->rounds_start)
                e.rate = static_cast<double>(d->round_answers_total) / seconds(d->doubt_end - d->rounds_start);
            if (d->doubted && d->doubt_end > d->doubt_start) e.cost = seconds(d->doubt_end - d->doubt_start);
        }
        out.push_back(e);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.host < b.host; });
    return out;
}

}  // namespace scanfw
