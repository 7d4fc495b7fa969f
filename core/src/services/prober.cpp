#include "services/prober.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <optional>
#include <queue>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "net/socket_address.hpp"
#include "services/tls.hpp"
#include "system/descriptors.hpp"
#include "system/interrupt.hpp"

namespace scanfw::services {

const char* outcome_name(ServiceOutcome o) {
    switch (o) {
        case ServiceOutcome::HardMatch: return "hardmatched";
        case ServiceOutcome::SoftMatch: return "softmatched";
        case ServiceOutcome::TcpWrapped: return "tcpwrapped";
        case ServiceOutcome::NoMatch: return "nomatch";
        case ServiceOutcome::Incomplete: return "incomplete";
        case ServiceOutcome::Excluded: return "excluded";
    }
    return "?";
}

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string describe(const ServiceTarget& t) {
    return t.host.family == Family::V6 ? fmt::format("[{}]:{}/{}", t.host.str(), t.port, t.udp ? "udp" : "tcp")
                                       : fmt::format("{}:{}/{}", t.host.str(), t.port, t.udp ? "udp" : "tcp");
}

// Where a service is in nmap's probe order.
enum class Phase { Initial, Null, Matching, NonMatching, Done };
enum class Conn { None, Connecting, Handshaking, Active };

struct Session {
    ServiceTarget target;
    std::size_t slot = 0;  // its place in Loop::slots_, which epoll events and timers name
    Protocol protocol = Protocol::Tcp;
    std::string label;
    bool ssl = false;  // probing through an SSL/TLS tunnel
    Phase phase = Phase::Initial;
    std::size_t index = 0;  // the current probe's place in the file, in Matching/NonMatching
    const Probe* probe = nullptr;
    std::string response;
    std::optional<MatchResult> soft, hard;
    std::string soft_probe, hard_probe;
    // nmap's tcpwrap_possible: cleared by any byte, a probe's timeout or a hard error.
    bool tcpwrap_possible = false;
    bool connected_once = false;
    bool answered = false;    // any byte, or a datagram, came back
    bool retry_open = false;  // out of descriptors: open_connection() again when the timer fires
    Clock::time_point open_failing_since{};
    int fd = -1;
    Conn conn = Conn::None;
    std::unique_ptr<TlsSession> tls;
    TlsSavedSession tls_saved;
    TlsStatus tls_wants = TlsStatus::Done;  // what the last TLS call waits for
    std::string out;  // the probe's bytes not yet sent
    Clock::time_point started, exec, deadline;
    std::uint32_t conn_serial = 0, timer_serial = 0;
    std::uint32_t interest = 0;
};

struct Due {
    Clock::time_point when;
    std::size_t slot;
    std::uint32_t serial;
    bool operator>(const Due& o) const { return when > o.when; }
};

}  // namespace

class ServiceProber::Loop {
public:
    Loop(const ProbeDb& db, const ProberOptions& options, std::size_t parallelism, Done done)
        : db_(db), opt_(options), parallel_(parallelism), done_(std::move(done)),
          epoll_(epoll_create1(EPOLL_CLOEXEC)) {
        if (epoll_ < 0) throw std::runtime_error(fmt::format("epoll_create1: {}", std::strerror(errno)));
    }
    ~Loop() {
        abandon();
        close(epoll_);
    }

    // Every target of a list, until done or stop_requested().
    std::size_t run(std::span<const ServiceTarget> targets) {
        std::size_t next = 0;
        while (next < targets.size() || pending() > 0) {
            if (stop_requested()) {
                spdlog::info("services: interrupted with {} service(s) in progress", active_);
                break;
            }
            // Only as many queued as can start: the list itself is the queue.
            while (queue_.empty() && active_ < parallel_ && next < targets.size()) add(targets[next++]);
            if (active_ == 0) continue;
            // At most 100 ms between looks at stop_requested().
            step(milliseconds(100));
        }
        return reported_;
    }

    void add(const ServiceTarget& t) {
        queue_.push_back(t);
        launch_queued();
    }

    void step(milliseconds wait) {
        launch_queued();
        expire(Clock::now());
        if (active_ == 0) return;
        auto wake = Clock::now() + wait;
        if (!due_.empty()) wake = std::min(wake, due_.top().when);
        const auto left = std::chrono::ceil<milliseconds>(wake - Clock::now()).count();
        const int n = epoll_wait(epoll_, events_.data(), static_cast<int>(events_.size()),
                                 static_cast<int>(std::clamp<long long>(left, 0, wait.count())));
        if (n < 0 && errno != EINTR) throw std::runtime_error(fmt::format("epoll_wait: {}", std::strerror(errno)));
        for (int i = 0; i < n; ++i) dispatch(events_[static_cast<std::size_t>(i)]);
        expire(Clock::now());
        launch_queued();
    }

