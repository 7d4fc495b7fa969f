// nmap -PE: echo request with the core's tag; an echo reply means up.
#include "support/plugin_fixture.hpp"

using namespace scanfw;
using namespace scanfw::testing;

TEST(IcmpEchoPlugin, IsAHostTechnique) {
    const auto p = load_test_plugin();
    EXPECT_EQ(p->info().kind, Kind::Host);
    EXPECT_EQ(p->probe_ports(), std::vector<std::uint16_t>{0});
}

TEST(IcmpEchoPlugin, SendsEchoOfEitherFamilyWithTheTag) {
    const auto p = load_test_plugin();
    const TestContext t(0);
    auto v4 = wire::Icmp::read(probe_bytes(*p, 0));
    ASSERT_TRUE(v4);
    EXPECT_EQ(v4->type, wire::icmp_type::Echo);
    EXPECT_EQ(v4->id, t.ctx.tag.icmp_id);
    EXPECT_EQ(v4->seq, t.ctx.tag.icmp_seq);
    auto v6 = wire::Icmp::read(probe_bytes(*p, 0, true));
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->type, wire::icmp_type::V6Echo);
}

TEST(IcmpEchoPlugin, Classifies) {
    const auto p = load_test_plugin();
    Reply echo;
    echo.kind = Reply::Kind::Icmp;
    EXPECT_VERDICT(p, echo, "up (echo-reply)");
    EXPECT_VERDICT(p, icmp_unreach(1), "down (host-unreach)");
    EXPECT_VERDICT(p, silence(), "down (no-response)");
}
