// Unprivileged discovery: connect() to 80 and 443; accepted or refused means up.
#include <cerrno>

#include "support/plugin_fixture.hpp"

using namespace scanfw;
using namespace scanfw::testing;

TEST(TcpConnectPingPlugin, ConnectsTo80And443) {
    const auto p = load_test_plugin();
    EXPECT_EQ(p->info().carrier, Carrier::Connect);
    EXPECT_EQ(p->probe_ports(), (std::vector<std::uint16_t>{80, 443}));
}

TEST(TcpConnectPingPlugin, Classifies) {
    const auto p = load_test_plugin();
    EXPECT_VERDICT(p, connect_result(0), "up (syn-ack)");
    EXPECT_VERDICT(p, connect_result(ECONNREFUSED), "up (conn-refused)");
    EXPECT_VERDICT(p, connect_result(EHOSTUNREACH), "down (host-unreach)");
    EXPECT_VERDICT(p, silence(), "down (no-response)");
}
