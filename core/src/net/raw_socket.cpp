#include "net/raw_socket.hpp"

#include <arpa/inet.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <linux/if_packet.h>
#include <net/ethernet.h>

#include "common/errors.hpp"

namespace scanfw {

namespace {
int open_raw(int family) {
    const int fd = socket(family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);  // IPPROTO_RAW: we write the IP header
    if (fd < 0) {
        const int err = errno;
        if (err == EPERM || err == EACCES)
            throw RuntimeError(
                "raw sockets need CAP_NET_RAW: run as root (or give the binary cap_net_raw,cap_net_admin+ep), "
                "or use --plugin connect, which needs no privileges");
        if (family == AF_INET6 && err == EAFNOSUPPORT) return -1;  // no IPv6 here
        throw RuntimeError(fmt::format("cannot open a raw socket: {}", std::strerror(err)));
    }
    const int sndbuf = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    return fd;
}
}  // namespace

RawSocket::RawSocket() : fd4_(open_raw(AF_INET)), fd6_(open_raw(AF_INET6)) {
    // Protocol 0: this socket only sends, nothing is queued to it.
    link_ = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (link_ < 0) spdlog::debug("no packet socket (ARP and neighbour discovery unavailable): {}", std::strerror(errno));
}

void RawSocket::bind_to_interface(int ifindex) {
    for (const int fd : {fd4_, fd6_})
        if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_BINDTOIFINDEX, &ifindex, sizeof ifindex) != 0)
            throw RuntimeError(fmt::format("-e: cannot bind the raw socket to interface {}: {}", ifindex,
                                           std::strerror(errno)));
}

RawSocket::~RawSocket() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
    if (fd4_ >= 0) close(fd4_);
    if (fd6_ >= 0) close(fd6_);
    if (link_ >= 0) close(link_);
}

RawSocket::Mark RawSocket::commit(std::size_t len, const IpAddress& dst) {
    Batch& b = batches_[fill_];
    b.lengths[b.count] = len;
    socklen_t unused;
    b.addrs[b.count] = socket_address(dst, 0, unused);
    b.channels[b.count] = dst.family == Family::V4 ? Channel::V4 : Channel::V6;
    return {batch_no_, static_cast<std::uint16_t>(b.count++)};
}

RawSocket::Mark RawSocket::commit_link(std::size_t len, int ifindex, std::uint16_t ethertype,
                                       const std::array<std::uint8_t, 6>& mac) {
    Batch& b = batches_[fill_];
    b.lengths[b.count] = len;
    b.addrs[b.count] = {};
    auto& ll = reinterpret_cast<sockaddr_ll&>(b.addrs[b.count]);
    ll.sll_family = AF_PACKET;
    ll.sll_protocol = htons(ethertype);
    ll.sll_ifindex = ifindex;
    ll.sll_halen = 6;
    std::memcpy(ll.sll_addr, mac.data(), 6);
    b.channels[b.count] = Channel::Link;
    return {batch_no_, static_cast<std::uint16_t>(b.count++)};
}

void RawSocket::flush() {
    std::unique_lock lock(mu_);
    if (error_) std::rethrow_exception(error_);
    if (batches_[fill_].count == 0) return;
    // Started with the first packet, long after the socket was opened: a thread
    // started before the process dropped its privileges would keep them (Linux
    // capabilities are per thread).
    // Two sending threads where there are two cores: the kernel's work per packet
    // (on a veth, the target's too) then runs on both; more were slower on 2 cores.
    if (threads_.empty()) {
        const unsigned n = std::clamp(std::thread::hardware_concurrency(), 1u, 2u);
        for (unsigned i = 0; i < n; ++i) threads_.emplace_back([this] { sender(); });
    }
    busy_[fill_] = true;
    batches_[fill_].number = batch_no_;
    queue_.push_back(fill_);
    ++batch_no_;
    fill_ = (fill_ + 1) % kBatches;
    cv_.notify_all();
    cv_.wait(lock, [&] { return !busy_[fill_] || error_; });
    if (error_) std::rethrow_exception(error_);
}

