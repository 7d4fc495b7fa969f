// Every row of the fin entry ("as null") in shared/reference/port-states.md.
#include "support/plugin_fixture.hpp"

using namespace scanfw;
using namespace scanfw::testing;
using namespace scanfw::tcp_flag;

TEST(FinPlugin, ProbeFlags) { EXPECT_EQ(probe_tcp(*load_test_plugin(), 80).flags, FIN); }

TEST(FinPlugin, ClassifiesEveryReply) {
    auto p = load_test_plugin();
    EXPECT_VERDICT(p, tcp_reply(RST), "closed (reset)");
    EXPECT_VERDICT(p, tcp_reply(RST | ACK), "closed (reset)");
    for (int code : {1, 2, 3, 9, 10, 13})
        EXPECT_EQ(p->classify(icmp_unreach(std::uint8_t(code))).state, State::Filtered) << "code " << code;
    EXPECT_VERDICT(p, icmp_unreach(13), "filtered (admin-prohibited)");
    EXPECT_VERDICT(p, silence(), "open|filtered (no-response)");
    EXPECT_VERDICT(p, tcp_reply(SYN | ACK), "undecided");
}
