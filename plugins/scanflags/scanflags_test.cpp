// nmap's --scanflags: the flag spellings, and each "as" pairing's table row.
#include "support/plugin_fixture.hpp"

using namespace scanfw;
using namespace scanfw::testing;
using namespace scanfw::tcp_flag;

namespace {
std::shared_ptr<const TechniqueInstance> with(const std::string& flags, const std::string& as = "syn") {
    return load_test_plugin("scanflags", {{"flags", flags, "test"}, {"as", as, "test"}});
}
}  // namespace

TEST(ScanflagsPlugin, DefaultIsASynScan) {
    auto p = load_test_plugin();
    EXPECT_EQ(probe_tcp(*p, 80).flags, SYN);
    EXPECT_VERDICT(p, tcp_reply(SYN | ACK), "open (syn-ack)");
    EXPECT_VERDICT(p, silence(), "filtered (no-response)");
}

TEST(ScanflagsPlugin, SpellsFlagsAsNmapDoes) {
    EXPECT_EQ(probe_tcp(*with("URGACKPSHRSTSYNFIN"), 1).flags, URG | ACK | PSH | RST | SYN | FIN);
    EXPECT_EQ(probe_tcp(*with("finack"), 1).flags, FIN | ACK);
    EXPECT_EQ(probe_tcp(*with("SYNFIN"), 1).flags, SYN | FIN);
    EXPECT_EQ(probe_tcp(*with("9"), 1).flags, PSH | FIN);
    EXPECT_EQ(probe_tcp(*with("0x29"), 1).flags, URG | PSH | FIN);
    EXPECT_EQ(probe_tcp(*with("ECECWR"), 1).flags, ECE | CWR);
    EXPECT_EQ(probe_tcp(*with("NONE"), 1).flags, 0);
    EXPECT_EQ(probe_tcp(*with("ALL"), 1).flags, 0xff);
}

TEST(ScanflagsPlugin, CarriesTheAckTagWhenAckIsSet) {
    EXPECT_EQ(probe_tcp(*with("ACK"), 1).ack, TestContext(1).ctx.tag.ack);
    EXPECT_EQ(probe_tcp(*with("SYN"), 1).ack, 0u);
}

TEST(ScanflagsPlugin, RefusesBadFlagsNamingTheOption) {
    for (const char* bad : {"FOO", "SYNX", "256", "0x100", "", "12abc"}) {
        try {
            with(bad);
            ADD_FAILURE() << "'" << bad << "' was accepted";
        } catch (const PluginError& e) {
            EXPECT_NE(std::string(e.what()).find("plugin 'scanflags', option 'flags'"), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find("test: "), std::string::npos) << e.what();
        }
    }
    EXPECT_THROW(with("SYN", "bogus"), PluginError);
}

TEST(ScanflagsPlugin, ClassifiesAsTheChosenScanType) {
    EXPECT_VERDICT(with("FINACK", "ack"), tcp_reply(RST), "unfiltered (reset)");
    EXPECT_VERDICT(with("FINACK", "ack"), silence(), "filtered (no-response)");
    EXPECT_VERDICT(with("ACK", "window"), tcp_reply(RST, 512), "open (reset)");
    EXPECT_VERDICT(with("ACK", "window"), tcp_reply(RST, 0), "closed (reset)");
    EXPECT_VERDICT(with("FINPSH", "fin"), silence(), "open|filtered (no-response)");
    EXPECT_VERDICT(with("FINPSH", "xmas"), tcp_reply(RST), "closed (reset)");
    EXPECT_VERDICT(with("SYNFIN"), tcp_reply(RST), "closed (reset)");
    EXPECT_VERDICT(with("SYNFIN"), icmp_unreach(13), "filtered (admin-prohibited)");
}
