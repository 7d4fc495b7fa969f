// Shards (issue 14): for many target sets (with duplicates and exclusions), port lists
// and N, the N shards of one seed are disjoint and together are exactly the whole
// scan, for both shard units (pairs with -Pn, hosts with discovery); the same seed
// gives the same order, another seed another.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <tuple>

#include "engine/order.hpp"
#include "plugin/plugins.hpp"
#include "targets/ranges.hpp"
#include "targets/targets.hpp"

namespace scanfw {
namespace {

std::shared_ptr<const TechniqueInstance> technique(const char* name) {
    static PluginRegistry registry({SCANFW_TEST_PLUGIN_DIR});
    return registry.load(name)->configure();
}

using Key = std::tuple<std::string, std::uint16_t, std::uint16_t>;  // host, job, port

std::vector<Key> items_of(const TargetSet& hosts, const std::vector<Job>& jobs, const SipKey& key, Shard shard,
                          ShardUnit unit) {
    std::vector<std::uint16_t> ids;
    for (std::uint16_t i = 0; i < jobs.size(); ++i) ids.push_back(i);
    PairOrder order(hosts, jobs, ids, key, shard, unit);
    std::vector<Key> out;
    Item item;
    while (order.next(item)) out.emplace_back(item.host.str(), item.job, item.port);
    EXPECT_TRUE(order.finished());
    return out;
}

struct Case {
    std::vector<const char*> targets;
    std::vector<const char*> excluded;  // "first-last"
    std::vector<std::uint16_t> tcp, udp;
};

TEST(Shards, DisjointAndCoverTheWholeScan) {
    const std::vector<Case> cases = {
        {{"198.18.0.0/28"}, {}, {22, 80, 443}, {53}},
        {{"198.18.0.0/24", "198.18.0.7", "198.18.0.0/28"}, {"198.18.0.16-198.18.0.40"}, {1, 2, 3, 4, 5}, {}},
        {{"198.18.1-3.1-9", "2001:db8::/124"}, {"2001:db8::3-2001:db8::5"}, {22}, {161, 162}},
        {{"198.18.0.1"}, {}, {22, 23, 24, 25, 26, 27, 28}, {}},
        {{"198.18.0.0/22"}, {"198.18.1.0-198.18.2.255"}, {80}, {}},
    };
    for (const Case& c : cases) {
        TargetSet hosts;
        for (const char* t : c.targets) hosts.add(t);
        AddressRanges excluded;
        for (const char* e : c.excluded) {
            const std::string s = e;
            const auto dash = s.find('-');
            excluded.add(*IpAddress::parse(s.substr(0, dash)), *IpAddress::parse(s.substr(dash + 1)));
        }
        excluded.normalize();
        hosts.normalize(&excluded);
        std::vector<Job> jobs = {make_job(technique("syn"), c.tcp)};
        if (!c.udp.empty()) jobs.push_back(make_job(technique("udp"), c.udp));

        // The whole scan, unsharded: every (host, job, port) once, no excluded host.
        const SipKey key = order_key(seed_key(7), 0);
        const auto whole = items_of(hosts, jobs, key, {}, ShardUnit::Pair);
        const std::set<Key> all(whole.begin(), whole.end());
        ASSERT_EQ(all.size(), whole.size());
        std::size_t expected = 0;
        for (const Job& j : jobs) expected += j.ports.size();
        ASSERT_EQ(whole.size(), expected * hosts.size());
        for (const auto& [host, job, port] : all)
            ASSERT_FALSE(excluded.contains(*IpAddress::parse(host))) << host << " is excluded";

        for (ShardUnit unit : {ShardUnit::Pair, ShardUnit::Host})
            for (std::uint32_t n : {1u, 2u, 3u, 4u, 7u, 16u}) {
                std::map<Key, int> seen;
                std::map<std::string, std::set<std::uint32_t>> shards_of_host;
                for (std::uint32_t k = 1; k <= n; ++k)
                    for (const Key& item : items_of(hosts, jobs, key, {k, n}, unit)) {
                        ++seen[item];
                        shards_of_host[std::get<0>(item)].insert(k);
                    }
                SCOPED_TRACE(testing::Message() << c.targets[0] << " N=" << n
                                                << (unit == ShardUnit::Host ? " by host" : " by pair"));
                EXPECT_EQ(seen.size(), all.size());  // together: the whole
                for (const auto& [item, times] : seen) {
                    EXPECT_EQ(times, 1) << std::get<0>(item) << " port " << std::get<2>(item);  // disjoint
                    EXPECT_TRUE(all.contains(item));
                }
                if (unit == ShardUnit::Host)  // a host and all its ports in one shard
                    for (const auto& [host, shards] : shards_of_host) EXPECT_EQ(shards.size(), 1u) << host;
            }
    }
}

// -r: each (job, port) in turn over every host, ports ascending, whatever the key; the
// shards of an ordered scan are still disjoint and whole. Without it the order is not
// ascending (a keyed permutation of 4 x 64 items is the identity with chance 1/256!).
TEST(Shards, SequentialPortsComeInOrder) {
    TargetSet hosts;
    hosts.add("198.18.0.0/26");
    hosts.normalize(nullptr);
    const std::vector<Job> jobs = {make_job(technique("syn"), {22, 80, 443, 8080})};
    const auto ordered_items = [&](Shard shard) {
        PairOrder order(hosts, jobs, std::vector<std::uint16_t>{0}, order_key(seed_key(5), 0), shard, ShardUnit::Pair,
                        {}, true);
        std::vector<Key> out;
        Item item;
        while (order.next(item)) out.emplace_back(item.host.str(), item.job, item.port);
        return out;
    };
    const auto all = ordered_items({});
    ASSERT_EQ(all.size(), 4u * 64u);
    std::map<std::string, std::vector<std::uint16_t>> ports_of;
    for (const auto& [host, job, port] : all) ports_of[host].push_back(port);
    ASSERT_EQ(ports_of.size(), 64u);
    for (const auto& [host, ports] : ports_of) EXPECT_EQ(ports, (std::vector<std::uint16_t>{22, 80, 443, 8080})) << host;
    EXPECT_EQ(std::get<0>(all[0]), "198.18.0.0");
    EXPECT_EQ(std::get<0>(all[1]), "198.18.0.1");  // the hosts interleaved, not one host's ports in a burst
    std::set<Key> sharded;
    for (std::uint32_t k = 1; k <= 3; ++k)
        for (const Key& item : ordered_items({k, 3})) EXPECT_TRUE(sharded.insert(item).second);
    EXPECT_EQ(sharded, std::set<Key>(all.begin(), all.end()));
    const auto random = items_of(hosts, jobs, order_key(seed_key(5), 0), {}, ShardUnit::Pair);
    EXPECT_NE(random, all);
}

TEST(Shards, TheSameSeedGivesTheSameOrder) {
    TargetSet hosts;
    hosts.add("198.18.0.0/26");
    hosts.normalize(nullptr);
    const std::vector<Job> jobs = {make_job(technique("syn"), {22, 80, 443, 8080})};
    for (ShardUnit unit : {ShardUnit::Pair, ShardUnit::Host}) {
        const auto a = items_of(hosts, jobs, order_key(seed_key(42), 0), {2, 3}, unit);
        const auto b = items_of(hosts, jobs, order_key(seed_key(42), 0), {2, 3}, unit);
        const auto c = items_of(hosts, jobs, order_key(seed_key(43), 0), {2, 3}, unit);
        EXPECT_EQ(a, b);
        EXPECT_NE(a, c);
        // Spread over the space: shard 2 of 3 is not one contiguous run of hosts.
        std::set<std::string> first_hosts;
        for (std::size_t i = 0; i < 8 && i < a.size(); ++i) first_hosts.insert(std::get<0>(a[i]));
        EXPECT_GT(first_hosts.size(), 1u);
    }
}

}  // namespace
}  // namespace scanfw
