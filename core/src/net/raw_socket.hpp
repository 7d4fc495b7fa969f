// Raw IPv4/IPv6 sending in batches (sendmmsg), and the route's source address per target.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <span>
#include <thread>
#include <vector>
#include <cstdint>
#include <optional>

#include <absl/container/flat_hash_map.h>

#include "common/address.hpp"
#include "net/packet.hpp"

namespace scanfw {

// Sends on threads of its own: the engine fills a batch and hands it over with
// flush(), and goes on building the next while the kernel sends this one. On a
// veth the kernel does the target's and the answer's work inside the sending call,
// so that work is spread over the cores instead of waiting behind the engine's.
class RawSocket {
public:
    static constexpr std::size_t kBatch = 128;  // packets per sendmmsg
    static constexpr std::size_t kBatches = 8;  // handed over and not yet sent, at most

    // Opens the IPv4 raw socket, and the IPv6 one where the kernel has IPv6.
    // Throws RuntimeError (EPERM: needs CAP_NET_RAW).
    RawSocket();
    ~RawSocket();
    RawSocket(const RawSocket&) = delete;
    RawSocket& operator=(const RawSocket&) = delete;

    // A slot to build the next packet in; commit() queues it, flush() hands the
    // queue to the sending thread (waiting while kBatches are still unsent).
    // flush() rethrows what sending failed with (RuntimeError).
    std::span<std::uint8_t> slot() { return batches_[fill_].buffers[batches_[fill_].count]; }
    void commit(std::size_t len, const IpAddress& dst);
    bool full() const { return batches_[fill_].count == kBatch; }
    void flush();

    // Probes the kernel has taken so far.
    std::uint64_t sent() const { return sent_.load(std::memory_order_relaxed); }

private:
    struct Batch {
        std::size_t count = 0;
        std::array<std::array<std::uint8_t, kMaxProbeSize>, kBatch> buffers{};
        std::array<std::size_t, kBatch> lengths{};
        std::array<sockaddr_storage, kBatch> addrs{};
    };
    void sender();
    void send_batch(Batch& b);
    void send_run(int fd, Batch& b, std::size_t from, std::size_t to);

    int fd4_ = -1, fd6_ = -1;
    std::vector<Batch> batches_{kBatches};
    std::size_t fill_ = 0;  // the batch being filled
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<bool> busy_ = std::vector<bool>(kBatches);  // handed over, not yet sent
    std::deque<std::size_t> queue_;                           // handed over, not yet taken
    bool stopping_ = false;
    std::exception_ptr error_;
    std::atomic<std::uint64_t> sent_{0};
    std::vector<std::thread> threads_;
};

// The source address the kernel would use toward a target (a connected UDP socket's
// local address), cached.
class SourceRoutes {
public:
    std::optional<IpAddress> source_for(const IpAddress& dst);

private:
    absl::flat_hash_map<IpAddress, IpAddress, IpAddressHash> cache_;
};

// A socket address for an IP address and port.
sockaddr_storage socket_address(const IpAddress& a, std::uint16_t port, socklen_t& len);

}  // namespace scanfw
