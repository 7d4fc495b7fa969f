// nmap -sO: the probe for each protocol nmap builds a header for, and the states.
#include "support/plugin_fixture.hpp"

using namespace scanfw;
using namespace scanfw::testing;

namespace {
Reply ip_reply(std::uint8_t protocol, bool ipv6 = false) {
    static const std::uint8_t v4[20] = {0x45}, v6[40] = {0x60};
    Reply r;
    r.kind = Reply::Kind::Ip;
    r.ip_protocol = protocol;
    r.packet = ipv6 ? std::span<const std::uint8_t>(v6) : std::span<const std::uint8_t>(v4);
    return r;
}
}  // namespace

TEST(IpprotoPlugin, IsAnIpProtocolTechnique) {
    EXPECT_EQ(load_test_plugin()->info().protocol, Protocol::Ip);
}

TEST(IpprotoPlugin, BuildsNmapsProbes) {
    auto p = load_test_plugin();
    const TestContext t(0);
    auto icmp = wire::Icmp::read(probe_bytes(*p, 1));
    ASSERT_TRUE(icmp);
    EXPECT_EQ(icmp->type, wire::icmp_type::Echo);
    EXPECT_EQ(icmp->id, t.ctx.tag.icmp_id);
    EXPECT_EQ(icmp->seq, t.ctx.tag.icmp_seq);
    auto icmp6 = wire::Icmp::read(probe_bytes(*p, 58, true));
    ASSERT_TRUE(icmp6);
    EXPECT_EQ(icmp6->type, wire::icmp_type::V6Echo);
    const auto tcp = probe_tcp(*p, 6);
    EXPECT_EQ(tcp.flags, tcp_flag::ACK);
    EXPECT_EQ(tcp.dport, 80);
    EXPECT_EQ(tcp.sport, t.ctx.tag.sport);
    const auto udp_bytes = probe_bytes(*p, 17);
    auto udp = wire::Udp::read(udp_bytes);
    ASSERT_TRUE(udp);
    EXPECT_EQ(udp->dport, 40125);
    EXPECT_EQ(probe_bytes(*p, 2).size(), 8u);  // IGMP query
    EXPECT_EQ(probe_bytes(*p, 2)[0], 0x11);
    const auto sctp = probe_bytes(*p, 132);
    ASSERT_EQ(sctp.size(), 32u);
    EXPECT_EQ(sctp[12], 1);  // INIT chunk
    EXPECT_TRUE(probe_bytes(*p, 47).empty());  // GRE: an empty payload, as nmap's
}

TEST(IpprotoPlugin, ClassifiesAsNmap) {
    auto p = load_test_plugin();
    EXPECT_VERDICT(p, ip_reply(6), "open (proto-response)");
    EXPECT_VERDICT(p, ip_reply(58, true), "open (proto-response)");
    Reply echo = ip_reply(1);
    echo.icmp_type = 0;
    EXPECT_VERDICT(p, echo, "open (echo-reply)");
    Reply err = ip_reply(1);
    err.icmp_type = 3;
    err.unreach = Unreach::Proto;
    EXPECT_VERDICT(p, err, "open (proto-unreach)");  // any ICMP shows ICMP is spoken
    EXPECT_VERDICT(p, icmp_unreach(2, 47), "closed (proto-unreach)");
    EXPECT_VERDICT(p, icmp_unreach(3, 17), "open (port-unreach)");
    EXPECT_VERDICT(p, icmp_unreach(13, 47), "filtered (admin-prohibited)");
    EXPECT_VERDICT(p, icmp_unreach(1, 47), "filtered (host-unreach)");
    Reply param = icmp_unreach(2, 47);
    static const std::uint8_t v6[40] = {0x60};
    param.packet = v6;
    param.icmp_type = 4;
    EXPECT_VERDICT(p, param, "closed (param-problem)");
    EXPECT_VERDICT(p, silence(), "open|filtered (no-response)");
}
