#include "sim/network.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "net/capture.hpp"
#include "net/packet.hpp"
#include "scanfw/wire.hpp"

namespace scanfw::sim {

namespace {

using namespace std::chrono_literals;
namespace ipp = wire::ip_proto;
namespace ity = wire::icmp_type;

constexpr Duration kPerPacket = 1us;  // a sendmmsg's pace
constexpr Duration kBlock = 1ms;      // the capture's block timeout
constexpr Duration kLag = 3ms;        // the real Capture's horizon lag (net/capture.cpp)

struct Probe {
    Family family = Family::V4;
    IpAddress src, dst;
    std::uint8_t protocol = 0;
    std::span<const std::uint8_t> payload;
};

std::optional<Probe> parse_ip(const Bytes& b) {
    Probe p;
    if (b.size() >= 20 && (b[0] >> 4) == 4) {
        const std::size_t ihl = std::size_t(b[0] & 15) * 4, total = wire::get16(b.data() + 2);
        if (ihl < 20 || total < ihl || total > b.size()) return std::nullopt;
        p.family = Family::V4;
        p.protocol = b[9];
        p.src.family = p.dst.family = Family::V4;
        std::memcpy(p.src.bytes.data(), b.data() + 12, 4);
        std::memcpy(p.dst.bytes.data(), b.data() + 16, 4);
        p.payload = std::span(b).subspan(ihl, total - ihl);
        return p;
    }
    if (b.size() >= 40 && (b[0] >> 4) == 6) {
        const std::size_t len = wire::get16(b.data() + 4);
        if (40 + len > b.size()) return std::nullopt;
        p.family = Family::V6;
        p.protocol = b[6];
        p.src.family = p.dst.family = Family::V6;
        std::memcpy(p.src.bytes.data(), b.data() + 8, 16);
        std::memcpy(p.dst.bytes.data(), b.data() + 24, 16);
        p.payload = std::span(b).subspan(40, len);
        return p;
    }
    return std::nullopt;
}

// An IP packet from `src` to `dst` around `payload`, checksums filled in.
Bytes ip_packet(const IpAddress& src, const IpAddress& dst, std::uint8_t protocol, std::uint16_t id,
                std::span<const std::uint8_t> payload) {
    const std::size_t header = ip_header_size(src.family);
    Bytes b(header + payload.size());
    std::memcpy(b.data() + header, payload.data(), payload.size());
    b.resize(finish_ip_packet(IpHeader{src, dst, protocol, id, 64}, b, payload.size()));
    return b;
}

// An ICMP error quoting `probe` (as much as a 576-byte, or 1280-byte for IPv6, packet holds).
Bytes icmp_error(const Probe& p, const Bytes& probe, std::uint8_t type, std::uint8_t code) {
    const std::size_t room = p.family == Family::V4 ? 576 - 20 - 8 : 1280 - 40 - 8;
    const std::size_t quoted = std::min(room, probe.size());
    Bytes msg(8 + quoted, 0);
    msg[0] = type;
    msg[1] = code;
    std::copy_n(probe.begin(), quoted, msg.begin() + 8);
    return msg;
}

// Linux's RST for a segment no socket takes (tcp_v4_send_reset).
std::optional<wire::Tcp> reset_for(const wire::Tcp& in) {
    if (in.flags & tcp_flag::RST) return std::nullopt;
    wire::Tcp r;
    r.sport = in.dport;
    r.dport = in.sport;
    r.window = 0;
    if (in.flags & tcp_flag::ACK) {
        r.seq = in.ack;
        r.flags = tcp_flag::RST;
    } else {
        r.ack = in.seq + static_cast<std::uint32_t>(in.payload.size()) + ((in.flags & tcp_flag::SYN) ? 1 : 0) +
                ((in.flags & tcp_flag::FIN) ? 1 : 0);
        r.flags = tcp_flag::RST | tcp_flag::ACK;
    }
    return r;
}

Bytes write(const wire::Tcp& t) {
    Bytes b(60);
    b.resize(t.write(b));
    return b;
}

Emission unreach_of(Family f) { return f == Family::V4 ? Emission::Unreach4 : Emission::Unreach6; }

}  // namespace

const char* to_string(Behaviour b) {
    switch (b) {
        case Behaviour::Closed: return "closed";
        case Behaviour::Open: return "open";
        case Behaviour::Drop: return "drop";
        case Behaviour::RejectAdmin: return "reject-admin";
        case Behaviour::RejectReset: return "reject-reset";
        case Behaviour::OpenSilent: return "open-silent";
    }
    return "?";
}

Behaviour HostSpec::tcp_port(std::uint16_t p) const {
    const auto it = tcp.find(p);
    return it == tcp.end() ? tcp_default : it->second;
}
Behaviour HostSpec::udp_port(std::uint16_t p) const {
    const auto it = udp.find(p);
    return it == udp.end() ? udp_default : it->second;
}

// ---- World ----------------------------------------------------------------------------

World::World(std::vector<HostSpec> hosts, Machine machine, std::uint64_t seed)
    : trace(std::getenv("SCANFW_SIM_TRACE") != nullptr), hosts_(std::move(hosts)), machine_(machine), rng_(seed) {
    state_.reserve(hosts_.size());
    for (std::size_t i = 0; i < hosts_.size(); ++i) {
        state_.push_back({&hosts_[i], Limiter(hosts_[i].limiter, seed * 0x9e3779b97f4a7c15ull + i, clock.now())});
        by_addr_[hosts_[i].addr] = i;
    }
}

const HostSpec* World::host(const IpAddress& a) const {
    const auto it = by_addr_.find(a);
    return it == by_addr_.end() ? nullptr : &hosts_[it->second];
}

Duration World::up_to(Duration d) {
    if (d <= Duration::zero()) return {};
    return Duration(std::uniform_int_distribution<Duration::rep>(0, d.count())(rng_));
}

Clock::time_point World::arrival(const Path& p, Clock::time_point at, Clock::time_point& queue) {
    queue = std::max(queue, at + p.delay + up_to(p.jitter));
    return chance(p.reorder_chance) ? queue + up_to(p.reorder) : queue;
}

void World::schedule(Clock::time_point at, std::function<void()> run) {
    events_q_.push({at, seq_++, std::move(run)});
}

void World::run_until(Clock::time_point t) {
    while (!events_q_.empty() && events_q_.top().at <= t) {
        Event e = events_q_.top();
        events_q_.pop();
        clock.advance_to(e.at);
        ++events_;
        e.run();
    }
    clock.advance_to(t);
}

Clock::time_point World::first_late_rst(const IpAddress& host) const {
    const auto it = first_late_rst_.find(host);
    return it == first_late_rst_.end() ? Clock::time_point::max() : it->second;
}

void World::rst_limit_shown(const IpAddress& host) { first_late_rst_.try_emplace(host, clock.now()); }

Waiter World::waiter() {
    return [this](std::span<ProbeIo* const>, Clock::time_point until) {
        while (true) {
            const Clock::time_point wake = std::min({until, capture.next_visible(), connect.next_ready()});
            const Clock::time_point next = events_q_.empty() ? Clock::time_point::max() : events_q_.top().at;
            if (next <= wake && next <= until) {
                run_until(next);
                continue;
            }
            run_until(std::max(wake, clock.now()));
            break;
        }
        // The engine's thread does not get the CPU back at once.
        if (chance(machine_.engine_pause)) run_until(clock.now() + up_to(machine_.engine_pause_max));
    };
}

void World::draw_stalls(Stalls& s, double per_ms, Duration max, Clock::time_point t) {
    // A Poisson process of `per_ms` stalls a millisecond, each up to `max` long.
    if (per_ms <= 0) return;
    std::exponential_distribution<> gap(per_ms);
    while (s.drawn_to <= t) {
        s.drawn_to += std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::milli>(gap(rng_)));
        const Clock::time_point end = s.drawn_to + up_to(max);
        s.spans.emplace_back(s.drawn_to, end);
        s.drawn_to = end;
    }
}

