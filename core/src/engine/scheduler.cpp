#include "engine/scheduler.hpp"

#include <poll.h>

#include <algorithm>
#include <limits>
#include <cerrno>

#include <spdlog/spdlog.h>

#include "system/interrupt.hpp"
#include "system/progress.hpp"

namespace scanfw {

namespace {
// After an interrupt, how long answers to probes in flight are still waited for.
constexpr auto kStopGrace = std::chrono::milliseconds(500);
// The longest the loop sleeps when nothing is due (the rate is re-read after).
constexpr auto kIdleWait = std::chrono::milliseconds(50);
// Linux's first retransmission of an unanswered SYN (TCP_TIMEOUT_INIT).
constexpr auto kKernelSynRetry = std::chrono::seconds(1);
// How soon to look again at a try whose carrier has not yet sent it, or not yet read
// what came by its deadline.
constexpr auto kBehind = std::chrono::milliseconds(1);
// How often a witness looks whether its round has left: the sender takes tens of
// microseconds, and a witness sent more than the window after its round (500 us)
// covers nothing. Waiting a millisecond each time, every witness of twice-linux's rounds
// went too late, and a dropped port among rate-limited ones stayed in doubt for good.
constexpr auto kDepartureCheck = std::chrono::microseconds(50);
// Ports whose silence may wait for the loss to be measured (next_step): beyond them, a
// scan that draws next to no answer (a filtered range) concludes on the template's
// tries, as it must, instead of keeping every port in memory to its end.
constexpr std::size_t kMaxDeferred = std::size_t{1} << 16;
// Probes per loop turn: one send batch.
constexpr std::size_t kBatch = 128;
// A port asked this often in rounds without its silence ever being covered is given up
// as silent (a host whose limiter never lets an error through again).
constexpr int kMaxTries = 200;

// The kind of rate-limited answer a reply is, if any. Not an IP protocol scan's ICMP
// item answered by an ICMP error (Reply::Kind::Ip, Matcher::match_error): that error
// is the quoted probe's answer, and counts there. Counted for the ICMP item too, each
// error was two limited answers, the ICMP item (whose own probe draws an echo reply)
// became a witness, and while it was out as one, any error from the host, a round
// port's included, passed for its answer (integration.forged: rounds with useless
// witnesses, and quiet spells voided by errors "drawn" up to 10 s back).
std::optional<Limited> limited_kind(const Reply& r) {
    if (r.kind == Reply::Kind::IcmpError) return Limited::IcmpError;
    if (r.kind == Reply::Kind::Tcp && (r.tcp_flags & tcp_flag::RST)) return Limited::Rst;
    if (r.kind == Reply::Kind::Connect && r.connect_errno == ECONNREFUSED) return Limited::Rst;
    if (r.kind == Reply::Kind::Connect && r.connect_errno != 0) return Limited::IcmpError;
    return std::nullopt;
}
}  // namespace

// ---- Sources ---------------------------------------------------------------------

std::size_t Sources::count(const IpAddress& host) {
    if (const auto& pool = pool_.of(host.family); !pool.empty()) return pool.size();
    if (fixed_) return 1;
    return routes_->lookup(host) ? 1 : 0;
}

IpAddress Sources::get(const IpAddress& host, std::size_t index) {
    if (const auto& pool = pool_.of(host.family); !pool.empty()) return pool[index % pool.size()];
    if (fixed_) return *fixed_;
    return routes_->lookup(host)->source;
}

std::uint16_t Sources::index_of(const IpAddress& ours) const {
    const int i = pool_.index_of(ours);
    return i < 0 ? 0 : static_cast<std::uint16_t>(i);
}

Waiter poll_waiter(const TimeSource& time) {
    return [&time](std::span<ProbeIo* const> ios, Clock::time_point until) {
        pollfd fds[4];
        nfds_t n = 0;
        for (ProbeIo* io : ios)
            if (n < 4) fds[n++] = {io->wait_fd(), POLLIN, 0};
        // To the microsecond: a witness waits tens of microseconds for its round to leave.
        const auto left = std::clamp<Clock::duration>(until - time.now(), Clock::duration{}, std::chrono::seconds(1));
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
        const timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
        ppoll(fds, n, &ts, nullptr);
    };
}

// ---- Scheduler ---------------------------------------------------------------------

Scheduler::Scheduler(std::span<const Job> jobs, std::vector<ProbeIo*> io_of_job, ItemSource& items, Sources& sources,
                     Knowledge& knowledge, const Timing& timing, ItemSink& sink, const TimeSource& time, Waiter wait,
                     Progress* progress)
    : jobs_(jobs), io_of_job_(std::move(io_of_job)), items_(items), sources_(sources), know_(knowledge),
      timing_(timing), sink_(sink), time_(time), wait_(std::move(wait)), progress_(progress),
      limiter_(timing.rate, time.now()), loss_(timing, time.now()) {
    for (ProbeIo* io : io_of_job_)
        if (io && std::find(ios_.begin(), ios_.end(), io) == ios_.end()) ios_.push_back(io);
    for (const Job& job : jobs_) silence_.push_back(job.technique->classify(Reply{}));
}

std::uint64_t Scheduler::probes() const {
    std::uint64_t n = 0;
    for (const ProbeIo* io : ios_) n += io->sent();
    return n;
}

std::uint16_t Scheduler::first_source(const Item& item, std::size_t n) const {
    return static_cast<std::uint16_t>(n <= 1 ? 0 : ItemHash{}(item) % n);
}

void Scheduler::run() {
    for (ProbeIo* io : ios_) io->begin(jobs_);
    std::vector<std::pair<Item, std::uint16_t>> resends;
    while (true) {
        if (stop_requested()) {
            drain_after_stop();
            break;
        }
        Clock::time_point now = time_.now();
        // Answers that came while the loop was busy first, so that none is taken for
        // silence by expire().
        take_answers(now);
        notice_drops(now);
        const double rate = loss_.update(now, [&] {
            std::uint64_t d = 0;
            for (const ProbeIo* io : ios_) d += io->dropped();
            return d;
        });
        limiter_.set_rate(rate);
        loss_.settle(now);
        expire(now);
        release_deferred(now);

        std::size_t budget = limiter_.take(kBatch, now);
        // Retransmissions first, then rounds of ports in doubt, then new items.
        std::size_t r = 0;
        for (; r < resend_.size() && budget > 0; ++r) {
            const auto it = flights_.find(resend_[r]);
            if (it == flights_.end() || it->second.witness) continue;  // done meanwhile (see release_deferred)
            const std::size_t n = std::max<std::size_t>(1, sources_.count(it->first.host));
            if (!send_try(it->first, it->second, static_cast<std::uint16_t>((it->second.source + 1) % n), now)) break;
            --budget;
        }
        resend_.erase(resend_.begin(), resend_.begin() + static_cast<std::ptrdiff_t>(r));
        budget -= std::min(budget, send_rounds(now, budget));
        // Out of items for now (the port scan waits for discovery to find hosts up):
        // then only answers and timers can give more, and the loop waits for them.
        bool starved = false;
        while (budget > 0) {
            Item item;
            if (pending_) item = *pending_;
            else if (!items_.next(item)) {
                starved = true;
                break;
            }
            pending_.reset();
            if (!start(item, now)) {
                pending_ = item;
                break;
            }
            --budget;
        }
        flush_all();
        starved_ = starved;
        if (items_.finished() && !pending_ && flights_.empty() && resend_.empty() && witnesses_.empty()) break;

        // Answers already there (a connect() that finished at once) need no waiting;
        // they may also have made items (a host found up).
        if (take_answers(time_.now()) > 0) starved = false;
        if (items_.finished() && !pending_ && flights_.empty() && resend_.empty() && witnesses_.empty()) break;
        now = time_.now();
        Clock::time_point wake = due_.empty() ? now + kIdleWait : due_.top().when;
        // A round that is due waits for the rate's next token like any other send.
        if (const auto round = know_.limits.next_round_time(); round != Clock::time_point::max())
            wake = std::min(wake, std::max(round, limiter_.next_token(now)));
        if (!witnesses_.empty()) wake = std::min(wake, std::max(next_witness(now), now + Clock::duration(1)));
        if ((!items_.finished() && !pending_ && !starved) || !resend_.empty())
            wake = std::min(wake, limiter_.next_token(now));
        if (pending_) wake = std::min(wake, now + std::chrono::milliseconds(1));
        wake = std::min(wake, now + kIdleWait);
        if (wake > now) wait_(ios_, wake);
        report_progress(time_.now());
    }
    for (ProbeIo* io : ios_) io->end();
    if (progress_) progress_->finish();
}

void Scheduler::flush_all() {
    for (ProbeIo* io : ios_) io->flush();
}

bool Scheduler::start(const Item& item, Clock::time_point now) {
    // The same target listed twice: once is enough. A witness out for this very item (a
    // port that drew a limited answer, as ipproto's ICMP does for any probe) is no try
    // of its own: the item waits until it is back (taken as done, it had no result).
    if (const auto f = flights_.find(item); f != flights_.end()) return !f->second.witness;
    const std::size_t n = sources_.count(item.host);
    auto [it, added] = flights_.try_emplace(item);
    if (n == 0) {
        // The route went away since the targets were checked: a probe sent and lost.
        spdlog::debug("no route to {}: its probes are lost", item.host.str());
        it->second.tries = 1;
        it->second.first_sent = it->second.sent = now;
        due_.push({know_.rtt.check_at(item.host, now, now), now, item, 1});
        return true;
    }
    if (!send_try(item, it->second, first_source(item, n), now)) {
        flights_.erase(it);
        return false;
    }
    return true;
}

bool Scheduler::send_try(const Item& item, Flight& f, std::uint16_t source, Clock::time_point now) {
    ProbeIo* io = io_of_job_[item.job];
    SendMark mark;
    if (sources_.count(item.host) > 0) {
        if (!io->send(jobs_[item.job], item, sources_.get(item.host, source), mark)) return false;
    }
    if (f.tries == 0) f.first_sent = now;
    // A try sent while its host needed no coverage is not in the bursts: never covered
    // by a quiet spell (the host may show a limit later).
    f.in_burst = limits_for(jobs_[item.job], item.host) ? know_.limits.probed(item.host, now)
                                                        : std::numeric_limits<std::uint16_t>::max();
    ++f.tries;
    if (jobs_[item.job].app_answers && f.tries <= max_tries(item.host)) f.last_needed = now;
    f.sent = now;
    f.left = false;
    f.mark = mark;
    f.source = source;
    look_at(item, f, know_.rtt.check_at(item.host, now, now));
    return true;
}

// When a try that left at `left` is silent, looked at `now`. A connect() try whose wait
// reaches the kernel's own retransmission of its SYN (at 1 s) waits for that
// retransmission's answer too, a round trip after it (seed 3875: on a path of 0.49 s
// whose first SYNs' RSTs were lost, each retransmission's came 17 ms after its try's
// wait of 1.48 s, and a closed port read filtered; seed 321888: a try to a host with no
// round trip yet waited the initial 1 s, and the socket closed as the kernel resent).
Clock::time_point Scheduler::deadline(const Item& item, Clock::time_point left, Clock::time_point now) const {
    const Clock::duration wait = know_.rtt.timeout(item.host);
    if (jobs_[item.job].connect && std::max(wait, now - left) >= kKernelSynRetry) return left + kKernelSynRetry + wait;
    return left + wait;
}

// When a try really left: a send queue may have held it after the engine queued it.
std::optional<Clock::time_point> Scheduler::departure(const Item& item, Flight& f) const {
    if (f.left) return f.sent;
    const auto left = io_of_job_[item.job]->sent_at(f.mark, f.sent);
    if (!left) return std::nullopt;
    if (f.tries == 1) f.first_sent = *left;
    f.sent = *left;
    f.left = true;
    return f.sent;
}

// A look at a try when `when` comes, or as soon after it as its carrier has read what
// had come by then.
void Scheduler::look_at(const Item& item, const Flight& f, Clock::time_point when, bool app_wait) {
    due_.push({when + io_of_job_[item.job]->horizon_lag(), f.sent, item, f.tries, app_wait});
}

std::size_t Scheduler::take_answers(Clock::time_point now) {
    answers_buf_.clear();
    for (ProbeIo* io : ios_) io->take_ready(answers_buf_);
    for (const Answer& a : answers_buf_) handle(a, now);
    answers_ += answers_buf_.size();
    return answers_buf_.size();
}

void Scheduler::handle(const Answer& a, Clock::time_point now) {
    auto it = flights_.find(a.item);
    const Reply reply = a.view();
    const auto kind = limited_kind(reply);
    const Clock::time_point came = a.at == Clock::time_point{} ? now : a.at;
    if (it == flights_.end()) {
        // Late, duplicate, or for an item this run does not have. A limited answer still
        // spent some of the host's allowance, for a probe sent up to the longest wait ago.
        if (kind) know_.limits.limited(*kind, a.item, sources_.index_of(a.ours), came - timing_.max_timeout, came, false);
        return;
    }
    Flight& f = it->second;
    const Job& job = jobs_[a.item.job];
    SPDLOG_TRACE("{} {} {}: an answer (kind {}, errno {}) that came at {:.6f}, try {} sent {:.6f}", job.name(),
                 a.item.host.str(), a.item.port, static_cast<int>(reply.kind), reply.connect_errno,
                 seconds(came.time_since_epoch()), f.tries, seconds(f.sent.time_since_epoch()));
    const std::optional<Clock::time_point> departed = departure(a.item, f);
    const Clock::time_point left = departed.value_or(f.sent);
    // A connect()'s SYN is sent again by the kernel a second after it, and later: its
    // answer may answer any of them.
    const bool resent_by_kernel = job.connect && came - left >= kKernelSynRetry;
    // The kernel's own answers to a first try tell when it left: round trips, and how
    // much the path reorders (an application's answer may come late by its own choice).
    // Not an answer that came before its batch's send times were known (a fast path,
    // the batch still being sent): its departure would be when it was queued, up to a
    // few batches early (seen: seven answers in a row with one such departure, read as
    // 1.3 ms of reordering on a veth).
    const bool kernel_timed = f.tries == 1 && !resent_by_kernel && !(job.app_answers && reply.kind == Reply::Kind::Udp);
    // A departure is read off its batch's call (start to end, in proportion): a packet
    // cannot have left after its answer came.
    if (kernel_timed && departed) know_.limits.answered(a.item.host, std::min(left, came), came);
    if (kind) {
        // Which try drew it is unsure once there were several: any since the first. It
        // is late (held back: a limit) only if it came after the last try left: one that
        // reached this host before (the kernel's time) answered an earlier try, slowly,
        // or while the engine was too busy to take it before that try's wait ran out,
        // and says nothing of a limit.
        const bool late = f.silent_before && came >= left;
        know_.limits.limited(*kind, a.item, sources_.index_of(a.ours), f.tries > 1 ? f.first_sent : left,
                             resent_by_kernel ? came : left, late);
        if (f.covered > 0) know_.limits.covered_miss();
    }
    if (f.witness) {
        spdlog::debug("{} {} {}: witness answered ({})", job.name(), a.item.host.str(), a.item.port,
                      kind ? (*kind == Limited::Rst ? "a RST" : "an ICMP error") : "not a limited answer");
        know_.limits.round_result(a.item.host, kind, true, now);
        flights_.erase(it);
        return;
    }
    const Verdict v = job.technique->classify(reply);
    if (v.state == State::Undecided) return;
    // Loss is measured from the answers no limiter holds back: not ICMP errors, nor the
    // RSTs of a host that holds them back (a late one is the limit, not loss), nor ICMP
    // query replies (echo, timestamp): Linux sends them through its global ICMP bucket
    // (icmp_msgs_per_sec, 1000/s), so a sweep of many live hosts loses most of them to
    // the target's limit, not to the network; counted, they raised the tries of every
    // silent host and halved the rate (D1: 1.02 M probes in 22 s instead of 0.74 M in 9 s).
    const bool held_back = kind && (*kind == Limited::IcmpError || know_.limits.shows_limit(*kind, a.item.host));
    // A connect() the kernel had to send again was a try lost too.
    if (!held_back && reply.kind != Reply::Kind::Icmp) {
        const int tries = f.tries + (resent_by_kernel ? 1 : 0);
        loss_.answered(tries, now, know_.rtt.timeout(a.item.host));
        know_.loss.answered(a.item.host, tries > 1);
    }
    // Round trips from the kernel's time of the answer and the try's departure, to
    // the microsecond (when they are known; else from when the engine saw each).
    const auto rtt = std::max<Clock::duration>(std::chrono::microseconds(1), came - left);
    // Karn: first tries only. An application's answer says nothing of the kernel's
    // round trip.
    if (kernel_timed) know_.rtt.sample(a.item.host, rtt);
    if (f.in_round) know_.limits.round_result(a.item.host, kind, false, now);
    Outcome o;
    // An ARP reply has no TTL, and a neighbour advertisement's hop limit is always 255
    // (RFC 4861): nmap reports reason_ttl 0 for both, and so does scanfw.
    o.ttl = reply.kind == Reply::Kind::Link ? 0 : reply.ttl;
    o.rtt_us = static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(rtt).count());
    o.mac = a.mac;
    o.reply = &reply;
    finish(it, v, o);
}

