#include "names/reverse_dns.hpp"

#include <ares.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/errors.hpp"

namespace scanfw {

namespace {

// Lookups handed to c-ares at once; more wait in the queue. nmap's mass_dns keeps a
// few dozen per server in flight; a DNS server answers that many without dropping.
constexpr std::size_t kInFlight = 64;
// Each lookup: 1 s for the first try, c-ares doubles it for the second: 3 s at most
// for a server that never answers.
constexpr int kTimeoutMs = 1000;
constexpr int kTries = 2;

ares_channel channel_of(void* c) { return static_cast<ares_channel>(c); }

std::vector<ares_addr_node> server_nodes(const std::vector<std::string>& servers) {
    std::vector<ares_addr_node> nodes(servers.size());
    for (std::size_t i = 0; i < servers.size(); ++i) {
        const auto a = IpAddress::parse(servers[i]);
        if (!a)
            throw InputError(fmt::format("--dns-servers: '{}' is not an IP address (give addresses, comma-separated)",
                                         servers[i]));
        ares_addr_node& n = nodes[i];
        std::memset(&n, 0, sizeof n);
        n.family = a->family == Family::V4 ? AF_INET : AF_INET6;
        if (a->family == Family::V4) std::memcpy(&n.addr.addr4, a->bytes.data(), 4);
        else std::memcpy(&n.addr.addr6, a->bytes.data(), 16);
        n.next = i + 1 < servers.size() ? &nodes[i + 1] : nullptr;
    }
    return nodes;
}

}  // namespace

void check_dns_servers(const std::vector<std::string>& servers) { server_nodes(servers); }

ReverseResolver::ReverseResolver(const std::vector<std::string>& servers) {
    static const int library = ares_library_init(ARES_LIB_INIT_ALL);
    if (library != ARES_SUCCESS) throw RuntimeError(fmt::format("reverse DNS: c-ares: {}", ares_strerror(library)));
    std::vector<ares_addr_node> nodes = server_nodes(servers);
    ares_options options{};
    options.timeout = kTimeoutMs;
    options.tries = kTries;
    char lookups[] = "fb";  // /etc/hosts, then DNS
    options.lookups = lookups;
    ares_channel channel = nullptr;
    const int rc = ares_init_options(&channel, &options, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_LOOKUPS);
    if (rc != ARES_SUCCESS) throw RuntimeError(fmt::format("reverse DNS: c-ares: {}", ares_strerror(rc)));
    if (!nodes.empty()) {
        if (const int s = ares_set_servers(channel, nodes.data()); s != ARES_SUCCESS) {
            ares_destroy(channel);
            throw RuntimeError(fmt::format("reverse DNS: --dns-servers: {}", ares_strerror(s)));
        }
    }
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) {
        ares_destroy(channel);
        throw RuntimeError(fmt::format("reverse DNS: eventfd: {}", std::strerror(errno)));
    }
    channel_ = channel;
    thread_ = std::thread([this] { run(); });
}

ReverseResolver::~ReverseResolver() {
    stop_.store(true, std::memory_order_release);
    wake();
    thread_.join();
    close(wake_fd_);
}

void ReverseResolver::ask(const IpAddress& a) {
    if (!asking()) return;
    {
        std::lock_guard lock(mutex_);
        queued_.push_back(a);
        ++outstanding_;
    }
    wake();
}

std::vector<std::pair<IpAddress, std::string>> ReverseResolver::take() {
    std::lock_guard lock(mutex_);
    answered_.store(false, std::memory_order_release);
    return std::exchange(answers_, {});
}

void ReverseResolver::wake() {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = write(wake_fd_, &one, sizeof one);
}

void ReverseResolver::start_waiting() {
    std::lock_guard lock(mutex_);
    while (in_flight_ < kInFlight && !queued_.empty()) {
        const IpAddress a = queued_.front();
        queued_.pop_front();
        ++in_flight_;
        auto* lookup = new Lookup{this, a};
        const bool v4 = a.family == Family::V4;
        // The callback may run at once (/etc/hosts): it takes the lock, so not here.
        mutex_.unlock();
        ares_gethostbyaddr(channel_of(channel_), a.bytes.data(), v4 ? 4 : 16, v4 ? AF_INET : AF_INET6, &on_answer,
                           lookup);
        mutex_.lock();
    }
}

