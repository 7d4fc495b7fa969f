// Targets: IPv4/IPv6 literals, CIDR blocks, nmap-style octet ranges
// (198.18.0.1-20, 198.18.1-2.*), and hostnames (resolved once, when parsed).
// A TargetSet enumerates its addresses by index without storing them all.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/address.hpp"
#include "targets/ports.hpp"
#include "targets/ranges.hpp"

namespace scanfw {

class TargetSet {
public:
    // Throws InputError naming the bad target.
    void add(std::string_view spec);
    std::uint64_t size() const { return total_; }
    IpAddress at(std::uint64_t index) const;  // 0 <= index < size()
    bool empty() const { return total_ == 0; }
    // Off: a hostname is an InputError instead of a DNS lookup, so nothing is sent
    // anywhere (the fuzzer uses this). Literals, CIDR blocks and ranges are not affected.
    void set_resolve(bool on) { resolve_ = on; }
    // Hostnames added from now on resolve to this family only (-4, -6); by default
    // to their first IPv4 address, else their first IPv6 one. Literals are not affected.
    void set_name_family(std::optional<Family> only) { name_family_ = only; }
    // On: a name that does not resolve is a warning ("Failed to resolve"), as in nmap,
    // and is left out; off: an InputError.
    void set_lenient(bool on) { lenient_ = on; }

    // Targets listed twice become one, and excluded ones go: the set becomes sorted,
    // disjoint ranges (blocks too irregular to expand, some octet ranges, are kept as
    // they are). size() then counts the addresses that will be scanned.
    void normalize(const AddressRanges* excluded);
    // The addresses of a normalized set, as ranges, into `out` (normalized after).
    // Octet ranges too irregular to hold as ranges are left out.
    void ranges_into(AddressRanges& out) const;
    // The name the user gave for an address, or empty.
    std::string name_of(const IpAddress& a) const;
    bool has_names() const { return !names_.empty(); }

private:
    // One block: consecutive addresses of either family (a literal, a CIDR block,
    // an IPv6 prefix, a resolved host), or an nmap octet range where each of the
    // 4 octets takes a set of values ("1,3,5-7", "*"), the last octet varying fastest.
    struct Block {
        enum class Kind { Count, Octets } kind = Kind::Count;
        IpAddress base;           // Count: first address
        std::uint64_t count = 1;  // Count: how many consecutive addresses
        std::array<std::vector<std::uint8_t>, 4> octets;  // Octets: each octet's values, ascending
        std::uint64_t size() const;
        IpAddress at(std::uint64_t i) const;
    };
    std::vector<Block> blocks_;
    std::vector<std::uint64_t> starts_;  // cumulative index of each block
    std::uint64_t total_ = 0;
    bool resolve_ = true;
    std::optional<Family> name_family_;
    bool lenient_ = false;
    std::vector<std::pair<IpAddress, std::string>> names_;  // resolved hostnames
    void push(const Block& b);
};

}  // namespace scanfw
