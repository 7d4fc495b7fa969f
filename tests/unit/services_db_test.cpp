// The nmap-service-probes parser (core/src/services/probe_db.cpp): every directive,
// nmap's escapes and delimiters, and an error naming FILE:LINE for every kind of
// malformed line. The probe files here are small and written for these tests.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "common/errors.hpp"
#include "services/probe_db.hpp"
#include "services/text.hpp"

using scanfw::Protocol;
using namespace scanfw::services;
using scanfw::InputError;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

namespace {

// The message parsing `text` throws, or "" when it parses.
std::string error_of(const std::string& text) {
    try {
        (void)ProbeDb::parse(text, "t.probes");
    } catch (const InputError& e) {
        return e.what();
    }
    return "";
}

const std::string kNull = "Probe TCP NULL q||\n";

}  // namespace

TEST(ServicesDb, ParsesEveryDirective) {
    const ProbeDb db = ProbeDb::parse(
        "# a comment\n"
        "Exclude T:9100-9102,U:30000\n"
        "\n"
        "Probe TCP NULL q||\n"
        "totalwaitms 6000\n"
        "tcpwrappedms 3000\n"
        "match ftp m|^220 Fake FTP ([\\d.]+)\\r\\n| p/FakeFTP/ v/$1/ cpe:/a:fake:ftp:$1/\n"
        "softmatch ftp m/^220 /i\n"
        "\n"
        "Probe TCP Hello q|HELLO\\r\\n| no-payload\n"
        "rarity 3\n"
        "ports 21,25, 1000-1002\n"
        "ports 7\n"
        "sslports 990\n"
        "fallback NULL\n"
        "match hello m=^HI (\\w+)=s i/greets $1/ o/Unix/ d/router/ h/$1/\n"
        "Probe UDP Ping q|\\x00\\x01ping\\0|\n"
        "rarity 9\n"
        "ports 7\n"
        "match echo m|^\\0\\x01ping|\n",
        "t.probes");
    ASSERT_EQ(db.probes().size(), 3u);
    EXPECT_EQ(db.match_count(), 4u);
    EXPECT_EQ(db.source(), "t.probes");

    const Probe& null = db.probes()[0];
    EXPECT_EQ(db.null_probe(), &null);
    EXPECT_TRUE(null.is_null());
    EXPECT_EQ(null.line, 4);
    EXPECT_EQ(null.total_wait, std::chrono::milliseconds(6000));
    EXPECT_EQ(null.tcp_wrapped, std::chrono::milliseconds(3000));
    EXPECT_EQ(null.rarity, 5);  // nmap's default
    ASSERT_EQ(null.matches.size(), 2u);
    EXPECT_EQ(null.matches[0].service, "ftp");
    EXPECT_FALSE(null.matches[0].soft);
    EXPECT_EQ(null.matches[0].pattern, "^220 Fake FTP ([\\d.]+)\\r\\n");
    EXPECT_EQ(null.matches[0].templates.product, "FakeFTP");
    EXPECT_EQ(null.matches[0].templates.version, "$1");
    EXPECT_FALSE(null.matches[0].templates.info.has_value());
    EXPECT_THAT(null.matches[0].templates.cpe, ElementsAre("cpe:/a:fake:ftp:$1"));
    EXPECT_EQ(null.matches[0].line, 7);
    EXPECT_TRUE(null.matches[1].soft);
    EXPECT_TRUE(null.matches[1].caseless);
    EXPECT_FALSE(null.matches[1].dotall);
    EXPECT_THAT(null.services, ElementsAre("ftp"));

    const Probe& hello = db.probes()[1];
    EXPECT_EQ(hello.protocol, Protocol::Tcp);
    EXPECT_EQ(hello.name, "Hello");
    EXPECT_EQ(hello.payload, "HELLO\r\n");
    EXPECT_TRUE(hello.no_payload);
    EXPECT_EQ(hello.rarity, 3);
    EXPECT_EQ(hello.total_wait, std::chrono::milliseconds(5000));  // nmap's default
    EXPECT_THAT(hello.ports, ElementsAre(7, 21, 25, 1000, 1001, 1002));
    EXPECT_THAT(hello.sslports, ElementsAre(990));
    EXPECT_TRUE(hello.lists_port(25, false));
    EXPECT_FALSE(hello.lists_port(25, true));
    EXPECT_TRUE(hello.lists_port(990, true));
    // Itself, its fallback (NULL), then NULL again as every TCP probe ends.
    EXPECT_THAT(hello.fallbacks, ElementsAre(&hello, &null, &null));
    const Match& m = hello.matches[0];
    EXPECT_TRUE(m.dotall);
    EXPECT_EQ(m.templates.info, "greets $1");
    EXPECT_EQ(m.templates.ostype, "Unix");
    EXPECT_EQ(m.templates.devicetype, "router");
    EXPECT_EQ(m.templates.hostname, "$1");
    EXPECT_TRUE(hello.can_detect("hello"));
    EXPECT_FALSE(hello.can_detect("ftp"));

    const Probe& ping = db.probes()[2];
    EXPECT_EQ(ping.protocol, Protocol::Udp);
    EXPECT_EQ(ping.payload, std::string("\x00\x01ping\x00", 7));
    EXPECT_THAT(ping.fallbacks, ElementsAre(&ping));  // UDP: no NULL probe
    EXPECT_TRUE(ping.matches[0].regex.match(std::string("\0\x01ping", 6)));

    EXPECT_TRUE(db.excluded(9101, Protocol::Tcp));
    EXPECT_FALSE(db.excluded(9101, Protocol::Udp));
    EXPECT_TRUE(db.excluded(30000, Protocol::Udp));
    EXPECT_FALSE(db.excluded(30000, Protocol::Tcp));
    EXPECT_EQ(db.find("Ping", Protocol::Udp), &ping);
    EXPECT_EQ(db.find("Ping", Protocol::Tcp), &ping);  // any protocol, as nmap's fallbacks
    EXPECT_EQ(db.find("Nope", Protocol::Tcp), nullptr);
}

