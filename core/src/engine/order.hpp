// The order of a scan: a keyed random permutation of targets x (technique, port), so
// that no host sees a burst of consecutive ports, the same seed gives the same order,
// and shard K of N takes every N-th element of it (as zmap does): the shards of one
// seed are disjoint and together are the whole scan.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <span>
#include <vector>

#include "engine/item.hpp"
#include "net/tag.hpp"
#include "targets/targets.hpp"

namespace scanfw {

// Shard `index` (1-based) of `count`.
struct Shard {
    std::uint32_t index = 1, count = 1;
    bool whole() const { return count == 1; }
};

// A keyed bijection of [0, n): a 4-round Feistel network on the next even power of
// two, with cycle walking. O(1) memory; the same key gives the same order. `ordered`:
// the identity instead (-r).
class Permutation {
public:
    Permutation(std::uint64_t n, const SipKey& key, bool ordered = false);
    std::uint64_t operator()(std::uint64_t i) const { return ordered_ ? i : walk(i); }
    std::uint64_t size() const { return n_; }

private:
    std::uint64_t n_;
    unsigned half_bits_;
    std::uint64_t half_mask_;
    SipKey key_;
    bool ordered_;
    std::uint64_t walk(std::uint64_t i) const;
    std::uint64_t encrypt(std::uint64_t x) const;
};

// The order key of a chunk of targets: a scan with --seed draws the same keys in
// every process (shards), one without draws its own.
SipKey order_key(const SipKey& seed_key, std::uint64_t chunk);
SipKey seed_key(std::uint64_t seed);

// Which unit the shards split: (host, port) pairs (-Pn: each pair in one shard), or
// hosts (with host discovery: each host, with all its ports, in one shard).
enum class ShardUnit : std::uint8_t { Pair, Host };

// The items of `hosts` x each job's ports, in the permutation's order; a shard's
// share only. `skip` drops items (excluded hosts, results a resumed scan has).
// `ordered` (-r): each (job, port) in turn over every host, so each host sees its ports
// in order.
class PairOrder final : public ItemSource {
public:
    using Skip = std::function<bool(const Item&)>;
    PairOrder(const TargetSet& hosts, std::span<const Job> jobs, std::span<const std::uint16_t> job_ids,
              const SipKey& key, Shard shard = {}, ShardUnit unit = ShardUnit::Pair, Skip skip = {},
              bool ordered = false);
    bool next(Item& out) override;
    bool finished() const override { return next_ >= perm_.size(); }
    std::uint64_t position() const override { return next_; }
    std::uint64_t total() const override { return perm_.size(); }

    // Whether a host (by its index in `hosts`) is in this shard (ShardUnit::Host).
    bool host_in_shard(std::uint64_t host_index) const;

private:
    const TargetSet& hosts_;
    std::vector<std::pair<std::uint16_t, std::uint16_t>> pairs_;  // (job, port) of each host
    Permutation perm_;
    Permutation host_perm_;
    Shard shard_;
    ShardUnit unit_;
    Skip skip_;
    bool ordered_;
    std::uint64_t next_ = 0;
};

}  // namespace scanfw
