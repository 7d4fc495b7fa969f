// Every row of the udp entry in shared/reference/port-states.md, and the payloads.
#include "support/plugin_fixture.hpp"

using namespace scanfw;
using namespace scanfw::testing;

TEST(UdpPlugin, ClassifiesEveryReply) {
    auto p = load_test_plugin();
    EXPECT_VERDICT(p, udp_reply(), "open (udp-response)");
    EXPECT_VERDICT(p, icmp_unreach(3), "closed (port-unreach)");
    EXPECT_VERDICT(p, icmp_unreach(0), "filtered (net-unreach)");
    EXPECT_VERDICT(p, icmp_unreach(1), "filtered (host-unreach)");
    EXPECT_VERDICT(p, icmp_unreach(2), "filtered (proto-unreach)");
    EXPECT_VERDICT(p, icmp_unreach(9), "filtered (net-prohibited)");
    EXPECT_VERDICT(p, icmp_unreach(10), "filtered (host-prohibited)");
    EXPECT_VERDICT(p, icmp_unreach(13), "filtered (admin-prohibited)");
    EXPECT_VERDICT(p, silence(), "open|filtered (no-response)");
    EXPECT_VERDICT(p, icmp_unreach(4), "undecided");
    EXPECT_VERDICT(p, tcp_reply(scanfw::tcp_flag::RST), "undecided");  // TCP says nothing of a UDP port
}

// The UDP payload of the probe for `port`.
std::vector<std::uint8_t> payload(const TechniqueInstance& p, std::uint16_t port) {
    const auto bytes = probe_bytes(p, port);
    const auto udp = wire::Udp::read(bytes);
    EXPECT_TRUE(udp.has_value());
    EXPECT_EQ(udp->dport, port);
    EXPECT_EQ(udp->sport, TestContext(port).ctx.tag.sport);
    return {udp->payload.begin(), udp->payload.end()};
}

TEST(UdpPlugin, ServicePayloadsFollowTheirProtocols) {
    auto p = load_test_plugin();
    EXPECT_TRUE(p->info().answered_by_applications);
    const auto dns = payload(*p, 53);
    ASSERT_EQ(dns.size(), 17u);
    EXPECT_EQ(dns[5], 1);  // one question
    const auto ntp = payload(*p, 123);
    ASSERT_EQ(ntp.size(), 48u);
    EXPECT_EQ(ntp[0] & 0x07, 3);         // mode 3: client
    EXPECT_EQ((ntp[0] >> 3) & 0x07, 4);  // version 4
    const auto snmp = payload(*p, 161);
    ASSERT_GE(snmp.size(), 2u);
    EXPECT_EQ(snmp[0], 0x30);
    EXPECT_EQ(snmp[1] + 2u, snmp.size());  // BER length covers the message
    const auto netbios = payload(*p, 137);
    ASSERT_EQ(netbios.size(), 50u);
    EXPECT_EQ(netbios[12], 0x20);  // 32-byte encoded name
    EXPECT_TRUE(payload(*p, 9999).empty());
}
