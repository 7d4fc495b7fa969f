// For a plugin's own tests: load the built plugin through the core's loader, and
// build replies that read like the table in shared/reference/port-states.md.
#pragma once

#include <gtest/gtest.h>

#include "plugin/plugins.hpp"
#include "output/result.hpp"

namespace scanfw::testing {

inline std::shared_ptr<const Plugin> load_test_plugin(const char* name = SCANFW_TEST_PLUGIN_NAME) {
    PluginRegistry registry({SCANFW_TEST_PLUGIN_DIR});
    return registry.load(name);
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

inline Reply icmp_unreach(std::uint8_t code) {
    static constexpr Unreach kByCode[] = {Unreach::Net, Unreach::Host, Unreach::Proto, Unreach::Port,
                                          Unreach::Other, Unreach::Other, Unreach::Other, Unreach::Other,
                                          Unreach::Other, Unreach::NetProhibited, Unreach::HostProhibited,
                                          Unreach::Other, Unreach::Other, Unreach::AdminProhibited};
    Reply r;
    r.kind = Reply::Kind::IcmpUnreach;
    r.icmp_type = 3;
    r.icmp_code = code;
    r.unreach = code < std::size(kByCode) ? kByCode[code] : Unreach::Other;
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
    if (v.state == PortState::Undecided) return "undecided";
    return std::string(state_name(v.state)) + " (" + v.reason + ")";
}

}  // namespace scanfw::testing

// Expects the plugin to classify `reply` as `expected`, e.g. "closed (reset)".
#define EXPECT_VERDICT(plugin, reply, expected) \
    EXPECT_EQ(::scanfw::testing::verdict_text((plugin)->classify(reply)), expected)
