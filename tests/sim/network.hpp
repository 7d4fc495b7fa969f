// The simulated network of the scan simulation: hosts whose kernels answer probes as
// Linux does (TCP, UDP, ICMP queries, IP protocols), with the ICMP limiters of real
// kernels (tests/support/limiters.hpp), paths with delay, jitter (and so reordering),
// loss each way and duplicated answers, and the scanner's own machine as it really
// is: a sending thread that may stall, a capture that delivers in blocks, stalls, and
// drops what its ring cannot hold, and an engine thread that is paused at random.
// Everything runs on one virtual clock, driven by one seed.
//
// The engine runs unchanged above it: PacketIo sends through SimSender and reads
// through SimCapture (the real reply parser and matcher), connect scans go through
// SimConnect. Every answer a host sends and its fate is recorded (Ledger), for the
// checker to tell what the engine could have known.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include <absl/container/flat_hash_map.h>

#include "common/address.hpp"
#include "common/clock.hpp"
#include "engine/io.hpp"
#include "engine/scheduler.hpp"
#include "net/packet_ends.hpp"
#include "support/limiters.hpp"

namespace scanfw::sim {

using Bytes = std::vector<std::uint8_t>;
using Duration = Clock::duration;

class SimClock final : public TimeSource {
public:
    Clock::time_point now() const override { return now_; }
    void advance_to(Clock::time_point t) { now_ = std::max(now_, t); }
    static Clock::time_point epoch() { return Clock::time_point{} + std::chrono::hours(1000); }
    double elapsed() const { return seconds(now_ - epoch()); }

private:
    Clock::time_point now_ = epoch();
};

// What a port does with a probe (Linux's answers; the netlab layout's kinds).
enum class Behaviour : std::uint8_t {
    Closed,       // TCP: RST; UDP: ICMP port unreachable (limited)
    Open,         // TCP: a listener; UDP: a service that answers (after its delay)
    Drop,         // a firewall drops the probe
    RejectAdmin,  // a firewall answers ICMP admin-prohibited (limited, as the kernel's own)
    RejectReset,  // TCP: a firewall answers with a RST (nft reject with tcp reset)
    OpenSilent,   // UDP: a service that does not answer this probe
};
const char* to_string(Behaviour);

// Between the scanner and a host, each way.
// Packets queue on the way (jitter: each up to `jitter` more than `delay`, in order: a
// queue keeps them so), and some paths reorder some of them (up to `reorder` more, out
// of order: parallel links, a target's receive queues on several CPUs; measured paths
// reorder a few packets in a hundred, at most).
struct Path {
    Duration delay = std::chrono::microseconds(500);  // one way, at the least
    Duration jitter{};                                // queueing: up to this much more, in order
    Duration reorder{};                               // up to this much more, in any order,
    double reorder_chance = 0;                        // for this share of the packets
    double loss_out = 0, loss_back = 0;               // probes lost; answers lost
    double duplicate = 0;                             // an answer arrives twice
};

struct HostSpec {
    IpAddress addr;
    bool up = true;  // false: nothing answers (no host there)
    std::map<std::uint16_t, Behaviour> tcp, udp;
    Behaviour tcp_default = Behaviour::Closed, udp_default = Behaviour::Closed;
    std::map<std::uint16_t, Duration> service_delay;  // UDP Open: the service answers after this
    bool icmp_echo = true, icmp_timestamp = true;     // answers these queries (else a firewall drops them)
    // IP protocols a firewall drops (the rest: the kernel's own answers).
    std::vector<std::uint8_t> drop_protocols;
    LimiterSpec limiter;
    Path path;

