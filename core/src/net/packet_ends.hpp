// The two ends PacketIo works through: a sender of raw packets in batches, and a
// capture of what comes back. RawSocket and Capture are the real ones; the scan
// simulation (tests/sim/) has its own, so that everything above them runs unchanged
// on a simulated network.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/address.hpp"
#include "common/clock.hpp"
#include "engine/io.hpp"
#include "net/matcher.hpp"

namespace scanfw {

class PacketSender {
public:
    // A packet's batch (a number that grows with every flush) and place in it: a batch
    // leaves in order.
    struct Mark {
        std::uint64_t batch;
        std::uint16_t index;
    };
    virtual ~PacketSender() = default;
    // A slot to build the next packet in; commit() queues it, flush() sends the queue.
    virtual std::span<std::uint8_t> slot() = 0;
    virtual Mark commit(std::size_t len, const IpAddress& dst) = 0;
    virtual Mark commit_link(std::size_t len, int ifindex, std::uint16_t ethertype,
                             const std::array<std::uint8_t, 6>& mac) = 0;
    virtual bool full() const = 0;
    virtual void flush() = 0;
    // Packets handed to the kernel so far.
    virtual std::uint64_t sent() const = 0;
    // When the packet at `mark` left (its batch's send, interpolated by its place in
    // it); nullopt while its batch has not gone yet. A packet sent so long ago that
    // its batch's time is forgotten gives `committed`, when the engine queued it.
    virtual std::optional<Clock::time_point> sent_at(Mark mark, Clock::time_point committed) const = 0;
};

class PacketCapture {
public:
    virtual ~PacketCapture() = default;
    // Begins capturing what `filter` (BPF) lets in, matched by `matcher`.
    virtual void start(const std::string& filter, const Matcher& matcher) = 0;
    virtual void stop() = 0;
    // Appends the answers queued, and returns the capture's horizon: every packet that
    // reached this host before it is among the answers taken so far (the capture is
    // behind by its block timeout, and by any time its thread did not run).
    virtual Clock::time_point take(std::vector<Answer>& out) = 0;
    virtual int event_fd() const = 0;
    virtual std::uint64_t packets_dropped() const = 0;
};

}  // namespace scanfw
