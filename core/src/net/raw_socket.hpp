// Raw IPv4/IPv6 packets and Ethernet frames (ARP, neighbour discovery), sent in
// batches with sendmmsg.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>
#include <cstdint>
#include <optional>

#include <absl/container/flat_hash_map.h>

#include "common/address.hpp"
#include "net/packet.hpp"
#include "net/packet_ends.hpp"
#include "net/socket_address.hpp"

namespace scanfw {

// Sends on threads of its own: the engine fills a batch and hands it over with
// flush(), and goes on building the next while the kernel sends this one. On a
// veth the kernel does the target's and the answer's work inside the sending call,
// so that work is spread over the cores instead of waiting behind the engine's.
class RawSocket final : public PacketSender {
public:
    static constexpr std::size_t kBatch = 128;  // packets per sendmmsg
    static constexpr std::size_t kBatches = 8;  // handed over and not yet sent, at most

    // Where a packet goes: the IPv4 or IPv6 raw socket (we write the IP header), or
    // the packet socket (the kernel writes the Ethernet header from a sockaddr_ll).
    enum class Channel : std::uint8_t { V4, V6, Link };

    // Opens the IPv4 raw socket, the IPv6 one where the kernel has IPv6, and a packet
    // socket. Throws RuntimeError (EPERM: needs CAP_NET_RAW).
    RawSocket();
    ~RawSocket() override;
    // -e: every IP packet leaves through this interface, whatever the routing table says
    // (a packet to a link-layer address names its interface anyway). Throws RuntimeError.
    void bind_to_interface(int ifindex);
    RawSocket(const RawSocket&) = delete;
    RawSocket& operator=(const RawSocket&) = delete;

    // flush() hands the queue to a sending thread (waiting while kBatches are still
    // unsent) and rethrows what sending failed with (RuntimeError). A batch leaves in
    // one system call per channel, in order.
    std::span<std::uint8_t> slot() override { return batches_[fill_].buffers[batches_[fill_].count]; }
    Mark commit(std::size_t len, const IpAddress& dst) override;
    Mark commit_link(std::size_t len, int ifindex, std::uint16_t ethertype,
                     const std::array<std::uint8_t, 6>& mac) override;
    bool full() const override { return batches_[fill_].count == kBatch; }
    void flush() override;
    std::uint64_t sent() const override { return sent_.load(std::memory_order_relaxed); }
    std::optional<Clock::time_point> sent_at(Mark mark, Clock::time_point committed) const override;

private:
    struct Batch {
        std::uint64_t number = 0;
        std::size_t count = 0;
        std::array<std::array<std::uint8_t, kMaxProbeSize>, kBatch> buffers{};
        std::array<std::size_t, kBatch> lengths{};
        std::array<sockaddr_storage, kBatch> addrs{};
        std::array<Channel, kBatch> channels{};
    };
    void sender();
    void send_batch(Batch& b);
    void send_runs(Batch& b);
    void send_run(int fd, Batch& b, std::size_t from, std::size_t to);

    int fd4_ = -1, fd6_ = -1, link_ = -1;
    std::uint64_t batch_no_ = 1;  // of the batch being filled
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
    // When the latest batches went (sending threads write, the engine reads): the
    // batch number is written last and read first and again, so a slot being
    // rewritten is seen as forgotten.
    struct SendTime {
        std::atomic<std::uint64_t> batch{0};
        std::atomic<std::int64_t> start_ns{0}, end_ns{0};
        std::atomic<std::uint32_t> count{0};
    };
    static constexpr std::size_t kSendTimes = 4096;
    std::unique_ptr<SendTime[]> send_times_ = std::make_unique<SendTime[]>(kSendTimes);
};

}  // namespace scanfw
