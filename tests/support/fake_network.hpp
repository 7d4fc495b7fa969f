// A simulated network for the engine's unit tests: targets whose ports are open
// (answered by an application, after its latency), closed (an ICMP port unreachable
// or a RST), dropped or rejected with ICMP admin-prohibited; ICMP errors pass through
// the limiters operating systems use (Linux's per-peer and global buckets, FreeBSD's
// per-second window); loss at random. Time is simulated: the engine's waits advance
// it, so a scan that takes 1000 s takes milliseconds.
#pragma once

#include <algorithm>
#include <map>
#include <queue>
#include <random>

#include "engine/io.hpp"
#include "engine/scheduler.hpp"

namespace scanfw::testing {

class FakeTime final : public TimeSource {
public:
    Clock::time_point now() const override { return now_; }
    void advance_to(Clock::time_point t) { now_ = std::max(now_, t); }
    Clock::time_point start() const { return start_; }
    double elapsed() const { return seconds(now_ - start_); }

private:
    Clock::time_point start_ = Clock::time_point{} + std::chrono::hours(1000);
    Clock::time_point now_ = start_;
};

enum class PortKind { Closed, Open, Drop, Reject, Reset };

// How a target limits its ICMP errors.
struct Limiter {
    enum class Kind { None, LinuxPeer, LinuxGlobal, Linux, FreeBsd } kind = Kind::None;
    double peer_burst = 6, peer_rate = 1;   // Linux icmp_ratelimit: 6 at once, 1 a second
    double global_burst = 50, global_rate = 1000;  // icmp_msgs_burst, icmp_msgs_per_sec
    double bsd_limit = 200;                // FreeBSD icmplim, per second
    double peer_start = 6, global_start = 50;  // allowance left when the scan starts
};

class FakeNetwork final : public ProbeIo {
public:
    FakeNetwork(FakeTime& time, std::uint64_t seed = 1) : time_(time), rng_(seed) {}

    std::map<std::uint16_t, PortKind> ports;            // by port; absent: Closed
    std::map<std::uint16_t, std::chrono::milliseconds> app_latency;  // open ports' applications
    Limiter limiter;
    double loss = 0;  // of every packet, each way
    std::chrono::microseconds rtt{1000};
    bool tcp = false;  // answers as TCP (NULL scan): closed RST, open silent

    // ProbeIo
    void begin(std::span<const Job>) override {}
    void end() override {}
    bool send(const Job&, const Item& item, const IpAddress& source, SendMark& mark) override {
        mark = {batch_, index_++};
        ++sent_;
        if (lost()) return true;
        arrivals_.push({time_.now() + rtt / 2, seq_++, item, source});
        return true;
    }
    void flush() override {
        if (index_ > 0) ++batch_;
        index_ = 0;
        // Arrivals are handled in order as time passes (see take_ready).
    }
    void take_ready(std::vector<Answer>& out) override {
        deliver_arrivals();
        while (!replies_.empty() && replies_.top().at <= time_.now()) {
            out.push_back(replies_.top().answer);
            replies_.pop();
        }
    }
    int wait_fd() const override { return -1; }
    std::uint64_t sent() const override { return sent_; }

    Waiter waiter() {
        return [this](std::span<ProbeIo* const>, Clock::time_point until) {
            deliver_arrivals();
            Clock::time_point next = until;
            if (!arrivals_.empty()) next = std::min(next, arrivals_.top().at);
            if (!replies_.empty()) next = std::min(next, replies_.top().at);
            time_.advance_to(std::max(next, time_.now()));
        };
    }

    std::uint64_t errors_sent = 0, errors_limited = 0;

private:
    struct Arrival {
        Clock::time_point at;
        std::uint64_t seq;
        Item item;
        IpAddress source;
        bool operator>(const Arrival& o) const { return std::tie(at, seq) > std::tie(o.at, o.seq); }
    };
    struct Reply_ {
        Clock::time_point at;
        std::uint64_t seq;
        Answer answer;
        bool operator>(const Reply_& o) const { return std::tie(at, seq) > std::tie(o.at, o.seq); }
    };
    struct Bucket {
        double tokens = 0;
        Clock::time_point stamp{};
        bool started = false;
    };

    bool lost() { return loss > 0 && std::uniform_real_distribution<>(0, 1)(rng_) < loss; }

