// The raw engine: one thread sends (paced, batched), the capture thread receives.
// State exists only for probes in flight; a reply or the last timeout frees it.
#include <deque>
#include <queue>
#include <unordered_map>

#include <absl/container/flat_hash_map.h>

#include <spdlog/spdlog.h>

#include "net/capture.hpp"
#include "net/raw_socket.hpp"
#include "scan/engine.hpp"
#include "system/interrupt.hpp"
#include "scan/schedule.hpp"

namespace scanfw {

class RawIo {
public:
    explicit RawIo(std::uint64_t probes) : capture(probes) {}
    RawSocket socket;
    Capture capture;
};

std::shared_ptr<RawIo> open_raw_io(std::uint64_t probes) { return std::make_shared<RawIo>(probes); }

namespace {

// After an interrupt, how long replies to probes in flight are still waited for.
constexpr auto kStopGrace = std::chrono::milliseconds(500);
// The longest the sender sleeps when nothing is due (the rate is re-read after).
constexpr auto kIdleWait = std::chrono::milliseconds(50);

struct Flight {
    int tries = 0;  // probes sent so far
    Clock::time_point sent;
    enum class Lane : std::uint8_t { Normal, Slow } lane = Lane::Normal;
    std::uint8_t slow_tries = 0;  // probes sent in the slow lane
};

// ICMP error rate limits (Linux: a burst of 6, then one a second per peer). A host
// that has sent this many unreachables, about as fast as such a limit lets through,
// may be hiding more: its silent ports are asked again, one per kIcmpGap, before
// silence is believed (unless --defeat-icmp-ratelimit).
constexpr std::uint32_t kIcmpLimitEvidence = 5;
constexpr auto kIcmpGap = std::chrono::milliseconds(1100);  // a little over the refill, against jitter
constexpr int kSlowTries = 2;

struct IcmpSeen {
    std::uint32_t count = 0;
    Clock::time_point first;
    PortState state = PortState::Undecided;  // what the last of them concluded
    // Plausibly limited: near the most a limit of 6 + 1/s would have let through.
    // A host that sent far more than that is not held back by such a limit.
    bool limited(Clock::time_point now) const {
        const double allowed = 6 + std::chrono::duration<double>(now - first).count();
        return count >= kIcmpLimitEvidence && count >= allowed / 2 && count <= allowed * 2;
    }
};

struct SlowLane {
    std::deque<std::uint16_t> ports;
    Clock::time_point next;
};

struct Due {
    Clock::time_point when;
    EndpointKey key;
    int tries;
    bool operator>(const Due& o) const { return when > o.when; }
};

class RawScan {
public:
    RawScan(const ScanJob& job, ResultSink& sink)
        : job_(job), sink_(sink), info_(job.plugin->info()), key_(random_key()), tagger_(key_),
          order_(*job.targets, job.ports, key_, job.skip), limiter_(job.timing.rate), rtt_(job.timing),
          loss_(job.timing), socket_(job.raw_io->socket), capture_(job.raw_io->capture) {}

    void run() {
        capture_.start(info_.protocol, tagger_);
        std::vector<EndpointKey> resend;
        while (!order_.done() || !flights_.empty()) {
            if (stop_requested()) {
                drain_after_stop();
                break;
            }
            auto now = Clock::now();
            // Answers that came while this thread was busy first, so none of them is
            // taken for silence by expire().
            take_answers(now);
            limiter_.set_rate(loss_.update(now, [&] { return capture_.packets_dropped(); }));
            expire(now, resend);
            std::size_t budget = limiter_.take(RawSocket::kBatch, now);
            while (budget > 0 && !resend.empty()) {
                send(resend.back(), now);
                resend.pop_back();
                --budget;
            }
            budget -= send_slow_lane(now, budget);
            IpAddress host;
            std::uint16_t port = 0;
            while (budget > 0 && order_.next(host, port))
                if (start(EndpointKey{host, port}, now)) --budget;
            socket_.flush();
            if (order_.done() && flights_.empty()) break;  // the last ones just concluded

            // Wait for answers until there is something else to do.
            Clock::time_point wake = due_.empty() ? now + kIdleWait : due_.top().when;
            for (const auto& [h, lane] : slow_) wake = std::min(wake, lane.next);
            if (!order_.done() || !resend.empty()) wake = std::min(wake, limiter_.next_token(Clock::now()));
            take_answers(wake);
            if (job_.progress)
                job_.progress->update(info_.name, order_.position(), order_.total(), socket_.sent() - sent_before_,
                                      replies_);
        }
        capture_.stop();
        spdlog::debug("{}: {} probes sent, {} packets captured, {} dropped by the kernel; "
                      "rate now {:.0f}/s, tries allowed {}, timeout {} us",
                      info_.name, socket_.sent(), capture_.packets_seen(), capture_.packets_dropped(),
                      limiter_.rate(), loss_.max_tries(),
                      std::chrono::duration_cast<std::chrono::microseconds>(rtt_.timeout(IpAddress{})).count());
    }

private:
    // Interrupted: send nothing more, take the answers to what is in flight for a
    // moment, and leave the rest without a result.
    void drain_after_stop() {
        socket_.flush();
        const auto until = Clock::now() + std::min<Clock::duration>(kStopGrace, job_.timing.max_timeout);
        while (!flights_.empty() && Clock::now() < until) take_answers(until);
        spdlog::info("{}: interrupted with {} probe(s) in flight", info_.name, flights_.size());
    }