void Scheduler::expire(Clock::time_point now) {
    while (!due_.empty() && due_.top().when <= now) {
        const Due d = due_.top();
        due_.pop();
        // A look at a try to a host still without a round trip needs no flight (a
        // lookup in a table too large for the cache) until the try's deadline.
        if (!d.app_wait && !know_.rtt.measured(d.item.host)) {
            if (const auto check = know_.rtt.check_at(d.item.host, d.sent, now); check > now) {
                due_.push({check, d.sent, d.item, d.tries});
                continue;
            }
        }
        auto it = flights_.find(d.item);
        if (it == flights_.end() || it->second.tries != d.tries) continue;  // answered or resent
        Flight& f = it->second;
        ProbeIo& io = *io_of_job_[d.item.job];
        // Silence counts from when the try left, and only up to what the carrier has
        // read: a paused capture or sending thread delays the verdict, not changes it.
        const Clock::time_point soon = now + std::max<Clock::duration>(io.horizon_lag(), kBehind);
        if (f.final_at != Clock::time_point{}) {
            if (now < f.final_at) look_at(d.item, f, f.final_at, true);
            else if (io.horizon() < f.final_at) due_.push({soon, d.sent, d.item, d.tries, true});
            else silence(it, now);
            continue;
        }
        const auto left = departure(d.item, f);
        if (!left) {
            due_.push({soon, d.sent, d.item, d.tries});
            continue;
        }
        if (const auto check = know_.rtt.check_at(d.item.host, *left, now); check > now) {
            look_at(d.item, f, check);
            continue;
        }
        const Clock::time_point until = deadline(d.item, *left, now);
        if (now < until) {
            look_at(d.item, f, until);
            continue;
        }
        if (io.horizon() < until) {
            due_.push({soon, d.sent, d.item, d.tries});
            continue;
        }
        // This try went unanswered.
        io_of_job_[d.item.job]->forget(d.item);
        const IpAddress host = d.item.host;
        // A connect() open past the kernel's SYN retransmission: the answer to that SYN
        // (a RST or an ICMP error) may come after the
        // socket is gone, unseen, and still spend the host's allowance for other jobs.
        if (jobs_[d.item.job].connect && now - *left >= kKernelSynRetry)
            know_.limits.unseen(host, bit(Limited::IcmpError) | bit(Limited::Rst), *left + kKernelSynRetry, now);
        if (f.witness) {
            spdlog::debug("{} {} {}: witness silent", jobs_[d.item.job].name(), host.str(), d.item.port);
            know_.limits.round_result(host, std::nullopt, true, now);
            flights_.erase(it);
            continue;
        }
        f.silent_before = true;
        const std::uint8_t kinds = kinds_for(d.item, f);
        if (kinds && covered(kinds, host, f)) {
            ++f.covered;
            know_.limits.counted_covered(host);
        }
        const bool round_try = f.in_round;
        // Every try at trace level (-vvv in a build with SPDLOG_ACTIVE_LEVEL=0); a round's
        // at debug (-vv) in every build: they are few, and they show why a port in doubt
        // stays there.
        // (Asked first: the arguments cost a few estimates to compute.)
        if (const auto level = round_try ? spdlog::level::debug : spdlog::level::trace; spdlog::should_log(level))
            spdlog::log(level,
                        "{} {} {}: try {} sent {:.6f} silent; tries {} (scan loss {}); covered {} (needed {}; kinds "
                        "{}, {} in its burst{}){}",
                        jobs_[d.item.job].name(), host.str(), d.item.port, f.tries, seconds(f.sent.time_since_epoch()),
                        max_tries(host), loss_.loss().value_or(-1), f.covered,
                        kinds ? covered_needed(max_tries(host), host) : 0, kinds, f.in_burst,
                        know_.limits.witnesses_usable(host) ? "" : "; witnesses unusable",
                        f.in_round ? ", in a round" : "");
        f.in_round = false;
        next_step(it, kinds, round_try, now);
        // After the port is back in its queue: the round's end places it.
        if (round_try) know_.limits.round_result(host, std::nullopt, false, now);
    }
}