    // Whether the target's limiter lets an ICMP error out at `now` (and charges it).
    bool allow_error(const IpAddress& source, Clock::time_point now) {
        using K = Limiter::Kind;
        const bool peer = limiter.kind == K::LinuxPeer || limiter.kind == K::Linux;
        const bool global = limiter.kind == K::LinuxGlobal || limiter.kind == K::Linux;
        if (global) {
            // icmp_global_allow(): credit left, or a refill at most every 20 ms.
            Bucket& g = global_;
            if (!g.started) {
                g = {limiter.global_start, now, true};
            }
            if (g.tokens <= 0) {
                const auto delta = std::min<Clock::duration>(now - g.stamp, std::chrono::seconds(1));
                if (delta < std::chrono::milliseconds(20)) return limited();
                const double incr = std::floor(limiter.global_rate * seconds(delta));
                if (incr < 1) return limited();
                g.tokens = std::min(g.tokens + incr, limiter.global_burst);
                g.stamp = now;
            }
        }
        if (peer) {
            // inet_peer_xrlim_allow(): tokens in time units, up to 6 x the timeout.
            Bucket& p = peers_[source];
            if (!p.started) p = {limiter.peer_start, now, true};
            p.tokens = std::min(limiter.peer_burst, p.tokens + seconds(now - p.stamp) * limiter.peer_rate);
            p.stamp = now;
            if (p.tokens < 1) return limited();
            p.tokens -= 1;
        }
        if (global) global_.tokens -= std::uniform_int_distribution<>(0, 2)(rng_);  // 0-2 credits each
        if (limiter.kind == K::FreeBsd) {
            // ppsratecheck(): at most icmplim in each one-second window.
            const auto window = std::chrono::duration_cast<std::chrono::seconds>(now - time_.start()).count();
            if (window != bsd_window_) {
                bsd_window_ = window;
                bsd_count_ = 0;
            }
            if (bsd_count_ >= limiter.bsd_limit) return limited();
            ++bsd_count_;
        }
        ++errors_sent;
        return true;
    }
    bool limited() {
        ++errors_limited;
        return false;
    }

    void answer(const Arrival& a, Reply::Kind kind, Unreach unreach, Clock::time_point at) {
        if (lost()) return;
        Reply_ r{at, seq_++, {}};
        r.answer.item = a.item;
        r.answer.ours = a.source;
        r.answer.fields.kind = kind;
        r.answer.fields.unreach = unreach;
        r.answer.fields.ttl = 64;
        if (kind == Reply::Kind::IcmpError) r.answer.fields.icmp_type = 3;
        if (kind == Reply::Kind::Tcp) r.answer.fields.tcp_flags = tcp_flag::RST | tcp_flag::ACK;
        replies_.push(std::move(r));
    }

    void deliver_arrivals() {
        while (!arrivals_.empty() && arrivals_.top().at <= time_.now()) {
            const Arrival a = arrivals_.top();
            arrivals_.pop();
            const auto it = ports.find(a.item.port);
            const PortKind k = it == ports.end() ? PortKind::Closed : it->second;
            const Clock::time_point back = a.at + rtt / 2;
            switch (k) {
                case PortKind::Drop: break;
                case PortKind::Open:
                    if (!tcp) {
                        const auto lat = app_latency.count(a.item.port) ? app_latency[a.item.port] : std::chrono::milliseconds(0);
                        answer(a, Reply::Kind::Udp, Unreach::None, back + lat);
                    }
                    break;
                case PortKind::Reset: answer(a, Reply::Kind::Tcp, Unreach::None, back); break;
                case PortKind::Closed:
                    if (tcp) answer(a, Reply::Kind::Tcp, Unreach::None, back);
                    else if (allow_error(a.source, a.at)) answer(a, Reply::Kind::IcmpError, Unreach::Port, back);
                    break;
                case PortKind::Reject:
                    if (allow_error(a.source, a.at)) answer(a, Reply::Kind::IcmpError, Unreach::AdminProhibited, back);
                    break;
            }
        }
    }

    FakeTime& time_;
    std::mt19937_64 rng_;
    std::uint64_t batch_ = 1, seq_ = 0, sent_ = 0;
    std::uint16_t index_ = 0;
    std::priority_queue<Arrival, std::vector<Arrival>, std::greater<>> arrivals_;
    std::priority_queue<Reply_, std::vector<Reply_>, std::greater<>> replies_;
    Bucket global_;
    std::map<IpAddress, Bucket> peers_;
    std::int64_t bsd_window_ = -1;
    double bsd_count_ = 0;
};

}  // namespace scanfw::testing
