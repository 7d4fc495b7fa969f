// The engine: one loop that carries any techniques' probes to their items, matches
// answers, retransmits, paces, waits out ICMP rate limits and slow applications, and
// hands each item's final verdict to a sink. What it sends through and listens to is a
// ProbeIo (packets, connect(), or a simulated network in the unit tests); state exists
// only for items in flight, so memory follows rate x timeout, not the scan's size.
#pragma once

#include <functional>
#include <optional>
#include <queue>
#include <span>
#include <vector>

#include <absl/container/flat_hash_map.h>

#include "common/clock.hpp"
#include "engine/estimators.hpp"
#include "engine/answer_limits.hpp"
#include "engine/io.hpp"
#include "engine/item.hpp"
#include "engine/timing.hpp"
#include "net/routes.hpp"
#include "net/source_pool.hpp"
#include "system/progress.hpp"

namespace scanfw {

// How an item ended, besides its verdict.
struct Outcome {
    std::uint8_t ttl = 0;
    std::uint32_t rtt_us = 0;          // 0: no answer
    std::optional<MacAddress> mac;     // the answer's sender
    const Reply* reply = nullptr;      // null for silence
};

class ItemSink {
public:
    virtual ~ItemSink() = default;
    virtual void on_item(const Job& job, const Item& item, const Verdict& verdict, const Outcome& outcome) = 0;
};

// Host techniques' verdicts to one sink (discovery), port techniques' to another.
class SplitSink final : public ItemSink {
public:
    SplitSink(ItemSink& hosts, ItemSink& ports) : hosts_(hosts), ports_(ports) {}
    void on_item(const Job& job, const Item& item, const Verdict& v, const Outcome& o) override {
        (job.info().kind == Kind::Host ? hosts_ : ports_).on_item(job, item, v, o);
    }

private:
    ItemSink& hosts_;
    ItemSink& ports_;
};

// What the engine learns that outlives one run (chunks of targets; discovery, then the
// port scan): each host's round trips and the limits on its answers.
struct Knowledge {
    explicit Knowledge(const Timing& t) : rtt(t) {}
    RttEstimator rtt;
    HostLoss loss;
    AnswerLimits limits;
};

// Where probes go out from: the --source-ip pool's addresses of the target's family,
// or the route's source address.
class Sources {
public:
    Sources(Routes& routes, const SourcePool& pool) : routes_(&routes), pool_(pool) {}
    // Always `fixed` (or the pool's), whatever the routes: for the engine's tests.
    Sources(const IpAddress& fixed, const SourcePool& pool) : pool_(pool), fixed_(fixed) {}
    // How many there are toward `host`; 0: no route there.
    std::size_t count(const IpAddress& host);
    IpAddress get(const IpAddress& host, std::size_t index);
    std::uint16_t index_of(const IpAddress& ours) const;
    bool pooled() const { return !pool_.empty(); }

private:
    Routes* routes_ = nullptr;
    const SourcePool& pool_;
    std::optional<IpAddress> fixed_;
};

// How the scheduler waits for answers: poll() on the I/Os in a real scan; the unit
// tests advance simulated time instead.
using Waiter = std::function<void(std::span<ProbeIo* const> ios, Clock::time_point until)>;
Waiter poll_waiter(const TimeSource& time);

class Scheduler {
public:
    // `io_of_job[i]`: what carries jobs[i]'s probes.
    Scheduler(std::span<const Job> jobs, std::vector<ProbeIo*> io_of_job, ItemSource& items, Sources& sources,
              Knowledge& knowledge, const Timing& timing, ItemSink& sink, const TimeSource& time, Waiter wait,
              Progress* progress = nullptr);

    // Until every item from `items` has a verdict, or the scan is interrupted
    // (stop_requested()): then sending stops, answers to what is in flight are taken
    // for a moment, and the rest get no verdict.
    void run();

    // Forgets an item in flight without a verdict (the sink may call it: a host found
    // up needs no more discovery probes).
    void cancel(const Item& item);