    int fd() const { return epoll_; }
    Clock::time_point next_due() const {
        if (!queue_.empty() && active_ < parallel_) return Clock::time_point::min();
        return due_.empty() ? Clock::time_point::max() : due_.top().when;
    }
    std::size_t pending() const { return queue_.size() + active_; }
    std::size_t in_progress() const { return active_; }

    void abandon() {
        for (auto& s : slots_)
            if (s) close_connection(*s);
        slots_.clear();
        free_.clear();
        queue_.clear();
        due_ = {};
        active_ = 0;
    }

private:
    void launch_queued() {
        while (active_ < parallel_ && !queue_.empty()) {
            const ServiceTarget t = queue_.front();
            queue_.pop_front();
            launch(t);
        }
    }

    // ---- bookkeeping --------------------------------------------------------

    void launch(const ServiceTarget& t) {
        const Protocol protocol = t.udp ? Protocol::Udp : Protocol::Tcp;
        if (!opt_.all_ports && db_.excluded(t.port, protocol)) {
            ServiceResult r;
            r.outcome = ServiceOutcome::Excluded;
            r.method = "table";
            r.id.product = "Excluded from version scan";  // what nmap shows for such a port
            spdlog::debug("services: {}: excluded from version detection", describe(t));
            report(t, r);
            return;
        }
        std::size_t slot;
        if (!free_.empty()) {
            slot = free_.back();
            free_.pop_back();
        } else {
            slot = slots_.size();
            slots_.emplace_back();
        }
        slots_[slot] = std::make_unique<Session>();
        Session& s = *slots_[slot];
        s.target = t;
        s.protocol = protocol;
        s.label = describe(t);
        s.tcpwrap_possible = protocol == Protocol::Tcp;
        s.started = Clock::now();
        s.slot = slot;
        ++active_;
        start_next_probe(s, true);
    }

    void report(const ServiceTarget& t, const ServiceResult& r) {
        ++reported_;
        done_(t, r);
    }

    // ---- nmap's probe order (ServiceNFO::nextProbe) ----------------------------

    const Probe* next_probe(Session& s, bool new_response) {
        if (new_response) s.response.clear();
        const auto& probes = db_.probes();
        bool fresh = false;
        const std::string* soft_service = s.soft ? &s.soft->id.name : nullptr;
        const bool all = opt_.intensity >= 9;  // --version-all also skips the softmatch narrowing
        if (s.phase == Phase::Initial) {
            s.phase = Phase::Null;
            if (s.protocol == Protocol::Tcp && db_.null_probe() != nullptr) return s.probe = db_.null_probe();
        }
        if (s.phase == Phase::Null) {
            s.phase = Phase::Matching;
            s.index = 0;
            fresh = true;
        }
        if (s.phase == Phase::Matching) {
            if (!fresh) ++s.index;
            for (; s.index < probes.size(); ++s.index) {
                const Probe& p = probes[s.index];
                if (p.is_null() || p.protocol != s.protocol || !p.lists_port(s.target.port, s.ssl)) continue;
                if (soft_service != nullptr && !all && !p.can_detect(*soft_service)) continue;
                return s.probe = &p;
            }
            s.phase = Phase::NonMatching;
            s.index = 0;
            fresh = true;
        }
        if (s.phase == Phase::NonMatching) {
            if (!fresh) ++s.index;
            for (; s.index < probes.size(); ++s.index) {
                const Probe& p = probes[s.index];
                if (p.is_null() || p.protocol != s.protocol || p.lists_port(s.target.port, s.ssl)) continue;
                // Without a softmatch the intensity decides; after one, only whether
                // the probe can name that service.
                const bool wanted = soft_service == nullptr ? p.rarity <= opt_.intensity
                                                            : (all || p.can_detect(*soft_service));
                if (wanted) return s.probe = &p;
            }
            s.phase = Phase::Done;
        }
        return s.probe = nullptr;
    }

