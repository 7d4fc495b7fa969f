// Neighbour discovery for IPv6 targets: a solicitation (RFC 4861 4.3).
#include "support/plugin_fixture.hpp"

using namespace scanfw;
using namespace scanfw::testing;

TEST(NdPlugin, SolicitsTheTargetsAddress) {
    const auto p = load_test_plugin();
    EXPECT_FALSE(p->info().ipv4);
    const auto bytes = probe_bytes(*p, 0, true);
    ASSERT_EQ(bytes.size(), 32u);
    EXPECT_EQ(bytes[0], 135);
    EXPECT_EQ(bytes[8], 0xfd);   // the target, fd00:5eed::2
    EXPECT_EQ(bytes[23], 2);
    EXPECT_EQ(bytes[24], 1);     // source link-layer address option
}

TEST(NdPlugin, Classifies) {
    Reply r;
    r.kind = Reply::Kind::Link;
    EXPECT_VERDICT(load_test_plugin(), r, "up (nd-response)");
}
