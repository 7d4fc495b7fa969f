// The connect engine: many non-blocking connect()s in flight, watched with epoll.
// Needs no privileges. The kernel does the handshake; we read its verdict.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <queue>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "net/raw_socket.hpp"
#include "scan/engine.hpp"
#include "system/interrupt.hpp"
#include "scan/schedule.hpp"

namespace scanfw {

namespace {

// As many descriptors as allowed, leaving room for outputs and plugins.
std::size_t connect_parallelism() {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    const rlim_t limit = rl.rlim_cur == RLIM_INFINITY ? 65536 : rl.rlim_cur;
    return static_cast<std::size_t>(std::clamp<rlim_t>(limit > 64 ? limit - 64 : 8, 8, 8192));
}

struct Conn {
    EndpointKey key;
    int tries = 0;
    Clock::time_point sent;
};

struct Due {
    Clock::time_point when;
    int fd;
    int tries;
    EndpointKey key;
    bool operator>(const Due& o) const { return when > o.when; }
};

class ConnectScan {
public:
    ConnectScan(const ScanJob& job, ResultSink& sink)
        : job_(job), sink_(sink), info_(job.plugin->info()), key_(random_key()),
          order_(*job.targets, job.ports, key_, job.skip), limiter_(job.timing.rate), rtt_(job.timing), parallel_(connect_parallelism()),
          epoll_(epoll_create1(EPOLL_CLOEXEC)) {
        if (epoll_ < 0) throw RuntimeError(fmt::format("epoll_create1: {}", std::strerror(errno)));
    }
    ~ConnectScan() {
        for (auto& [fd, c] : conns_) close(fd);
        close(epoll_);
    }

    void run() {
        std::vector<epoll_event> events(256);
        while (!order_.done() || !conns_.empty() || !retry_.empty()) {
            if (stop_requested()) {
                // Connections in flight are abandoned: their outcome would come from the
                // kernel's own retransmissions, long after the user asked to stop.
                spdlog::info("{}: interrupted with {} connection(s) in flight", info_.name, conns_.size());
                break;
            }
            auto now = Clock::now();
            expire(now);
            std::size_t room = parallel_ > conns_.size() ? parallel_ - conns_.size() : 0;
            std::size_t budget = limiter_.take(std::min<std::size_t>(room, 64), now);
            while (budget > 0 && !retry_.empty()) {
                const auto [key, tries] = retry_.front();
                retry_.pop_front();
                open(key, tries, now);
                --budget;
            }
            IpAddress host;
            std::uint16_t port = 0;
            while (budget > 0 && order_.next(host, port)) {
                open(EndpointKey{host, port}, 0, now);
                --budget;
            }
            if (order_.done() && conns_.empty() && retry_.empty()) break;  // the last ones just concluded
            auto wake = due_.empty() ? now + std::chrono::milliseconds(50) : due_.top().when;
            if (!order_.done() || !retry_.empty()) wake = std::min(wake, limiter_.next_token(Clock::now()));
            const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(wake - Clock::now()).count();
            const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()),
                                     static_cast<int>(std::clamp<long long>(wait + 1, 0, 1000)));
            for (int i = 0; i < n; ++i) completed(events[static_cast<std::size_t>(i)].data.fd);
            if (job_.progress)
                job_.progress->update(info_.name, order_.position(), order_.total(), opened_, answered_);
        }
    }

private:
    void open(const EndpointKey& key, int tries, Clock::time_point now) {
        const int fd = socket(key.host.family == Family::V4 ? AF_INET : AF_INET6,
                              SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        ++opened_;
        if (fd < 0) {  // out of descriptors for now: try again later
            retry_.push_back({key, tries});
            return;
        }
        const linger lg{1, 0};  // close() sends RST, as a scanner should, and leaves no TIME_WAIT
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        socklen_t len = 0;
        const sockaddr_storage sa = socket_address(key.host, key.port, len);
        conns_[fd] = Conn{key, tries + 1, now};
        if (connect(fd, reinterpret_cast<const sockaddr*>(&sa), len) == 0) {
            finish(fd, 0, now);
            return;
        }
        if (errno != EINPROGRESS) {
            finish(fd, errno, now);
            return;
        }
        epoll_event ev{};
        ev.events = EPOLLOUT;
        ev.data.fd = fd;
        epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
        due_.push({now + rtt_.timeout(key.host), fd, tries + 1, key});
    }

    void completed(int fd) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        finish(fd, err, Clock::now());
    }

    void finish(int fd, int err, Clock::time_point now) {
        auto it = conns_.find(fd);
        if (it == conns_.end()) return;
        const Conn c = it->second;
        conns_.erase(it);
        close(fd);
        Reply reply;
        reply.kind = Reply::Kind::Connect;
        reply.connect_errno = err;
        const Verdict v = job_.plugin->classify(reply);
        if (v.state == PortState::Undecided) {  // a local, passing problem: try again
            spdlog::debug("connect {}:{}: {}; retrying", c.key.host.str(), c.key.port, std::strerror(err));
            if (c.tries <= job_.timing.retries) retry_.push_back({c.key, c.tries});
            else report(c, job_.plugin->classify(Reply{}), now, false);
            return;
        }
        if (c.tries == 1) {  // Karn: first tries only
            const bool first_measurement = !rtt_.measured();
            rtt_.sample(c.key.host, now - c.sent);
            if (first_measurement)  // what is in flight waits by it, not by the initial timeout
                for (const auto& [other, o] : conns_) due_.push({o.sent + rtt_.timeout(o.key.host), other, o.tries, o.key});
        }
        ++answered_;
        report(c, v, now, true);
    }

    void expire(Clock::time_point now) {
        while (!due_.empty() && due_.top().when <= now) {
            const Due d = due_.top();
            due_.pop();
            auto it = conns_.find(d.fd);
            if (it == conns_.end() || it->second.tries != d.tries || !(it->second.key == d.key)) continue;
            if (const auto later = rtt_.next_check(d.key.host, it->second.sent, now)) {
                due_.push({*later, d.fd, d.tries, d.key});
                continue;
            }
            const Conn c = it->second;
            conns_.erase(it);
            close(d.fd);
            if (c.tries <= job_.timing.retries) retry_.push_back({c.key, c.tries});
            else report(c, job_.plugin->classify(Reply{}), now, false);
        }
    }

    void report(const Conn& c, const Verdict& v, Clock::time_point now, bool answered) {
        Result r;
        r.host = c.key.host;
        r.port = c.key.port;
        r.protocol = Protocol::Tcp;
        r.technique = info_.name;
        r.state = v.state == PortState::Undecided ? PortState::Filtered : v.state;
        r.reason = *v.reason ? v.reason : "no-response";
        if (answered)
            r.rtt_us = static_cast<std::uint32_t>(
                std::chrono::duration_cast<std::chrono::microseconds>(now - c.sent).count());
        sink_.on_result(r);
    }

    const ScanJob& job_;
    ResultSink& sink_;
    const Description info_;
    const SipKey key_;
    ScanOrder order_;
    RateLimiter limiter_;
    RttEstimator rtt_;
    std::uint64_t opened_ = 0, answered_ = 0;
    const std::size_t parallel_;
    const int epoll_;
    std::unordered_map<int, Conn> conns_;
    std::deque<std::pair<EndpointKey, int>> retry_;  // endpoint, tries so far
    std::priority_queue<Due, std::vector<Due>, std::greater<>> due_;
};

}  // namespace

void run_connect_scan(const ScanJob& job, ResultSink& sink) { ConnectScan(job, sink).run(); }

}  // namespace scanfw