TEST(ServicesDb, AnyDelimiterAndFlags) {
    const ProbeDb db = ProbeDb::parse(kNull +
        "match a m%^a%i p|pipe| v=eq= i#hash# h@at@ o'quote' d\"dq\"\n"
        "match b m=^b=si cpe:|a:x:y|a\n"
        "match c m/^c/is p/slash/ v/1/ p/second/\n",  // a repeated template replaces the first
        "t.probes");
    const auto& ms = db.probes()[0].matches;
    EXPECT_TRUE(ms[0].caseless);
    EXPECT_EQ(ms[0].templates.product, "pipe");
    EXPECT_EQ(ms[0].templates.version, "eq");
    EXPECT_EQ(ms[0].templates.info, "hash");
    EXPECT_EQ(ms[0].templates.hostname, "at");
    EXPECT_EQ(ms[0].templates.ostype, "quote");
    EXPECT_EQ(ms[0].templates.devicetype, "dq");
    EXPECT_TRUE(ms[1].caseless && ms[1].dotall);
    EXPECT_THAT(ms[1].templates.cpe, ElementsAre("cpe:/a:x:y"));
    EXPECT_TRUE(ms[2].caseless && ms[2].dotall);
    EXPECT_EQ(ms[2].templates.product, "second");
    EXPECT_TRUE(ms[0].regex.match("A"));  // i
    EXPECT_TRUE(ms[2].regex.match("C"));
}

TEST(ServicesDb, ProbeStringEscapesAsNmap) {
    EXPECT_EQ(unescape("a\\0b"), std::string("a\0b", 3));
    EXPECT_EQ(unescape("\\a\\b\\f\\n\\r\\t\\v"), "\a\b\f\n\r\t\v");
    EXPECT_EQ(unescape("\\x41\\x7e\\xFF\\x00"), std::string("A~\xff\0", 4));
    EXPECT_EQ(unescape("\\\\ \\| \\\" \\. \\/"), "\\ | \" . /");
    EXPECT_EQ(unescape("plain"), "plain");
    EXPECT_EQ(unescape(""), "");
    EXPECT_FALSE(unescape("\\x4").has_value());   // one hex digit
    EXPECT_FALSE(unescape("\\xg0").has_value());  // not hex
    EXPECT_FALSE(unescape("\\q").has_value());    // other letters: refused, as nmap
    EXPECT_FALSE(unescape("\\1").has_value());    // no octal
    EXPECT_FALSE(unescape("end\\").has_value());  // a lone backslash at the end

    const ProbeDb db = ProbeDb::parse(kNull + "Probe TCP Bin q|\\x16\\x03\\0\\0S\\r\\n|\n", "t.probes");
    EXPECT_EQ(db.probes()[1].payload, std::string("\x16\x03\0\0S\r\n", 7));
}