// After a silent try: another try, a round, or silence; or, while the loss is not
// measured yet (too few answers), a wait for it: how many tries silence needs depends
// on it, and a port concluded on the template's tries before the loss shows would be
// missed far more often than the 1 in 100,000 the tries are chosen for.
void Scheduler::next_step(Flights::iterator it, std::uint8_t kinds, bool round_try, Clock::time_point now) {
    Flight& f = it->second;
    const Item item = it->first;
    const auto conclude = [&] {
        if (!loss_.loss() && !releasing_ && deferred_.size() < kMaxDeferred) deferred_.push_back(item);
        else silence(it, now);
    };
    const int tries = max_tries(item.host);
    if (!kinds) {
        if (f.tries < tries) resend_.push_back(item);
        else conclude();
    } else if (f.covered >= covered_needed(tries, item.host) || f.tries >= kMaxTries) {
        if (f.covered < covered_needed(tries, item.host))
            spdlog::warn("{} port {}: no limited answer could be drawn from it after {} tries; taken as silent",
                         item.host.str(), item.port, f.tries);
        conclude();
    } else if (!f.in_doubt && f.tries < tries) {
        resend_.push_back(item);
    } else {
        f.in_doubt = true;
        know_.limits.enqueue(item, kinds, f.covered > 0, round_try, f.first_sent, now);
    }
}

