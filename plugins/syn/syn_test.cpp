// Every row of the syn entry in shared/reference/port-states.md.
#include "support/plugin_fixture.hpp"

using namespace scanfw;
using namespace scanfw::testing;
using namespace scanfw::tcp_flag;

TEST(SynPlugin, DescribesItself) {
    auto p = load_test_plugin();
    EXPECT_EQ(p->info().name, "syn");
    EXPECT_EQ(p->info().transport, Transport::RawTcp);
    EXPECT_EQ(p->probe(80).tcp_flags, SYN);
}

TEST(SynPlugin, ClassifiesEveryReply) {
    auto p = load_test_plugin();
    EXPECT_VERDICT(p, tcp_reply(SYN | ACK), "open (syn-ack)");
    EXPECT_VERDICT(p, tcp_reply(SYN), "open (split-handshake-syn)");
    EXPECT_VERDICT(p, tcp_reply(RST), "closed (reset)");
    EXPECT_VERDICT(p, tcp_reply(RST | ACK), "closed (reset)");
    for (int code : {1, 2, 3, 9, 10, 13}) EXPECT_VERDICT(p, icmp_unreach(code), "filtered (" + std::string(unreach_reason(icmp_unreach(code).unreach)) + ")");
    EXPECT_VERDICT(p, icmp_unreach(13), "filtered (admin-prohibited)");
    EXPECT_VERDICT(p, icmp_unreach(4), "undecided");  // not an unreachable that filters
    EXPECT_VERDICT(p, tcp_reply(ACK), "undecided");
    EXPECT_VERDICT(p, silence(), "filtered (no-response)");
}
