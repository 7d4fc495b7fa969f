// Which probe a captured packet answers, checked against the probes' keyed tags before
// any technique sees it: TCP ports and sequence numbers, UDP ports, ICMP identifiers,
// and the IP id of a probe an ICMP error quotes. What has no room for a tag (ARP,
// neighbour advertisements, IP protocols other than TCP, UDP and ICMP) is matched by
// addresses and protocol alone; the engine then takes only what answers a probe in
// flight.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "engine/item.hpp"
#include "net/packet.hpp"
#include "net/tag.hpp"

namespace scanfw {

struct MatchJob {
    std::uint16_t id = 0;
    Protocol protocol = Protocol::Tcp;
    std::vector<std::uint16_t> icmp_ports;  // Icmp: the probe ports its probes are tagged with
};

struct Match {
    Item item;
    Reply::Kind kind = Reply::Kind::Silence;
};

class Matcher {
public:
    Matcher(const Tagger& tagger, std::vector<MatchJob> jobs) : tagger_(tagger), jobs_(std::move(jobs)) {}
    // Appends what `r` answers to `out`.
    void match(const Received& r, std::vector<Match>& out) const;

    // Whether an answer carries a probe's tag: exposed for tests and fuzzing.
    static bool tcp_answers(const Received& r, const ProbeTag& tag);

private:
    ProbeTag tag(const MatchJob& j, const IpAddress& ours, const IpAddress& target, std::uint16_t port) const {
        return tagger_.tag(j.id, ours, target, port);
    }
    void match_error(const Received& r, std::vector<Match>& out) const;
    const Tagger& tagger_;
    std::vector<MatchJob> jobs_;
};

}  // namespace scanfw
