// parse_duration, ScanConfig::override_with and load_profile (YAML profiles).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli/config.hpp"
#include "targets/ports.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using scanfw::InputError;
using scanfw::load_profile;
using scanfw::parse_duration;
using scanfw::ScanConfig;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// --- parse_duration ---

TEST(Duration, Units) {
    EXPECT_EQ(parse_duration("500ms"), 500ms);
    EXPECT_EQ(parse_duration("2s"), 2000ms);
    EXPECT_EQ(parse_duration("1.5s"), 1500ms);
    EXPECT_EQ(parse_duration("1m"), 60000ms);
    EXPECT_EQ(parse_duration("1.5m"), 90000ms);
    EXPECT_EQ(parse_duration("2h"), 7200000ms);
    EXPECT_EQ(parse_duration("2000us"), 2ms);
}

TEST(Duration, BareNumberIsSeconds) {
    EXPECT_EQ(parse_duration("3"), 3000ms);
    EXPECT_EQ(parse_duration("0.25"), 250ms);
    EXPECT_EQ(parse_duration("0.3"), 300ms);  // exact, no floating-point rounding up
    EXPECT_EQ(parse_duration("0.1s"), 100ms);
}

TEST(Duration, RoundsUpToAMillisecond) {
    EXPECT_EQ(parse_duration("250us"), 1ms);
    EXPECT_EQ(parse_duration("1us"), 1ms);
    EXPECT_EQ(parse_duration("1001us"), 2ms);
    EXPECT_EQ(parse_duration("0.0001s"), 1ms);
    EXPECT_EQ(parse_duration("1.5ms"), 2ms);
}

TEST(Duration, Rejects) {
    for (const char* bad : {"", "0", "0s", "0ms", "0.0s", "0us", "-1", "-1s", "+1s", "abc", "s", "1x", "1 s", " 1s",
                            "1s ", "1S", "1MS", "1sec", ".5s", "5.s", "1.2.3s", "1e3", "1e3ms", "inf", "nan", "1,5s",
                            "1ms2", "99999999999999999999s", "9999999999999999h"}) {
        EXPECT_FALSE(parse_duration(bad)) << "'" << bad << "'";
    }
}

// --- ScanConfig::override_with ---

TEST(ScanConfig, OverrideReplacesOnlyWhatIsSet) {
    ScanConfig base;
    base.name = "base";
    base.plugins = {{"syn", {}}};
    base.ports = "1-1024";
    base.targets = {"10.0.0.1"};
    base.timeout = 1000ms;
    base.retries = 2;
    base.rate = 100;
    base.outputs.json = "a.jsonl";

    ScanConfig over;
    over.ports = "22";
    over.retries = 0;
    base.override_with(over);
    EXPECT_EQ(base.name, "base");
    EXPECT_THAT(plugin_names(base.plugins), ElementsAre("syn"));
    EXPECT_EQ(base.ports, "22");
    EXPECT_THAT(base.targets, ElementsAre("10.0.0.1"));
    EXPECT_EQ(base.timeout, 1000ms);
    EXPECT_EQ(base.retries, 0);
    EXPECT_EQ(base.rate, 100.0);
    EXPECT_EQ(base.outputs.json, "a.jsonl");

    ScanConfig all;
    all.name = "n";
    all.description = "d";
    all.plugins = {{"ack", {}}, {"fin", {}}};
    all.targets = {"::1"};
    all.timeout = 5ms;
    all.rate = 7;
    all.outputs.json = "-";
    base.override_with(all);
    EXPECT_EQ(base.name, "n");
    EXPECT_EQ(base.description, "d");
    EXPECT_THAT(plugin_names(base.plugins), ElementsAre("ack", "fin"));
    EXPECT_THAT(base.targets, ElementsAre("::1"));
    EXPECT_EQ(base.timeout, 5ms);
    EXPECT_EQ(base.rate, 7.0);
    EXPECT_EQ(base.outputs.json, "-");
    EXPECT_EQ(base.ports, "22");
}

// --- load_profile ---

