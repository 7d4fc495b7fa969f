#include "targets/unrouted.hpp"

#include <algorithm>
#include <optional>

#include <spdlog/spdlog.h>

namespace scanfw {

void report_unrouted(TargetSource& targets, Routes& routes) {
    TargetSet chunk;
    std::optional<IpAddress> first, last;
    std::uint64_t count = 0;
    auto flush = [&] {
        if (first)
            spdlog::warn("{} - {}: no route, skipped ({} address{})", first->str(), last->str(), count, count == 1 ? "" : "es");
        first.reset();
        count = 0;
    };
    while (targets.next(chunk)) {
        for (std::uint64_t i = 0; i < chunk.size();) {
            const IpAddress a = chunk.at(i);
            // One lookup per /24 or /64 (Routes caches them): step over the block.
            const bool routed = routes.lookup(a).has_value();
            std::uint64_t step = 1;
            if (a.family == Family::V4) step = 256 - a.bytes[3];
            else step = std::uint64_t{1} << 16;
            step = std::min(step, chunk.size() - i);
            // The step must stay within one block of consecutive addresses.
            const IpAddress end = chunk.at(i + step - 1);
            if (!(a.family == end.family && (a.family == Family::V6 || (a.bytes[0] == end.bytes[0] && a.bytes[1] == end.bytes[1] &&
                                                                      a.bytes[2] == end.bytes[2]))))
                step = 1;
            if (!routed) {
                if (!first) first = a;
                last = chunk.at(i + step - 1);
                count += step;
            } else {
                flush();
            }
            i += step;
        }
    }
    flush();
    targets.rewind();
}

}  // namespace scanfw
