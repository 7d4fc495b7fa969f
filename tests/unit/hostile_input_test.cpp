// Hostile input: regressions for bugs found while fuzzing and hardening (issue 5),
// and the hooks the fuzzers rely on (parse_profile, TargetSet::set_resolve).
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "cli/config.hpp"
#include "net/tag.hpp"
#include "targets/targets.hpp"

using namespace scanfw;

namespace {
IpAddress ip(const char* s) { return *IpAddress::parse(s); }
}  // namespace

// The kernel fills in the IP id of a raw IP_HDRINCL packet when it is zero, so a
// probe tagged with id 0 left with another id, and the ICMP error quoting it (UDP
// closed or filtered ports) never matched: about one port in 65536 came out
// open|filtered instead of closed or filtered. Key {1,2} gave id 0 for
// 198.18.0.2 port 58225.
TEST(HostileInput, ProbeTagsNeverUseIpIdZero) {
    const Tagger tagger(SipKey{1, 2});
    for (const char* target : {"198.18.0.2", "198.18.0.3", "fd00:5eed::2"}) {
        const IpAddress ours = ip(target[0] == 'f' ? "fd00:5eed::1" : "198.18.0.1");
        for (std::uint32_t port = 0; port <= 65535; ++port) {
            ASSERT_NE(tagger.tag(3, ours, ip(target), static_cast<std::uint16_t>(port)).ip_id, 0)
                << target << " port " << port;
        }
    }
}

TEST(HostileInput, TargetsWithoutNameResolutionRefuseHostnames) {
    TargetSet set;
    set.set_resolve(false);
    for (const char* name : {"localhost", "localhost/30", "scanme.example", "a-b_c.d"}) {
        try {
            set.add(name);
            ADD_FAILURE() << name << " was accepted";
        } catch (const InputError& e) {
            EXPECT_NE(std::string(e.what()).find("name resolution is off"), std::string::npos) << e.what();
        }
    }
    EXPECT_TRUE(set.empty());
    // Everything that needs no lookup still works.
    set.add("198.18.0.2");
    set.add("198.18.0.0/30");
    set.add("198.18.1.1-3");
    set.add("fd00:5eed::/126");
    EXPECT_EQ(set.size(), 1u + 4u + 3u + 4u);
    EXPECT_EQ(set.at(0).str(), "198.18.0.2");
    EXPECT_EQ(set.at(11).str(), "fd00:5eed::3");
    // Bad literals keep their own messages.
    EXPECT_THROW(set.add("198.18.0.300"), InputError);
    EXPECT_THROW(set.add("fd00::g"), InputError);
}

TEST(HostileInput, ParseProfileIsLoadProfileWithoutAFile) {
    const std::string text =
        "name: t\nplugins: [syn, null]\nports: \"T:22,U:53\"\ntargets: [198.18.0.2]\n"
        "timeout: 250ms\nretries: 1\nrate: 5\noutputs: {json: out.jsonl}\n";
    const std::string path = ::testing::TempDir() + "hostile_profile.yaml";
    {
        std::ofstream(path) << text;
    }
    const ScanConfig a = load_profile(path);
    const ScanConfig b = parse_profile(text, "in-memory");
    std::remove(path.c_str());
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.plugins, b.plugins);
    EXPECT_EQ(a.ports, b.ports);
    EXPECT_EQ(a.targets, b.targets);
    EXPECT_EQ(a.timeout, b.timeout);
    EXPECT_EQ(a.retries, b.retries);
    EXPECT_EQ(a.rate, b.rate);
    EXPECT_EQ(a.outputs.json, b.outputs.json);
    EXPECT_EQ(plugin_names(b.plugins), (std::vector<std::string>{"syn", "null"}));

    try {
        parse_profile("plugins: [syn]\nportz: 22\n", "mem.yaml");
        ADD_FAILURE() << "unknown key accepted";
    } catch (const InputError& e) {
        EXPECT_EQ(std::string(e.what()).rfind("mem.yaml:2:1: unknown key 'portz'", 0), 0u) << e.what();
    }
}

// Nasty YAML gives InputError (naming the profile) and nothing else.
TEST(HostileInput, ParseProfileThrowsOnlyInputError) {
    const std::string cases[] = {
        std::string(5000, '[') + std::string(5000, ']'),      // deep nesting
        "plugins: " + std::string(3000, '{') + "a" + std::string(3000, '}'),
        "a: &x [*x]\nplugins: *x\n",                          // self-referencing alias
        "plugins: *nosuch\n",                                 // unknown alias
        std::string("plugins: [syn]\0ports: 22\n", 25),       // a NUL byte
        "plugins: \xff\xfe\x80\n",                            // not UTF-8
        "? [a, b]\n: c\n",                                    // a list as a key
        "--- !foo\nplugins: !!binary AAAA\n",                 // tags
        "retries: 99999999999999999999999\n",
        "timeout: 1e309\nrate: -0\n",
        "outputs: {json: }\n",
        "\t\tplugins: [syn]\n",                               // tabs
        "plugins: [syn]\n---\nplugins: [ack]\n",              // two documents
    };
    for (const auto& text : cases) {
        try {
            (void)parse_profile(text, "nasty.yaml");
        } catch (const InputError& e) {
            EXPECT_EQ(std::string(e.what()).rfind("nasty.yaml", 0), 0u) << e.what();
        } catch (const std::exception& e) {
            ADD_FAILURE() << "not an InputError: " << e.what() << " for: " << text.substr(0, 60);
        }
    }
}
