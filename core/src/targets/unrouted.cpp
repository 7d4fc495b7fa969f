#include "targets/unrouted.hpp"

#include <algorithm>
#include <vector>

#include <spdlog/spdlog.h>

#include "targets/ranges.hpp"

namespace scanfw {

namespace {

using Key = AddressRanges::Key;

struct Segment {  // consecutive unrouted target addresses
    Key first, last;
    std::uint64_t count = 0;
};

// Whether [a, b] holds exactly n consecutive addresses.
bool consecutive(const Key& a, const Key& b, std::uint64_t n) {
    if (a.family != b.family || a.hi != b.hi || b.lo < a.lo) return false;
    return b.lo - a.lo == n - 1;
}

constexpr std::size_t kMaxLines = 20;

}  // namespace

void report_unrouted(TargetSource& targets, Routes& routes) {
    std::vector<Segment> segments;
    TargetSet chunk;
    while (targets.next(chunk)) {
        for (std::uint64_t i = 0; i < chunk.size();) {
            const IpAddress a = chunk.at(i);
            // One lookup per /24 or /64 (Routes caches them by those): step over the
            // rest of the block when the chunk holds it as one run of addresses.
            std::uint64_t step = a.family == Family::V4 ? 256 - a.bytes[3] : std::uint64_t{1} << 16;
            step = std::min(step, chunk.size() - i);
            const Key first = AddressRanges::key_of(a);
            Key last = AddressRanges::key_of(chunk.at(i + step - 1));
            if (!consecutive(first, last, step)) {
                step = 1;
                last = first;
            }
            if (!routes.lookup(a)) {
                if (!segments.empty() && AddressRanges::successor(segments.back().last) == first &&
                    segments.back().last < first) {
                    segments.back().last = last;
                    segments.back().count += step;
                } else {
                    segments.push_back({first, last, step});
                }
            }
            i += step;
        }
    }
    targets.rewind();
    if (segments.empty()) return;

    // In address order, neighbours joined.
    std::sort(segments.begin(), segments.end(), [](const Segment& x, const Segment& y) { return x.first < y.first; });
    std::vector<Segment> joined;
    std::uint64_t total = 0;
    for (const Segment& s : segments) {
        total += s.count;
        if (!joined.empty() && AddressRanges::successor(joined.back().last) == s.first) {
            joined.back().last = s.last;
            joined.back().count += s.count;
        } else {
            joined.push_back(s);
        }
    }
    auto plural = [](std::uint64_t n) { return n == 1 ? "address" : "addresses"; };
    for (std::size_t k = 0; k < joined.size() && k < kMaxLines; ++k) {
        const Segment& s = joined[k];
        spdlog::warn("{} - {}: no route, skipped ({} {})", AddressRanges::address_of(s.first).str(),
                     AddressRanges::address_of(s.last).str(), s.count, plural(s.count));
    }
    if (joined.size() > kMaxLines)
        spdlog::warn("... and {} more ranges with no route: {} {} skipped in all", joined.size() - kMaxLines, total,
                     plural(total));
}

}  // namespace scanfw
