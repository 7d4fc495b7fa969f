// Every row of the window entry in shared/reference/port-states.md.
#include "support/plugin_fixture.hpp"

using namespace scanfw;
using namespace scanfw::testing;
using namespace scanfw::tcp_flag;

TEST(WindowPlugin, ProbeIsAck) { EXPECT_EQ(probe_tcp(*load_test_plugin(), 80).flags, ACK); }

TEST(WindowPlugin, ClassifiesEveryReply) {
    auto p = load_test_plugin();
    EXPECT_VERDICT(p, tcp_reply(RST, 1), "open (reset)");
    EXPECT_VERDICT(p, tcp_reply(RST, 65535), "open (reset)");
    EXPECT_VERDICT(p, tcp_reply(RST, 0), "closed (reset)");
    EXPECT_VERDICT(p, icmp_unreach(13), "filtered (admin-prohibited)");
    EXPECT_VERDICT(p, icmp_unreach(3), "filtered (port-unreach)");
    EXPECT_VERDICT(p, silence(), "filtered (no-response)");
    EXPECT_VERDICT(p, tcp_reply(ACK, 100), "undecided");
}
