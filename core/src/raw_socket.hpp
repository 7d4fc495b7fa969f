// Raw IPv4/IPv6 sending in batches (sendmmsg), and the route's source address per target.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <unordered_map>

#include "scanfw/address.hpp"
#include "scanfw/packet.hpp"

namespace scanfw {

class RawSocket {
public:
    static constexpr std::size_t kBatch = 64;

    // Opens the IPv4 raw socket, and the IPv6 one where the kernel has IPv6.
    // Throws RuntimeError (EPERM: needs CAP_NET_RAW).
    RawSocket();
    ~RawSocket();
    RawSocket(const RawSocket&) = delete;
    RawSocket& operator=(const RawSocket&) = delete;

    // A slot to build the next packet in; commit() queues it, flush() sends the queue.
    std::span<std::uint8_t> slot() { return buffers_[count_]; }
    void commit(std::size_t len, const IpAddress& dst);
    bool full() const { return count_ == kBatch; }
    void flush();

    std::uint64_t sent() const { return sent_; }

private:
    void send_run(int fd, std::size_t from, std::size_t to);

    int fd4_ = -1, fd6_ = -1;
    std::size_t count_ = 0;
    std::uint64_t sent_ = 0;
    std::array<std::array<std::uint8_t, kMaxProbeSize>, kBatch> buffers_{};
    std::array<std::size_t, kBatch> lengths_{};
    std::array<sockaddr_storage, kBatch> addrs_{};
};

// The source address the kernel would use toward a target (a connected UDP socket's
// local address), cached.
class SourceRoutes {
public:
    std::optional<IpAddress> source_for(const IpAddress& dst);

private:
    std::unordered_map<IpAddress, IpAddress, IpAddressHash> cache_;
};

// A socket address for an IP address and port.
sockaddr_storage socket_address(const IpAddress& a, std::uint16_t port, socklen_t& len);

}  // namespace scanfw