    // Handles the answers captured so far, waiting until `until` when there are none.
    void take_answers(Clock::time_point until) {
        capture_.take(answers_, until);
        for (const Answer& a : answers_) handle(a);
        replies_ += answers_.size();
    }

    bool start(const EndpointKey& key, Clock::time_point now) {
        if (flights_.count(key)) return false;  // the same target listed twice
        if (!routes_.source_for(key.host)) {
            spdlog::warn("no route to {}: skipped", key.host.str());
            return false;
        }
        flights_.emplace(key, Flight{0, now, Flight::Lane::Normal, 0});
        send(key, now);
        return true;
    }

    void send(const EndpointKey& key, Clock::time_point now) {
        auto it = flights_.find(key);
        if (it == flights_.end()) return;
        Flight& f = it->second;
        const ProbeTag tag = tagger_.tag(key.host, key.port);
        // A route that went away since start() makes the probe one sent and lost.
        if (const auto source = routes_.source_for(key.host)) {
            const ProbeHeader h{*source, key.host, tag.sport, key.port, tag.seq, tag.ack, tag.ip_id, 64};
            const std::size_t len = build_probe(info_.protocol, h, job_.plugin->probe(key.port), socket_.slot());
            if (len == 0) throw RuntimeError(fmt::format("plugin '{}': probe for port {} does not fit a packet",
                                                         info_.name, key.port));
            socket_.commit(len, key.host);
            if (socket_.full()) socket_.flush();
        }
        ++f.tries;
        f.sent = now;
        due_.push({now + rtt_.timeout(key.host), key, f.tries});
    }

    // Probes whose wait ran out: queue a retransmission, or conclude from silence.
    void expire(Clock::time_point now, std::vector<EndpointKey>& resend) {
        while (!due_.empty() && due_.top().when <= now) {
            const Due d = due_.top();
            due_.pop();
            auto it = flights_.find(d.key);
            if (it == flights_.end() || it->second.tries != d.tries) continue;  // answered or resent
            Flight& f = it->second;
            if (const auto later = rtt_.next_check(d.key.host, f.sent, now)) {
                due_.push({*later, d.key, d.tries});
                continue;
            }
            if (f.lane == Flight::Lane::Normal && d.tries < loss_.max_tries()) {
                resend.push_back(d.key);
            } else if ((f.lane == Flight::Lane::Normal && icmp_limited(d.key.host, now)) ||
                       (f.lane == Flight::Lane::Slow && f.slow_tries < kSlowTries)) {
                f.lane = Flight::Lane::Slow;
                auto [lane, fresh] = slow_.try_emplace(d.key.host);
                if (fresh) lane->second.next = now;
                lane->second.ports.push_back(d.key.port);
            } else {
                finish(it, job_.plugin->classify(Reply{}), Reply{}, now);
            }
        }
    }

