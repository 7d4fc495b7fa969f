// For a plugin's own tests: load the built plugin through the core's loader, build its
// probes with a fixed context, and make replies that read like the table in
// shared/reference/port-states.md.
#pragma once

#include <gtest/gtest.h>

#include <vector>

#include "common/result.hpp"
#include "plugin/plugins.hpp"
#include "scanfw/wire.hpp"

namespace scanfw::testing {

// The plugin built in this tree, configured with `settings` over its defaults.
inline std::shared_ptr<const TechniqueInstance> load_test_plugin(const char* name = SCANFW_TEST_PLUGIN_NAME,
                                                                 const std::vector<OptionSetting>& settings = {}) {
    PluginRegistry registry({SCANFW_TEST_PLUGIN_DIR});
    return registry.load(name)->configure(settings);
}

// A context for a probe of `port` from 198.18.0.1 to 198.18.0.2 (fd00:5eed::1 to ::2).
struct TestContext {
    std::uint8_t src[16] = {198, 18, 0, 1}, dst[16] = {198, 18, 0, 2}, mac[6] = {2, 0, 0, 0, 0, 1};
    ProbeContext ctx;
    explicit TestContext(std::uint16_t port, bool ipv6 = false) {
        if (ipv6) {
            const std::uint8_t s[16] = {0xfd, 0, 0x5e, 0xed, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
            std::copy(std::begin(s), std::end(s), src);
            std::copy(std::begin(s), std::end(s), dst);
            dst[15] = 2;
        }
        ctx.port = port;
        ctx.ipv6 = ipv6;
        ctx.src = {src, ipv6 ? 16u : 4u};
        ctx.dst = {dst, ipv6 ? 16u : 4u};
        ctx.src_mac = mac;
        ctx.tag = Tag{61234, 0x11223344, 0x55667788, 0x4321, 0x8765};
    }
};

// What the plugin writes after the IP header for a probe of `port`.
inline std::vector<std::uint8_t> probe_bytes(const TechniqueInstance& p, std::uint16_t port, bool ipv6 = false) {
    TestContext t(port, ipv6);
    std::vector<std::uint8_t> out(1500);
    out.resize(p.probe(t.ctx, out));
    return out;
}

// The TCP header of a probe (fails the test when there is none).
inline wire::Tcp probe_tcp(const TechniqueInstance& p, std::uint16_t port) {
    static thread_local std::vector<std::uint8_t> bytes;
    bytes = probe_bytes(p, port);
    auto tcp = wire::Tcp::read(bytes);
    EXPECT_TRUE(tcp.has_value()) << "the probe is not a TCP segment";
    return tcp.value_or(wire::Tcp{});
}

inline Reply tcp_reply(std::uint8_t flags, std::uint16_t window = 0) {
    Reply r;
    r.kind = Reply::Kind::Tcp;
    r.tcp_flags = flags;
    r.tcp_window = window;
    return r;
}

inline Reply udp_reply() {
    Reply r;
    r.kind = Reply::Kind::Udp;
    return r;
}

inline Reply icmp_unreach(std::uint8_t code, std::uint8_t quoted_protocol = 0) {
    static constexpr Unreach kByCode[] = {Unreach::Net, Unreach::Host, Unreach::Proto, Unreach::Port,
                                          Unreach::Other, Unreach::Other, Unreach::Other, Unreach::Other,
                                          Unreach::Other, Unreach::NetProhibited, Unreach::HostProhibited,
                                          Unreach::Other, Unreach::Other, Unreach::AdminProhibited};
    Reply r;
    r.kind = Reply::Kind::IcmpError;
    r.icmp_type = 3;
    r.icmp_code = code;
    r.unreach = code < std::size(kByCode) ? kByCode[code] : Unreach::Other;
    r.ip_protocol = quoted_protocol;
    return r;
}

inline Reply connect_result(int err) {
    Reply r;
    r.kind = Reply::Kind::Connect;
    r.connect_errno = err;
    return r;
}

inline Reply silence() { return Reply{}; }

// "open (syn-ack)" -- compact to compare and to read in a failure message.
inline std::string verdict_text(const Verdict& v) {
    if (v.state == State::Undecided) return "undecided";
    return std::string(state_name(v.state)) + " (" + v.reason + ")";
}

}  // namespace scanfw::testing

// Expects the plugin to classify `reply` as `expected`, e.g. "closed (reset)".
#define EXPECT_VERDICT(plugin, reply, expected) \
    EXPECT_EQ(::scanfw::testing::verdict_text((plugin)->classify(reply)), expected)