    // nmap's startNextProbe: after the NULL probe the same TCP connection carries
    // the next probe (and keeps what the banner said); any other probe gets a new
    // connection.
    void start_next_probe(Session& s, bool always_restart) {
        const bool initial = s.phase == Phase::Initial;
        const Probe* probe = initial ? next_probe(s, true) : s.probe;
        if (!always_restart && probe != nullptr && probe->is_null() && s.conn == Conn::Active) {
            if (next_probe(s, false) == nullptr) return finish(s, s.soft ? ServiceOutcome::SoftMatch : ServiceOutcome::NoMatch);
            return begin_probe(s);
        }
        close_connection(s);
        if (!initial) probe = next_probe(s, true);
        if (probe == nullptr) return finish(s, s.soft ? ServiceOutcome::SoftMatch : ServiceOutcome::NoMatch);
        open_connection(s);
    }

    // ---- connections -------------------------------------------------------------

    void open_connection(Session& s) {
        const int type = s.protocol == Protocol::Tcp ? SOCK_STREAM : SOCK_DGRAM;
        const int fd = socket(s.target.host.family == Family::V4 ? AF_INET : AF_INET6,
                              type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            const int err = errno;
            const auto now = Clock::now();
            // Out of descriptors (the port scan's connect() may hold many): try again
            // shortly, for as long as a connect may take.
            if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
                if (s.open_failing_since == Clock::time_point{}) s.open_failing_since = now;
                if (now - s.open_failing_since < opt_.connect_timeout) {
                    s.retry_open = true;
                    set_deadline(s, now + milliseconds(20));
                    return;
                }
            }
            spdlog::debug("services: {}: socket: {}", s.label, std::strerror(err));
            s.tcpwrap_possible = false;
            return finish(s, ServiceOutcome::Incomplete);
        }
        s.open_failing_since = {};
        s.fd = fd;
        ++s.conn_serial;
        s.interest = 0;
        s.response.clear();
        socklen_t len = 0;
        const sockaddr_storage sa = socket_address(s.target.host, s.target.port, len);
        spdlog::trace("services: {}: probe {}{}", s.label, s.probe->name, s.ssl ? " through SSL" : "");
        // One deadline for the TCP connect and, in a tunnel, the TLS handshake.
        set_deadline(s, Clock::now() + (s.ssl ? opt_.ssl_timeout : opt_.connect_timeout));
        if (connect(fd, reinterpret_cast<const sockaddr*>(&sa), len) == 0) return connected(s);
        if (errno != EINPROGRESS) return connect_failed(s, errno);
        s.conn = Conn::Connecting;
        set_interest(s, EPOLLOUT);
    }

    void connected(Session& s) {
        if (s.protocol == Protocol::Tcp) s.connected_once = true;
        if (!s.ssl) {
            s.conn = Conn::Active;
            return begin_probe(s);
        }
        if (!tls_ctx_) tls_ctx_ = std::make_unique<TlsContext>();
        s.tls = std::make_unique<TlsSession>(*tls_ctx_, s.fd, s.tls_saved);
        s.conn = Conn::Handshaking;
        handshake(s);
    }

    void handshake(Session& s) {
        switch (s.tls->handshake()) {
            case TlsStatus::Done:
                s.tls->save_session(s.tls_saved);
                s.conn = Conn::Active;
                return begin_probe(s);
            case TlsStatus::WantRead: return set_interest(s, EPOLLIN);
            case TlsStatus::WantWrite: return set_interest(s, EPOLLOUT);
            default:
                spdlog::debug("services: {}: SSL handshake failed: {}", s.label, s.tls->error());
                return connect_failed(s, EIO);
        }
    }

    void connect_failed(Session& s, int err) {
        spdlog::debug("services: {}: connect for probe {}: {}", s.label, s.probe ? s.probe->name : "?", std::strerror(err));
        finish(s, ServiceOutcome::Incomplete);
    }

    void close_connection(Session& s) {
        s.tls.reset();
        if (s.fd >= 0) close(s.fd);  // also takes it out of the epoll set
        s.fd = -1;
        s.conn = Conn::None;
        s.out.clear();
        ++s.conn_serial;
    }

    void set_interest(Session& s, std::uint32_t events) {
        if (s.fd < 0 || events == s.interest) return;
        epoll_event ev{};
        ev.events = events;
        ev.data.u64 = (static_cast<std::uint64_t>(s.slot) << 32) | s.conn_serial;
        const int op = s.interest == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
        if (epoll_ctl(epoll_, op, s.fd, &ev) != 0)
            throw std::runtime_error(fmt::format("epoll_ctl: {}", std::strerror(errno)));
        s.interest = events;
    }

    void set_deadline(Session& s, Clock::time_point when) {
        if (opt_.max_wait.count() > 0) when = std::min(when, s.started + opt_.max_wait);
        s.deadline = when;
        due_.push({when, s.slot, ++s.timer_serial});
    }

    // ---- probes -------------------------------------------------------------------

    void begin_probe(Session& s) {
        s.exec = Clock::now();
        set_deadline(s, s.exec + s.probe->total_wait);
        s.out = s.probe->payload;  // nothing for the NULL probe
        if (!s.out.empty()) spdlog::trace("services: {}: sending probe {} ({} bytes)", s.label, s.probe->name, s.out.size());
        if (!send_pending(s)) return;
        set_interest(s, EPOLLIN | (s.out.empty() ? 0u : static_cast<std::uint32_t>(EPOLLOUT)));
        // OpenSSL may already hold bytes the server sent with its last handshake
        // flight; the socket would never signal them.
        if (s.tls) receive(s);
    }

    // Sends what is left of the probe; false when the service finished (a write error).
    bool send_pending(Session& s) {
        while (!s.out.empty()) {
            if (s.tls) {
                const TlsStatus st = s.tls->write(s.out.data(), s.out.size());
                if (st == TlsStatus::Done) {
                    s.out.clear();
                    break;
                }
                if (st == TlsStatus::WantRead || st == TlsStatus::WantWrite) {
                    s.tls_wants = st;
                    return true;
                }
                return write_failed(s, s.tls->error());
            }
            const ssize_t n = send(s.fd, s.out.data(), s.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n >= 0) {
                s.out.erase(0, static_cast<std::size_t>(n));
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return true;
            if (s.protocol == Protocol::Udp && errno == ECONNREFUSED) {  // an earlier ICMP error
                s.out.clear();
                break;
            }
            return write_failed(s, std::strerror(errno));
        }
        return true;
    }

    bool write_failed(Session& s, const std::string& why) {
        // nmap gives up on the service when a probe cannot be written.
        spdlog::debug("services: {}: writing probe {}: {}", s.label, s.probe->name, why);
        finish(s, ServiceOutcome::Incomplete);
        return false;
    }

    void dispatch(const epoll_event& ev) {
        const std::size_t idx = static_cast<std::size_t>(ev.data.u64 >> 32);
        const auto serial = static_cast<std::uint32_t>(ev.data.u64);
        if (idx >= slots_.size() || !slots_[idx] || slots_[idx]->conn_serial != serial) return;  // stale
        Session& s = *slots_[idx];
        switch (s.conn) {
            case Conn::Connecting: {
                int err = 0;
                socklen_t len = sizeof err;
                if (getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
                if (err != 0) return connect_failed(s, err);
                return connected(s);
            }
            case Conn::Handshaking: return handshake(s);
            case Conn::Active: {
                if (!s.out.empty()) {
                    if (!send_pending(s)) return;
                    if (s.out.empty()) set_interest(s, EPOLLIN);
                }
                // A TLS read may wait for the socket to take bytes (renegotiation).
                const bool tls_read_waits = s.tls && s.out.empty() && (s.interest & EPOLLOUT);
                if ((ev.events & (EPOLLIN | EPOLLHUP | EPOLLERR)) || tls_read_waits) {
                    if (tls_read_waits) set_interest(s, EPOLLIN);
                    receive(s);
                }
                return;
            }
            case Conn::None: return;
        }
    }

    // Reads what is there (up to max_response in all), then matches.
    void receive(Session& s) {
        bool got = false, eof = false;
        int err = 0;
        char buf[4096];
        while (s.response.size() < opt_.max_response) {
            const std::size_t room = std::min(sizeof buf, opt_.max_response - s.response.size());
            std::size_t n = 0;
            if (s.tls) {
                const TlsStatus st = s.tls->read(buf, room, n);
                if (st == TlsStatus::WantRead) break;
                if (st == TlsStatus::WantWrite) {
                    set_interest(s, EPOLLIN | EPOLLOUT);
                    break;
                }
                if (st == TlsStatus::Closed) {
                    eof = true;
                    break;
                }
                if (st == TlsStatus::Failed) {
                    spdlog::debug("services: {}: SSL read: {}", s.label, s.tls->error());
                    err = EIO;  // as nsock reports SSL errors
                    break;
                }
            } else {
                const ssize_t r = recv(s.fd, buf, room, MSG_DONTWAIT);
                if (r < 0) {
                    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) err = errno;
                    break;
                }
                if (r == 0) {
                    if (s.protocol == Protocol::Tcp) {
                        eof = true;
                        break;
                    }
                    continue;  // an empty datagram says nothing
                }
                n = static_cast<std::size_t>(r);
            }
            s.response.append(buf, n);
            got = got || n > 0;
        }
        if (got) {
            s.tcpwrap_possible = false;
            s.answered = true;
            if (matched_or_moved_on(s)) return;
        }
        if (eof) return peer_closed(s);
        if (err != 0) return read_error(s, err);
        if (s.response.size() >= opt_.max_response) return start_next_probe(s, false);  // enough: no match in it
    }

    // True when the service finished or went on to another probe.
    bool matched_or_moved_on(Session& s) {
        auto m = find_match(*s.probe, s.response);
        if (m && take_match(s, std::move(*m))) {
            if (through_tunnel(s)) {
                start_next_probe(s, true);
            } else {
                finish(s, ServiceOutcome::HardMatch);
            }
            return true;
        }
        // No (new) hard match: read more while the probe has time and room left.
        if (Clock::now() < s.exec + s.probe->total_wait && s.response.size() < opt_.max_response) return false;
        start_next_probe(s, false);
        return true;
    }

    // nmap's processMatch: true for a hard match.
    bool take_match(Session& s, MatchResult m) {
        if (m.soft && s.soft) {
            if (m.id.name != s.soft->id.name)
                spdlog::debug("services: {}: already softmatched {}, ignoring softmatch {}", s.label, s.soft->id.name, m.id.name);
            return false;
        }
        spdlog::debug("services: {}: {} match {} ({}|{}|{}) by probe {}, line {}", s.label, m.soft ? "soft" : "hard",
                      m.id.name, m.id.product, m.id.version, m.id.extrainfo, s.probe->name, m.match->line);
        s.tcpwrap_possible = false;
        if (m.soft) {
            s.soft = std::move(m);
            s.soft_probe = s.probe->name;
            return false;
        }
        s.hard = std::move(m);
        s.hard_probe = s.probe->name;
        return true;
    }

    // nmap's scanThroughTunnel: "ssl/NAME" is NAME through SSL; a hard "ssl" on a
    // TCP port starts all probes over through an SSL tunnel. True when it does.
    bool through_tunnel(Session& s) {
        std::string& name = s.hard->id.name;
        if (name.rfind("ssl/", 0) == 0) {
            s.ssl = true;
            name.erase(0, 4);
            return false;
        }
        if (s.ssl || s.protocol != Protocol::Tcp || name != "ssl") return false;
        spdlog::debug("services: {}: SSL found; probing again through it", s.label);
        s.ssl = true;
        s.hard.reset();
        s.soft.reset();
        s.phase = Phase::Initial;
        s.response.clear();
        return true;
    }

    void peer_closed(Session& s) {
        const bool quick = Clock::now() - s.exec < s.probe->tcp_wrapped;
        if (!s.response.empty()) s.tcpwrap_possible = false;
        if (s.tcpwrap_possible && s.probe->is_null() && s.response.empty() && quick)
            return finish(s, ServiceOutcome::TcpWrapped);
        start_next_probe(s, true);  // perhaps it did not like this probe: try the next
    }

    void read_error(Session& s, int err) {
        spdlog::debug("services: {}: reading the answer to {}: {}", s.label, s.probe->name, std::strerror(err));
        switch (err) {
            case ECONNRESET:
            case ECONNREFUSED:
            case ECONNABORTED:
                if (s.tcpwrap_possible && s.probe->is_null() && Clock::now() - s.exec < s.probe->tcp_wrapped)
                    return finish(s, ServiceOutcome::TcpWrapped);
                return start_next_probe(s, true);
            case ENOPROTOOPT:
            case EMSGSIZE:
            case EOPNOTSUPP:
            case EPIPE:
            case ENETRESET:
            case EPROTO:
            case EIO:
                return start_next_probe(s, true);
            default:  // unreachable networks and the like: give up on the port
                s.tcpwrap_possible = false;
                return finish(s, ServiceOutcome::Incomplete);
        }
    }

    void expire(Clock::time_point now) {
        while (!due_.empty() && due_.top().when <= now) {
            const Due d = due_.top();
            due_.pop();
            if (d.slot >= slots_.size() || !slots_[d.slot] || slots_[d.slot]->timer_serial != d.serial) continue;
            Session& s = *slots_[d.slot];
            if (opt_.max_wait.count() > 0 && now >= s.started + opt_.max_wait) {
                spdlog::debug("services: {}: out of time ({} ms)", s.label, opt_.max_wait.count());
                s.tcpwrap_possible = false;
                finish(s, ServiceOutcome::Incomplete);
                continue;
            }
            switch (s.conn) {
                case Conn::Connecting:
                case Conn::Handshaking: connect_failed(s, ETIMEDOUT); break;
                case Conn::Active:
                    s.tcpwrap_possible = false;
                    start_next_probe(s, false);
                    break;
                case Conn::None:
                    if (s.retry_open) {
                        s.retry_open = false;
                        open_connection(s);
                    }
                    break;
            }
        }
    }

    void finish(Session& s, ServiceOutcome outcome) {
        // nmap: a TCP service that never said a byte nor timed out, but was reached,
        // is tcpwrapped whatever ended it.
        if (s.protocol == Protocol::Tcp && s.tcpwrap_possible && s.connected_once) outcome = ServiceOutcome::TcpWrapped;
        ServiceResult r;
        r.outcome = outcome;
        r.answered = s.answered;
        r.tunnel = s.ssl ? "ssl" : "";
        switch (outcome) {
            case ServiceOutcome::HardMatch:
            case ServiceOutcome::SoftMatch: {
                const bool hard = outcome == ServiceOutcome::HardMatch;
                r.id = hard ? s.hard->id : s.soft->id;
                r.probe = hard ? s.hard_probe : s.soft_probe;
                r.identified = true;
                r.method = "probed";
                r.conf = 10;
                break;
            }
            case ServiceOutcome::TcpWrapped:
                r.id.name = "tcpwrapped";
                r.identified = true;
                r.method = "probed";
                r.conf = 8;
                break;
            default:
                r.method = "table";
                r.conf = 3;
        }
        spdlog::debug("services: {}: {} {}{}", s.label, outcome_name(outcome), r.tunnel.empty() ? "" : "ssl/", r.id.name);
        const ServiceTarget target = s.target;
        const std::size_t idx = s.slot;
        close_connection(s);
        slots_[idx].reset();
        free_.push_back(idx);
        --active_;
        report(target, r);
    }

    const ProbeDb& db_;
    const ProberOptions& opt_;
    const std::size_t parallel_;
    const Done done_;
    const int epoll_;
    std::vector<epoll_event> events_ = std::vector<epoll_event>(256);
    std::deque<ServiceTarget> queue_;  // added, not started yet
    std::unique_ptr<TlsContext> tls_ctx_;
    std::vector<std::unique_ptr<Session>> slots_;
    std::vector<std::size_t> free_;
    std::priority_queue<Due, std::vector<Due>, std::greater<>> due_;
    std::size_t active_ = 0, reported_ = 0;
};