    std::uint64_t answers() const { return answers_; }
    std::uint64_t probes() const;
    std::size_t in_flight() const { return flights_.size(); }

private:
    struct Flight {
        Clock::time_point first_sent{}, sent{};
        Clock::time_point final_at{};  // set: waiting out the application wait, then silence
        Clock::time_point last_needed{};  // the last try the host's loss called for (applications)
        SendMark mark;
        std::uint16_t source = 0;
        std::uint16_t in_burst = 0;  // its try's place in its burst of probes to its host (AnswerLimits::probed)
        std::uint8_t tries = 0;    // sent so far
        std::uint8_t covered = 0;  // silent tries sent while a limited answer could come back
        std::uint8_t kinds = 0;    // of limited answers `covered` counts for
        bool silent_before = false;  // a try went unanswered
        bool left = false;           // `sent` is when the try left, not when it was queued
        bool in_doubt = false;       // in its host's doubt queue, or in a round
        bool in_round = false;       // its last try was part of a round
        bool witness = false;        // a round's witness: not reported

    };
    struct Due {
        Clock::time_point when;
        Clock::time_point sent;  // of the try it looks at
        Item item;
        std::uint8_t tries;
        bool app_wait = false;  // the end of the application wait, not a try's deadline
        bool operator>(const Due& o) const { return when > o.when; }
    };
    using Flights = absl::flat_hash_map<Item, Flight, ItemHash>;

    bool start(const Item& item, Clock::time_point now);
    bool send_try(const Item& item, Flight& f, std::uint16_t source, Clock::time_point now);
    std::size_t take_answers(Clock::time_point now);  // how many came
    void handle(const Answer& a, Clock::time_point now);
    void expire(Clock::time_point now);
    void silence(Flights::iterator it, Clock::time_point now);
    void next_step(Flights::iterator it, std::uint8_t kinds, bool round_try, Clock::time_point now);
    void release_deferred(Clock::time_point now);
    int max_tries(const IpAddress& host) const;
    std::uint8_t kinds_for(const Item& item, Flight& f) const;
    std::optional<Clock::time_point> departure(const Item& item, Flight& f) const;
    void look_at(const Item& item, const Flight& f, Clock::time_point when, bool app_wait = false);
    void finish(Flights::iterator it, const Verdict& v, const Outcome& o);
    std::size_t send_rounds(Clock::time_point now, std::size_t budget);
    std::size_t send_witnesses(Clock::time_point now);
    Clock::time_point next_witness(Clock::time_point now) const;
    std::uint8_t limits_for(const Job& job, const IpAddress& host) const;
    bool covered(std::uint8_t kinds, const IpAddress& host, const Flight& f) const;
    void notice_drops(Clock::time_point now);
    int covered_needed(int tries, const IpAddress& host) const;
    bool needs_more(const Item& item, const Flight& f, std::uint8_t kinds) const;
    Clock::time_point deadline(const Item& item, Clock::time_point left, Clock::time_point now) const;
    void flush_all();
    void drain_after_stop();
    void report_progress(Clock::time_point now);
    std::uint16_t first_source(const Item& item, std::size_t n) const;

    std::span<const Job> jobs_;
    std::vector<ProbeIo*> io_of_job_;
    std::vector<ProbeIo*> ios_;  // each once
    ItemSource& items_;
    Sources& sources_;
    Knowledge& know_;
    const Timing& timing_;
    ItemSink& sink_;
    const TimeSource& time_;
    Waiter wait_;
    Progress* progress_;
    RateLimiter limiter_;
    LossControl loss_;
    Flights flights_;
    std::priority_queue<Due, std::vector<Due>, std::greater<>> due_;
    std::vector<Item> resend_;
    // A round's witnesses wait until the round has left and the host's path can no
    // longer reorder them ahead of it.
    struct Witness {
        Item item;
        std::uint16_t source;
        Item after;           // the round's last probe
        SendMark after_mark;  // and where it went
        Clock::time_point committed;
    };
    std::vector<Witness> witnesses_;
    // Ports whose silence waits for the loss to be measured (next_step).
    std::vector<Item> deferred_;
    bool releasing_ = false;  // release_deferred() at work: silence does not wait again
    bool starved_ = false;    // the last loop found no item to start
    std::optional<Item> pending_;  // taken from `items_`, not yet sent (no descriptor free)
    std::vector<Answer> answers_buf_;
    std::vector<Verdict> silence_;  // per job
    std::uint64_t answers_ = 0;
    // The capture's drops (packets the kernel's ring could not hold): the count last
    // read, and when.
    std::uint64_t drops_ = 0;
    Clock::time_point drops_read_{};
};

}  // namespace scanfw