void World::stall_capture_now(Clock::time_point t) {
    draw_stalls(capture_stalls_, machine_.capture_pause, machine_.capture_pause_max, t);
}

bool World::capture_stalled(Clock::time_point t) const {
    for (auto it = capture_stalls_.spans.rbegin(); it != capture_stalls_.spans.rend(); ++it) {
        if (it->second <= t) return false;
        if (it->first <= t) return true;
    }
    return false;
}

Clock::time_point World::sender_free(Clock::time_point t) {
    draw_stalls(sender_stalls_, machine_.sender_pause, machine_.sender_pause_max, t);
    for (auto it = sender_stalls_.spans.rbegin(); it != sender_stalls_.spans.rend(); ++it) {
        if (it->second <= t) break;
        if (it->first <= t) return it->second;
    }
    return t;
}

void World::depart(Clock::time_point at, Bytes packet) {
    const auto p = parse_ip(packet);
    if (!p) return;
    const auto it = by_addr_.find(p->dst);
    if (it == by_addr_.end()) return;  // nobody there
    HostState& h = state_[it->second];
    if (!h.spec->up) return;
    if (chance(h.spec->path.loss_out)) {
        if (const auto key = key_of(packet)) ++ledger.at(*key).lost_out;
        return;
    }
    schedule(arrival(h.spec->path, at, h.queued_out),
             [this, &h, packet = std::move(packet)]() { receive(h, packet, clock.now()); });
}

