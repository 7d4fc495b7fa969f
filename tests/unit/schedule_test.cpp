// The engine's timing pieces (core/src/schedule.hpp): when an unanswered probe is
// looked at again, and how the measured round trips set that.
#include <gtest/gtest.h>

#include "scan/schedule.hpp"

namespace scanfw {
namespace {

using namespace std::chrono_literals;

IpAddress host(std::uint32_t n) { return IpAddress::v4(0xc6120000u + n); }  // 198.18.x.y

Timing timing() {
    Timing t;
    t.timeout = 1000ms;
    t.min_timeout = 10ms;
    t.max_timeout = 10000ms;
    return t;
}

TEST(RttEstimator, BeforeAnyMeasurementTheWaitIsTheInitialTimeout) {
    const Timing t = timing();
    RttEstimator rtt(t);
    const auto sent = Clock::time_point{} + 1h;
    EXPECT_FALSE(rtt.measured());
    EXPECT_EQ(rtt.timeout(host(1)), 1000ms);
    EXPECT_EQ(rtt.next_check(host(1), sent, sent + 10ms), sent + 1000ms);
    EXPECT_FALSE(rtt.next_check(host(1), sent, sent + 1000ms));  // over: silence
}

TEST(RttEstimator, AMeasurementShortensTheWaitOfProbesAlreadySent) {
    const Timing t = timing();
    RttEstimator rtt(t);
    const auto sent = Clock::time_point{} + 1h;
    rtt.sample(host(1), 2ms);  // srtt 2 ms, rttvar 1 ms: 6 ms, below the floor
    ASSERT_TRUE(rtt.measured());
    EXPECT_EQ(rtt.timeout(host(1)), 10ms);
    EXPECT_EQ(rtt.next_check(host(1), sent, sent + 5ms), sent + 10ms);
    EXPECT_FALSE(rtt.next_check(host(1), sent, sent + 10ms));
    // A host not measured yet waits as the scan's measurements say.
    EXPECT_EQ(rtt.timeout(host(2)), 10ms);
}

TEST(RttEstimator, ASlowHostWaitsLongerAndTheEstimateIsClamped) {
    const Timing t = timing();
    RttEstimator rtt(t);
    rtt.sample(host(1), 100ms);  // 100 + 4 x 50 = 300 ms
    EXPECT_EQ(rtt.timeout(host(1)), 300ms);
    rtt.sample(host(2), 1ms);
    EXPECT_EQ(rtt.timeout(host(2)), 10ms);  // the floor
    rtt.sample(host(3), 9s);
    EXPECT_EQ(rtt.timeout(host(3)), 10000ms);  // the ceiling
    // The estimate grew since the probe went: it waits for the later deadline.
    const auto sent = Clock::time_point{} + 1h;
    EXPECT_EQ(rtt.next_check(host(1), sent, sent + 10ms), sent + 300ms);
}

TEST(TimingTemplate, FloorsFollowTheTemplate) {
    EXPECT_EQ(timing_template(2).min_timeout, 100ms);
    EXPECT_EQ(timing_template(3).min_timeout, 10ms);
    EXPECT_EQ(timing_template(4).min_timeout, 5ms);
    EXPECT_EQ(timing_template(5).min_timeout, 5ms);
    EXPECT_EQ(timing_template(0).min_timeout, timing_template(0).timeout);  // paranoid trusts no measurement
}

}  // namespace
}  // namespace scanfw
