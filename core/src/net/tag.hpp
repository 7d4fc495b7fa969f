// Keyed tags that let a stateless receiver tell answers to our probes from strays and
// forgeries: SipHash-2-4 under a key drawn for each scan, over the technique, our
// address, the target and the port. A sibling shard or a second scanfw on the same
// machine has its own key, so it never takes our answers, nor we its.
#pragma once

#include <array>
#include <cstdint>

#include "common/address.hpp"
#include "scanfw/plugin_api.hpp"

namespace scanfw {

using SipKey = std::array<std::uint64_t, 2>;

SipKey random_key();  // from getrandom()
std::uint64_t siphash24(const SipKey& key, const void* data, std::size_t len);

// The numbers one probe carries: what the technique is offered (Tag) and the IP id
// the core sets itself.
struct ProbeTag {
    Tag fields;
    std::uint16_t ip_id = 0;
};

inline constexpr std::uint16_t kSourcePortBase = 61000;  // above Linux's ephemeral range
inline constexpr std::uint16_t kSourcePortCount = 4536;  // 61000-65535

class Tagger {
public:
    explicit Tagger(const SipKey& key) : key_(key) {}
    ProbeTag tag(std::uint16_t job, const IpAddress& ours, const IpAddress& target, std::uint16_t port) const;

private:
    SipKey key_;
};

}  // namespace scanfw