void ReverseResolver::on_answer(void* arg, int status, int, ::hostent* h) {
    auto* lookup = static_cast<Lookup*>(arg);
    ReverseResolver& self = *lookup->self;
    {
        std::lock_guard lock(self.mutex_);
        const bool found = status == ARES_SUCCESS && h && h->h_name && *h->h_name;
        if (status != ARES_EDESTRUCTION) {
            self.answers_.emplace_back(lookup->address, found ? h->h_name : "");
            self.answered_.store(true, std::memory_order_release);
            // NXDOMAIN and "no PTR record" are answers; a timeout, a refusal, no route
            // to the server are not.
            const bool answer = found || status == ARES_ENOTFOUND || status == ARES_ENODATA;
            ++(found ? self.counts_.named : answer ? self.counts_.unnamed : self.counts_.failed);
            self.failures_in_a_row_ = answer ? 0 : self.failures_in_a_row_ + 1;
            if (self.failures_in_a_row_ >= kGiveUp && !self.dead_.exchange(true)) {
                self.outstanding_ -= self.queued_.size();
                self.counts_.failed += self.queued_.size();
                self.queued_.clear();
            }
        }
        --self.in_flight_;
        --self.outstanding_;
    }
    self.idle_.notify_all();
    delete lookup;
}

void ReverseResolver::run() {
    ares_channel channel = channel_of(channel_);
    std::vector<pollfd> fds;
    while (!stop_.load(std::memory_order_acquire)) {
        start_waiting();
        ares_socket_t socks[ARES_GETSOCK_MAXNUM];
        const int bits = ares_getsock(channel, socks, ARES_GETSOCK_MAXNUM);
        fds.assign(1, pollfd{wake_fd_, POLLIN, 0});
        for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
            const short events = static_cast<short>((ARES_GETSOCK_READABLE(bits, i) ? POLLIN : 0) |
                                                    (ARES_GETSOCK_WRITABLE(bits, i) ? POLLOUT : 0));
            if (events) fds.push_back(pollfd{socks[i], events, 0});
        }
        timeval longest{1, 0}, tv{};
        const timeval* t = ares_timeout(channel, &longest, &tv);
        const int ms = static_cast<int>(t->tv_sec * 1000 + (t->tv_usec + 999) / 1000);
        if (poll(fds.data(), fds.size(), ms) < 0 && errno != EINTR) break;
        if (fds[0].revents) {
            std::uint64_t n;
            [[maybe_unused]] const ssize_t r = read(wake_fd_, &n, sizeof n);
        }
        bool any = false;
        for (std::size_t i = 1; i < fds.size(); ++i) {
            if (!fds[i].revents) continue;
            any = true;
            const bool readable = fds[i].revents & (POLLIN | POLLERR | POLLHUP);
            const bool writable = fds[i].revents & POLLOUT;
            ares_process_fd(channel, readable ? fds[i].fd : ARES_SOCKET_BAD, writable ? fds[i].fd : ARES_SOCKET_BAD);
        }
        if (!any) ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // timeouts
    }
    ares_destroy(channel);  // ends what is in flight (ARES_EDESTRUCTION)
    std::lock_guard lock(mutex_);
    outstanding_ -= queued_.size();
    queued_.clear();
    idle_.notify_all();
}

ReverseNames::ReverseNames(ResultSink& next, ReverseDnsMode mode, const std::vector<std::string>& servers)
    : next_(next), mode_(mode) {
    if (mode != ReverseDnsMode::Never) resolver_ = std::make_unique<ReverseResolver>(servers);
}

void ReverseNames::on_host(const HostStatus& h) {
    deliver();
    next_.on_host(h);
    if (!resolver_ || h.update || !(h.up || mode_ == ReverseDnsMode::All) || !resolver_->asking()) return;
    if (!waiting_.emplace(h.host, Status{h.up, h.reason}).second) return;  // asked already
    resolver_->ask(h.host);
}

void ReverseNames::on_result(const Result& r) {
    deliver();
    next_.on_result(r);
}

void ReverseNames::deliver() {
    if (!resolver_ || !resolver_->has_answers()) return;
    for (auto& [address, name] : resolver_->take()) {
        auto it = waiting_.find(address);
        if (it == waiting_.end()) continue;
        const Status found = it->second;
        waiting_.erase(it);
        if (name.empty()) continue;  // no name
        HostStatus update;  // the host, its state (as a record's host line has), and the name
        update.host = address;
        update.up = found.up;
        update.reason = found.reason;
        update.ptr_name = std::move(name);
        update.update = true;
        next_.on_host(update);
    }
}

void ReverseNames::report(std::size_t left) const {
    const auto c = resolver_->counts();
    if (!resolver_->asking())
        spdlog::warn("reverse DNS: the DNS servers answered none of {} lookups in a row, so no more were asked and "
                     "{} host(s) are left unnamed (-n skips reverse DNS; --dns-servers names other servers)",
                     ReverseResolver::kGiveUp, c.failed);
    else if (left > 0)
        spdlog::warn("reverse DNS: {} lookup(s) still unanswered 3 s after the scan; those hosts are left unnamed", left);
    spdlog::info("reverse DNS: {} host(s) named, {} with no name, {} lookup(s) unanswered", c.named, c.unnamed,
                 c.failed + left);
}

}  // namespace scanfw
