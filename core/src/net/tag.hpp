// Keyed tags that let a stateless receiver tell answers to our probes from strays
// and forgeries (SipHash-2-4 over the probed endpoint), and a keyed random
// permutation of the scan order.
#pragma once

#include <array>
#include <cstdint>

#include "common/address.hpp"
#include "scanfw/plugin_api.hpp"

namespace scanfw {

using SipKey = std::array<std::uint64_t, 2>;

SipKey random_key();  // from getrandom()
std::uint64_t siphash24(const SipKey& key, const void* data, std::size_t len);

// Our side of one probe: the source port, sequence and acknowledgement numbers and
// IP id it carries. Derived from (key, target, port), so nothing is stored per probe.
struct ProbeTag {
    std::uint16_t sport;
    std::uint32_t seq, ack;
    std::uint16_t ip_id;
};

inline constexpr std::uint16_t kSourcePortBase = 61000;  // above Linux's ephemeral range
inline constexpr std::uint16_t kSourcePortCount = 4536;  // 61000-65535

class Tagger {
public:
    explicit Tagger(const SipKey& key) : key_(key) {}
    ProbeTag tag(const IpAddress& target, std::uint16_t port) const;

private:
    SipKey key_;
};

// A keyed bijection of [0, n): a 4-round Feistel network on the next even power of
// two, with cycle walking. O(1) memory; the same key gives the same order.
class Permutation {
public:
    Permutation(std::uint64_t n, const SipKey& key);
    std::uint64_t operator()(std::uint64_t i) const;
    std::uint64_t size() const { return n_; }

private:
    std::uint64_t n_;
    unsigned half_bits_;
    std::uint64_t half_mask_;
    SipKey key_;
    std::uint64_t encrypt(std::uint64_t x) const;
};

}  // namespace scanfw