// The ports that waited for the loss to be measured: on, now that it is, or now that
// nothing else is left to measure it by (nothing in flight but them, and no item to
// start: the scan's last ports, or discovery's that the port scan waits for).
void Scheduler::release_deferred(Clock::time_point now) {
    if (deferred_.empty()) return;
    const bool idle = (items_.finished() || starved_) && !pending_ && due_.empty() && resend_.empty() &&
                      witnesses_.empty() && know_.limits.next_round_time() == Clock::time_point::max();
    if (!loss_.loss() && !idle) return;
    std::vector<Item> items;
    items.swap(deferred_);
    releasing_ = true;
    for (const Item& item : items) {
        // Answered meanwhile: gone, or out again as a round's witness (seed 40609: a
        // port whose late answer made it a witness was concluded silent a second time).
        const auto it = flights_.find(item);
        if (it == flights_.end() || it->second.witness) continue;
        next_step(it, kinds_for(item, it->second), false, now);
    }
    releasing_ = false;
}

// Whether a silent port needs more tries than it had, by what is known now (`kinds`:
// kinds_for() the port).
bool Scheduler::needs_more(const Item& item, const Flight& f, std::uint8_t kinds) const {
    const int tries = max_tries(item.host);
    if (!kinds) return f.tries < tries;
    return f.covered < covered_needed(tries, item.host) && f.tries < kMaxTries;
}

