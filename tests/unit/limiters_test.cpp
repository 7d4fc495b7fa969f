// The simulated hosts' ICMP limiters (tests/support/limiters.hpp) against sequences
// computed by hand from docs/icmp-rate-limits.md: each test names the rule it checks.
// Times are placed on the limiter's own tick boundaries (Sim::tick), so a test says
// "jiffy j0 + 250" exactly as the kernel counts.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <map>
#include <numeric>
#include <set>
#include <vector>

#include "support/limiters.hpp"

namespace scanfw::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

const Clock::time_point kStart = Clock::time_point{} + std::chrono::hours(1000);
const IpAddress kA = *IpAddress::parse("198.51.100.1");
const IpAddress kB = *IpAddress::parse("198.51.100.2");
const IpAddress kA6 = *IpAddress::parse("2001:db8::1");
const IpAddress kB6 = *IpAddress::parse("2001:db8::2");

struct Sim {
    LimiterSpec spec;
    Limiter lim;
    explicit Sim(const LimiterSpec& s, std::uint64_t seed = 1) : spec(s), lim(s, seed, kStart) {}

    // The first instant of tick j of the limiter's clock (counted from its boot).
    Clock::time_point tick(std::int64_t j) const {
        const std::int64_t ns = (j * 1'000'000'000 + spec.hz - 1) / spec.hz;
        return lim.boot() + std::chrono::duration_cast<Clock::duration>(nanoseconds(ns));
    }
    // A tick a little after the start, so that the start's own tick is behind us.
    std::int64_t first() const { return lim.ticks(kStart) + 1; }
    Clock::time_point uptime(double s) const {
        return lim.boot() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
    }

    bool one(Emission e, const IpAddress& p, Clock::time_point t) { return lim.allow(e, p, t); }
    // How many of n messages at time t are allowed.
    int burst(Emission e, const IpAddress& p, Clock::time_point t, int n) {
        int ok = 0;
        for (int i = 0; i < n; ++i) ok += lim.allow(e, p, t);
        return ok;
    }
};

LimiterSpec linux_spec(int hz = 250) { return LimiterSpec::linux_defaults(hz); }
LimiterSpec linux_global_only(bool random = true) {
    LimiterSpec s = LimiterSpec::linux_defaults();
    s.icmp_ratelimit_ms = 0;
    s.ipv6_ratelimit_ms = 0;
    s.random_cost = random;
    return s;
}
// Per-peer behaviour alone: a global bucket too large to matter.
LimiterSpec linux_peer_only(int hz = 250) {
    LimiterSpec s = LimiterSpec::linux_defaults(hz);
    s.icmp_msgs_burst = 1'000'000;
    s.global_credit = 1'000'000;
    return s;
}

// ---- Linux per-peer (doc 1.5) -------------------------------------------------------

TEST(LinuxLimiter, PerPeerSixAtOnceThenOnePer250JiffiesAtHz250) {
    Sim s(linux_peer_only());
    const std::int64_t j0 = s.first();
    EXPECT_EQ(s.burst(Emission::Unreach4, kA, s.tick(j0), 10), 6);  // 60*HZ head start, capped at 6*250
    EXPECT_FALSE(s.one(Emission::Unreach4, kA, s.tick(j0 + 249)));
    EXPECT_TRUE(s.one(Emission::Unreach4, kA, s.tick(j0 + 250)));
    EXPECT_FALSE(s.one(Emission::Unreach4, kA, s.tick(j0 + 250)));
    EXPECT_FALSE(s.one(Emission::Unreach4, kA, s.tick(j0 + 499)));
    EXPECT_TRUE(s.one(Emission::Unreach4, kA, s.tick(j0 + 500)));
    // 1499 jiffies idle: 1499 tokens, 5 errors, 249 left; one jiffy later still none.
    EXPECT_EQ(s.burst(Emission::Unreach4, kA, s.tick(j0 + 500 + 1499), 10), 5);
    EXPECT_TRUE(s.one(Emission::Unreach4, kA, s.tick(j0 + 500 + 1500)));  // 249 + 1
    EXPECT_FALSE(s.one(Emission::Unreach4, kA, s.tick(j0 + 500 + 1500)));
}

TEST(LinuxLimiter, TokensAccrueOnePerJiffyInsideAJiffyNothing) {
    // Two calls in the same jiffy see delta 0; the time within the jiffy never counts.
    Sim s(linux_peer_only());
    const std::int64_t j0 = s.first();
    EXPECT_EQ(s.burst(Emission::Unreach4, kA, s.tick(j0), 6), 6);
    const auto late = s.tick(j0 + 250) - nanoseconds(1);  // the last instant of jiffy j0+249
    EXPECT_FALSE(s.one(Emission::Unreach4, kA, late));
    EXPECT_TRUE(s.one(Emission::Unreach4, kA, late + nanoseconds(1)));
}

TEST(LinuxLimiter, FreshPeerIsFullAndPeersAreIndependent) {
    Sim s(linux_peer_only());
    const std::int64_t j0 = s.first();
    EXPECT_EQ(s.burst(Emission::Unreach4, kA, s.tick(j0), 20), 6);
    EXPECT_EQ(s.burst(Emission::Unreach4, kB, s.tick(j0), 20), 6);  // B untouched by A
    EXPECT_EQ(s.burst(Emission::Unreach4, kB, s.tick(j0 + 250), 20), 1);
    EXPECT_EQ(s.burst(Emission::Unreach4, kA, s.tick(j0 + 250), 20), 1);
    // A third peer seen for the first time an hour in: full, whatever A and B did.
    EXPECT_EQ(s.burst(Emission::Unreach4, *IpAddress::parse("198.51.100.3"), s.tick(j0 + 900'000), 20), 6);
}

TEST(LinuxLimiter, HzAndMillisecondsBecomeJiffiesRoundedUp) {
    for (const int hz : {100, 250, 300, 1000}) {
        Sim s(linux_peer_only(hz));
        const std::int64_t j0 = s.first();
        EXPECT_EQ(s.burst(Emission::Unreach4, kA, s.tick(j0), 10), 6) << hz;
        EXPECT_FALSE(s.one(Emission::Unreach4, kA, s.tick(j0 + hz - 1))) << hz;  // 1000 ms = HZ jiffies
        EXPECT_TRUE(s.one(Emission::Unreach4, kA, s.tick(j0 + hz))) << hz;
    }
    // 10 ms at HZ=250 is 2.5 jiffies, stored as 3.
    LimiterSpec spec = linux_peer_only();
    spec.icmp_ratelimit_ms = 10;
    Sim s(spec);
    const std::int64_t j0 = s.first();
    EXPECT_EQ(s.burst(Emission::Unreach4, kA, s.tick(j0), 10), 6);
    EXPECT_FALSE(s.one(Emission::Unreach4, kA, s.tick(j0 + 2)));
    EXPECT_TRUE(s.one(Emission::Unreach4, kA, s.tick(j0 + 3)));
}

TEST(LinuxLimiter, Ipv6PerPeerIntervalIs100MsAndItsOwnState) {
    Sim s(linux_peer_only());
    const std::int64_t j0 = s.first();
    EXPECT_EQ(s.burst(Emission::Unreach4, kA, s.tick(j0), 10), 6);
    EXPECT_EQ(s.burst(Emission::Unreach6, kA6, s.tick(j0), 10), 6);  // not the IPv4 peer's tokens
    EXPECT_FALSE(s.one(Emission::Unreach6, kA6, s.tick(j0 + 24)));
    EXPECT_TRUE(s.one(Emission::Unreach6, kA6, s.tick(j0 + 25)));    // HZ/10
    EXPECT_EQ(s.burst(Emission::Unreach6, kA6, s.tick(j0 + 25 + 112), 10), 4);  // 112 tokens: 4, 12 left
    EXPECT_EQ(s.burst(Emission::Unreach6, kA6, s.tick(j0 + 25 + 112 + 75), 10), 3);  // 87: 3
    EXPECT_FALSE(s.one(Emission::Unreach4, kA, s.tick(j0 + 25 + 112 + 75)));  // IPv4 still 1/s
}

TEST(LinuxLimiter, Ipv6PrefixScalingOfOlderKernels) {
    LimiterSpec spec = linux_peer_only();
    spec.ipv6_ratelimit_ms = 1000;
    spec.ipv6_route_prefix = 64;  // 250 >> 2 = 62 jiffies
    Sim s(spec);
    const std::int64_t j0 = s.first();
    EXPECT_EQ(s.burst(Emission::Unreach6, kA6, s.tick(j0), 10), 6);
    EXPECT_FALSE(s.one(Emission::Unreach6, kA6, s.tick(j0 + 61)));
    EXPECT_TRUE(s.one(Emission::Unreach6, kA6, s.tick(j0 + 62)));
    spec.ipv6_route_prefix = 0;   // default route: 250 >> 4 = 15
    Sim d(spec);
    EXPECT_EQ(d.burst(Emission::Unreach6, kA6, d.tick(j0), 10), 6);
    EXPECT_FALSE(d.one(Emission::Unreach6, kA6, d.tick(j0 + 14)));
    EXPECT_TRUE(d.one(Emission::Unreach6, kA6, d.tick(j0 + 15)));
}

TEST(LinuxLimiter, WhatIsLimitedFollowsTheMasks) {
    Sim s(linux_spec());
    const auto t = s.tick(s.first());
    EXPECT_EQ(s.burst(Emission::Rst4, kA, t, 1000), 1000);        // RSTs: no limiter
    EXPECT_EQ(s.burst(Emission::Rst6, kA6, t, 1000), 1000);
    EXPECT_EQ(s.burst(Emission::EchoReply4, kA, t, 1000), 1000);  // type 0 not in 0x1818
    EXPECT_EQ(s.burst(Emission::EchoReply6, kA6, t, 1000), 1000); // 129 not in 0-1,3-127
    EXPECT_EQ(s.lim.linux_global_credit(), 0);                    // and no bucket touched
    EXPECT_EQ(s.burst(Emission::Other4, kA, t, 10), 6);           // parameter problem: bit 12
    EXPECT_EQ(s.burst(Emission::Unreach4, kA, t, 10), 0);         // same peer bucket, empty
    EXPECT_EQ(s.burst(Emission::Other6, kA6, t, 10), 6);

    LimiterSpec spec = linux_spec();
    spec.icmp_ratemask = 0x1819;  // + echo reply
    spec.ipv6_ratemask.reset(1);  // - destination unreachable
    Sim m(spec);
    const auto u = m.tick(m.first());
    EXPECT_EQ(m.burst(Emission::EchoReply4, kA, u, 10), 6);
    EXPECT_EQ(m.burst(Emission::Unreach6, kA6, u, 1000), 1000);
}

// ---- Linux global (doc 1.4) ------------------------------------------------------------

TEST(LinuxLimiter, GlobalANewNetnsGivesExactlyTheBurstWithoutRandomCost) {
    Sim s(linux_global_only(false));
    EXPECT_EQ(s.burst(Emission::Unreach4, kA, s.tick(s.first()), 300), 50);
}

TEST(LinuxLimiter, GlobalCostIsZeroOneOrTwoAndTheBurstEndsAtCreditZero) {
    for (std::uint64_t seed = 1; seed <= 50; ++seed) {
        Sim s(linux_global_only(), seed);
        const auto t = s.tick(s.first());
        ASSERT_TRUE(s.one(Emission::Unreach4, kA, t));  // refilled to 50, then charged
        int credit = s.lim.linux_global_credit(), sent = 1;
        ASSERT_GE(credit, 48);
        while (credit > 0) {
            ASSERT_TRUE(s.one(Emission::Unreach4, kA, t)) << seed;
            const int now = s.lim.linux_global_credit();
            ASSERT_GE(credit - now, 0);
            ASSERT_LE(credit - now, 2);
            credit = now;
            ++sent;
        }
        EXPECT_GE(credit, -1);
        EXPECT_FALSE(s.one(Emission::Unreach4, kA, t)) << "credit " << credit;
        EXPECT_GE(sent, 25);
    }
}

TEST(LinuxLimiter, GlobalRefillsAtMostEvery20MsByMsgsPerSecTimesDelta) {
    Sim s(linux_global_only(false));
    const std::int64_t j0 = s.first();
    EXPECT_EQ(s.burst(Emission::Unreach4, kA, s.tick(j0), 100), 50);  // stamp = j0, credit 0
    for (int d = 1; d <= 4; ++d) EXPECT_FALSE(s.one(Emission::Unreach4, kA, s.tick(j0 + d))) << d;
    EXPECT_EQ(s.burst(Emission::Unreach4, kA, s.tick(j0 + 5), 100), 20);       // 1000*5/250
    EXPECT_EQ(s.burst(Emission::Unreach4, kA, s.tick(j0 + 5 + 6), 100), 24);   // 6 jiffies later
    EXPECT_EQ(s.burst(Emission::Unreach4, kA, s.tick(j0 + 11 + 13), 100), 50); // 52, capped at 50
    // Denied checks do not move the stamp: 4 jiffies, 4 more, then 8 since the refill.
    EXPECT_FALSE(s.one(Emission::Unreach4, kA, s.tick(j0 + 24 + 4)));
    EXPECT_EQ(s.burst(Emission::Unreach4, kA, s.tick(j0 + 24 + 8), 100), 32);
}

TEST(LinuxLimiter, GlobalDeltaCappedAtOneSecondAndZeroIncrementDenies) {
    LimiterSpec spec = linux_global_only(false);
    spec.icmp_msgs_per_sec = 10;
    Sim s(spec);
    const std::int64_t j0 = s.first();
    EXPECT_EQ(s.burst(Emission::Unreach4, kA, s.tick(j0), 100), 10);  // new netns: 10*HZ/HZ
    EXPECT_FALSE(s.one(Emission::Unreach4, kA, s.tick(j0 + 24)));     // 10*24/250 = 0
    EXPECT_EQ(s.burst(Emission::Unreach4, kA, s.tick(j0 + 25), 100), 1);
    EXPECT_EQ(s.burst(Emission::Unreach4, kA, s.tick(j0 + 25 + 2500), 100), 10);  // 10 s idle: 1 s worth
}

TEST(LinuxLimiter, GlobalRefillsOnlyWhenDrySoLeftoverCreditDoublesTheBurst) {
    LimiterSpec spec = linux_global_only(false);
    spec.global_credit = 10;  // left over, stamp long ago
    Sim s(spec);
    EXPECT_EQ(s.burst(Emission::Unreach4, kA, s.tick(s.first()), 300), 10 + 50);
}

TEST(LinuxLimiter, GlobalIsSharedByPeersAndByIpv4AndIpv6) {
    LimiterSpec spec = linux_spec();
    spec.random_cost = false;
    Sim s(spec);
    const auto t = s.tick(s.first());
    int total = 0;
    for (std::uint32_t i = 0; i < 20; ++i) total += s.burst(Emission::Unreach4, IpAddress::v4(0xc6336400 + i), t, 10);
    EXPECT_EQ(total, 50);  // 20 peers x 6 allowed by their buckets, 50 by the global one

    Sim g(linux_global_only(false));
    const auto u = g.tick(g.first());
    int v4 = 0, v6 = 0;
    for (int i = 0; i < 100; ++i) {
        v4 += g.one(Emission::Unreach4, kA, u);
        v6 += g.one(Emission::Unreach6, kA6, u);
    }
    EXPECT_EQ(v4 + v6, 50);
    EXPECT_EQ(v4, 25);
}

TEST(LinuxLimiter, PerPeerDenialDoesNotConsumeGlobalCredit) {
    LimiterSpec spec = linux_spec();
    spec.random_cost = false;
    Sim s(spec);
    const auto t = s.tick(s.first());
    EXPECT_EQ(s.burst(Emission::Unreach4, kA, t, 6), 6);
    EXPECT_EQ(s.lim.linux_global_credit(), 44);
    EXPECT_EQ(s.burst(Emission::Unreach4, kA, t, 30), 0);
    EXPECT_EQ(s.lim.linux_global_credit(), 44);
}

// The exact distribution of the number of errors a full bucket lets through: the first
// n with cost_1 + ... + cost_n >= burst, costs uniform {0,1,2} (a Markov chain on the
// credit).
std::vector<double> first_passage(int burst, int max_n) {
    std::vector<double> p(static_cast<std::size_t>(max_n) + 1, 0.0);
    std::vector<double> credit(static_cast<std::size_t>(burst) + 1, 0.0);  // P(credit = c > 0 after n)
    credit[static_cast<std::size_t>(burst)] = 1;
    for (int n = 1; n <= max_n; ++n) {
        std::vector<double> next(credit.size(), 0.0);
        for (int c = 1; c <= burst; ++c) {
            for (int k = 0; k <= 2; ++k) {
                const double q = credit[static_cast<std::size_t>(c)] / 3;
                if (c - k <= 0) p[static_cast<std::size_t>(n)] += q;
                else next[static_cast<std::size_t>(c - k)] += q;
            }
        }
        credit = next;
    }
    return p;
}

std::map<int, double> model_burst_pmf(const LimiterSpec& spec, int seeds) {
    std::map<int, double> pmf;
    for (int seed = 0; seed < seeds; ++seed) {
        Sim s(spec, static_cast<std::uint64_t>(seed) + 1000);
        pmf[s.burst(Emission::Unreach4, kA, s.tick(s.first()), 300)] += 1.0 / seeds;
    }
    return pmf;
}

double total_variation(const std::map<int, double>& a, const std::vector<double>& exact) {
    double tv = 0;
    for (std::size_t n = 0; n < exact.size(); ++n) {
        const auto it = a.find(static_cast<int>(n));
        tv += std::abs((it == a.end() ? 0.0 : it->second) - exact[n]);
    }
    return tv / 2;
}

TEST(LinuxLimiter, GlobalBurstCountFollowsTheExactDistributionOfTheRandomCost) {
    const auto exact = first_passage(50, 300);
    double mean = 0, var = 0;
    for (std::size_t n = 0; n < exact.size(); ++n) mean += static_cast<double>(n) * exact[n];
    for (std::size_t n = 0; n < exact.size(); ++n) var += (static_cast<double>(n) - mean) * (static_cast<double>(n) - mean) * exact[n];
    EXPECT_NEAR(mean, 50.33, 0.01);  // Wald: E[count] = E[sum at the stop] = 50 + P(sum ends at 51) = 50 + 1/3
    EXPECT_NEAR(std::sqrt(var), 5.8, 0.2);
    const auto model = model_burst_pmf(linux_global_only(), 20000);
    double model_mean = 0;
    for (const auto& [n, q] : model) model_mean += n * q;
    EXPECT_NEAR(model_mean, mean, 0.15);
    EXPECT_LT(total_variation(model, exact), 0.03);
    // The same comparison rejects a model without the random cost (always 50).
    EXPECT_GT(total_variation(model_burst_pmf(linux_global_only(false), 200), exact), 0.9);
}

TEST(LinuxLimiter, RandomCostIsUniformOverZeroOneTwo) {
    std::array<int, 3> seen{};
    Sim s(linux_global_only(), 7);
    std::int64_t j = s.first();
    for (int i = 0; i < 30000; ++i) {
        const int before = s.lim.linux_global_credit();
        if (!s.one(Emission::Unreach4, kA, s.tick(j))) {
            j += 13;  // a refill to 50 at once: 13 jiffies give 52 credits
            continue;
        }
        const int after = s.lim.linux_global_credit();
        if (before > 0) ++seen[static_cast<std::size_t>(before - after)];
    }
    const int n = seen[0] + seen[1] + seen[2];
    ASSERT_GT(n, 20000);
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(static_cast<double>(seen[static_cast<std::size_t>(k)]) / n, 1.0 / 3, 0.015) << k;
}

TEST(LinuxLimiter, SpentLowersPeerTokensAndGlobalCredit) {
    LimiterSpec spec = linux_peer_only();
    spec.spent = 1;
    spec.global_credit.reset();
    spec.icmp_msgs_burst = 50;
    Sim s(spec);
    const std::int64_t j0 = s.lim.ticks(kStart);
    EXPECT_FALSE(s.one(Emission::Unreach4, kA, kStart));  // no tokens, whatever the global
    EXPECT_EQ(s.lim.linux_global_credit(), 0);
    EXPECT_TRUE(s.one(Emission::Unreach4, kA, s.tick(j0 + 250)));  // tokens since the start
    EXPECT_FALSE(s.one(Emission::Unreach4, kA, s.tick(j0 + 250)));
    // Half spent: 750 of 1500 tokens, 3 at once; credit 25 (last refilled just now).
    spec.spent = 0.5;
    Sim h(spec);
    EXPECT_EQ(h.burst(Emission::Unreach4, kB, kStart, 10), 3);
    Sim g(linux_global_only(false));
    LimiterSpec half = linux_global_only(false);
    half.spent = 0.5;
    Sim gh(half);
    EXPECT_EQ(gh.burst(Emission::Unreach4, kA, kStart, 100), 25);  // no refill within 20 ms
    EXPECT_EQ(g.burst(Emission::Unreach4, kA, kStart, 100), 50);
}

// ---- determinism and time base -----------------------------------------------------

std::vector<bool> run(const LimiterSpec& spec, std::uint64_t seed) {
    Limiter lim(spec, seed, kStart);
    std::vector<bool> out;
    std::mt19937_64 load(99);  // the same workload for every seed
    auto t = kStart;
    for (int i = 0; i < 5000; ++i) {
        t += std::chrono::microseconds(load() % 600);  // ~3300/s: every limiter binds
        const auto who = IpAddress::v4(0xc6336400 + static_cast<std::uint32_t>(load() % 4));
        out.push_back(lim.allow(Emission::Unreach4, who, t));
    }
    return out;
}

TEST(Limiters, SameSeedSameDecisionsOtherSeedOtherDecisions) {
    for (const auto& spec : {linux_spec(), linux_global_only(), LimiterSpec::freebsd_defaults()}) {
        EXPECT_EQ(run(spec, 5), run(spec, 5)) << spec.describe();
    }
    EXPECT_NE(run(linux_global_only(), 5), run(linux_global_only(), 6));
    EXPECT_NE(Limiter(linux_spec(), 5, kStart).boot(), Limiter(linux_spec(), 6, kStart).boot());
}

TEST(Limiters, BootOffsetPutsTickBoundariesAnywhere) {
    std::int64_t lo = 4'000'000, hi = 0;
    for (std::uint64_t seed = 0; seed < 2000; ++seed) {
        const Limiter lim(linux_spec(), seed, kStart);
        const std::int64_t phase = std::chrono::duration_cast<nanoseconds>(kStart - lim.boot()).count() % 4'000'000;
        lo = std::min(lo, phase);
        hi = std::max(hi, phase);
        EXPECT_GE(kStart - lim.boot(), seconds(3600));
    }
    EXPECT_LT(lo, 100'000);
    EXPECT_GT(hi, 3'900'000);
}

TEST(Limiters, TimeNeverGoesBack) {
    // illumos resets its bucket when its clock seems to have wrapped (last > now): a
    // time earlier than one already seen must not look like that.
    Sim s(LimiterSpec::illumos_defaults());
    const std::int64_t t0 = s.first();
    EXPECT_EQ(s.burst(Emission::Unreach4, kA, s.tick(t0 + 10), 20), 10);
    EXPECT_FALSE(s.one(Emission::Unreach4, kA, s.tick(t0)));
}

TEST(Limiters, DescribeReadsBack) {
    LimiterSpec spec = linux_spec(300);
    spec.icmp_ratelimit_ms = 0;
    spec.ipv6_ratemask.reset(1);
    spec.spent = 0.25;
    const std::string text = spec.describe();
    EXPECT_EQ(text.find('\n'), std::string::npos);
    const auto back = LimiterSpec::parse(text);
    ASSERT_TRUE(back) << text;
    EXPECT_EQ(back->describe(), text);
    EXPECT_EQ(back->hz, 300);
    EXPECT_FALSE(back->ipv6_ratemask.test(1));
    EXPECT_TRUE(back->ipv6_ratemask.test(0));
    for (const auto& s : {LimiterSpec::freebsd_defaults(), LimiterSpec::illumos_defaults(), LimiterSpec::xnu_defaults(),
                          LimiterSpec::router_defaults(), LimiterSpec::none()}) {
        ASSERT_TRUE(LimiterSpec::parse(s.describe())) << s.describe();
        EXPECT_EQ(LimiterSpec::parse(s.describe())->describe(), s.describe());
    }
    std::string error;
    EXPECT_FALSE(LimiterSpec::parse("linux:hz=250,bogus=1", &error));
    EXPECT_NE(error.find("bogus"), std::string::npos);
    EXPECT_FALSE(LimiterSpec::parse("windows"));
}

// ---- FreeBSD (doc 3) ----------------------------------------------------------------

TEST(FreeBsdLimiter, TwoHundredPerWindowStartingAtTheFirstEvent) {
    Sim s(LimiterSpec::freebsd_defaults());
    const std::int64_t t0 = s.first() + 123;  // not on a second of the clock
    EXPECT_EQ(s.burst(Emission::Unreach4, kA, s.tick(t0), 150), 150);
    EXPECT_EQ(s.burst(Emission::Unreach4, kB, s.tick(t0 + 500), 100), 50);  // host-wide, not per peer
    EXPECT_FALSE(s.one(Emission::Unreach4, kA, s.tick(t0 + 999)));           // hz - 1 ticks: same window
    // The window just closed was over its limit (250 events): the jitter is redrawn
    // after the next window's first event, which itself passes.
    EXPECT_TRUE(s.one(Emission::Unreach4, kA, s.tick(t0 + 1000)));
    const int more = s.burst(Emission::Unreach4, kA, s.tick(t0 + 1001), 300);
    EXPECT_GE(1 + more, 184);
    EXPECT_LE(1 + more, 216);
}

TEST(FreeBsdLimiter, JitterIsRedrawnOnlyAfterAnOverLimitWindow) {
    std::set<int> third_windows;
    for (std::uint64_t seed = 0; seed < 400; ++seed) {
        // Exactly 200 events (not over): the next window's limit stays 200.
        Sim s(LimiterSpec::freebsd_defaults(), seed);
        const std::int64_t t0 = s.first();
        ASSERT_EQ(s.burst(Emission::Unreach4, kA, s.tick(t0), 200), 200);
        ASSERT_EQ(s.burst(Emission::Unreach4, kA, s.tick(t0 + 1000), 300), 200) << seed;
        // That window was over (300 events): the third one is 200 + uniform(-16..16).
        const int third = s.burst(Emission::Unreach4, kA, s.tick(t0 + 2000), 300);
        ASSERT_GE(third, 184);
        ASSERT_LE(third, 216);
        third_windows.insert(third);
    }
    EXPECT_EQ(third_windows.size(), 33u);  // every value of arc4random_uniform(33) - 16
}

TEST(FreeBsdLimiter, FirstOverLimitWindowAfterBootAllowsExactly200) {
    for (std::uint64_t seed = 0; seed < 50; ++seed) {
        Sim s(LimiterSpec::freebsd_defaults(), seed);
        EXPECT_EQ(s.burst(Emission::Unreach4, kA, s.tick(s.first()), 500), 200);
    }
}

TEST(FreeBsdLimiter, EachReasonHasItsOwnCounterIpv6HasASecondOne) {
    Sim s(LimiterSpec::freebsd_defaults());
    const auto t = s.tick(s.first());
    EXPECT_EQ(s.burst(Emission::Unreach4, kA, t, 300), 200);
    EXPECT_EQ(s.burst(Emission::Rst4, kA, t, 150), 150);        // RST to closed ports: its own
    EXPECT_EQ(s.burst(Emission::Rst6, kA6, t, 150), 50);        // one counter for both families
    EXPECT_EQ(s.burst(Emission::EchoReply4, kA, t, 300), 200);  // echo replies: their own
    EXPECT_EQ(s.burst(Emission::EchoReply6, kA6, t, 300), 300); // not limited
    EXPECT_EQ(s.burst(Emission::Other4, kA, t, 300), 300);      // icmp_error() alone: not limited
    // IPv6 port unreachables: bandlim ICMP6_UNREACH (200) and all ICMPv6 errors 100/s.
    EXPECT_EQ(s.burst(Emission::Unreach6, kA6, t, 60), 60);
    EXPECT_EQ(s.burst(Emission::Other6, kA6, t, 60), 40);
    EXPECT_EQ(s.burst(Emission::Unreach6, kA6, s.tick(s.first() + 999), 10), 0);
    EXPECT_EQ(s.burst(Emission::Unreach6, kA6, s.tick(s.first() + 1000), 150), 100);
}

TEST(FreeBsdLimiter, BlackholesAndSpent) {
    LimiterSpec spec = LimiterSpec::freebsd_defaults();
    spec.udp_blackhole = true;
    spec.tcp_blackhole = true;
    Sim b(spec);
    const auto t = b.tick(b.first());
    EXPECT_EQ(b.burst(Emission::Unreach4, kA, t, 10), 0);
    EXPECT_EQ(b.burst(Emission::Rst4, kA, t, 10), 0);
    EXPECT_EQ(b.burst(Emission::EchoReply4, kA, t, 10), 10);

    LimiterSpec half = LimiterSpec::freebsd_defaults();
    half.spent = 0.5;
    Sim h(half);
    EXPECT_EQ(h.burst(Emission::Unreach4, kA, kStart, 300), 100);
    LimiterSpec all = LimiterSpec::freebsd_defaults();
    all.spent = 1;
    Sim a(all);
    EXPECT_EQ(a.burst(Emission::Unreach4, kA, kStart, 300), 0);
    // Within a second the window ends; its successor redraws the jitter (it was over).
    const int next = a.burst(Emission::Unreach4, kA, kStart + seconds(1), 300);
    EXPECT_GE(next, 184);
    EXPECT_LE(next, 216);
}

// ---- illumos (doc 4.2) ------------------------------------------------------------------

TEST(IllumosLimiter, TenAtOnceThenOnePer100MsSharedByIpv4AndIpv6) {
    Sim s(LimiterSpec::illumos_defaults());  // hz 100: a tick is 10 ms
    const std::int64_t t0 = s.first();
    EXPECT_EQ(s.burst(Emission::Unreach4, kA, s.tick(t0), 5), 5);
    EXPECT_EQ(s.burst(Emission::Unreach6, kA6, s.tick(t0), 10), 5);
    EXPECT_FALSE(s.one(Emission::Other4, kB, s.tick(t0 + 9)));       // 90 ms: nothing back yet
    EXPECT_TRUE(s.one(Emission::Unreach4, kA, s.tick(t0 + 10)));      // 100 ms: one
    EXPECT_FALSE(s.one(Emission::Unreach4, kA, s.tick(t0 + 10)));
    EXPECT_TRUE(s.one(Emission::Unreach4, kA, s.tick(t0 + 25)));      // 250 ms: one (last += 100)
    EXPECT_FALSE(s.one(Emission::Unreach4, kA, s.tick(t0 + 29)));     // 290 - 200 < 100
    EXPECT_TRUE(s.one(Emission::Unreach4, kA, s.tick(t0 + 30)));
    EXPECT_EQ(s.burst(Emission::Unreach4, kA, s.tick(t0 + 30 + 100), 20), 10);  // 1 s: all back
    EXPECT_EQ(s.burst(Emission::EchoReply4, kA, s.tick(t0 + 200), 100), 100);  // not limited
}

TEST(IllumosLimiter, RstFortyPerWindowOfMoreThanOneSecond) {
    Sim s(LimiterSpec::illumos_defaults());
    const std::int64_t t0 = s.first();
    EXPECT_EQ(s.burst(Emission::Rst4, kA, s.tick(t0), 30), 30);
    EXPECT_EQ(s.burst(Emission::Rst6, kA6, s.tick(t0 + 50), 30), 10);
    EXPECT_FALSE(s.one(Emission::Rst4, kA, s.tick(t0 + 100)));  // 1000 ms: not more than 1 s
    EXPECT_TRUE(s.one(Emission::Rst4, kA, s.tick(t0 + 101)));
    EXPECT_EQ(s.burst(Emission::Unreach4, kA, s.tick(t0 + 101), 20), 10);  // its own bucket
}

// ---- XNU (doc 4.1) -----------------------------------------------------------------

TEST(XnuLimiter, WholeSecondWindowsLastTwoSeconds) {
    Sim s(LimiterSpec::xnu_defaults());
    const double s0 = std::ceil(std::chrono::duration<double>(kStart - s.lim.boot()).count()) + 1;
    EXPECT_EQ(s.burst(Emission::Unreach4, kA, s.uptime(s0 + 0.9), 300), 250);
    EXPECT_EQ(s.burst(Emission::Unreach4, kA, s.uptime(s0 + 1.9), 10), 0);  // uptime s0+1: 1, not > 1
    EXPECT_EQ(s.burst(Emission::Unreach4, kA, s.uptime(s0 + 2.0), 300), 250);
    EXPECT_EQ(s.burst(Emission::Rst4, kA, s.uptime(s0 + 2.0), 300), 250);
    EXPECT_EQ(s.burst(Emission::EchoReply4, kA, s.uptime(s0 + 2.0), 300), 250);
    EXPECT_EQ(s.burst(Emission::Unreach6, kA6, s.uptime(s0 + 2.0), 600), 500);
    EXPECT_EQ(s.burst(Emission::Other4, kA, s.uptime(s0 + 2.0), 600), 600);
    EXPECT_EQ(Sim(LimiterSpec::xnu_defaults(true)).burst(Emission::Unreach4, kA, kStart, 100), 50);
}

// ---- router (doc 4.4) ----------------------------------------------------------------

TEST(RouterLimiter, OneUnreachablePer500MsTenIcmpv6ErrorsThenOnePer100Ms) {
    Sim s(LimiterSpec::router_defaults());
    const auto t = kStart;
    EXPECT_EQ(s.burst(Emission::Unreach4, kA, t, 5), 1);
    EXPECT_EQ(s.burst(Emission::Unreach6, kA6, t, 20), 10);  // a bucket of its own
    EXPECT_FALSE(s.one(Emission::Other6, kA6, t + milliseconds(99)));
    EXPECT_TRUE(s.one(Emission::Other6, kA6, t + milliseconds(100)));
    EXPECT_FALSE(s.one(Emission::Unreach4, kA, t + milliseconds(499)));
    EXPECT_TRUE(s.one(Emission::Unreach4, kA, t + milliseconds(500)));
    EXPECT_EQ(s.burst(Emission::Unreach6, kA6, t + milliseconds(500), 20), 4);  // 400 ms: 4
    EXPECT_EQ(s.burst(Emission::Rst4, kA, t + milliseconds(600), 50), 50);
    EXPECT_EQ(s.burst(Emission::Other4, kA, t + milliseconds(600), 50), 50);
    LimiterSpec spent = LimiterSpec::router_defaults();
    spent.spent = 1;
    Sim p(spent);
    EXPECT_FALSE(p.one(Emission::Unreach4, kA, kStart));
    EXPECT_TRUE(p.one(Emission::Unreach4, kA, kStart + milliseconds(500)));
}

TEST(Limiters, NoneAllowsEverythingAndCountsIt) {
    Sim s(LimiterSpec::none());
    EXPECT_EQ(s.burst(Emission::Unreach4, kA, kStart, 1000), 1000);
    EXPECT_EQ(s.lim.allowed(), 1000u);
    EXPECT_EQ(s.lim.denied(), 0u);
    Sim l(linux_spec());
    l.burst(Emission::Unreach4, kA, kStart, 10);
    EXPECT_EQ(l.lim.allowed(), 6u);
    EXPECT_EQ(l.lim.denied(), 4u);
}

}  // namespace
}  // namespace scanfw::sim
