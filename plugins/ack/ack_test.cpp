// Every row of the ack entry in shared/reference/port-states.md.
#include "support/plugin_fixture.hpp"

using namespace scanfw;
using namespace scanfw::testing;
using namespace scanfw::tcp_flag;

TEST(AckPlugin, ProbeIsAck) { EXPECT_EQ(probe_tcp(*load_test_plugin(), 80).flags, ACK); }

TEST(AckPlugin, ClassifiesEveryReply) {
    auto p = load_test_plugin();
    EXPECT_VERDICT(p, tcp_reply(RST), "unfiltered (reset)");
    EXPECT_VERDICT(p, tcp_reply(RST, 512), "unfiltered (reset)");
    EXPECT_VERDICT(p, icmp_unreach(1), "filtered (host-unreach)");
    EXPECT_VERDICT(p, icmp_unreach(2), "filtered (proto-unreach)");
    EXPECT_VERDICT(p, icmp_unreach(3), "filtered (port-unreach)");
    EXPECT_VERDICT(p, icmp_unreach(9), "filtered (net-prohibited)");
    EXPECT_VERDICT(p, icmp_unreach(10), "filtered (host-prohibited)");
    EXPECT_VERDICT(p, icmp_unreach(13), "filtered (admin-prohibited)");
    EXPECT_VERDICT(p, silence(), "filtered (no-response)");
    EXPECT_VERDICT(p, tcp_reply(SYN | ACK), "undecided");
}