void World::answer(HostState& h, Bytes reply, const Ledger::Key& key, Clock::time_point at, Duration extra) {
    ++ledger.at(key).answers;
    if (extra > Duration::zero()) {
        // A service answers later: its packet joins the path's queue then.
        schedule(at + extra, [this, &h, reply = std::move(reply), key]() mutable {
            answer(h, std::move(reply), key, clock.now(), {});
            --ledger.at(key).answers;  // counted once, above
        });
        return;
    }
    const int copies = chance(h.spec->path.duplicate) ? 2 : 1;
    for (int i = 0; i < copies; ++i) {
        if (chance(h.spec->path.loss_back)) {
            ++ledger.at(key).lost_back;
            continue;
        }
        const Clock::time_point back = arrival(h.spec->path, at, h.queued_back);
        if (trace)
            std::fprintf(stderr, "%.6f host %s: answer for %u/%u reaches the scanner at %.6f\n", clock.elapsed(),
                         key.host.str().c_str(), key.protocol, key.port, seconds(back - SimClock::epoch()));
        schedule(back, [this, reply, key]() mutable { capture.arrive(clock.now(), std::move(reply), key); });
    }
}

std::optional<Ledger::Key> key_of(const Bytes& packet) {
    const auto p = parse_ip(packet);
    if (!p) return std::nullopt;
    std::uint16_t port = 0, tag = 0;
    std::uint8_t kind = 0;
    if (p->protocol == ipp::TCP || p->protocol == ipp::UDP) {
        if (p->payload.size() < (p->protocol == ipp::TCP ? 14u : 8u)) return std::nullopt;
        tag = wire::get16(p->payload.data());
        port = wire::get16(p->payload.data() + 2);
        if (p->protocol == ipp::TCP) kind = p->payload[13];
    } else if (p->protocol == ipp::ICMP || p->protocol == ipp::ICMPV6) {
        if (p->payload.size() < 8) return std::nullopt;
        port = p->payload[0];
        tag = wire::get16(p->payload.data() + 4);
    }
    return Ledger::Key{p->dst, p->protocol, port, kind, tag};
}