// Tries for a port of `host` to be missed below 1e-5: the scan's loss, or the host's
// if it has shown more.
int Scheduler::max_tries(const IpAddress& host) const { return loss_.max_tries(know_.loss.loss(host)); }

// The same for a port in flight. A kind added since its last try (the host has shown a
// RST limit meanwhile) makes its covered tries count for nothing: they were covered
// for the other kinds only.
std::uint8_t Scheduler::kinds_for(const Item& item, Flight& f) const {
    const std::uint8_t kinds = limits_for(jobs_[item.job], item.host);
    if (kinds & ~f.kinds) f.covered = 0;
    f.kinds = kinds;
    return kinds;
}

// The limited answers whose silence must be covered for this job's probes to the host:
// none when the user said so; RSTs only from a host that has held one back.
std::uint8_t Scheduler::limits_for(const Job& job, const IpAddress& host) const {
    if (timing_.defeat_icmp_ratelimit) return 0;
    std::uint8_t kinds = job.limited;
    if ((kinds & bit(Limited::Rst)) && !know_.limits.shows_limit(Limited::Rst, host))
        kinds &= static_cast<std::uint8_t>(~bit(Limited::Rst));
    return kinds;
}

// The capture's drops so far (read every 100 us at most: a getsockopt).
void Scheduler::notice_drops(Clock::time_point now) {
    if (now - drops_read_ < std::chrono::microseconds(100)) return;
    drops_read_ = now;
    std::uint64_t d = 0;
    for (const ProbeIo* io : ios_) d += io->dropped();
    drops_ = d;
}