    void handle(const Answer& a) {
        auto it = flights_.find(EndpointKey{a.target, a.target_port});
        if (it == flights_.end()) return;  // late or duplicate
        const Verdict v = job_.plugin->classify(a.reply);
        if (a.reply.kind == Reply::Kind::IcmpUnreach) {
            IcmpSeen& seen = icmp_[a.target];
            if (seen.count++ == 0) seen.first = Clock::now();
            seen.state = v.state;
        }
        if (v.state == PortState::Undecided) return;
        const auto now = Clock::now();
        loss_.answered(it->second.tries);
        const bool first_measurement = !rtt_.measured();
        if (it->second.tries == 1) rtt_.sample(a.target, now - it->second.sent);  // Karn: first tries only
        finish(it, v, a.reply, now);
        if (first_measurement && rtt_.measured()) reschedule();
    }

    // The first round trip measured: what was sent before it waits by the new
    // estimate, usually much shorter than the initial timeout (the old entries in
    // due_ are skipped when they come up: the probe is concluded or resent by then).
    void reschedule() {
        for (const auto& [key, f] : flights_)
            if (f.lane == Flight::Lane::Normal) due_.push({f.sent + rtt_.timeout(key.host), key, f.tries});
    }

    // Whether a silent port of `host` may be hiding an ICMP error its rate limit held
    // back, one that would have concluded otherwise than silence does (for a SYN
    // scan both mean filtered: no need to ask again).
    bool icmp_limited(const IpAddress& host, Clock::time_point now) const {
        if (job_.timing.defeat_icmp_ratelimit) return false;
        const auto it = icmp_.find(host);
        return it != icmp_.end() && it->second.limited(now) && it->second.state != silence_state_;
    }

    // One probe per host and kIcmpGap for ports whose silence is in doubt; returns
    // how many it sent.
    std::size_t send_slow_lane(Clock::time_point now, std::size_t budget) {
        std::size_t sent = 0;
        for (auto it = slow_.begin(); it != slow_.end() && sent < budget;) {
            SlowLane& lane = it->second;
            if (lane.ports.empty()) {  // kept until its gap is over, so the next port waits it out
                it = lane.next <= now ? slow_.erase(it) : std::next(it);
                continue;
            }
            if (lane.next > now) {
                ++it;
                continue;
            }
            const EndpointKey key{it->first, lane.ports.front()};
            lane.ports.pop_front();
            if (auto f = flights_.find(key); f != flights_.end()) {
                ++f->second.slow_tries;
                send(key, now);
                ++sent;
            }
            lane.next = now + kIcmpGap;
            ++it;
        }
        return sent;
    }

    using Flights = absl::flat_hash_map<EndpointKey, Flight, EndpointKeyHash>;

    void finish(Flights::iterator it, const Verdict& v,
                const Reply& reply, Clock::time_point now) {
        Result r;
        r.host = it->first.host;
        r.port = it->first.port;
        r.protocol = info_.protocol;
        r.technique = info_.name;
        r.state = v.state == PortState::Undecided ? PortState::Filtered : v.state;
        r.reason = *v.reason ? v.reason : "no-response";
        r.ttl = reply.ttl;
        if (reply.kind != Reply::Kind::Silence)
            r.rtt_us = static_cast<std::uint32_t>(
                std::chrono::duration_cast<std::chrono::microseconds>(now - it->second.sent).count());
        flights_.erase(it);
        sink_.on_result(r);
    }

    const ScanJob& job_;
    ResultSink& sink_;
    const Description info_;
    const PortState silence_state_ = job_.plugin->classify(Reply{}).state;
    const SipKey key_;
    const Tagger tagger_;
    ScanOrder order_;
    RateLimiter limiter_;
    RttEstimator rtt_;
    LossControl loss_;
    SourceRoutes routes_;
    std::uint64_t replies_ = 0;
    std::vector<Answer> answers_;  // reused by take_answers()
    RawSocket& socket_;
    const std::uint64_t sent_before_ = socket_.sent();
    Capture& capture_;
    Flights flights_;
    std::priority_queue<Due, std::vector<Due>, std::greater<>> due_;
    absl::flat_hash_map<IpAddress, IcmpSeen, IpAddressHash> icmp_;
    std::unordered_map<IpAddress, SlowLane, IpAddressHash> slow_;
};

}  // namespace

void run_raw_scan(const ScanJob& job, ResultSink& sink) { RawScan(job, sink).run(); }

}  // namespace scanfw