TEST(ServicesDb, CrLfFileAndBlankLines) {
    const ProbeDb db =
        ProbeDb::parse("Probe TCP NULL q||\r\n  \r\nmatch a m|^a$| p/A/\r\nrarity 2\r\n", "t.probes");
    EXPECT_EQ(db.probes()[0].rarity, 2);
    EXPECT_EQ(db.probes()[0].matches[0].templates.product, "A");
}

TEST(ServicesDb, EveryErrorNamesFileAndLine) {
    struct Case {
        std::string text;
        std::string where;  // "t.probes:LINE: "
        std::string what;   // part of the message
    };
    const Case cases[] = {
        {"match a m|x|\n", "t.probes:1: ", "before the first Probe"},
        {"ports 80\n", "t.probes:1: ", "before the first Probe"},
        {kNull + "bogus 1\n", "t.probes:2: ", "unknown directive 'bogus'"},
        {kNull + "  match a m|x|\n", "t.probes:2: ", "unknown directive"},
        {kNull + "Probe\n", "t.probes:2: ", "without its arguments"},
        {"Probe SCTP X q|a|\n", "t.probes:1: ", "TCP|UDP"},
        {"Probe TCP q|a|\n", "t.probes:1: ", "nothing after the probe name"},
        {"Probe TCP -bad q|a|\n", "t.probes:1: ", "must start with a letter or digit"},
        {"Probe TCP X w|a|\n", "t.probes:1: ", "q followed by a delimiter"},
        {"Probe TCP X q|abc\n", "t.probes:1: ", "no closing '|'"},
        {"Probe TCP X q|\\x4|\n", "t.probes:1: ", "bad escape"},
        {"Probe TCP X q|\\q|\n", "t.probes:1: ", "bad escape"},
        {"Probe TCP X q|a| payload\n", "t.probes:1: ", "unknown option 'payload'"},
        {"Probe UDP Empty q||\n", "t.probes:1: ", "only the TCP NULL probe"},
        {kNull + "Probe TCP Other q||\n", "t.probes:2: ", "second probe with an empty string"},
        {kNull + "match\n", "t.probes:2: ", "without its arguments"},
        {kNull + "match ftp\n", "t.probes:2: ", "without a service name and pattern"},
        {kNull + "match ftp |^a|\n", "t.probes:2: ", "expected a field"},
        {kNull + "match ftp x|^a|\n", "t.probes:2: ", "must be m followed by a delimiter"},
        {kNull + "match ftp m|^a\n", "t.probes:2: ", "no closing '|'"},
        {kNull + "match ftp m|^a|x\n", "t.probes:2: ", "unknown regex flag 'x'"},
        {kNull + "match ftp m|^a|i, p/x/\n", "t.probes:2: ", "unexpected ','"},
        {kNull + "match ftp m|(unclosed|\n", "t.probes:2: ", "bad regex at offset"},
        {kNull + "match ftp m|a{2,1}|\n", "t.probes:2: ", "bad regex"},
        {kNull + "match ftp m|^a| q/x/\n", "t.probes:2: ", "unknown field 'q'"},
        {kNull + "match ftp m|^a| p/x\n", "t.probes:2: ", "no closing '/'"},
        {kNull + "match ftp m|^a| p\n", "t.probes:2: ", "has no delimiter"},
        {kNull + "match ftp m|^a| p/x/ v\n", "t.probes:2: ", "has no delimiter"},
        {kNull + "match ftp m|^a| cpe:/a:x\n", "t.probes:2: ", "no closing '/'"},
        {kNull + "ports\n", "t.probes:2: ", "without its arguments"},
        {kNull + "ports 80-\n", "t.probes:2: ", "bad port"},
        {kNull + "ports 70000\n", "t.probes:2: ", "bad port"},
        {kNull + "ports 90-80\n", "t.probes:2: ", "reversed range"},
        {kNull + "ports T:80\n", "t.probes:2: ", "bad port"},
        {kNull + "sslports x\n", "t.probes:2: ", "bad port"},
        {kNull + "rarity 0\n", "t.probes:2: ", "bad rarity '0'"},
        {kNull + "rarity 10\n", "t.probes:2: ", "from 1 to 9"},
        {kNull + "rarity 3x\n", "t.probes:2: ", "bad rarity"},
        {kNull + "totalwaitms 99\n", "t.probes:2: ", "bad totalwaitms"},
        {kNull + "totalwaitms 300001\n", "t.probes:2: ", "bad totalwaitms"},
        {kNull + "tcpwrappedms -5\n", "t.probes:2: ", "bad tcpwrappedms"},
        {kNull + "Probe TCP A q|a|\nfallback Missing\n", "t.probes:3: ", "unknown fallback probe 'Missing'"},
        {kNull + "Exclude 80\n", "t.probes:2: ", "Exclude after a Probe"},
        {"Exclude 80\nExclude 81\n", "t.probes:2: ", "second Exclude"},
        {"Exclude S:80\n", "t.probes:1: ", "bad Exclude"},
        {"Exclude 90-80\n", "t.probes:1: ", "bad Exclude"},
    };
    for (const Case& c : cases) {
        const std::string e = error_of(c.text);
        EXPECT_THAT(e, StartsWith(c.where)) << "for: " << c.text;
        EXPECT_THAT(e, HasSubstr(c.what)) << "for: " << c.text;
    }
}