// Covered tries a port needs: as AnswerLimits::needed() says, and more where the
// capture drops packets. A dropped answer is a lost one: it may have been the one that
// spent the allowance, the witness's, or the try's own (seed 33242: a capture ring of
// 17 dropped rounds' first answers, and the next port's silence read as covered). The
// share of packets dropped, of those dropped and answers taken, stands for the chance
// (a flood of forgeries drops mostly forgeries: the share overstates it, and the
// port is asked more often than needed, not concluded wrongly).
int Scheduler::covered_needed(int tries, const IpAddress& host) const {
    const int n = know_.limits.needed(tries, loss_, host);
    if (drops_ == 0) return n;
    const double share = static_cast<double>(drops_) / static_cast<double>(drops_ + answers_);
    return std::max(n, loss_.tries_for(share));
}

bool Scheduler::covered(std::uint8_t kinds, const IpAddress& host, const Flight& f) const {
    const bool lossless = loss_.lossless();
    for (std::size_t k = 0; k < kLimitedKinds; ++k) {
        const auto kind = static_cast<Limited>(k);
        if ((kinds & bit(kind)) &&
            !know_.limits.covered(kind, host, f.source, f.sent, f.first_sent, lossless, f.in_burst))
            return false;
    }
    return true;
}

std::size_t Scheduler::send_rounds(Clock::time_point now, std::size_t budget) {
    std::size_t sent = send_witnesses(now);
    AnswerLimits::Round round;
    while (budget > sent && know_.limits.next_round(now, round)) {
        const std::size_t n = std::max<std::size_t>(1, sources_.count(round.host));
        const auto source = static_cast<std::uint16_t>((IpAddressHash{}(round.host) + round.number) % n);
        // A round leaves in one batch of its own, in order; its witnesses after it.
        flush_all();
        std::optional<std::pair<Item, SendMark>> last;
        for (const Item& item : round.items) {
            auto it = flights_.find(item);
            if (it == flights_.end()) {  // concluded meanwhile (a late answer)
                know_.limits.round_result(round.host, std::nullopt, false, now);
                continue;
            }
            it->second.in_round = true;
            if (!send_try(item, it->second, source, now)) {
                it->second.in_round = false;
                know_.limits.enqueue(item, limits_for(jobs_[item.job], item.host), it->second.covered > 0, true,
                                     it->second.first_sent, now);
                know_.limits.round_result(round.host, std::nullopt, false, now);
                continue;
            }
            last.emplace(item, it->second.mark);
            ++sent;
        }
        flush_all();
        spdlog::debug("round {} of {}: {} port(s) ({}), {} witness(es) ({}), witness gap {:.3f} ms", round.number,
                      round.host.str(), round.items.size(), round.items.empty() ? 0 : round.items.front().port,
                      round.witnesses.size(), round.witnesses.empty() ? 0 : round.witnesses.front().port,
                      seconds(know_.limits.witness_gap(round.host)) * 1e3);
        for (const Item& w : round.witnesses) {
            if (last) witnesses_.push_back({w, source, last->first, last->second, now});
            else know_.limits.round_result(round.host, std::nullopt, true, now);  // nothing to witness
        }
    }
    if (sent > budget) limiter_.spend(sent - budget, now);
    return sent;
}

