#include "engine/icmp_limits.hpp"

#include <algorithm>

namespace scanfw {

namespace {
constexpr auto kMinGap = std::chrono::milliseconds(20);   // Linux's global bucket refills every 20 ms at most
constexpr auto kBurstWindow = std::chrono::milliseconds(20);
constexpr std::size_t kSilentPerRound = 32;  // likely-silent ports a round takes besides its size
}  // namespace

void IcmpLimits::error(const IpAddress& host, std::uint16_t source, SendMark mark, Clock::time_point sent, bool late) {
    Host& h = hosts_[host];
    if (h.errors++ == 0) h.first_error = sent;
    if (sent - h.first_error <= kBurstWindow) ++h.burst;
    if (late) ++h.late;
    if (h.in_round) ++h.round_errors_total;
    h.error_sent[h.error_head] = sent;
    h.error_head = static_cast<std::uint8_t>((h.error_head + 1) % h.error_sent.size());
    h.errors_kept = static_cast<std::uint8_t>(std::min<std::size_t>(h.errors_kept + 1, h.error_sent.size()));
    h.last_error_sent = std::max(h.last_error_sent, sent);
    // The latest probe of this batch and source that drew an error.
    for (auto& b : h.batches)
        if (b.used && b.batch == mark.batch && b.source == source) {
            b.index = std::max(b.index, mark.index);
            return;
        }
    h.batches[h.batch_head] = {mark.batch, source, mark.index, true};
    h.batch_head = static_cast<std::uint8_t>((h.batch_head + 1) % h.batches.size());
}

bool IcmpLimits::prior_covered(const Host* hp, Clock::time_point sent, Clock::time_point first_sent) const {
    // However spent the limiter was when the port was first probed (another scan just
    // before), it has refilled a gap later.
    if (sent < first_sent + kPriorGap) return false;
    if (!hp) return true;  // no error from this host so far
    const Host& h = *hp;
    const Clock::time_point from = sent - kPriorGap;
    bool older_than_window = h.errors_kept < h.error_sent.size();  // we kept every error
    for (std::size_t i = 0; i < h.errors_kept; ++i) {
        const Clock::time_point t = h.error_sent[i];
        if (t >= from && t < sent) return false;  // an error spent the allowance within the gap
        if (t < from) older_than_window = true;
    }
    // All errors kept are newer than the try: older ones may have fallen in the gap.
    return older_than_window;
}

bool IcmpLimits::covered(const IpAddress& host, std::uint16_t source, SendMark mark, Clock::time_point sent,
                         Clock::time_point first_sent) const {
    const auto it = hosts_.find(host);
    if (it == hosts_.end()) return prior_covered(nullptr, sent, first_sent);
    const Host& h = it->second;
    for (const auto& b : h.batches)
        if (b.used && b.batch == mark.batch && b.source == source && b.index > mark.index) return true;
    return prior_covered(&h, sent, first_sent);
}

int IcmpLimits::needed(const LossControl& loss) const {
    // The share of covered silent tries that were lost after all measures the network's
    // loss of errors; before there is enough of it, the loss of other answers does.
    if (covered_tries_ >= 20)
        return loss.tries_for(static_cast<double>(covered_misses_) / static_cast<double>(covered_tries_));
    return loss.max_tries();
}

void IcmpLimits::add_witness(const Item& item) {
    Host& h = hosts_[item.host];
    for (const Item& w : h.witnesses)
        if (w == item) return;
    if (h.witnesses.size() < 4) h.witnesses.push_back(item);
}

void IcmpLimits::schedule(const IpAddress& addr, Host& h, Clock::time_point when) {
    // A host with no witness: its round waits for the prior.
    if (h.witnesses.empty()) when = std::max({when, h.latest_first_sent + kPriorGap, h.last_error_sent + kPriorGap});
    h.next_round = when;
    due_.push({when, addr});
}

void IcmpLimits::enqueue(const Item& item, bool likely_silent, Clock::time_point first_sent, Clock::time_point now) {
    Host& h = hosts_[item.host];
    h.latest_first_sent = std::max(h.latest_first_sent, first_sent);
    (likely_silent ? h.likely_silent : h.others).push_back(item);
    if (!h.doubted) {
        h.doubted = true;
        h.doubt_start = now;
    }
    const bool queued = h.likely_silent.size() + h.others.size() > 1;
    if (!h.in_round && !queued) schedule(item.host, h, std::max(now, h.next_round));
}

bool IcmpLimits::in_doubt(const IpAddress& host) const {
    const auto it = hosts_.find(host);
    return it != hosts_.end() && (it->second.in_round || !it->second.likely_silent.empty() || !it->second.others.empty());
}

Clock::time_point IcmpLimits::next_round_time() const {
    return due_.empty() ? Clock::time_point::max() : due_.top().first;
}

bool IcmpLimits::next_round(Clock::time_point now, Round& out) {
    while (!due_.empty() && due_.top().first <= now) {
        const auto [when, addr] = due_.top();
        due_.pop();
        auto it = hosts_.find(addr);
        if (it == hosts_.end()) continue;
        Host& h = it->second;
        if (h.in_round || h.next_round != when || (h.likely_silent.empty() && h.others.empty())) continue;
        out.host = addr;
        out.items.clear();
        out.witness.reset();
        // Likely-silent ports first: a port after them that draws an error witnesses
        // them. A host with no witness gets all its ports at once, in a quiet moment.
        // With a witness, the round's size counts the ports likely to draw an error
        // (they spend the allowance); the likely-silent ones spend none, so up to
        // kSilentPerRound of them go besides, and one error after them covers them all
        // (else each silent port would cost an error of its own per covered try).
        // Not more: a port that only seemed silent (its error was held back) is asked
        // again in every round it is in, and is given up after kMaxTries.
        const std::size_t size = h.witnesses.empty() ? kMaxRound : h.size;
        const std::size_t silent_room =
            h.witnesses.empty() ? size
                                : std::min<std::size_t>(std::max<std::size_t>(size, kSilentPerRound),
                                                        kMaxRound - std::min<std::size_t>(size, h.others.size()));
        while (out.items.size() < silent_room && !h.likely_silent.empty()) {
            out.items.push_back(h.likely_silent.front());
            h.likely_silent.pop_front();
        }
        const std::size_t others_end =
            h.witnesses.empty() ? size : std::min<std::size_t>(kMaxRound, out.items.size() + size);
        while (out.items.size() < others_end && !h.others.empty()) {
            out.items.push_back(h.others.front());
            h.others.pop_front();
        }
        if (!h.witnesses.empty()) {
            // Rotate through the witnesses, so that one that stopped answering is not
            // asked forever.
            out.witness = h.witnesses.front();
            std::rotate(h.witnesses.begin(), h.witnesses.begin() + 1, h.witnesses.end());
        }
        if (h.rounds_start == Clock::time_point{}) h.rounds_start = now;
        out.number = h.rounds++;
        h.in_round = true;
        h.witness_ok = false;
        h.round_errors = 0;
        h.outstanding = static_cast<std::uint16_t>(out.items.size() + (out.witness ? 1 : 0));
        return true;
    }
    return false;
}

void IcmpLimits::round_result(const IpAddress& host, bool error, bool witness, Clock::time_point now) {
    auto it = hosts_.find(host);
    if (it == hosts_.end() || !it->second.in_round) return;
    Host& h = it->second;
    if (error) ++h.round_errors;
    if (witness) h.witness_ok = error;
    if (h.outstanding > 0 && --h.outstanding > 0) return;
    // The round is over: pace the next one to what this one drew.
    h.in_round = false;
    if (h.round_errors == 0) {
        // Nothing came back: the allowance is spent. Wait longer, ask fewer.
        h.gap = std::min<Clock::duration>(std::max<Clock::duration>(h.gap * 2, kMinGap), kPriorGap);
        h.size = static_cast<std::uint16_t>(std::max(1, h.size / 2));
    } else if (h.witness_ok || h.witnesses.empty()) {
        // The last probe still drew an error: there was room for more.
        h.size = static_cast<std::uint16_t>(std::min<std::size_t>(kMaxRound, h.size + std::max(1, h.size / 2)));
        h.gap = h.gap / 2 < kMinGap / 2 ? Clock::duration{} : h.gap / 2;
    } else {
        // It ran out on the way: as many as came back.
        h.size = static_cast<std::uint16_t>(std::clamp<int>(h.round_errors, 1, kMaxRound));
    }
    if (h.likely_silent.empty() && h.others.empty()) {
        h.doubt_end = now;
        return;
    }
    schedule(host, h, now + h.gap);
}

double IcmpLimits::round_rate(const IpAddress& host, Clock::time_point now) const {
    const auto it = hosts_.find(host);
    if (it == hosts_.end() || it->second.rounds_start == Clock::time_point{} || now <= it->second.rounds_start) return 0;
    return static_cast<double>(it->second.round_errors_total) / seconds(now - it->second.rounds_start);
}

std::vector<IcmpLimits::Estimate> IcmpLimits::limited_hosts() const {
    std::vector<Estimate> out;
    for (const auto& [addr, h] : hosts_) {
        // Limited: errors held back often enough that loss does not explain it.
        if (h.late < 3 || h.late * 4 < h.errors) continue;
        Estimate e;
        e.host = addr;
        e.errors = h.errors;
        e.late = h.late;
        e.burst = h.burst;
        if (h.rounds_start != Clock::time_point{} && h.doubt_end > h.rounds_start)
            e.rate = static_cast<double>(h.round_errors_total) / seconds(h.doubt_end - h.rounds_start);
        if (h.doubted && h.doubt_end > h.doubt_start) e.cost = seconds(h.doubt_end - h.doubt_start);
        out.push_back(e);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.host < b.host; });
    return out;
}

}  // namespace scanfw
