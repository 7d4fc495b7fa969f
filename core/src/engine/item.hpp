// What the engine probes: an Item is one (technique, host, port) of the scan, a Job
// one technique with the ports it probes on every host.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "common/address.hpp"
#include "plugin/plugins.hpp"

namespace scanfw {

struct Item {
    IpAddress host;
    std::uint16_t port = 0;  // port, protocol number (Protocol::Ip) or a host technique's probe port
    std::uint16_t job = 0;   // the technique's index in the run's job list
    bool operator==(const Item&) const = default;
};

struct ItemHash {
    std::size_t operator()(const Item& k) const noexcept {
        return IpAddressHash{}(k.host) ^ ((std::uint64_t{k.port} << 16 | k.job) * 0x9e3779b97f4a7c15ull);
    }
};

struct Job {
    std::shared_ptr<const TechniqueInstance> technique;
    std::vector<std::uint16_t> ports;  // sorted: the scan's ports of its protocol, or its probe ports
    // Derived from the technique by make_job():
    State silence_state = State::Filtered;  // what silence after the last try means
    // The limited answers (bits of Limited: ICMP errors, RSTs) that conclude otherwise
    // than silence: their rate limits matter.
    std::uint8_t limited = 0;
    bool app_answers = false;   // applications answer (UDP services): wait for them
    bool connect = false;       // Carrier::Connect

    const Description& info() const { return technique->info(); }
    const std::string& name() const { return technique->name(); }
};

// A job for `technique` probing `ports` (its probe ports, for a host technique): asks
// the technique what silence and each ICMP error mean, once.
Job make_job(std::shared_ptr<const TechniqueInstance> technique, std::vector<std::uint16_t> ports);

// Where items come from, in scan order.
class ItemSource {
public:
    virtual ~ItemSource() = default;
    // The next item, or false when there is none now: finished(), or waiting for more
    // (the port scan of hosts discovery has not found up yet).
    virtual bool next(Item& out) = 0;
    virtual bool finished() const = 0;
    // For the progress line: items handed out, and how many there will be (0: unknown).
    virtual std::uint64_t position() const { return 0; }
    virtual std::uint64_t total() const { return 0; }
};

}  // namespace scanfw

namespace scanfw {

// Two sources as one: items of `first` (the port scan of hosts found up) before those
// of `second` (discovery), so that hosts found up do not pile up.
class MergedItems final : public ItemSource {
public:
    MergedItems(ItemSource& first, ItemSource& second) : first_(first), second_(second) {}
    bool next(Item& out) override { return first_.next(out) || second_.next(out); }
    bool finished() const override { return first_.finished() && second_.finished(); }
    std::uint64_t position() const override { return first_.position() + second_.position(); }
    std::uint64_t total() const override { return first_.total() + second_.total(); }

private:
    ItemSource& first_;
    ItemSource& second_;
};

}  // namespace scanfw
