// Matching responses and filling version templates (core/src/services/match.cpp):
// every template form, softmatch and fallback order, nmap's field sizes, and hostile
// responses (a megabyte, binary, terminal escape sequences) through match and
// expansion. Probe files are written here.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "services/match.hpp"
#include "services/text.hpp"

using scanfw::Protocol;
using namespace scanfw::services;
using ::testing::ElementsAre;

namespace {

ProbeDb db_of(const std::string& text) { return ProbeDb::parse(text, "t.probes"); }

// The identity the NULL probe's lines give `response` ("" name when none).
ServiceIdentity id_of(const ProbeDb& db, std::string_view response) {
    const auto r = find_match(*db.null_probe(), response);
    return r ? r->id : ServiceIdentity{};
}

// Expands `tmpl` against `subject` matched by `pattern`.
std::optional<std::string> expand(const std::string& pattern, std::string_view subject, const std::string& tmpl,
                                  std::size_t size = 80, bool cpe = false) {
    const Regex re(pattern, false, true, "test");
    Captures groups;
    EXPECT_TRUE(re.match(subject, groups)) << pattern;
    return expand_template(tmpl, subject, groups, size, cpe);
}

bool printable(const std::string& s) {
    for (unsigned char c : s)
        if (c < 0x20 || c > 0x7e) return false;
    return true;
}

}  // namespace

TEST(ServicesMatch, GroupsAndLiterals) {
    EXPECT_EQ(expand("^(\\w+) (\\w+)", "hello world", "$2 $1!"), "world hello!");
    EXPECT_EQ(expand("^(a)(b)(c)(d)(e)(f)(g)(h)(i)", "abcdefghi", "$9$8$1"), "iha");
    EXPECT_EQ(expand("^(a)", "a", "$10"), "a0");  // one digit only: $1 then "0"
    EXPECT_EQ(expand("^(a)", "a", "no vars"), "no vars");
    EXPECT_EQ(expand("^(a)", "a", ""), "");
    // Trailing blanks and commas go, as nmap trims them.
    EXPECT_EQ(expand("^(a)", "a", "$1, , \t"), "a");
    EXPECT_EQ(expand("^(a)(b)?", "a", "x$1"), "xa");
}

TEST(ServicesMatch, MissingGroupsLeaveTheFieldEmpty) {
    EXPECT_EQ(expand("^(a)", "a", "$9"), std::nullopt);  // fewer groups than $9
    EXPECT_EQ(expand("^(a)", "a", "$0"), std::nullopt);
    EXPECT_EQ(expand("^(a)(b)?", "a", "$2"), std::nullopt);  // unset group
    EXPECT_EQ(expand("^a", "a", "v$1"), std::nullopt);
    EXPECT_EQ(expand("^(a)", "a", "cost $"), std::nullopt);  // '$' with nothing after
    EXPECT_EQ(expand("^(a)", "a", "$Q(1)"), std::nullopt);   // unknown command
    EXPECT_EQ(expand("^(a)", "a", "$P"), std::nullopt);
    EXPECT_EQ(expand("^(a)", "a", "$P()"), std::nullopt);
    EXPECT_EQ(expand("^(a)", "a", "$P(\"1\")"), std::nullopt);
    EXPECT_EQ(expand("^(a)", "a", "$P(1,2)"), std::nullopt);
    EXPECT_EQ(expand("^(a)", "a", "$P(10)"), std::nullopt);
    EXPECT_EQ(expand("^(a)", "a", "$VERYLONGCOMMANDNAME(1)"), std::nullopt);
    EXPECT_EQ(expand("^(a)", "a", "$SUBST(1,\"a\")"), std::nullopt);
    EXPECT_EQ(expand("^(a)", "a", "$SUBST(1,\"\",\"b\")"), std::nullopt);  // would never advance
    EXPECT_EQ(expand("^(a)", "a", "$SUBST(1,\"a\",\"b"), std::nullopt);   // unterminated
}

TEST(ServicesMatch, PrintableFilter) {
    EXPECT_EQ(expand("^(.*)$", std::string("W\0O\0R\0K\x01\xff", 10), "$P(1)"), "WORK");
    EXPECT_EQ(expand("^(.*)$", "ab", "$P( 1 )"), "ab");
    EXPECT_EQ(expand("^(.*)$", "ab", "$P(0x1)"), "ab");  // strtol base 0, as nmap
}

TEST(ServicesMatch, Subst) {
    EXPECT_EQ(expand("^(.*)$", "1_2_3", "$SUBST(1,\"_\",\".\")"), "1.2.3");
    EXPECT_EQ(expand("^(.*)$", "aXXbXX", "$SUBST(1,\"XX\",\"\")"), "ab");
    EXPECT_EQ(expand("^(.*)$", "a,b", "v$SUBST(1, \",\" , \"\\x41\\\"\")z"), "vaA\"bz");  // escapes
    EXPECT_EQ(expand("^(.*)$", "a\"b", "$SUBST(1,\"\\\"\",\"q\")"), "aqb");
}

