#include "targets/ranges.hpp"

#include <algorithm>
#include <limits>

namespace scanfw {

AddressRanges::Key AddressRanges::key_of(const IpAddress& a) {
    if (a.family == Family::V4) return {4, 0, a.v4_host_order()};
    Key k{6, 0, 0};
    for (std::size_t i = 0; i < 8; ++i) k.hi = k.hi << 8 | a.bytes[i];
    for (std::size_t i = 8; i < 16; ++i) k.lo = k.lo << 8 | a.bytes[i];
    return k;
}

IpAddress AddressRanges::address_of(const Key& k) {
    if (k.family == 4) return IpAddress::v4(static_cast<std::uint32_t>(k.lo));
    IpAddress a;
    a.family = Family::V6;
    for (int i = 7; i >= 0; --i) a.bytes[static_cast<std::size_t>(7 - i)] = static_cast<std::uint8_t>(k.hi >> (8 * i));
    for (int i = 7; i >= 0; --i) a.bytes[static_cast<std::size_t>(15 - i)] = static_cast<std::uint8_t>(k.lo >> (8 * i));
    return a;
}

AddressRanges::Key AddressRanges::successor(Key k) {
    if (++k.lo == 0) ++k.hi;
    return k;
}

AddressRanges::Key AddressRanges::predecessor(Key k) {
    if (k.lo-- == 0) --k.hi;
    return k;
}

void AddressRanges::add(const IpAddress& first, const IpAddress& last) { add(key_of(first), key_of(last)); }

void AddressRanges::add(Key lo, Key hi) { ranges_.emplace_back(lo, hi); }

void AddressRanges::normalize() {
    std::sort(ranges_.begin(), ranges_.end());
    std::vector<std::pair<Key, Key>> merged;
    for (const auto& r : ranges_) {
        if (!merged.empty() && merged.back().second.family == r.first.family &&
            (r.first <= merged.back().second || r.first == successor(merged.back().second)))
            merged.back().second = std::max(merged.back().second, r.second);
        else merged.push_back(r);
    }
    ranges_ = std::move(merged);
}

void AddressRanges::unite(const AddressRanges& other) {
    std::vector<std::pair<Key, Key>> out;
    out.reserve(ranges_.size() + other.ranges_.size());
    auto a = ranges_.cbegin(), b = other.ranges_.cbegin();
    auto take = [&out](const std::pair<Key, Key>& r) {
        // Overlapping or adjacent to the last one: extend it.
        if (!out.empty() && out.back().second.family == r.first.family &&
            (r.first <= out.back().second || successor(out.back().second) == r.first)) {
            if (out.back().second < r.second) out.back().second = r.second;
        } else {
            out.push_back(r);
        }
    };
    while (a != ranges_.cend() || b != other.ranges_.cend()) {
        if (b == other.ranges_.cend() || (a != ranges_.cend() && a->first < b->first)) take(*a++);
        else take(*b++);
    }
    ranges_ = std::move(out);
}

void AddressRanges::subtract(const AddressRanges& other) {
    std::vector<std::pair<Key, Key>> out;
    auto ex = other.ranges_.begin();
    for (auto [lo, hi] : ranges_) {
        while (ex != other.ranges_.end() && ex->second < lo) ++ex;
        auto e = ex;
        bool gone = false;
        while (e != other.ranges_.end() && e->first <= hi) {
            if (e->first > lo) out.emplace_back(lo, predecessor(e->first));
            if (e->second >= hi) {
                gone = true;
                break;
            }
            lo = successor(e->second);
            ++e;
        }
        if (!gone) out.emplace_back(lo, hi);
    }
    ranges_ = std::move(out);
}

bool AddressRanges::contains(const IpAddress& a) const {
    const Key k = key_of(a);
    auto it = std::upper_bound(ranges_.begin(), ranges_.end(), k,
                               [](const Key& v, const std::pair<Key, Key>& r) { return v < r.first; });
    return it != ranges_.begin() && k <= std::prev(it)->second;
}

std::uint64_t AddressRanges::count() const {
    std::uint64_t n = 0;
    for (const auto& [lo, hi] : ranges_) {
        if (hi.hi != lo.hi && hi.hi - lo.hi > 1) return std::numeric_limits<std::uint64_t>::max();
        const std::uint64_t len = hi.lo - lo.lo + 1;  // wraps correctly across one hi step
        if (len == 0 || n > std::numeric_limits<std::uint64_t>::max() - len) return std::numeric_limits<std::uint64_t>::max();
        n += len;
    }
    return n;
}

}  // namespace scanfw