namespace {

std::vector<Response> respond_tcp(const HostSpec& spec, const Probe& p, const Bytes& packet, const wire::Tcp& t,
                                  const std::function<Bytes(std::uint8_t, std::span<const std::uint8_t>)>& send) {
    const bool v4 = p.family == Family::V4;
    std::optional<wire::Tcp> out;
    std::optional<Emission> as;
    switch (spec.tcp_port(t.dport)) {
        case Behaviour::Drop: case Behaviour::OpenSilent: return {};
        case Behaviour::RejectAdmin:
            return {{send(v4 ? ipp::ICMP : ipp::ICMPV6, icmp_error(p, packet, v4 ? 3 : 1, v4 ? 13 : 1)),
                     unreach_of(p.family)}};
        case Behaviour::RejectReset: out = reset_for(t); break;
        case Behaviour::Closed:
            out = reset_for(t);
            as = v4 ? Emission::Rst4 : Emission::Rst6;
            break;
        case Behaviour::Open:
            // A listener: an ACK gets a RST, a SYN (without FIN) a SYN/ACK, the rest nothing.
            if (t.flags & tcp_flag::RST) return {};
            if (t.flags & tcp_flag::ACK) out = reset_for(t);
            else if ((t.flags & tcp_flag::SYN) && !(t.flags & tcp_flag::FIN)) {
                static constexpr std::uint8_t mss[] = {2, 4, 0x05, 0xb4};
                wire::Tcp sa;
                sa.sport = t.dport;
                sa.dport = t.sport;
                sa.seq = 0x5eed0000u ^ t.seq;
                sa.ack = t.seq + 1;
                sa.flags = tcp_flag::SYN | tcp_flag::ACK;
                sa.window = 64240;
                sa.options = mss;
                out = sa;
            }
            break;
    }
    if (!out) return {};
    return {{send(ipp::TCP, write(*out)), as}};
}

std::vector<Response> respond_udp(const HostSpec& spec, const Probe& p, const Bytes& packet, const wire::Udp& u,
                                  const std::function<Bytes(std::uint8_t, std::span<const std::uint8_t>)>& send) {
    const bool v4 = p.family == Family::V4;
    const std::uint8_t icmp = v4 ? ipp::ICMP : ipp::ICMPV6;
    switch (spec.udp_port(u.dport)) {
        case Behaviour::Drop: case Behaviour::OpenSilent: return {};
        case Behaviour::Closed: return {{send(icmp, icmp_error(p, packet, v4 ? 3 : 1, v4 ? 3 : 4)), unreach_of(p.family)}};
        case Behaviour::RejectAdmin: case Behaviour::RejectReset:
            return {{send(icmp, icmp_error(p, packet, v4 ? 3 : 1, v4 ? 13 : 1)), unreach_of(p.family)}};
        case Behaviour::Open: {
            static constexpr std::uint8_t hello[] = {'h', 'i'};
            const wire::Udp r{u.dport, u.sport, hello};
            Bytes b(16);
            b.resize(r.write(b));
            const auto d = spec.service_delay.find(u.dport);
            return {{send(ipp::UDP, b), std::nullopt, d == spec.service_delay.end() ? Duration{} : d->second}};
        }
    }
    return {};
}

std::vector<Response> respond_icmp(const HostSpec& spec, const Probe& p, const wire::Icmp& q,
                                   const std::function<Bytes(std::uint8_t, std::span<const std::uint8_t>)>& send) {
    const bool v4 = p.family == Family::V4;
    wire::Icmp r = q;
    std::optional<Emission> as;
    if (q.type == (v4 ? ity::Echo : ity::V6Echo) && spec.icmp_echo) {
        r.type = v4 ? ity::EchoReply : ity::V6EchoReply;
        as = v4 ? Emission::EchoReply4 : Emission::EchoReply6;
    } else if (v4 && q.type == ity::Timestamp && spec.icmp_timestamp && q.body.size() >= 12) {
        r.type = ity::TimestampReply;  // the body's three stamps: the originate one kept
    } else {
        return {};  // Linux answers no address mask request
    }
    Bytes b(8 + r.body.size());
    b.resize(r.write(b));
    return {{send(p.protocol, b), as}};
}

}  // namespace