TEST(ServicesMatch, UnpackedIntegers) {
    EXPECT_EQ(expand("^(..)", "\x07\xd0", "$I(1,\">\")"), "2000");
    EXPECT_EQ(expand("^(..)", "\x07\xd0", "$I(1,\"<\")"), "53255");
    EXPECT_EQ(expand("^x(..)", "x\x07\xd0", "$I(1,\"<\")"), "53255");
    EXPECT_EQ(expand("^(.{8})", "\xff\xff\xff\xff\xff\xff\xff\xff", "$I(1,\">\")"), "18446744073709551615");
    EXPECT_EQ(expand("^(.{9})", "123456789", "$I(1,\">\")"), std::nullopt);  // more than 8 bytes
    EXPECT_EQ(expand("^(..)", "ab", "$I(1,\"=\")"), std::nullopt);
    EXPECT_EQ(expand("^(..)", "ab", "$I(1,\">>\")"), std::nullopt);
    EXPECT_EQ(expand("^(..)", "ab", "$I(1)"), std::nullopt);
    EXPECT_EQ(expand("^()", "", "$I(1,\">\")"), "0");
}

TEST(ServicesMatch, CpeTransform) {
    EXPECT_EQ(expand("^(.*)$", "Foo Bar:1/2", "cpe:/a:x:$1", 80, true), "cpe:/a:x:foo_bar%3A1%2F2");
    EXPECT_EQ(expand("^(.*)$", "A(b)", "cpe:/a:X:$1", 80, true), "cpe:/a:X:a%28b%29");  // literal text kept
}

TEST(ServicesMatch, NmapFieldSizes) {
    const std::string s78(78, 'x'), s79(79, 'x');
    EXPECT_EQ(expand("^(x*)$", s78, "$1"), s78);            // substitution: under size-1
    EXPECT_EQ(expand("^(x*)$", s79, "$1"), std::nullopt);
    EXPECT_EQ(expand("^(x)", "x", s79), s79);               // literal text: up to size-1
    EXPECT_EQ(expand("^(x)", "x", s79 + "y"), std::nullopt);
    // A NUL ends a substituted value (nmap copies C strings) before the size counts.
    std::string big(300, 'y');
    big[3] = '\0';
    EXPECT_EQ(expand("^(.*)$", big, "[$1]"), "[yyy]");
}

TEST(ServicesMatch, FirstLineWinsAndSoftmatch) {
    const ProbeDb db = db_of(
        "Probe TCP NULL q||\n"
        "softmatch ftp m|^220 |\n"
        "match ftp m|^220 Real FTP (\\S+)| p/Real/ v/$1/\n"
        "match smtp m|^220 .*SMTP| p/mail/\n");
    const auto soft = find_match(*db.null_probe(), "220 Real FTP 1.0\r\n");
    ASSERT_TRUE(soft);
    EXPECT_TRUE(soft->soft);  // the softmatch comes first in the file, so it wins
    EXPECT_EQ(soft->id.name, "ftp");
    EXPECT_EQ(soft->match->line, 2);
    EXPECT_FALSE(find_match(*db.null_probe(), "SSH-2.0-x\r\n"));
}

TEST(ServicesMatch, FallbacksThenNull) {
    const ProbeDb db = db_of(
        "Probe TCP NULL q||\n"
        "match banner m|^BANNER| p/from null/\n"
        "Probe TCP Get q|GET|\n"
        "match http m|^HTTP/1\\.[01] 200| p/from get/\n"
        "Probe TCP Opt q|OPT|\n"
        "fallback Get\n"
        "match rtsp m|^RTSP| p/from opt/\n"
        "Probe UDP U q|u|\n"
        "match u m|^U| p/from udp/\n");
    const Probe& opt = *db.find("Opt", Protocol::Tcp);
    EXPECT_EQ(find_match(opt, "RTSP/1.0 200")->id.product, "from opt");
    const auto via_fallback = find_match(opt, "HTTP/1.0 200 OK");
    ASSERT_TRUE(via_fallback);
    EXPECT_EQ(via_fallback->id.product, "from get");
    EXPECT_EQ(via_fallback->matched_in->name, "Get");
    EXPECT_EQ(find_match(opt, "BANNER")->id.product, "from null");
    const Probe& udp = *db.find("U", Protocol::Udp);
    EXPECT_FALSE(find_match(udp, "BANNER"));  // UDP probes do not fall back to NULL
}

TEST(ServicesMatch, AllFieldsAndCpeParts) {
    const ProbeDb db = db_of(
        "Probe TCP NULL q||\n"
        "match x m|^X (\\S+) on (\\S+)| p/Prod/ v/$1/ i/info $2/ h/$2/ o/Linux/ d/router/ "
        "cpe:/o:linux:linux_kernel/ cpe:/a:vendor:prod:$1/ cpe:/h:hw:$2/a cpe:/a:vendor:prod2/ cpe:/z:bad/\n");
    const ServiceIdentity id = id_of(db, "X 1.2 on Box\r\n");
    EXPECT_EQ(id.name, "x");
    EXPECT_EQ(id.product, "Prod");
    EXPECT_EQ(id.version, "1.2");
    EXPECT_EQ(id.extrainfo, "info Box");
    EXPECT_EQ(id.hostname, "Box");
    EXPECT_EQ(id.ostype, "Linux");
    EXPECT_EQ(id.devicetype, "router");
    // One per part, a before h before o; the later a replaces the earlier; z is ignored.
    EXPECT_THAT(id.cpe, ElementsAre("cpe:/a:vendor:prod2", "cpe:/h:hw:box", "cpe:/o:linux:linux_kernel"));
}

