// Every row of the syn entry in shared/reference/port-states.md.
#include "support/plugin_fixture.hpp"

using namespace scanfw;
using namespace scanfw::testing;
using namespace scanfw::tcp_flag;

TEST(SynPlugin, DescribesItself) {
    auto p = load_test_plugin();
    EXPECT_EQ(p->info().name, "syn");
    EXPECT_EQ(p->info().protocol, Protocol::Tcp);
    EXPECT_EQ(p->info().kind, Kind::Port);
}

TEST(SynPlugin, ProbeCarriesTheTag) {
    auto p = load_test_plugin();
    const wire::Tcp tcp = probe_tcp(*p, 80);
    const TestContext t(80);
    EXPECT_EQ(tcp.flags, SYN);
    EXPECT_EQ(tcp.dport, 80);
    EXPECT_EQ(tcp.sport, t.ctx.tag.sport);
    EXPECT_EQ(tcp.seq, t.ctx.tag.seq);
    EXPECT_EQ(tcp.ack, 0u);
    ASSERT_EQ(tcp.options.size(), 4u);
    EXPECT_EQ(tcp.options[0], 2);  // MSS
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