TEST(ServicesDb, TooManyFallbacks) {
    std::string text = kNull;
    std::string names;
    for (int i = 0; i < 18; ++i) {
        text += "Probe TCP P" + std::to_string(i) + " q|x|\n";
        names += (i ? "," : "") + std::string("P") + std::to_string(i);
    }
    EXPECT_EQ(error_of(text + "Probe TCP Last q|x|\nfallback " + names.substr(0, names.rfind(',')) + "\n"), "");
    EXPECT_THAT(error_of(text + "Probe TCP Last q|x|\nfallback " + names + "\n"), HasSubstr("more than 17 fallback"));
}

TEST(ServicesDb, LoadNamesTheFile) {
    try {
        (void)ProbeDb::load("/nonexistent/dir/probes");
        ADD_FAILURE() << "no error";
    } catch (const InputError& e) {
        EXPECT_THAT(std::string(e.what()), StartsWith("/nonexistent/dir/probes: cannot read: "));
    }
    const std::string path = ::testing::TempDir() + "services_db_test.probes";
    {
        std::ofstream(path) << kNull << "match a m|^a|\nrarity 11\n";
    }
    try {
        (void)ProbeDb::load(path);
        ADD_FAILURE() << "no error";
    } catch (const InputError& e) {
        EXPECT_THAT(std::string(e.what()), StartsWith(path + ":3: bad rarity"));
    }
    std::remove(path.c_str());
}

// The file Debian's nmap-common installs (scripts/setup.sh installs nmap): every
// line parses and every pattern compiles with PCRE2, quickly.
TEST(ServicesDb, LoadsNmapsOwnFile) {
    const auto t0 = std::chrono::steady_clock::now();
    const ProbeDb db = ProbeDb::load();
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_GT(db.match_count(), 10000u);
    EXPECT_GT(db.probes().size(), 100u);
    ASSERT_NE(db.null_probe(), nullptr);
    EXPECT_TRUE(db.excluded(9100, Protocol::Tcp));
    EXPECT_LT(took, std::chrono::seconds(5)) << "loading took "
                                             << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                                             << " ms";
    const Probe* get = db.find("GetRequest", Protocol::Tcp);
    ASSERT_NE(get, nullptr);
    EXPECT_TRUE(get->lists_port(80, false));
    EXPECT_TRUE(get->lists_port(443, true));
}