class Profile : public ::testing::Test {
protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ = fs::temp_directory_path() /
               ("scanfw-profile-test-" + std::to_string(::getpid()) + "-" + info->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    std::string write(const std::string& text, const std::string& name = "p.yaml") {
        const std::string path = (dir_ / name).string();
        std::ofstream(path, std::ios::binary) << text;
        return path;
    }
    ScanConfig load(const std::string& text) { return load_profile(write(text)); }

    // The message load_profile throws for a profile holding `text`, or "".
    std::string error_of(const std::string& text) {
        const std::string path = write(text);
        try {
            load_profile(path);
        } catch (const InputError& e) {
            return e.what();
        }
        return "";
    }
    // The same with "PATH:" taken off, for comparing exact messages.
    std::string located_error_of(const std::string& text) {
        const std::string message = error_of(text);
        const std::string path = (dir_ / "p.yaml").string() + ":";
        if (message.rfind(path, 0) != 0) return "no path prefix: " + message;
        return message.substr(path.size());
    }

    fs::path dir_;
};

TEST_F(Profile, FullProfile) {
    const ScanConfig c = load(R"(# a comment
name: full
description: "Every key, once"
plugins: [syn, ack]
ports: "T:22,80,U:53"
targets: [198.18.0.2, "10.0.0.0/30"]
timeout: 300ms
retries: 3
rate: 5000
outputs:
  json: out.jsonl
)");
    EXPECT_EQ(c.name, "full");
    EXPECT_EQ(c.description, "Every key, once");
    EXPECT_THAT(plugin_names(c.plugins), ElementsAre("syn", "ack"));
    EXPECT_EQ(c.ports, "T:22,80,U:53");
    EXPECT_THAT(c.targets, ElementsAre("198.18.0.2", "10.0.0.0/30"));
    EXPECT_EQ(c.timeout, 300ms);
    EXPECT_EQ(c.retries, 3);
    EXPECT_EQ(c.rate, 5000u);
    EXPECT_EQ(c.outputs.json, "out.jsonl");
}

TEST_F(Profile, EmptyProfileSetsNothing) {
    for (const char* text : {"", "# only a comment\n", "---\n", "{}\n"}) {
        const ScanConfig c = load(text);
        EXPECT_FALSE(c.name) << text;
        EXPECT_TRUE(c.plugins.empty());
        EXPECT_FALSE(c.ports);
        EXPECT_TRUE(c.targets.empty());
        EXPECT_FALSE(c.timeout);
        EXPECT_FALSE(c.retries);
        EXPECT_FALSE(c.rate);
        EXPECT_FALSE(c.outputs.json);
    }
}

TEST_F(Profile, PluginsForms) {
    EXPECT_THAT(plugin_names(load("plugins: syn\n").plugins), ElementsAre("syn"));
    EXPECT_THAT(plugin_names(load("plugins: syn,ack\n").plugins), ElementsAre("syn", "ack"));
    EXPECT_THAT(plugin_names(load("plugins: \"syn, ack ,fin\"\n").plugins), ElementsAre("syn", "ack", "fin"));
    EXPECT_THAT(plugin_names(load("plugins:\n  - syn\n  - my_plugin-2\n").plugins), ElementsAre("syn", "my_plugin-2"));
    EXPECT_THAT(plugin_names(load("plugins: [syn, \"ack,fin\"]\n").plugins), ElementsAre("syn", "ack", "fin"));
    // A bare null in the list is YAML's null; users mean the NULL technique.
    EXPECT_THAT(plugin_names(load("plugins: [null, fin, xmas]\n").plugins), ElementsAre("null", "fin", "xmas"));
}

TEST_F(Profile, PortsForms) {
    EXPECT_EQ(load("ports: 22\n").ports, "22");
    EXPECT_EQ(load("ports: \"-\"\n").ports, "-");
    EXPECT_EQ(load("ports: 1-1024\n").ports, "1-1024");
    EXPECT_EQ(load("ports: T:22,U:53\n").ports, "T:22,U:53");
}

TEST_F(Profile, TargetsForms) {
    EXPECT_THAT(load("targets: 10.0.0.1\n").targets, ElementsAre("10.0.0.1"));
    EXPECT_THAT(load("targets: 10.0.0.1  scanme.example\n").targets, ElementsAre("10.0.0.1", "scanme.example"));
    EXPECT_THAT(load("targets:\n  - 10.0.0.1,3\n  - \"::1\"\n").targets, ElementsAre("10.0.0.1,3", "::1"));
}

TEST_F(Profile, TimeoutForms) {
    EXPECT_EQ(load("timeout: 2\n").timeout, 2000ms);
    EXPECT_EQ(load("timeout: 1.5\n").timeout, 1500ms);
    EXPECT_EQ(load("timeout: 1m\n").timeout, 60000ms);
    EXPECT_EQ(load("timeout: \"250us\"\n").timeout, 1ms);
}

TEST_F(Profile, IntegerBounds) {
    EXPECT_EQ(load("retries: 0\n").retries, 0);
    EXPECT_EQ(load("retries: 20\n").retries, 20);
    EXPECT_EQ(load("rate: 1\n").rate, 1u);
    EXPECT_EQ(load("rate: \"250\"\n").rate, 250u);
    EXPECT_EQ(load("outputs:\n  json: \"-\"\n").outputs.json, "-");
}

TEST_F(Profile, OutputsEveryFormat) {
    const ScanConfig c =
        load("outputs:\n  json: a.jsonl\n  xml: a.xml\n  grepable: \"-\"\n  normal: a.nmap\n  all: base\n");
    EXPECT_EQ(c.outputs.json, "a.jsonl");
    EXPECT_EQ(c.outputs.xml, "a.xml");
    EXPECT_EQ(c.outputs.grepable, "-");
    EXPECT_EQ(c.outputs.normal, "a.nmap");
    EXPECT_EQ(c.outputs.all, "base");
    EXPECT_EQ(located_error_of("outputs:\n  xml: [a]\n"),
              "2:8: 'outputs.xml' must be a file path or \"-\", got a list");
    EXPECT_EQ(located_error_of("outputs:\n  all: \"\"\n"), "2:8: 'outputs.all' must be a base file name, got ''");
    EXPECT_EQ(located_error_of("outputs:\n  normal: a\n  normal: b\n"), "3:3: duplicate key 'normal'");

    // The command line's -oX replaces the profile's xml and leaves its other outputs.
    ScanConfig base = c, over;
    over.outputs.xml = "cli.xml";
    base.override_with(over);
    EXPECT_EQ(base.outputs.xml, "cli.xml");
    EXPECT_EQ(base.outputs.all, "base");
    EXPECT_EQ(base.outputs.grepable, "-");
}

TEST_F(Profile, WrongTypeNamesKeyAndPosition) {
    EXPECT_EQ(located_error_of("name: x\nrate: 10\nretries: abc\n"),
              "3:10: 'retries' must be an integer from 0 to 20, got 'abc'");
    EXPECT_EQ(located_error_of("retries: [1, 2]\n"), "1:10: 'retries' must be an integer from 0 to 20, got a list");
    EXPECT_EQ(located_error_of("plugins: {a: 1}\n"),
              "1:11: unknown key 'a' in a 'plugins' entry (known: name, options)");
    EXPECT_EQ(located_error_of("plugins: [syn, [ack]]\n"),
              "1:16: 'plugins' must be a plugin name or a list of them, got a list");
    EXPECT_THAT(located_error_of("name: [a]\n"), StartsWith("1:7: 'name' must be a string, got a list"));
    EXPECT_THAT(located_error_of("description: {a: b}\n"), StartsWith("1:14: 'description' must be a string"));
    EXPECT_THAT(located_error_of("ports: [22, 80]\n"), StartsWith("1:8: 'ports' must be a port list"));
    EXPECT_THAT(located_error_of("targets: {a: b}\n"), StartsWith("1:10: 'targets' must be a word or a list"));
    EXPECT_THAT(located_error_of("targets:\n  - a\n  - [b]\n"), StartsWith("3:5: 'targets' must be a word"));
    EXPECT_THAT(located_error_of("timeout: [1s]\n"), StartsWith("1:10: 'timeout' must be a positive duration"));
    EXPECT_THAT(located_error_of("rate: {a: 1}\n"), StartsWith("1:7: 'rate' must be a positive number"));
    EXPECT_THAT(located_error_of("outputs: out.json\n"),
                StartsWith("1:10: 'outputs' must be a map like {json: out.jsonl}, got 'out.json'"));
    EXPECT_THAT(located_error_of("outputs:\n  json: [a]\n"),
                StartsWith("2:9: 'outputs.json' must be a file path or \"-\", got a list"));
}

TEST_F(Profile, MissingValues) {
    EXPECT_THAT(error_of("retries:\n"), HasSubstr("'retries' must be an integer from 0 to 20, got nothing"));
    EXPECT_THAT(error_of("plugins:\n"), HasSubstr("'plugins'"));
    EXPECT_THAT(error_of("outputs:\n"), HasSubstr("'outputs' must be a map"));
    EXPECT_THAT(error_of("outputs:\n  json:\n"), HasSubstr("'outputs.json' must be a file path"));
    EXPECT_THAT(error_of("outputs:\n  json: \"\"\n"), HasSubstr("'outputs.json' must be a file path or \"-\", got ''"));
    EXPECT_THAT(error_of("timeout:\n"), HasSubstr("'timeout' must be a positive duration"));
    // Every error carries a position, even for a missing value.
    EXPECT_THAT(located_error_of("name: x\nretries:\n"), ::testing::MatchesRegex("[0-9]+:[0-9]+: .*"));
}

TEST_F(Profile, OutOfRangeValues) {
    EXPECT_EQ(located_error_of("retries: 21\n"), "1:10: 'retries' must be an integer from 0 to 20, got '21'");
    EXPECT_THAT(error_of("retries: -1\n"), HasSubstr("'retries' must be an integer from 0 to 20, got '-1'"));
    EXPECT_THAT(error_of("retries: 1.5\n"), HasSubstr("got '1.5'"));
    EXPECT_THAT(error_of("retries: 99999999999999999999999\n"), HasSubstr("'retries'"));
    EXPECT_EQ(located_error_of("rate: 0\n"), "1:7: 'rate' must be a positive number (probes per second), got '0'");
    EXPECT_THAT(error_of("rate: -5\n"), HasSubstr("'rate' must be a positive number"));
    EXPECT_THAT(error_of("rate: fast\n"), HasSubstr("got 'fast'"));
    EXPECT_EQ(load("rate: 1e5\n").rate, 100000.0);  // as --rate takes it
    EXPECT_EQ(located_error_of("timeout: 0\n"),
              "1:10: 'timeout' must be a positive duration like 500ms, 2s, 1.5s or 1m, got '0'");
    EXPECT_THAT(error_of("timeout: -1s\n"), HasSubstr("got '-1s'"));
    EXPECT_THAT(error_of("timeout: soon\n"), HasSubstr("got 'soon'"));
}

TEST_F(Profile, BadPorts) {
    EXPECT_EQ(located_error_of("\nports: \"22,70000\"\n"),
              "2:8: 'ports' is not a valid port list: bad port '70000' in '22,70000': ports are 0-65535");
    EXPECT_THAT(error_of("ports: \"\"\n"), HasSubstr("'ports' is not a valid port list: empty port spec"));
    EXPECT_THAT(error_of("ports: 90-80\n"), HasSubstr("reversed port range '90-80'"));
    EXPECT_THAT(error_of("ports: S:22\n"), HasSubstr("unsupported protocol prefix 'S:'"));
}

TEST_F(Profile, PluginsWithOptionsKeepWhereEachValueIs) {
    const ScanConfig c = load("plugins:\n  - syn\n  - {name: scanflags, options: {flags: FINACK, as: ack}}\n");
    ASSERT_EQ(c.plugins.size(), 2u);
    EXPECT_EQ(c.plugins[0].name, "syn");
    EXPECT_EQ(c.plugins[1].name, "scanflags");
    ASSERT_EQ(c.plugins[1].options.size(), 2u);
    EXPECT_EQ(c.plugins[1].options[0].name, "flags");
    EXPECT_EQ(c.plugins[1].options[0].value, "FINACK");
    EXPECT_THAT(c.plugins[1].options[0].where, ::testing::EndsWith(":3:40"));
    EXPECT_EQ(c.plugins[1].options[1].value, "ack");
    EXPECT_EQ(located_error_of("plugins: [{name: scanflags, opts: {flags: X}}]\n"),
              "1:29: unknown key 'opts' in a 'plugins' entry (known: name, options)");
    EXPECT_EQ(located_error_of("plugins: [{options: {flags: X}}]\n"), "1:11: a 'plugins' entry needs a name");
    EXPECT_EQ(located_error_of("plugins: [{name: scanflags, options: [FIN]}]\n"),
              "1:38: 'plugins': options must be a map like {flags: FINACK}, got a list");
}

TEST_F(Profile, EveryCommandLineSettingHasAKey) {
    const ScanConfig c = load(
        "discovery: [icmp-echo, {name: tcp-syn-ping, options: {ports: \"22,443\"}}]\n"
        "timing: aggressive\nmin-rate: 50\nmax-retries: 4\ndefeat-icmp-ratelimit: true\n"
        "source-ip: [198.19.0.0/30, fd00:5eed::10]\nservice: true\nversion-intensity: 5\n"
        "top-ports: 100\nexclude: 198.18.0.9\nseed: 42\nshard: 2/4\nreason: yes\nopen: true\n");
    ASSERT_TRUE(c.discovery);
    EXPECT_THAT(plugin_names(*c.discovery), ElementsAre("icmp-echo", "tcp-syn-ping"));
    EXPECT_EQ(c.timing, 4);
    EXPECT_EQ(c.min_rate, 50.0);
    EXPECT_EQ(c.max_retries, 4);
    EXPECT_EQ(c.defeat_icmp_ratelimit, true);
    EXPECT_THAT(c.source_ip, ElementsAre("198.19.0.0/30", "fd00:5eed::10"));
    EXPECT_EQ(c.service, true);
    EXPECT_EQ(c.version_intensity, 5);
    EXPECT_EQ(c.top_ports, 100u);
    EXPECT_THAT(c.exclude, ElementsAre("198.18.0.9"));
    EXPECT_EQ(c.seed, 42u);
    EXPECT_EQ(c.shard, "2/4");
    EXPECT_EQ(c.reason, true);
    EXPECT_EQ(c.open, true);
    EXPECT_TRUE(load("discovery: none\n").discovery->empty());
    EXPECT_EQ(load("timing: 2\n").timing, 2);
    EXPECT_EQ(located_error_of("timing: 7\n"),
              "1:9: 'timing' must be 0-5 or paranoid, sneaky, polite, normal, aggressive, insane; got '7'");
    EXPECT_EQ(located_error_of("version-intensity: 10\n"), "1:20: 'version-intensity' must be an integer from 0 to 9, got '10'");
    EXPECT_EQ(located_error_of("open: maybe\n"), "1:7: 'open' must be true or false, got 'maybe'");
}

TEST_F(Profile, BadPluginNames) {
    EXPECT_EQ(located_error_of("plugins: ../evil\n"),
              "1:10: 'plugins': bad plugin name '../evil' (names are made of a-z, 0-9, '_' and '-')");
    EXPECT_THAT(error_of("plugins: /usr/lib/x.so\n"), HasSubstr("bad plugin name '/usr/lib/x.so'"));
    EXPECT_THAT(error_of("plugins: SYN\n"), HasSubstr("bad plugin name 'SYN'"));
    EXPECT_THAT(error_of("plugins: \"syn,,ack\"\n"), HasSubstr("bad plugin name ''"));
    EXPECT_THAT(error_of("plugins: \"\"\n"), HasSubstr("bad plugin name ''"));
    EXPECT_THAT(located_error_of("plugins:\n  - syn\n  - \"a b\"\n"), StartsWith("3:5: 'plugins': bad plugin name 'a b'"));
    EXPECT_THAT(error_of("plugins: []\n"), HasSubstr("'plugins' must name at least one plugin"));
}

TEST_F(Profile, BadTargets) {
    EXPECT_THAT(error_of("targets: \"\"\n"), HasSubstr("'targets' has an empty entry"));
    EXPECT_THAT(error_of("targets: []\n"), HasSubstr("'targets' must have at least one entry"));
    EXPECT_THAT(located_error_of("targets: [a, \" \"]\n"), StartsWith("1:14: 'targets' has an empty entry"));
}

TEST_F(Profile, UnknownKeys) {
    EXPECT_EQ(located_error_of("name: x\nplugins: syn\nports: 22\nrate: 10\nportz: 80\n"),
              "5:1: unknown key 'portz' (known: name, description, plugins, discovery, ping-only, disable-arp-ping, "
              "ports, top-ports, targets, input-list, exclude, exclude-file, timing, timeout, min-rtt-timeout, "
              "max-rtt-timeout, initial-rtt-timeout, retries, max-retries, rate, min-rate, defeat-icmp-ratelimit, "
              "source-ip, interface, reverse-dns, dns-servers, service, version-intensity, service-db, seed, sequential-ports, shard, reason, open, outputs)");
    EXPECT_EQ(located_error_of("outputs:\n  json: a\n  html: b\n"),
              "3:3: unknown key 'html' under 'outputs' (known: json, xml, grepable, normal, all)");
    EXPECT_THAT(error_of("Name: x\n"), HasSubstr("unknown key 'Name'"));
}

TEST_F(Profile, DuplicateKeys) {
    EXPECT_EQ(located_error_of("rate: 1\nrate: 2\n"), "2:1: duplicate key 'rate'");
    EXPECT_EQ(located_error_of("outputs:\n  json: a\n  json: b\n"), "3:3: duplicate key 'json'");
}

TEST_F(Profile, NotAMap) {
    EXPECT_THAT(located_error_of("- syn\n- ack\n"), StartsWith("1:1: a profile must be a map of keys, got a list"));
    EXPECT_THAT(located_error_of("just text\n"), StartsWith("1:1: a profile must be a map of keys, got 'just text'"));
    EXPECT_THAT(located_error_of("[a]: 1\n"), StartsWith("1:1: keys must be names, got a list"));
}

TEST_F(Profile, YamlSyntaxErrors) {
    EXPECT_THAT(located_error_of("name: x\nplugins: [syn, ack\nrate: 10\n"), ::testing::MatchesRegex("[0-9]+:[0-9]+: .+"));
    EXPECT_THAT(located_error_of("name: x\n  bad: indent\n"), StartsWith("2:"));
    EXPECT_EQ(located_error_of("name: a: b\n"), "1:8: illegal map value");
    EXPECT_EQ(located_error_of("rate: 1\nname: \"a\" b\n"), "2:11: end of map not found");
    EXPECT_THAT(located_error_of("name: x\n\tfoo: 1\n"), StartsWith("2:1: "));
    EXPECT_THAT(located_error_of("a: *nosuchanchor\n"), ::testing::MatchesRegex("1:[0-9]+: .+"));
}

TEST_F(Profile, UnreadableFiles) {
    const std::string missing = (dir_ / "missing.yaml").string();
    try {
        load_profile(missing);
        FAIL() << "no error for a missing file";
    } catch (const InputError& e) {
        EXPECT_THAT(std::string(e.what()), StartsWith(missing + ": cannot read: No such file or directory"));
    }
    try {
        load_profile(dir_.string());
        FAIL() << "no error for a directory";
    } catch (const InputError& e) {
        EXPECT_EQ(std::string(e.what()), dir_.string() + ": cannot read: Is a directory");
    }
}

// Every profile shipped in profiles/ must load.
TEST(ShippedProfiles, AllLoad) {
    const fs::path dir = fs::path(SCANFW_TEST_SOURCE_DIR "/../profiles");
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (entry.is_regular_file() && entry.path().extension() == ".yaml") files.push_back(entry.path());
    }
    if (files.empty()) GTEST_SKIP() << "no profiles in " << dir;
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
        SCOPED_TRACE(file.string());
        EXPECT_NO_THROW({
            try {
                const ScanConfig c = load_profile(file.string());
                if (c.ports) scanfw::parse_ports(*c.ports);
            } catch (const InputError& e) {
                ADD_FAILURE() << e.what();
                throw;
            }
        });
    }
}

}  // namespace
