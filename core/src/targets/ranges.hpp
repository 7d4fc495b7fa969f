// Sets of addresses as sorted, disjoint ranges of either family: what targets and
// exclusions reduce to, so that a target listed twice is scanned once and an excluded
// one is neither scanned nor counted.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "common/address.hpp"

namespace scanfw {

class AddressRanges {
public:
    struct Key {  // an address as a number, IPv4 before IPv6
        std::uint8_t family = 4;
        std::uint64_t hi = 0, lo = 0;
        auto operator<=>(const Key&) const = default;
    };
    static Key key_of(const IpAddress& a);
    static IpAddress address_of(const Key& k);
    static Key successor(Key k);
    static Key predecessor(Key k);

    void add(const IpAddress& first, const IpAddress& last);
    void add(Key lo, Key hi);  // both inclusive
    // Sorts and merges what was added (add() may leave them unsorted).
    void normalize();
    // These ranges without `other`'s (both normalized).
    void subtract(const AddressRanges& other);
    // These ranges and `other`'s (both normalized; stays normalized): a linear merge.
    void unite(const AddressRanges& other);
    bool contains(const IpAddress& a) const;  // normalized
    const std::vector<std::pair<Key, Key>>& ranges() const { return ranges_; }
    bool empty() const { return ranges_.empty(); }
    // Addresses in all ranges (saturates at UINT64_MAX).
    std::uint64_t count() const;

private:
    std::vector<std::pair<Key, Key>> ranges_;
};

}  // namespace scanfw