ServiceProber::ServiceProber(const ProbeDb& db, ProberOptions options)
    : db_(db), options_(options), parallelism_(options.parallelism > 0 ? options.parallelism : socket_budget(4096)) {
    if (options_.intensity < 0 || options_.intensity > 9)
        throw std::invalid_argument(fmt::format("version intensity {} is not 0-9", options_.intensity));
    if (options_.max_response == 0) options_.max_response = 4096;
}

ServiceProber::~ServiceProber() = default;

std::size_t ServiceProber::run(std::span<const ServiceTarget> targets, const Done& done) {
    if (targets.empty()) return 0;
    spdlog::debug("services: probing {} service(s), {} at once, intensity {}", targets.size(),
                  std::min(parallelism_, targets.size()), options_.intensity);
    Loop loop(db_, options_, parallelism_, done);
    return loop.run(targets);
}

ServiceStream::ServiceStream(const ServiceProber& prober, ServiceProber::Done done)
    : loop_(std::make_unique<ServiceProber::Loop>(prober.db_, prober.options_, prober.parallelism_, std::move(done))) {}
ServiceStream::~ServiceStream() = default;
void ServiceStream::add(const ServiceTarget& target) { loop_->add(target); }
void ServiceStream::step(std::chrono::milliseconds wait) { loop_->step(wait); }
int ServiceStream::fd() const { return loop_->fd(); }
ServiceStream::Clock::time_point ServiceStream::next_due() const { return loop_->next_due(); }
std::size_t ServiceStream::pending() const { return loop_->pending(); }
std::size_t ServiceStream::in_progress() const { return loop_->in_progress(); }
void ServiceStream::abandon() { loop_->abandon(); }

}  // namespace scanfw::services