std::vector<Response> respond(const HostSpec& spec, const Bytes& packet, std::uint16_t& ip_id) {
    const auto p = parse_ip(packet);
    if (!p || !spec.up) return {};
    const auto send = [&](std::uint8_t proto, std::span<const std::uint8_t> payload) {
        return ip_packet(spec.addr, p->src, proto, ip_id++, payload);
    };
    if (p->protocol == ipp::TCP) {
        const auto t = wire::Tcp::read(p->payload);
        return t ? respond_tcp(spec, *p, packet, *t, send) : std::vector<Response>{};
    }
    if (p->protocol == ipp::UDP) {
        const auto u = wire::Udp::read(p->payload);
        return u ? respond_udp(spec, *p, packet, *u, send) : std::vector<Response>{};
    }
    if (p->protocol == ipp::ICMP || p->protocol == ipp::ICMPV6) {
        const auto q = wire::Icmp::read(p->payload);
        return q ? respond_icmp(spec, *p, *q, send) : std::vector<Response>{};
    }
    return {};
}

void World::receive(HostState& h, const Bytes& packet, Clock::time_point at) {
    const auto key = key_of(packet);
    if (!key) return;
    ++ledger.at(*key).probes;
    const auto us = parse_ip(packet)->src;
    const auto responses = respond(*h.spec, packet, h.ip_id);
    if (trace && responses.empty())
        std::fprintf(stderr, "%.6f host %s: probe %u/%u from %s: silent\n", clock.elapsed(), key->host.str().c_str(),
                     key->protocol, key->port, us.str().c_str());
    for (const Response& r : responses) {
        const bool allowed = !r.limited_as || h.limiter.allow(*r.limited_as, us, at);
        if (trace)
            std::fprintf(stderr, "%.6f host %s: probe %u/%u from %s: answer %s\n", clock.elapsed(),
                         key->host.str().c_str(), key->protocol, key->port, us.str().c_str(),
                         allowed ? "sent" : ("held back: " + h.limiter.state()).c_str());
        if (!allowed) {
            ++ledger.at(*key).limited;
            continue;
        }
        answer(h, r.packet, *key, at, r.delay);
    }
}

// ---- the sender ------------------------------------------------------------------------

std::span<std::uint8_t> SimSender::slot() { return slot_; }

PacketSender::Mark SimSender::commit(std::size_t len, const IpAddress& dst) {
    queued_.emplace_back(Bytes(slot_.begin(), slot_.begin() + static_cast<std::ptrdiff_t>(len)), dst);
    return {batch_, static_cast<std::uint16_t>(queued_.size() - 1)};
}

PacketSender::Mark SimSender::commit_link(std::size_t, int, std::uint16_t, const std::array<std::uint8_t, 6>&) {
    throw std::logic_error("the scan simulation has no local Ethernet segment");
}

void SimSender::flush() {
    if (queued_.empty()) return;
    const Clock::time_point leaves = world_.sender_free(std::max(world_.clock.now(), sender_free_));
    // The batch goes on the wire when the sending thread gets to it (then, not now, it
    // joins the paths' queues, behind what left before it).
    std::vector<Bytes> batch;
    for (auto& q : queued_) batch.push_back(std::move(q.first));
    world_.at(leaves, [w = &world_, leaves, batch = std::move(batch)]() mutable {
        for (std::size_t i = 0; i < batch.size(); ++i) w->depart(leaves + kPerPacket * i, std::move(batch[i]));
    });
    batches_[batch_] = {leaves, queued_.size()};
    sender_free_ = leaves + kPerPacket * queued_.size();
    sent_ += queued_.size();
    queued_.clear();
    ++batch_;
}

std::optional<Clock::time_point> SimSender::sent_at(Mark mark, Clock::time_point committed) const {
    const auto it = batches_.find(mark.batch);
    if (it == batches_.end()) return committed;
    const auto [leaves, count] = it->second;
    if (world_.clock.now() < leaves + kPerPacket * count) return std::nullopt;  // still being sent
    return leaves + kPerPacket * mark.index;
}

// ---- the capture -----------------------------------------------------------------------

void SimCapture::start(const std::string&, const Matcher& matcher) { matcher_ = &matcher; }