// Witnesses whose round has left, and left long enough ago that the path cannot have
// put them ahead of it.
std::size_t Scheduler::send_witnesses(Clock::time_point now) {
    std::size_t sent = 0;
    std::erase_if(witnesses_, [&](const Witness& w) {
        const auto left = io_of_job_[w.after.job]->sent_at(w.after_mark, w.committed);
        if (!left || now < *left + know_.limits.witness_gap(w.item.host)) return false;
        flush_all();
        auto [it, added] = flights_.try_emplace(w.item);
        if (!added) {
            know_.limits.round_result(w.item.host, std::nullopt, true, now);  // still in flight as itself
            return true;
        }
        it->second.witness = true;
        if (send_try(w.item, it->second, w.source, now)) {
            ++sent;
        } else {
            flights_.erase(it);
            know_.limits.round_result(w.item.host, std::nullopt, true, now);
        }
        flush_all();
        return true;
    });
    return sent;
}

// When the next witness may go (time_point::max() when none waits).
Clock::time_point Scheduler::next_witness(Clock::time_point now) const {
    Clock::time_point t = Clock::time_point::max();
    for (const Witness& w : witnesses_) {
        const auto left = io_of_job_[w.after.job]->sent_at(w.after_mark, w.committed);
        t = std::min(t, left ? *left + know_.limits.witness_gap(w.item.host) : now + kDepartureCheck);
    }
    return std::max(t, now);
}

