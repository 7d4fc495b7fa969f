#include "engine/order.hpp"

namespace scanfw {

Permutation::Permutation(std::uint64_t n, const SipKey& key, bool ordered) : n_(n), key_(key), ordered_(ordered) {
    unsigned bits = 2;
    while (bits < 64 && (std::uint64_t{1} << bits) < n) bits += 2;
    half_bits_ = bits / 2;
    half_mask_ = (std::uint64_t{1} << half_bits_) - 1;
}

std::uint64_t Permutation::encrypt(std::uint64_t x) const {
    std::uint64_t left = x >> half_bits_, right = x & half_mask_;
    for (std::uint64_t round = 0; round < 4; ++round) {
        const std::uint64_t in[2] = {round, right};
        const std::uint64_t f = siphash24(key_, in, sizeof in) & half_mask_;
        const std::uint64_t next = left ^ f;
        left = right;
        right = next;
    }
    return (left << half_bits_) | right;
}

std::uint64_t Permutation::walk(std::uint64_t i) const {
    // Cycle walking: the domain is at most 4n, so this takes a few steps on average.
    std::uint64_t x = encrypt(i);
    while (x >= n_) x = encrypt(x);
    return x;
}

SipKey seed_key(std::uint64_t seed) {
    const SipKey fixed{0x7363616e66772d31ull, 0x736565642d6b6579ull};  // "scanfw-1", "seed-key"
    return {siphash24(fixed, &seed, sizeof seed), siphash24({fixed[1], fixed[0]}, &seed, sizeof seed)};
}

SipKey order_key(const SipKey& seed, std::uint64_t chunk) {
    const std::uint64_t in[2] = {chunk, 0x6f72646572ull};  // "order"
    const std::uint64_t in2[2] = {chunk, 0x686f737473ull};  // "hosts"
    return {siphash24(seed, in, sizeof in), siphash24(seed, in2, sizeof in2)};
}

PairOrder::PairOrder(const TargetSet& hosts, std::span<const Job> jobs, std::span<const std::uint16_t> job_ids,
                     const SipKey& key, Shard shard, ShardUnit unit, Skip skip, bool ordered)
    : hosts_(hosts),
      pairs_([&] {
          std::vector<std::pair<std::uint16_t, std::uint16_t>> pairs;
          for (std::uint16_t id : job_ids)
              for (std::uint16_t port : jobs[id].ports) pairs.emplace_back(id, port);
          return pairs;
      }()),
      perm_(hosts.size() * pairs_.size(), key, ordered),
      host_perm_(hosts.size(), SipKey{key[1], key[0]}),
      shard_(shard),
      unit_(unit),
      skip_(std::move(skip)),
      ordered_(ordered) {
    // A pair shard starts at its own offset and steps by the shard count.
    if (unit_ == ShardUnit::Pair) next_ = shard_.index - 1;
}

bool PairOrder::host_in_shard(std::uint64_t host_index) const {
    return shard_.whole() || host_perm_(host_index) % shard_.count == shard_.index - 1;
}

bool PairOrder::next(Item& out) {
    const std::uint64_t step = unit_ == ShardUnit::Pair ? shard_.count : 1;
    while (next_ < perm_.size()) {
        const std::uint64_t i = perm_(next_);
        next_ += step;
        const std::uint64_t h = ordered_ ? i % hosts_.size() : i / pairs_.size();
        if (unit_ == ShardUnit::Host && !host_in_shard(h)) continue;
        const auto& [job, port] = pairs_[ordered_ ? i / hosts_.size() : i % pairs_.size()];
        out = Item{hosts_.at(h), port, job};
        if (!skip_ || !skip_(out)) return true;
    }
    return false;
}

}  // namespace scanfw