    Behaviour tcp_port(std::uint16_t p) const;
    Behaviour udp_port(std::uint16_t p) const;
};

// The scanner's machine.
struct Machine {
    // Each time the engine waits: the chance that its thread stalls afterwards, and for
    // how long at most (a busy CPU, a page fault).
    double engine_pause = 0;
    Duration engine_pause_max{};
    // Each millisecond: the chance that the capture thread stalls, and for how long.
    double capture_pause = 0;
    Duration capture_pause_max{};
    // Each millisecond: the chance that the sending thread stalls (what is handed to it
    // waits), and for how long.
    double sender_pause = 0;
    Duration sender_pause_max{};
    // Answers the kernel's capture ring holds; more are dropped (and counted).
    std::size_t capture_ring = 1 << 20;
};

// Who sent which answer for which probe, and what became of it.
struct Ledger {
    struct Entry {
        std::uint32_t probes = 0;     // tries that reached the host
        std::uint32_t lost_out = 0;   // tries the network lost on the way there
        std::uint32_t answers = 0;    // answers the host sent
        std::uint32_t limited = 0;    // answers the host's limiter held back
        std::uint32_t lost_back = 0;  // answers lost on the way back (network or capture ring)
        std::uint32_t delivered = 0;  // answers that reached the scanner's capture
    };
    // Keyed by (host, protocol, port, kind, tag): the port is the TCP/UDP destination
    // port or the ICMP type; the kind the TCP flags, kConnect for connect(), 0
    // otherwise; the tag the probe's source port (ICMP identifier), which is the
    // technique's and the source address's (the same for every try).
    static constexpr std::uint8_t kConnect = 0xff;
    struct Key {
        IpAddress host;
        std::uint8_t protocol;
        std::uint16_t port;
        std::uint8_t kind = 0;
        std::uint16_t tag = 0;
        bool operator==(const Key&) const = default;
    };
    struct KeyHash {
        std::size_t operator()(const Key& k) const noexcept {
            return IpAddressHash{}(k.host) ^ (std::size_t{k.tag} << 40 | std::size_t{k.kind} << 28 |
                                              std::size_t{k.protocol} << 20 | k.port) *
                                                 0x9e3779b97f4a7c15ull;
        }
    };
    absl::flat_hash_map<Key, Entry, KeyHash> entries;
    Entry& at(const Key& k) { return entries[k]; }
    const Entry* find(const Key& k) const {
        const auto it = entries.find(k);
        return it == entries.end() ? nullptr : &it->second;
    }
};

// What a host's kernel sends back for a probe, before its limiter and the path have a
// say: a pure function of the host and the probe (the checker's "ideal" answer).
struct Response {
    Bytes packet;              // from the IP header
    std::optional<Emission> limited_as;  // the limiter decides on it as this
    Duration delay{};          // a service's time to answer
};
struct ProbeKey {
    Ledger::Key key;
    bool valid = false;
};
// `us` is the probe's source; `packet` the probe from its IP header.
std::vector<Response> respond(const HostSpec& host, const Bytes& packet, std::uint16_t& ip_id);
// The ledger's key of a probe (see Ledger::Key).
std::optional<Ledger::Key> key_of(const Bytes& packet);

class World;

// The raw socket: batches leave after the sending thread gets to them.
class SimSender final : public PacketSender {
public:
    explicit SimSender(World& w) : world_(w) {}
    std::span<std::uint8_t> slot() override;
    Mark commit(std::size_t len, const IpAddress& dst) override;
    Mark commit_link(std::size_t, int, std::uint16_t, const std::array<std::uint8_t, 6>&) override;
    bool full() const override { return queued_.size() >= 128; }
    void flush() override;
    std::uint64_t sent() const override { return sent_; }
    std::optional<Clock::time_point> sent_at(Mark mark, Clock::time_point committed) const override;

private:
    World& world_;
    Bytes slot_ = Bytes(1500);
    std::vector<std::pair<Bytes, IpAddress>> queued_;
    std::uint64_t batch_ = 1, sent_ = 0;
    Clock::time_point sender_free_{};  // when the sending thread is done with what it has
    std::map<std::uint64_t, std::pair<Clock::time_point, std::size_t>> batches_;  // batch -> (leaves, count)
};

// The capture: answers reach a ring and are delivered in blocks (1 ms), unless the
// capture thread is stalled; the real parser and matcher make them answers.
class SimCapture final : public PacketCapture {
public:
    explicit SimCapture(World& w) : world_(w) {}
    void start(const std::string& filter, const Matcher& matcher) override;
    void stop() override { matcher_ = nullptr; }
    Clock::time_point take(std::vector<Answer>& out) override;
    int event_fd() const override { return -1; }
    std::uint64_t packets_dropped() const override { return dropped_; }

    // A frame (from the IP header) reaching the scanner at `at`, for (host, proto, port).
    void arrive(Clock::time_point at, Bytes packet, const Ledger::Key& key);
    // When the next answer becomes visible (max: none waiting).
    Clock::time_point next_visible() const;

private:
    struct Frame {
        Clock::time_point at, visible;
        Bytes packet;
        Ledger::Key key;
    };
    Clock::time_point drained_by(Clock::time_point now) const;
    World& world_;
    const Matcher* matcher_ = nullptr;
    std::deque<Frame> ring_;  // in order of arrival
    std::uint64_t dropped_ = 0;
};

// connect(): the kernel's handshake, its SYN retransmissions, and its verdict.
class SimConnect final : public ProbeIo {
public:
    explicit SimConnect(World& w) : world_(w) {}
    void begin(std::span<const Job>) override {}
    void end() override { open_.clear(); }
    bool send(const Job& job, const Item& item, const IpAddress& source, SendMark& mark) override;
    void flush() override {}
    void forget(const Item& item) override { open_.erase(item); }
    bool still_open(const Item& item, std::uint64_t attempt) const;
    void take_ready(std::vector<Answer>& out) override;
    int wait_fd() const override { return -1; }
    std::uint64_t sent() const override { return opened_; }