void RawSocket::sender() {
    std::unique_lock lock(mu_);
    while (true) {
        cv_.wait(lock, [&] { return !queue_.empty() || stopping_ || error_; });
        if (queue_.empty() || error_) return;  // stopping with nothing left, or failed
        const std::size_t i = queue_.front();
        queue_.pop_front();
        lock.unlock();
        try {
            send_batch(batches_[i]);
        } catch (...) {
            lock.lock();
            error_ = std::current_exception();
            cv_.notify_all();
            return;
        }
        batches_[i].count = 0;
        lock.lock();
        busy_[i] = false;
        cv_.notify_all();
    }
}

std::optional<Clock::time_point> RawSocket::sent_at(Mark mark, Clock::time_point committed) const {
    const SendTime& t = send_times_[mark.batch % kSendTimes];
    const std::uint64_t before = t.batch.load(std::memory_order_acquire);
    // Not sent yet (or being sent): its slot holds an earlier batch. Sent so long ago
    // that its slot holds a later one: when it was queued is all there is.
    if (before != mark.batch) return before < mark.batch ? std::nullopt : std::optional(committed);
    const auto start = std::chrono::nanoseconds(t.start_ns.load(std::memory_order_relaxed));
    const auto end = std::chrono::nanoseconds(t.end_ns.load(std::memory_order_relaxed));
    const std::uint32_t count = t.count.load(std::memory_order_relaxed);
    if (t.batch.load(std::memory_order_acquire) != mark.batch) return committed;
    // The packets of a batch leave one after another in the call's time.
    const auto offset = count > 1 ? (end - start) * mark.index / count : std::chrono::nanoseconds{};
    return Clock::time_point(std::chrono::duration_cast<Clock::duration>(start + offset));
}

void RawSocket::send_batch(Batch& b) {
    const auto start = Clock::now().time_since_epoch();
    send_runs(b);
    const auto end = Clock::now().time_since_epoch();
    // The number last: a reader that sees it sees the times.
    SendTime& t = send_times_[b.number % kSendTimes];
    t.start_ns.store(std::chrono::duration_cast<std::chrono::nanoseconds>(start).count(), std::memory_order_relaxed);
    t.end_ns.store(std::chrono::duration_cast<std::chrono::nanoseconds>(end).count(), std::memory_order_relaxed);
    t.count.store(static_cast<std::uint32_t>(b.count), std::memory_order_relaxed);
    t.batch.store(b.number, std::memory_order_release);
}

void RawSocket::send_runs(Batch& b) {
    // One sendmmsg per run of packets of the same channel.
    std::size_t from = 0;
    while (from < b.count) {
        const Channel channel = b.channels[from];
        std::size_t to = from;
        while (to < b.count && b.channels[to] == channel) ++to;
        const int fd = channel == Channel::V4 ? fd4_ : channel == Channel::V6 ? fd6_ : link_;
        if (fd < 0)
            throw RuntimeError(channel == Channel::V6 ? "cannot send IPv6 probes: this kernel has no IPv6"
                                                      : "cannot send ARP or neighbour discovery: no packet socket");
        send_run(fd, b, from, to);
        from = to;
    }
    sent_.fetch_add(b.count, std::memory_order_relaxed);
}

void RawSocket::send_run(int fd, Batch& b, std::size_t from, std::size_t to) {
    std::array<mmsghdr, kBatch> msgs{};
    std::array<iovec, kBatch> iovs{};
    for (std::size_t i = from; i < to; ++i) {
        iovs[i] = {b.buffers[i].data(), b.lengths[i]};
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &b.addrs[i];
        msgs[i].msg_hdr.msg_namelen = b.channels[i] == Channel::V4   ? sizeof(sockaddr_in)
                                      : b.channels[i] == Channel::V6 ? sizeof(sockaddr_in6)
                                                                     : sizeof(sockaddr_ll);
    }
    std::size_t done = from;
    int stalls = 0;
    while (done < to) {
        const int n = sendmmsg(fd, msgs.data() + done, static_cast<unsigned>(to - done), 0);
        if (n > 0) {
            done += static_cast<std::size_t>(n);
            continue;
        }
        if (errno == EINTR) continue;
        if ((errno == ENOBUFS || errno == EAGAIN) && ++stalls < 100) {
            std::this_thread::sleep_for(std::chrono::microseconds(100));
            continue;
        }
        // A probe the kernel refuses (no route, EPERM from a local firewall) is
        // treated as sent and lost: its retries and timeout still run.
        spdlog::debug("sendmmsg: {}; skipping one probe", std::strerror(errno));
        ++done;
    }
}

}  // namespace scanfw