TEST(ServicesMatch, UnfillableTemplateKeepsTheMatch) {
    const ProbeDb db = db_of("Probe TCP NULL q||\nmatch x m|^X(\\d)?| p/P/ v/$1/ i/$9/\n");
    const ServiceIdentity id = id_of(db, "X");
    EXPECT_EQ(id.name, "x");
    EXPECT_EQ(id.product, "P");
    EXPECT_EQ(id.version, "");
    EXPECT_EQ(id.extrainfo, "");
}

// nmap's clean-up of version fields: nothing after a NUL, non-printable bytes as '.'.
TEST(ServicesMatch, PrintableField) {
    EXPECT_EQ(printable_field("ab\x1b[31mred\x07", 80), "ab.[31mred.");
    EXPECT_EQ(printable_field(std::string("ab\0cd", 5), 80), "ab");
    EXPECT_EQ(printable_field("\xff\xfe\r\n\t", 80), ".....");
    EXPECT_EQ(printable_field("abcdef", 3), "abc");
    EXPECT_EQ(escape_bytes(std::string("a\\\0\x1b", 4)), "a\\\\\\x00\\x1b");
    EXPECT_EQ(escape_bytes(std::string(300, 'a')).size(), 203u);
}

TEST(ServicesMatch, HostileResponses) {
    const ProbeDb db = db_of(
        "Probe TCP NULL q||\n"
        "match evil m|^EVIL (.*)$|s p/$1/ v/$P(1)/ i/$SUBST(1,\"x\",\"xxxxxxxxxxxxxxxx\")/ h/$1/ o/$1/ d/$1/ "
        "cpe:/a:e:$1/\n"
        "match term m|^TERM ([^\\r\\n]*)| p/$1/ v/$P(1)/ i/[$1]/\n"
        "match bin m|^\\x00\\x01(.{4})(.*)|s p/$1/ v/$I(1,\">\")/ i/$2/\n"
        "match slow m|^(a+)+$|\n");

    // A megabyte: every field over nmap's size stays empty, nothing crashes or grows.
    const std::string mb = "EVIL " + std::string(1 << 20, 'x');
    const ServiceIdentity big = id_of(db, mb);
    EXPECT_EQ(big.name, "evil");
    EXPECT_EQ(big.product, "");
    EXPECT_EQ(big.version, "");
    EXPECT_EQ(big.extrainfo, "");
    EXPECT_TRUE(big.cpe.empty());

    // Terminal escape sequences and control bytes never come through.
    const ServiceIdentity term = id_of(db, "TERM \x1b]0;owned\x07\x1b[2J\x1b[31mred\x9b\x08\r\n");
    EXPECT_EQ(term.name, "term");
    EXPECT_EQ(term.product, ".]0;owned..[2J.[31mred..");
    EXPECT_EQ(term.version, "]0;owned[2J[31mred");
    EXPECT_TRUE(printable(term.product) && printable(term.version) && printable(term.extrainfo));

    // Binary: NULs cut fields, $I reads bytes.
    const ServiceIdentity bin = id_of(db, std::string("\x00\x01\x00\x00\x01\x00rest\x00\xff", 12));
    EXPECT_EQ(bin.name, "bin");
    EXPECT_EQ(bin.product, "");  // starts with a NUL
    EXPECT_EQ(bin.version, "256");
    EXPECT_EQ(bin.extrainfo, "rest");

    // Catastrophic backtracking gives up (nmap's match limit) instead of hanging.
    const std::string slow = std::string(40, 'a') + "!";
    EXPECT_EQ(id_of(db, slow).name, "");

    // Random bytes of every length: no crash, every field printable.
    std::string junk;
    std::uint32_t x = 12345;
    for (int i = 0; i < 5000; ++i) {
        x = x * 1103515245u + 12345u;
        junk.push_back(static_cast<char>(x >> 16));
        const std::string subjects[] = {junk, "EVIL " + junk, "TERM " + junk, std::string("\x00\x01", 2) + junk};
        for (const auto& s : subjects) {
            const ServiceIdentity id = id_of(db, s);
            for (const std::string* f : {&id.product, &id.version, &id.extrainfo, &id.hostname, &id.ostype, &id.devicetype})
                ASSERT_TRUE(printable(*f)) << escape_bytes(*f);
            ASSERT_LE(id.product.size(), 79u);
            ASSERT_LE(id.extrainfo.size(), 255u);
            ASSERT_LE(id.ostype.size(), 31u);
        }
    }
}
