// --resume: which items the record of an interrupted scan holds a result for, so that
// they are not scanned again. Kept as bits over each technique's port list per host:
// a resumed scan of 16 million items needs a few MB, not a set of 16 million keys.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include <absl/container/flat_hash_map.h>

#include "engine/item.hpp"

namespace scanfw {

class DoneItems {
public:
    explicit DoneItems(std::span<const Job> jobs) : jobs_(jobs), bits_(jobs.size()) {}
    // false when the technique or port is not one of this scan's.
    bool add(std::string_view technique, const IpAddress& host, std::uint16_t port);
    bool done(const Item& item) const;
    std::uint64_t size() const { return count_; }
    bool empty() const { return count_ == 0; }

private:
    std::span<const Job> jobs_;
    std::vector<absl::flat_hash_map<IpAddress, std::vector<std::uint64_t>, IpAddressHash>> bits_;  // per job
    std::uint64_t count_ = 0;
};

}  // namespace scanfw
