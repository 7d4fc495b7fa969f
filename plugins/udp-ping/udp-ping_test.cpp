// nmap -PU: UDP to an unlikely port; port unreachable (or data) means up.
#include "support/plugin_fixture.hpp"

using namespace scanfw;
using namespace scanfw::testing;

TEST(UdpPingPlugin, ProbesPort40125ByDefault) {
    const auto p = load_test_plugin();
    EXPECT_EQ(p->probe_ports(), std::vector<std::uint16_t>{40125});
    auto udp = wire::Udp::read(probe_bytes(*p, 40125));
    ASSERT_TRUE(udp);
    EXPECT_EQ(udp->dport, 40125);
}

TEST(UdpPingPlugin, Classifies) {
    const auto p = load_test_plugin();
    EXPECT_VERDICT(p, icmp_unreach(3), "up (port-unreach)");
    EXPECT_VERDICT(p, udp_reply(), "up (udp-response)");
    EXPECT_VERDICT(p, icmp_unreach(1), "down (host-unreach)");
    EXPECT_VERDICT(p, silence(), "down (no-response)");
}