    // The host's verdict on a SYN of this attempt reached the scanner.
    void verdict(const Item& item, std::uint64_t attempt, int err, Clock::time_point at);
    Clock::time_point next_ready() const;

private:
    World& world_;
    std::uint64_t opened_ = 0, attempts_ = 0;
    absl::flat_hash_map<Item, std::uint64_t, ItemHash> open_;  // item -> its current attempt
    std::vector<std::pair<Clock::time_point, Answer>> ready_;
};

class World {
public:
    World(std::vector<HostSpec> hosts, Machine machine, std::uint64_t seed);

    SimClock clock;
    Ledger ledger;
    SimSender sender{*this};
    SimCapture capture{*this};
    SimConnect connect{*this};

    // The engine's wait: until `until` or the next answer, then maybe a stall.
    Waiter waiter();
    // Runs every event due by `t` and moves the clock there.
    void run_until(Clock::time_point t);

    const HostSpec* host(const IpAddress& a) const;
    const std::vector<HostSpec>& hosts() const { return hosts_; }
    std::mt19937_64& rng() { return rng_; }
    bool chance(double p) { return p > 0 && std::uniform_real_distribution<>(0, 1)(rng_) < p; }
    Duration up_to(Duration d);
    const Machine& machine() const { return machine_; }
    bool capture_stalled(Clock::time_point t) const;
    // When the sending thread is free to send something handed over at `t`.
    Clock::time_point sender_free(Clock::time_point t);

    // A probe leaving the scanner at `at` (from the IP header).
    void depart(Clock::time_point at, Bytes packet);
    // Runs `f` when the clock reaches `t`.
    void at(Clock::time_point t, std::function<void()> f) { schedule(t, std::move(f)); }
    // A connect() SYN of `attempt` leaving at `at`.
    void depart_syn(Clock::time_point at, const Item& item, const IpAddress& source, std::uint64_t attempt);

    std::uint64_t events() const { return events_; }
    // When the engine first saw `host` hold back a RST (its first sign of a RST
    // limit); time_point::max() if never.
    Clock::time_point first_late_rst(const IpAddress& host) const;
    void rst_limit_shown(const IpAddress& host);
    // Whether the engine saw one of `host`'s answers need a retransmission (its only
    // sign of the host's own loss).
    bool loss_shown(const IpAddress& host, Clock::time_point by) const {
        const auto it = loss_shown_.find(host);
        return it != loss_shown_.end() && it->second <= by;
    }
    void show_loss(const IpAddress& host) { loss_shown_.try_emplace(host, clock.now()); }
    // SCANFW_SIM_TRACE set: every probe, answer and limiter decision on stderr.
    bool trace = false;

private:
    struct HostState {
        const HostSpec* spec;
        Limiter limiter;
        std::uint16_t ip_id = 1;
        Clock::time_point queued_out{}, queued_back{};  // the paths' queues: last packet out of each
    };
    struct Event {
        Clock::time_point at;
        std::uint64_t seq;
        std::function<void()> run;
        bool operator>(const Event& o) const { return std::tie(at, seq) > std::tie(o.at, o.seq); }
    };
    void schedule(Clock::time_point at, std::function<void()> run);
    void receive(HostState& h, const Bytes& packet, Clock::time_point at);
    void answer(HostState& h, Bytes reply, const Ledger::Key& key, Clock::time_point at, Duration extra = {});
    // When a packet sent at `at` arrives: after the path's delay and queue, and any reordering.
    Clock::time_point arrival(const Path& p, Clock::time_point at, Clock::time_point& queue);
    void stall_capture_now(Clock::time_point t);
    void syn_out(HostState& h, const Item& item, const IpAddress& source, std::uint64_t attempt, Clock::time_point at,
                 int retry);
    void syn_in(HostState& h, const Item& item, const IpAddress& source, std::uint64_t attempt, const Ledger::Key& key);

    std::vector<HostSpec> hosts_;
    Machine machine_;
    std::mt19937_64 rng_;
    std::vector<HostState> state_;
    absl::flat_hash_map<IpAddress, std::size_t, IpAddressHash> by_addr_;
    std::priority_queue<Event, std::vector<Event>, std::greater<>> events_q_;
    std::uint64_t seq_ = 0, events_ = 0;
    absl::flat_hash_map<IpAddress, Clock::time_point, IpAddressHash> first_late_rst_;
    absl::flat_hash_map<IpAddress, Clock::time_point, IpAddressHash> loss_shown_;
    // The capture and sending threads' stalls, as [from, to) in time order, drawn as
    // time goes.
    struct Stalls {
        std::vector<std::pair<Clock::time_point, Clock::time_point>> spans;
        Clock::time_point drawn_to = SimClock::epoch();
    };
    void draw_stalls(Stalls& s, double per_ms, Duration max, Clock::time_point t);
    Stalls capture_stalls_, sender_stalls_;
    friend class SimCapture;
};

}  // namespace scanfw::sim
