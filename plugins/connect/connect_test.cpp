// Every row of the connect entry in shared/reference/port-states.md.
#include <cerrno>

#include "support/plugin_fixture.hpp"

using namespace scanfw;
using namespace scanfw::testing;

TEST(ConnectPlugin, UsesConnect) {
    EXPECT_EQ(load_test_plugin()->info().carrier, Carrier::Connect);
    EXPECT_EQ(load_test_plugin()->info().protocol, Protocol::Tcp);
}

TEST(ConnectPlugin, ClassifiesEveryOutcome) {
    auto p = load_test_plugin();
    EXPECT_VERDICT(p, connect_result(0), "open (syn-ack)");
    EXPECT_VERDICT(p, connect_result(ECONNREFUSED), "closed (conn-refused)");
    EXPECT_VERDICT(p, silence(), "filtered (no-response)");
    EXPECT_VERDICT(p, connect_result(EHOSTUNREACH), "filtered (host-unreach)");
    EXPECT_VERDICT(p, connect_result(ENETUNREACH), "filtered (net-unreach)");
    EXPECT_VERDICT(p, connect_result(EACCES), "filtered (admin-prohibited)");
    EXPECT_VERDICT(p, connect_result(EADDRNOTAVAIL), "undecided");  // local trouble: retried
}
