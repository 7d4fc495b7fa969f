// How probes go out and answers come back, as the scheduler sees it: PacketIo (raw IP
// packets and link frames, answers from the capture), ConnectIo (connect() over
// epoll), or a simulated network in the engine's unit tests.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "engine/item.hpp"

namespace scanfw {

inline constexpr std::size_t kSnapLen = 256;  // bytes of each answer kept (headers, quotes)

// Where a try went: its send batch and its place in it.
struct SendMark {
    std::uint64_t batch = 0;
    std::uint16_t index = 0;
};

// An answer matched to an item, with the bytes its Reply points into.
struct Answer {
    Item item;
    Clock::time_point at{};         // when it reached this host (the kernel's time); {}: unknown
    IpAddress ours;                 // the address it came to: which source it answers
    std::optional<MacAddress> mac;  // the sender's link-layer address
    Reply fields;                   // the reply without its spans (see view())
    std::uint16_t len = 0, transport = 0, payload = 0, quoted = 0;  // offsets in bytes; quoted 0: none
    std::array<std::uint8_t, kSnapLen> bytes{};

    // The reply as a technique reads it, its spans into `bytes`.
    Reply view() const {
        Reply r = fields;
        const std::span<const std::uint8_t> all(bytes.data(), len);
        r.packet = all;
        if (transport <= len) r.transport = all.subspan(transport);
        if (payload <= len) r.payload = all.subspan(payload);
        if (quoted && quoted <= len) r.quoted = all.subspan(quoted);
        return r;
    }
};

class ProbeIo {
public:
    virtual ~ProbeIo() = default;
    // A run of these techniques starts / ends (capture filter, matching).
    virtual void begin(std::span<const Job> jobs) = 0;
    virtual void end() = 0;
    // Queues one try of `item` from `source`; false when it cannot go now (out of
    // descriptors): the engine tries again later. Fills where it went.
    virtual bool send(const Job& job, const Item& item, const IpAddress& source, SendMark& mark) = 0;
    // Hands what is queued to the kernel; the next send starts a new batch.
    virtual void flush() = 0;
    // A try timed out: let go of what it holds (a connecting socket).
    virtual void forget(const Item&) {}
    // Appends the answers that have come.
    virtual void take_ready(std::vector<Answer>& out) = 0;
    // Readable when take_ready() has something (for poll()).
    virtual int wait_fd() const = 0;
    virtual std::uint64_t sent() const = 0;
    virtual std::uint64_t dropped() const { return 0; }  // answers the capture lost
    // When the try at `mark`, queued at `committed`, left; nullopt while it has not yet
    // (it waits in a send queue).
    virtual std::optional<Clock::time_point> sent_at(const SendMark&, Clock::time_point committed) const {
        return committed;
    }
    // Every answer that reached this host before this time has been handed over by
    // take_ready() (an answer may wait in a capture buffer for a while): silence
    // before it is real.
    virtual Clock::time_point horizon() const { return Clock::time_point::max(); }
    // How far the horizon usually trails the present: silence is looked at this much
    // after a try's deadline, when the horizon has passed it.
    virtual Clock::duration horizon_lag() const { return {}; }
};

}  // namespace scanfw
