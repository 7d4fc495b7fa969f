// nmap -Ps: TCP SYN to the ports of its option; any reset or SYN/ACK means up.
#include "support/plugin_fixture.hpp"

using namespace scanfw;
using namespace scanfw::testing;
using namespace scanfw::tcp_flag;

TEST(TcpSynPingPlugin, ProbesItsPortsWithTheTag) {
    EXPECT_EQ(load_test_plugin()->probe_ports(), std::vector<std::uint16_t>{80});
    const auto p = load_test_plugin("tcp-syn-ping", {{"ports", "22,443", "test"}});
    EXPECT_EQ(p->probe_ports(), (std::vector<std::uint16_t>{22, 443}));
    const auto tcp = probe_tcp(*p, 443);
    EXPECT_EQ(tcp.flags, SYN);
    EXPECT_EQ(tcp.dport, 443);
    EXPECT_EQ(tcp.sport, TestContext(443).ctx.tag.sport);
    EXPECT_THROW(load_test_plugin("tcp-syn-ping", {{"ports", "99999", "test"}}), PluginError);
}

TEST(TcpSynPingPlugin, Classifies) {
    const auto p = load_test_plugin();
    EXPECT_VERDICT(p, tcp_reply(RST), "up (reset)");
    EXPECT_VERDICT(p, icmp_unreach(13), "down (admin-prohibited)");
    EXPECT_VERDICT(p, silence(), "down (no-response)");
}

TEST(TcpSynPingPlugin, SynAckMeansUp) { EXPECT_VERDICT(load_test_plugin(), tcp_reply(SYN | ACK), "up (syn-ack)"); }
