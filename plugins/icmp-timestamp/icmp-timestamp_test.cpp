// The ICMP timestamp request (IPv4 only); its reply means up.
#include "support/plugin_fixture.hpp"

using namespace scanfw;
using namespace scanfw::testing;

TEST(IcmpTimestampPlugin, SendsTheRequestWithTheTag) {
    const auto p = load_test_plugin();
    EXPECT_TRUE(p->info().ipv4);
    EXPECT_FALSE(p->info().ipv6);
    auto m = wire::Icmp::read(probe_bytes(*p, 0));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->type, wire::icmp_type::Timestamp);
    EXPECT_EQ(m->id, TestContext(0).ctx.tag.icmp_id);
}

TEST(IcmpTimestampPlugin, Classifies) {
    const auto p = load_test_plugin();
    Reply reply;
    reply.kind = Reply::Kind::Icmp;
    reply.icmp_type = 14;
    EXPECT_VERDICT(p, reply, "up (timestamp-reply)");
    reply.icmp_type = 0;  // an echo reply is not its answer
    EXPECT_VERDICT(p, reply, "undecided");
    EXPECT_VERDICT(p, silence(), "down (no-response)");
}
