#include "engine/answer_limits.hpp"

#include <algorithm>

namespace scanfw {

namespace {
using std::chrono::microseconds;
constexpr auto kMinGap = std::chrono::milliseconds(20);  // Linux's global bucket refills every 20 ms at most
constexpr auto kBurstWindow = std::chrono::milliseconds(20);
constexpr std::size_t kSilentPerRound = 32;  // likely-silent ports a round takes besides its size
// A witness leaves at least this long after what it covers (departure times are known
// to a few microseconds), more on a path that reorders; and covers only what left at
// most kWitnessWindow before that: the less time between them, the less a limiter can
// refill in between.
constexpr auto kMinWitnessGap = microseconds(20);
constexpr auto kWitnessWindow = microseconds(500);
}  // namespace

void AnswerLimits::limited(Limited kind, const IpAddress& host, std::uint16_t source, Clock::time_point sent_from,
                           Clock::time_point sent_to, bool late) {
    Host& h = hosts_[host];
    if (h.answers_total++ == 0) h.first_answer = sent_to;
    if (sent_to - h.first_answer <= kBurstWindow) ++h.burst;
    if (late) {
        ++h.late;
        h.late_kinds |= bit(kind);
    }
    if (h.in_round) ++h.round_answers_total;
    h.answers[h.head] = {sent_from, sent_to, source, kind};
    h.head = static_cast<std::uint8_t>((h.head + 1) % h.answers.size());
    h.kept = static_cast<std::uint8_t>(std::min<std::size_t>(h.kept + 1, h.answers.size()));
    h.last_answer_sent = std::max(h.last_answer_sent, sent_to);
}

void AnswerLimits::answered(const IpAddress& host, Clock::time_point departed, Clock::time_point) {
    const auto it = hosts_.find(host);
    if (it == hosts_.end()) return;
    Host& h = it->second;
    // Answers are taken in the order they came: one whose probe left before another
    // answered probe was overtaken on the way there or back.
    if (departed < h.latest_departed) {
        h.reorder = std::max(h.reorder, h.latest_departed - departed);
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

bool AnswerLimits::prior_covered(const Host* hp, Limited kind, Clock::time_point sent,
                                 Clock::time_point first_sent) const {
    // However spent the limiter was when the port was first probed (another scan just
    // before), it has refilled a gap later.
    if (sent < first_sent + kPriorGap) return false;
    if (!hp) return true;  // no limited answer from this host so far
    const Host& h = *hp;
    const Clock::time_point from = sent - kPriorGap, to = sent + 2 * std::max(h.reorder, reorder_);
    bool whole = h.kept < h.answers.size();  // every answer is kept
    for (std::size_t i = 0; i < h.kept; ++i) {
        const Sent& a = h.answers[i];
        // An answer of this kind drawn within the gap, or by a probe sent with this one
        // (ahead of it, or overtaking it on the way), may have spent what the gap refilled.
        if (a.kind == kind && a.to >= from && a.from <= to) return false;
        if (a.to < from) whole = true;  // the answers kept reach back past the gap
    }
    return whole;
}

bool AnswerLimits::covered(Limited kind, const IpAddress& host, std::uint16_t source, Clock::time_point sent,
                           Clock::time_point first_sent) const {
    const auto it = hosts_.find(host);
    if (it == hosts_.end()) return prior_covered(nullptr, kind, sent, first_sent);
    const Host& h = it->second;
    const Clock::time_point earliest = sent + witness_gap(host), latest = earliest + kWitnessWindow;
    for (std::size_t i = 0; i < h.kept; ++i) {
        const Sent& a = h.answers[i];
        if (a.kind == kind && a.source == source && a.from >= earliest && a.to <= latest) return true;
    }
    return prior_covered(&h, kind, sent, first_sent);
}

int AnswerLimits::needed(const LossControl& loss) const {
    // The share of covered silent tries that were lost after all measures the network's
    // loss of limited answers; before there is enough of it, the loss of other answers does.
    if (covered_tries_ >= 20)
        return loss.tries_for(static_cast<double>(covered_misses_) / static_cast<double>(covered_tries_));
    return loss.max_tries();
}

void AnswerLimits::add_witness(Limited kind, const Item& item) {
    Host& h = hosts_[item.host];
    for (const auto& [k, w] : h.witnesses)
        if (w == item) return;
    const auto of_kind = std::count_if(h.witnesses.begin(), h.witnesses.end(), [&](const auto& w) { return w.first == kind; });
    if (of_kind < 2 && h.witnesses.size() < 4) h.witnesses.emplace_back(kind, item);
}

void AnswerLimits::schedule(const IpAddress& addr, Host& h, Clock::time_point when) {
    // A host with no witness for a kind its ports need: its round waits for the prior.
    std::uint8_t have = 0;
    for (const auto& [k, w] : h.witnesses) have |= bit(k);
    if ((h.kinds & ~have) != 0)
        when = std::max({when, h.latest_first_sent + kPriorGap, h.last_answer_sent + kPriorGap});
    h.next_round = when;
    due_.push({when, addr});
}

void AnswerLimits::enqueue(const Item& item, std::uint8_t kinds, bool likely_silent, Clock::time_point first_sent,
                           Clock::time_point now) {
    Host& h = hosts_[item.host];
    h.latest_first_sent = std::max(h.latest_first_sent, first_sent);
    h.kinds |= kinds;
    (likely_silent ? h.likely_silent : h.others).push_back(item);
    if (!h.doubted) {
        h.doubted = true;
        h.doubt_start = now;
    }
    const bool queued = h.likely_silent.size() + h.others.size() > 1;
    if (!h.in_round && !queued) schedule(item.host, h, std::max(now, h.next_round));
}

bool AnswerLimits::in_doubt(const IpAddress& host) const {
    const auto it = hosts_.find(host);
    return it != hosts_.end() && (it->second.in_round || !it->second.likely_silent.empty() || !it->second.others.empty());
}

Clock::time_point AnswerLimits::next_round_time() const {
    return due_.empty() ? Clock::time_point::max() : due_.top().first;
}

void AnswerLimits::take_round_items(Host& h, Round& out) const {
    // Likely-silent ports first: a witness after them that draws an answer covers them.
    // A host with no witness gets all its ports at once, in a quiet moment. With
    // witnesses, the round's size counts the ports likely to draw an answer (they spend
    // the allowance); the likely-silent ones spend none, so up to kSilentPerRound of them
    // go besides, and one answer after them covers them all. Not more: a port that only
    // seemed silent (its answer was held back) is asked again in every round it is in.
    const bool blind = h.witnesses.empty();
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
        if (it == hosts_.end()) continue;
        Host& h = it->second;
        if (h.in_round || h.next_round != when || (h.likely_silent.empty() && h.others.empty())) continue;
        out.host = addr;
        out.items.clear();
        out.witnesses.clear();
        take_round_items(h, out);
        // A witness of each kind the ports need, rotating through them so that one that
        // stopped answering is not asked forever.
        for (std::size_t k = 0; k < kLimitedKinds; ++k) {
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
        h.round_answers = 0;
        h.outstanding = static_cast<std::uint16_t>(out.items.size() + out.witnesses.size());
        return true;
    }
    return false;
}

void AnswerLimits::round_result(const IpAddress& host, bool answered, bool witness, Clock::time_point now) {
    auto it = hosts_.find(host);
    if (it == hosts_.end() || !it->second.in_round) return;
    Host& h = it->second;
    if (answered) ++h.round_answers;
    if (witness && !answered) h.witness_ok = false;
    if (h.outstanding > 0 && --h.outstanding > 0) return;
    // The round is over: pace the next one to what this one drew.
    h.in_round = false;
    if (h.round_answers == 0) {
        // Nothing came back: the allowance is spent. Wait longer, ask fewer.
        h.gap = std::min<Clock::duration>(std::max<Clock::duration>(h.gap * 2, kMinGap), kPriorGap);
        h.size = static_cast<std::uint16_t>(std::max(1, h.size / 2));
    } else if (h.witness_ok || h.witnesses.empty()) {
        // The witnesses, last, still drew answers: there was room for more.
        h.size = static_cast<std::uint16_t>(std::min<std::size_t>(kMaxRound, h.size + std::max(1, h.size / 2)));
        h.gap = h.gap / 2 < kMinGap / 2 ? Clock::duration{} : h.gap / 2;
    } else {
        // It ran out on the way: as many as came back.
        h.size = static_cast<std::uint16_t>(std::clamp<int>(h.round_answers, 1, kMaxRound));
    }
    if (h.likely_silent.empty() && h.others.empty()) {
        h.doubt_end = now;
        h.kinds = 0;
        return;
    }
    schedule(host, h, now + h.gap);
}

double AnswerLimits::round_rate(const IpAddress& host, Clock::time_point now) const {
    const auto it = hosts_.find(host);
    if (it == hosts_.end() || it->second.rounds_start == Clock::time_point{} || now <= it->second.rounds_start) return 0;
    return static_cast<double>(it->second.round_answers_total) / seconds(now - it->second.rounds_start);
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
        if (h.rounds_start != Clock::time_point{} && h.doubt_end > h.rounds_start)
            e.rate = static_cast<double>(h.round_answers_total) / seconds(h.doubt_end - h.rounds_start);
        if (h.doubted && h.doubt_end > h.doubt_start) e.cost = seconds(h.doubt_end - h.doubt_start);
        out.push_back(e);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.host < b.host; });
    return out;
}

}  // namespace scanfw