void SimCapture::arrive(Clock::time_point at, Bytes packet, const Ledger::Key& key) {
    if (ring_.size() >= world_.machine().capture_ring) {
        ++dropped_;
        ++world_.ledger.at(key).lost_back;
        return;
    }
    // Visible once its block is handed over (within a block timeout), in order, and not
    // while the capture thread is stalled.
    world_.stall_capture_now(at + kBlock);
    Clock::time_point visible = at + world_.up_to(kBlock);
    for (const auto& [from, to] : world_.capture_stalls_.spans)
        if (from <= visible && visible < to) visible = to;
    if (!ring_.empty()) visible = std::max(visible, ring_.back().visible);
    if (world_.trace)
        std::fprintf(stderr, "%.6f capture: %s %u/%u arrives, visible at %.6f, %zu waiting\n", world_.clock.elapsed(),
                     key.host.str().c_str(), key.protocol, key.port, seconds(visible - SimClock::epoch()), ring_.size());
    ring_.push_back({at, visible, std::move(packet), key});
}

Clock::time_point SimCapture::next_visible() const {
    return ring_.empty() || !matcher_ ? Clock::time_point::max() : ring_.front().visible;
}

Clock::time_point SimCapture::drained_by(Clock::time_point now) const {
    // The capture thread reads every millisecond unless stalled: its last read by now.
    Clock::time_point t = now;
    for (auto it = world_.capture_stalls_.spans.rbegin(); it != world_.capture_stalls_.spans.rend(); ++it) {
        if (it->second <= t) break;
        if (it->first <= t) t = it->first;
    }
    return t;
}

Clock::time_point SimCapture::take(std::vector<Answer>& out) {
    const Clock::time_point now = world_.clock.now();
    world_.stall_capture_now(now);
    const Clock::time_point read = drained_by(now);
    Bytes frame;
    while (!ring_.empty() && ring_.front().visible <= read) {
        Frame& f = ring_.front();
        // Linux cooked capture (v1): packet type, ARPHRD, address length, address, protocol.
        frame.assign(16, 0);
        frame[3] = 1;
        frame[5] = 6;
        wire::put16(frame.data() + 14, (f.packet[0] >> 4) == 4 ? 0x0800 : 0x86dd);
        frame.insert(frame.end(), f.packet.begin(), f.packet.end());
        const std::size_t before = out.size();
        if (matcher_) Capture::answers_of(frame, *matcher_, out);
        for (std::size_t i = before; i < out.size(); ++i) out[i].at = f.at;
        ++world_.ledger.at(f.key).delivered;
        if (world_.trace)
            std::fprintf(stderr, "%.6f capture: delivered %s %u/%u (arrived %.6f), %zu answer(s) matched\n",
                         world_.clock.elapsed(), f.key.host.str().c_str(), f.key.protocol, f.key.port,
                         seconds(f.at - SimClock::epoch()), out.size() - before);
        ring_.pop_front();
    }
    return read - kLag;
}

// ---- connect() --------------------------------------------------------------------------

bool SimConnect::send(const Job&, const Item& item, const IpAddress& source, SendMark& mark) {
    const std::uint64_t attempt = ++attempts_;
    open_[item] = attempt;
    mark = {++opened_, 0};
    if (world_.trace)
        std::fprintf(stderr, "%.6f connect() to %s port %u from %s (attempt %llu)\n", world_.clock.elapsed(),
                     item.host.str().c_str(), item.port, source.str().c_str(), static_cast<unsigned long long>(attempt));
    world_.depart_syn(world_.clock.now(), item, source, attempt);
    return true;
}

void World::depart_syn(Clock::time_point at, const Item& item, const IpAddress& source, std::uint64_t attempt) {
    const auto it = by_addr_.find(item.host);
    if (it == by_addr_.end() || !hosts_[it->second].up) return;
    syn_out(state_[it->second], item, source, attempt, at, 0);
}

