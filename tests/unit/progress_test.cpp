// The progress line: one figure for the whole scan while probes go out; once all are
// sent, what is still waited for, why, and for how long (issue 11), never
// "100.0% ... ETA 0:00" for half a minute.
#include <gtest/gtest.h>

#include "system/progress.hpp"

namespace scanfw {
namespace {

TEST(Progress, WhileSendingOneFigureAndTimeLeft) {
    const std::string l = Progress::line("syn, udp", 0.25, 10, 1000, 40, 3, {.in_flight = 100});
    EXPECT_EQ(l, "syn, udp:  25.0% sent, 1000 probes/s, 40 answers, 3 open, ETA 0:30") << l;
}

TEST(Progress, AllSentSaysWhatItWaitsForAndHowLong) {
    const std::string l = Progress::line("udp", 1.0, 30, 50, 900, 2,
                                         {.in_flight = 41, .in_doubt = 40, .waiting_app = 1, .doubt_left = 39.6,
                                          .app_left = 1.2});
    EXPECT_EQ(l, "udp: all sent, 900 answers, 2 open; waiting for 41 ports (40 held back by ICMP rate limits, asked "
                 "again as the hosts allow, about 40 s more; 1 silent so far, given up to 1 s more for an "
                 "application to answer)");
    EXPECT_EQ(l.find("ETA"), std::string::npos);
}

TEST(Progress, DoubtWithoutAnEstimateSaysSo) {
    const std::string l = Progress::line("udp", 1.0, 3, 50, 9, 0, {.in_flight = 1, .in_doubt = 1, .doubt_left = -1});
    EXPECT_NE(l.find("time left not known yet"), std::string::npos) << l;
}

TEST(Progress, LongWaitsInMinutes) {
    const std::string l = Progress::line("udp", 1.0, 3, 50, 9, 0, {.in_flight = 1, .in_doubt = 1, .doubt_left = 125});
    EXPECT_NE(l.find("about 2:05 more"), std::string::npos) << l;
}

// On a terminal of 80 columns (or fewer) the line never reaches the last column, which
// would wrap and leave a row behind at every update (issue 25); it says less instead.
TEST(Progress, FitsTheTerminal) {
    const Progress::Waits sending{.in_flight = 100};
    const Progress::Waits waiting{.in_flight = 41, .in_doubt = 40, .waiting_app = 1, .doubt_left = 39.6, .app_left = 1.2};
    for (std::size_t width : {80u, 60u, 40u, 20u, 5u}) {
        const std::string a = Progress::line("discovery, syn, udp, ack", 0.25, 10, 123456, 40000, 3, sending, width);
        const std::string b = Progress::line("discovery, syn, udp, ack", 1.0, 30, 50, 900, 2, waiting, width);
        EXPECT_LT(a.size(), width) << a;
        EXPECT_LT(b.size(), width) << b;
    }
    EXPECT_EQ(Progress::line("syn", 0.25, 10, 1000, 40, 3, sending, 80),
              "syn:  25.0% sent, 1000 probes/s, 40 answers, 3 open, ETA 0:30");  // fits as it is
    EXPECT_EQ(Progress::line("syn", 1.0, 30, 50, 900, 2, waiting, 80),
              "2 open; waiting for 41 ports (40 rate-limited, ~40 s; 1 for apps, 1 s)");
}

}  // namespace
}  // namespace scanfw