void Scheduler::silence(Flights::iterator it, Clock::time_point now) {
    Flight& f = it->second;
    const Job& job = jobs_[it->first.job];
    // An application may still answer: silence is believed after its wait, however
    // fast the kernel's round trips are, counted from the last try the host's loss
    // called for: the first may have been lost, and a service that answers within the
    // wait answers one of those (counted from the first, a lost first try and a
    // service slower than the gap to the second read an open port open|filtered).
    if (job.app_answers && f.final_at == Clock::time_point{}) {
        const Clock::time_point until = std::max(f.first_sent, f.last_needed) + timing_.app_wait;
        if (now < until || io_of_job_[it->first.job]->horizon() < until) {
            f.final_at = until;
            look_at(it->first, f, until, true);
            return;
        }
    }
    // The host may have shown its loss during the wait (seed 865343: a late answer of
    // another port 0.2 s into the 1.95 s wait; the port's 6 tries had been enough for
    // a loss not yet seen, 12 were needed): then more tries, not silence.
    if (f.final_at != Clock::time_point{} && !f.witness) {
        if (const std::uint8_t kinds = kinds_for(it->first, f); needs_more(it->first, f, kinds)) {
            f.final_at = {};
            next_step(it, kinds, false, now);
            return;
        }
    }
    finish(it, silence_[it->first.job], Outcome{});
}

void Scheduler::finish(Flights::iterator it, const Verdict& v, const Outcome& o) {
    const Item item = it->first;
    flights_.erase(it);
    io_of_job_[item.job]->forget(item);
    sink_.on_item(jobs_[item.job], item, v, o);
}

void Scheduler::cancel(const Item& item) {
    const auto it = flights_.find(item);
    // A witness out for this item is a round's probe, no longer the item's own try: its
    // round ends with its answer or its silence. (Cancelled, the round never ended, and
    // its host's ports in doubt waited for it forever: a host found up by one discovery
    // probe while another was out as a witness; 16 of 29 failures in the 1M-scenario run.)
    if (it == flights_.end() || it->second.witness) return;
    if (it->second.in_round) know_.limits.round_result(item.host, std::nullopt, false, time_.now());
    io_of_job_[item.job]->forget(item);
    flights_.erase(it);
}

void Scheduler::drain_after_stop() {
    flush_all();
    const auto until = time_.now() + std::min<Clock::duration>(kStopGrace, timing_.max_timeout);
    while (!flights_.empty() && time_.now() < until && !hurry_requested()) {
        take_answers(time_.now());
        wait_(ios_, std::min(until, time_.now() + std::chrono::milliseconds(20)));
    }
    take_answers(time_.now());
    spdlog::info("interrupted with {} probe(s) in flight", flights_.size());
}

void Scheduler::report_progress(Clock::time_point now) {
    if (!progress_ || !progress_->due()) return;
    Progress::Waits w;
    w.in_flight = flights_.size();
    if (items_.finished() && flights_.size() < 4096) {
        // Per host, the ports in doubt at the pace its limiter has allowed so far; hosts
        // are asked side by side, so the slowest one sets the time left.
        absl::flat_hash_map<IpAddress, std::size_t, IpAddressHash> doubt;
        for (const auto& [item, f] : flights_) {
            if (f.in_doubt) {
                ++w.in_doubt;
                ++doubt[item.host];
            }
            if (f.final_at != Clock::time_point{}) {
                ++w.waiting_app;
                w.app_left = std::max(w.app_left, std::chrono::duration<double>(f.final_at - now).count());
            }
        }
        if (!doubt.empty()) w.doubt_left = 0;
        for (const auto& [host, n] : doubt) {
            const double rate = know_.limits.round_rate(host, now);
            if (rate <= 0) {
                w.doubt_left = -1;
                break;
            }
            w.doubt_left = std::max(w.doubt_left, static_cast<double>(n) / rate);
        }
    }
    progress_->update(items_.position(), items_.total(), probes(), answers_, w);
}

}  // namespace scanfw