// A connect()'s SYN (or the kernel's retransmission of it) leaves. The kernel resends
// an unanswered SYN after 1 s, then 2 s, 4 s, ... while the socket is open.
void World::syn_out(HostState& h, const Item& item, const IpAddress& source, std::uint64_t attempt,
                    Clock::time_point at, int retry) {
    if (retry > 6 || (retry > 0 && !connect.still_open(item, attempt))) return;
    schedule(at + std::chrono::seconds(1 << retry), [this, &h, item, source, attempt, retry]() {
        syn_out(h, item, source, attempt, clock.now(), retry + 1);
    });
    const Ledger::Key key{item.host, ipp::TCP, item.port, Ledger::kConnect};
    if (chance(h.spec->path.loss_out)) {
        ++ledger.at(key).lost_out;
        return;
    }
    schedule(arrival(h.spec->path, at, h.queued_out), [this, &h, item, source, attempt, key]() {
        syn_in(h, item, source, attempt, key);
    });
}

// The SYN reaches the host: a SYN/ACK, a RST or an ICMP error goes back (the kernel's
// verdict), or nothing.
void World::syn_in(HostState& h, const Item& item, const IpAddress& source, std::uint64_t attempt,
                   const Ledger::Key& key) {
    Ledger::Entry& e = ledger.at(key);
    ++e.probes;
    const Clock::time_point now = clock.now();
    const Behaviour b = h.spec->tcp_port(item.port);
    if (trace)
        std::fprintf(stderr, "%.6f host %s: connect() SYN to %u from %s (attempt %llu)\n", clock.elapsed(),
                     item.host.str().c_str(), item.port, source.str().c_str(), static_cast<unsigned long long>(attempt));
    int err = 0;
    std::optional<Emission> limited_as;
    switch (b) {
        case Behaviour::Drop: case Behaviour::OpenSilent: return;
        case Behaviour::Open: break;
        case Behaviour::Closed:
            err = ECONNREFUSED;
            limited_as = item.host.family == Family::V4 ? Emission::Rst4 : Emission::Rst6;
            break;
        case Behaviour::RejectReset: err = ECONNREFUSED; break;
        case Behaviour::RejectAdmin:  // a SYN_SENT socket takes an ICMP unreachable as a hard error
            err = EHOSTUNREACH;
            limited_as = unreach_of(item.host.family);
            break;
    }
    const bool allowed = !limited_as || h.limiter.allow(*limited_as, source, now);
    if (trace)
        std::fprintf(stderr, "%.6f host %s: connect() SYN to %u: %s%s\n", clock.elapsed(), item.host.str().c_str(),
                     item.port, allowed ? "answered" : "held back: ", allowed ? "" : h.limiter.state().c_str());
    if (!allowed) {
        ++e.limited;
        return;
    }
    ++e.answers;
    if (chance(h.spec->path.loss_back)) {
        ++e.lost_back;
        return;
    }
    schedule(arrival(h.spec->path, now, h.queued_back),
             [this, item, attempt, err]() { connect.verdict(item, attempt, err, clock.now()); });
}

bool SimConnect::still_open(const Item& item, std::uint64_t attempt) const {
    const auto it = open_.find(item);
    return it != open_.end() && it->second == attempt;
}

void SimConnect::verdict(const Item& item, std::uint64_t attempt, int err, Clock::time_point at) {
    if (world_.trace)
        std::fprintf(stderr, "%.6f connect %s port %u attempt %llu: errno %d%s\n", world_.clock.elapsed(),
                     item.host.str().c_str(), item.port, static_cast<unsigned long long>(attempt), err,
                     still_open(item, attempt) ? "" : " (given up)");
    if (!still_open(item, attempt)) return;  // the engine gave this attempt up
    open_.erase(item);
    ++world_.ledger.at({item.host, ipp::TCP, item.port, Ledger::kConnect}).delivered;
    Answer a;
    a.item = item;
    a.at = at;
    a.fields.kind = Reply::Kind::Connect;
    a.fields.connect_errno = err;
    ready_.emplace_back(at, a);
}

Clock::time_point SimConnect::next_ready() const {
    Clock::time_point t = Clock::time_point::max();
    for (const auto& r : ready_) t = std::min(t, r.first);
    return t;
}

void SimConnect::take_ready(std::vector<Answer>& out) {
    const Clock::time_point now = world_.clock.now();
    std::erase_if(ready_, [&](const auto& r) {
        if (r.first > now) return false;
        out.push_back(r.second);
        return true;
    });
}

}  // namespace scanfw::sim
