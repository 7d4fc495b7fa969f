// nmap -PR for IPv4: a "who has" from our MAC; an ARP reply means up.
#include "support/plugin_fixture.hpp"

using namespace scanfw;
using namespace scanfw::testing;

TEST(ArpPlugin, AsksForTheTargetFromOurMac) {
    const auto p = load_test_plugin();
    EXPECT_EQ(p->info().protocol, Protocol::Link);
    EXPECT_FALSE(p->info().ipv6);
    const auto bytes = probe_bytes(*p, 0);
    auto arp = wire::Arp::read(bytes);
    ASSERT_TRUE(arp);
    EXPECT_EQ(arp->op, wire::Arp::Request);
    EXPECT_EQ(arp->target_ip[3], 2);  // 198.18.0.2
    EXPECT_EQ(arp->sender_ip[3], 1);
    EXPECT_EQ(arp->sender_mac[5], 1);
}

TEST(ArpPlugin, Classifies) {
    const auto p = load_test_plugin();
    Reply r;
    r.kind = Reply::Kind::Link;
    EXPECT_VERDICT(p, r, "up (arp-response)");
    EXPECT_VERDICT(p, silence(), "down (no-response)");
}
