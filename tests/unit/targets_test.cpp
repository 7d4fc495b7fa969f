// IpAddress and TargetSet: literals, CIDR blocks, octet ranges, IPv6 prefixes.
// No network traffic: the only name resolved is "localhost" (from /etc/hosts).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/address.hpp"
#include "targets/target_source.hpp"
#include "targets/targets.hpp"

namespace {

using scanfw::Family;
using scanfw::InputError;
using scanfw::IpAddress;
using scanfw::TargetSet;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Every address of a set, as text (for small sets).
std::vector<std::string> all_of(const TargetSet& set) {
    std::vector<std::string> out;
    for (std::uint64_t i = 0; i < set.size(); ++i) out.push_back(set.at(i).str());
    return out;
}

std::vector<std::string> expand(const std::string& spec) {
    TargetSet set;
    set.add(spec);
    return all_of(set);
}

std::string error_of(const std::string& spec) {
    try {
        TargetSet set;
        set.add(spec);
    } catch (const InputError& e) {
        return e.what();
    }
    return "";
}

// --- IpAddress ---

TEST(IpAddress, V4RoundTrip) {
    const IpAddress a = IpAddress::v4(0xC0A80001);
    EXPECT_EQ(a.family, Family::V4);
    EXPECT_EQ(a.str(), "192.168.0.1");
    EXPECT_EQ(a.v4_host_order(), 0xC0A80001u);
    EXPECT_THAT(std::vector<int>(a.bytes.begin(), a.bytes.begin() + 4), ElementsAre(192, 168, 0, 1));
}

TEST(IpAddress, ParseV4) {
    const auto a = IpAddress::parse("10.1.2.3");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->family, Family::V4);
    EXPECT_EQ(a->v4_host_order(), 0x0A010203u);
    EXPECT_EQ(*a, IpAddress::v4(0x0A010203));
}

TEST(IpAddress, ParseV6) {
    const auto a = IpAddress::parse("2001:db8::1");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->family, Family::V6);
    EXPECT_EQ(a->bytes[0], 0x20);
    EXPECT_EQ(a->bytes[1], 0x01);
    EXPECT_EQ(a->bytes[15], 0x01);
    EXPECT_EQ(a->str(), "2001:db8::1");
    EXPECT_EQ(IpAddress::parse("::ffff:1.2.3.4")->family, Family::V6);
    EXPECT_EQ(IpAddress::parse("::1")->str(), "::1");
}

TEST(IpAddress, ParseRejectsNonLiterals) {
    for (const char* bad : {"", "localhost", "1.2.3", "1.2.3.256", "1.2.3.4.5", "10.0.0.1/24", "2001:db8::1::2",
                            " 1.2.3.4", "1.2.3.4 ", "fe80::1%eth0", "gggg::1"}) {
        EXPECT_FALSE(IpAddress::parse(bad)) << bad;
    }
    EXPECT_FALSE(IpAddress::parse(std::string(100, '1')));
}

TEST(IpAddress, OrderingAndHash) {
    const IpAddress a = *IpAddress::parse("10.0.0.1");
    const IpAddress b = *IpAddress::parse("10.0.0.2");
    const IpAddress c = *IpAddress::parse("::1");
    EXPECT_LT(a, b);
    EXPECT_LT(b, c);  // V4 sorts before V6
    EXPECT_EQ(a, IpAddress::v4(0x0A000001));
    EXPECT_EQ(scanfw::IpAddressHash{}(a), scanfw::IpAddressHash{}(IpAddress::v4(0x0A000001)));
    std::unordered_set<IpAddress, scanfw::IpAddressHash> set{a, b, c, a};
    EXPECT_EQ(set.size(), 3u);
}

// --- TargetSet: good input ---

TEST(Targets, EmptySet) {
    TargetSet set;
    EXPECT_TRUE(set.empty());
    EXPECT_EQ(set.size(), 0u);
    EXPECT_THROW(set.at(0), std::out_of_range);
}

TEST(Targets, Ipv4Literal) {
    EXPECT_THAT(expand("192.0.2.7"), ElementsAre("192.0.2.7"));
    EXPECT_THAT(expand("  192.0.2.7\t"), ElementsAre("192.0.2.7"));
}

TEST(Targets, Ipv4Cidr) {
    EXPECT_THAT(expand("192.0.2.8/30"), ElementsAre("192.0.2.8", "192.0.2.9", "192.0.2.10", "192.0.2.11"));
    EXPECT_THAT(expand("192.0.2.7/32"), ElementsAre("192.0.2.7"));
    EXPECT_THAT(expand("192.0.2.0/31"), ElementsAre("192.0.2.0", "192.0.2.1"));
}

TEST(Targets, Ipv4CidrBaseIsMasked) {
    EXPECT_THAT(expand("192.0.2.9/30"), ElementsAre("192.0.2.8", "192.0.2.9", "192.0.2.10", "192.0.2.11"));
    TargetSet set;
    set.add("10.1.2.3/8");
    EXPECT_EQ(set.size(), 1u << 24);
    EXPECT_EQ(set.at(0).str(), "10.0.0.0");
    EXPECT_EQ(set.at(256).str(), "10.0.1.0");
    EXPECT_EQ(set.at(set.size() - 1).str(), "10.255.255.255");
}

TEST(Targets, OctetRangeInLastOctet) {
    TargetSet set;
    set.add("198.18.0.1-20");
    ASSERT_EQ(set.size(), 20u);
    EXPECT_EQ(set.at(0).str(), "198.18.0.1");
    EXPECT_EQ(set.at(19).str(), "198.18.0.20");
}

TEST(Targets, OctetRangesLastOctetVariesFastest) {
    TargetSet set;
    set.add("198.18.1-2.*");
    ASSERT_EQ(set.size(), 512u);
    EXPECT_EQ(set.at(0).str(), "198.18.1.0");
    EXPECT_EQ(set.at(255).str(), "198.18.1.255");
    EXPECT_EQ(set.at(256).str(), "198.18.2.0");
    EXPECT_EQ(set.at(511).str(), "198.18.2.255");
}

TEST(Targets, OctetCommaLists) {
    EXPECT_THAT(expand("10.0.0.1,3"), ElementsAre("10.0.0.1", "10.0.0.3"));
    EXPECT_THAT(expand("10.0.0.5-7,1,3"), ElementsAre("10.0.0.1", "10.0.0.3", "10.0.0.5", "10.0.0.6", "10.0.0.7"));
    EXPECT_THAT(expand("10.0,2.0.1,2"), ElementsAre("10.0.0.1", "10.0.0.2", "10.2.0.1", "10.2.0.2"));
    EXPECT_THAT(expand("10.0.0.1,1,1-2"), ElementsAre("10.0.0.1", "10.0.0.2"));  // deduplicated
}

TEST(Targets, OctetOpenRanges) {
    EXPECT_EQ(expand("10.0.0.-").size(), 256u);
    EXPECT_THAT(expand("10.0.0.-1"), ElementsAre("10.0.0.0", "10.0.0.1"));
    EXPECT_THAT(expand("10.0.0.254-"), ElementsAre("10.0.0.254", "10.0.0.255"));
    EXPECT_EQ(expand("10.0.*.*").size(), 65536u);
}

TEST(Targets, OctetRangeLeadingZeros) {
    EXPECT_THAT(expand("10.0.0.01"), ElementsAre("10.0.0.1"));
}

TEST(Targets, Ipv6Literal) {
    EXPECT_THAT(expand("2001:db8::1"), ElementsAre("2001:db8::1"));
    EXPECT_THAT(expand("::1"), ElementsAre("::1"));
}

TEST(Targets, Ipv6Prefix) {
    EXPECT_THAT(expand("2001:db8::5/126"), ElementsAre("2001:db8::4", "2001:db8::5", "2001:db8::6", "2001:db8::7"));
    EXPECT_THAT(expand("2001:db8::5/128"), ElementsAre("2001:db8::5"));
    TargetSet set;
    set.add("2001:db8::ab:cdef/104");
    EXPECT_EQ(set.size(), 1u << 24);
    EXPECT_EQ(set.at(0).str(), "2001:db8::");
    EXPECT_EQ(set.at(0x100).str(), "2001:db8::100");
    EXPECT_EQ(set.at(set.size() - 1).str(), "2001:db8::ff:ffff");
    EXPECT_EQ(set.at(1).family, Family::V6);
}

TEST(Targets, Ipv6PrefixCarriesAcrossBytes) {
    TargetSet set;
    set.add("2001:db8::ff00/120");
    EXPECT_EQ(set.at(0xff).str(), "2001:db8::ffff");
    set.add("2001:db8::1:0/112");
    EXPECT_EQ(set.at(256 + 0x1234).str(), "2001:db8::1:1234");
}

TEST(Targets, Localhost) {
    TargetSet set;
    set.add("localhost");
    ASSERT_EQ(set.size(), 1u);
    EXPECT_TRUE(set.at(0).str() == "127.0.0.1" || set.at(0).str() == "::1") << set.at(0).str();
}

TEST(Targets, LocalhostWithPrefix) {
    TargetSet set;
    set.add("localhost/30");
    ASSERT_EQ(set.size(), 4u);
    EXPECT_EQ(set.at(0).str(), "127.0.0.0");
}

TEST(Targets, SeveralSpecsConcatenateInOrder) {
    TargetSet set;
    set.add("10.0.0.1");
    set.add("10.0.1.0/31");
    set.add("10.0.2.1,5");
    set.add("::1");
    set.add("10.0.0.1");  // duplicates are kept, like nmap
    EXPECT_EQ(set.size(), 7u);
    EXPECT_FALSE(set.empty());
    EXPECT_THAT(all_of(set),
                ElementsAre("10.0.0.1", "10.0.1.0", "10.0.1.1", "10.0.2.1", "10.0.2.5", "::1", "10.0.0.1"));
    EXPECT_THROW(set.at(7), std::out_of_range);
}

TEST(Targets, IndexingManyLargeBlocksIsDirect) {
    // 64 blocks of 2^24 addresses: enumerating them would take far too long, at() must not.
    TargetSet set;
    for (int i = 0; i < 64; ++i) set.add(std::to_string(i + 1) + ".0.0.0/8");
    ASSERT_EQ(set.size(), 64ull << 24);
    EXPECT_EQ(set.at(0).str(), "1.0.0.0");
    EXPECT_EQ(set.at((1ull << 24) - 1).str(), "1.255.255.255");
    EXPECT_EQ(set.at(1ull << 24).str(), "2.0.0.0");
    EXPECT_EQ(set.at((33ull << 24) + 258).str(), "34.0.1.2");
    EXPECT_EQ(set.at(set.size() - 1).str(), "64.255.255.255");
}

// --- TargetSet: bad input ---

TEST(Targets, EmptyTarget) {
    EXPECT_THAT(error_of(""), HasSubstr("empty target"));
    EXPECT_THAT(error_of("   "), HasSubstr("empty target"));
}

TEST(Targets, Ipv4CidrTooLarge) {
    EXPECT_EQ(error_of("10.0.0.0/7"), "IPv4 prefix /7 in '10.0.0.0/7' is too large to enumerate (at most /8)");
    EXPECT_THAT(error_of("0.0.0.0/0"), HasSubstr("too large"));
}

TEST(Targets, BadIpv4Prefix) {
    EXPECT_THAT(error_of("10.0.0.0/33"), HasSubstr("bad prefix length '/33' in '10.0.0.0/33'"));
    EXPECT_THAT(error_of("10.0.0.0/"), HasSubstr("bad prefix length '/' in '10.0.0.0/'"));
    EXPECT_THAT(error_of("10.0.0.0/abc"), HasSubstr("bad prefix length '/abc'"));
    EXPECT_THAT(error_of("10.0.0.0/-1"), HasSubstr("bad prefix length '/-1'"));
    EXPECT_THAT(error_of("10.0.0.0/24/24"), HasSubstr("bad prefix length '/24/24'"));
}

TEST(Targets, CidrOfBadAddress) {
    EXPECT_THAT(error_of("10.0.0.1-5/24"), HasSubstr("bad IPv4 address '10.0.0.1-5' in '10.0.0.1-5/24'"));
    EXPECT_THAT(error_of("10.0.0/24"), HasSubstr("bad IPv4 address '10.0.0'"));
    EXPECT_THAT(error_of("/24"), HasSubstr("bad IPv4 address ''"));
}

TEST(Targets, Ipv6PrefixTooLarge) {
    EXPECT_EQ(error_of("2001:db8::/64"), "IPv6 prefix /64 in '2001:db8::/64' is too large to enumerate (at most /104)");
    EXPECT_THAT(error_of("::/103"), HasSubstr("IPv6 prefix /103 in '::/103' is too large"));
}

TEST(Targets, BadIpv6) {
    EXPECT_THAT(error_of("2001:db8::/129"), HasSubstr("bad prefix length '/129'"));
    EXPECT_THAT(error_of("2001:db8:::1"), HasSubstr("bad IPv6 address '2001:db8:::1'"));
    EXPECT_THAT(error_of("2001:db8::1-5"), HasSubstr("bad IPv6 address"));
}

// A link-local address with its zone: an interface this host has (lo always), never a
// zone on another kind of address or an interface that does not exist.
TEST(Targets, LinkLocalWithAZone) {
    EXPECT_EQ(error_of("fe80::1%lo"), "");
    EXPECT_EQ(error_of("fe80::1%1"), "");  // by index: lo is 1
    EXPECT_THAT(error_of("fe80::2%nosuchif0"), HasSubstr("this host has no interface 'nosuchif0'"));
    EXPECT_THAT(error_of("2001:db8::1%lo"), HasSubstr("only for IPv6 link-local addresses"));
    EXPECT_THAT(error_of("fe80::x%lo"), HasSubstr("bad IPv6 address 'fe80::x'"));
}

TEST(Targets, BadOctets) {
    EXPECT_EQ(error_of("10.0.0.300"), "bad octet '300' in '10.0.0.300': octets are 0-255");
    EXPECT_THAT(error_of("10.0.0.1-256"), HasSubstr("bad octet '256' in '10.0.0.1-256'"));
    EXPECT_THAT(error_of("10.0.0.20-10"), HasSubstr("reversed octet range '20-10' in '10.0.0.20-10'"));
    EXPECT_THAT(error_of("10.0.0.1,,2"), HasSubstr("empty octet item in '10.0.0.1,,2'"));
    EXPECT_THAT(error_of("10..0.1"), HasSubstr("empty octet in '10..0.1'"));
    EXPECT_THAT(error_of("10.0.0.1*"), HasSubstr("bad octet '1*'"));
    EXPECT_THAT(error_of("10.0.0.*-5"), HasSubstr("bad octet range '*-5'"));
    EXPECT_THAT(error_of("10.0.0.1-2-3"), HasSubstr("bad octet range '1-2-3'"));
}

TEST(Targets, WrongNumberOfOctets) {
    EXPECT_THAT(error_of("10.0.0"), HasSubstr("bad IPv4 address or range '10.0.0'"));
    EXPECT_THAT(error_of("127.1"), HasSubstr("expected 4 dot-separated octets"));  // not inet_aton's 127.0.0.1
    EXPECT_THAT(error_of("10.0.0.1.2"), HasSubstr("'10.0.0.1.2'"));
    EXPECT_THAT(error_of("3232235777"), HasSubstr("'3232235777'"));
    EXPECT_THAT(error_of("10.0.0.1,10.0.0.2"), HasSubstr("expected 4 dot-separated octets"));
}

TEST(Targets, OctetRangeTooLarge) {
    EXPECT_THAT(error_of("*.*.*.*"), HasSubstr("IPv4 range '*.*.*.*' has 4294967296 addresses, too many"));
    EXPECT_THAT(error_of("10-11.*.*.*"), HasSubstr("too many"));
    TargetSet set;
    set.add("10.*.*.*");  // exactly the limit
    EXPECT_EQ(set.size(), 1u << 24);
    EXPECT_EQ(set.at((1u << 24) - 1).str(), "10.255.255.255");
}

TEST(Targets, BadCharacters) {
    EXPECT_EQ(error_of("host name"), "bad target 'host name'");
    EXPECT_THAT(error_of("evil;rm"), HasSubstr("bad target 'evil;rm'"));
    EXPECT_THAT(error_of("a/b/c"), HasSubstr("'a/b/c'"));
}

TEST(Targets, UnresolvableHost) {
    // glibc refuses a DNS label longer than 63 bytes before sending any query.
    const std::string host = std::string(64, 'a') + ".invalid";
    EXPECT_THAT(error_of(host), HasSubstr("cannot resolve host '" + host + "': "));
}

TEST(Targets, FailedAddLeavesSetUnchanged) {
    TargetSet set;
    set.add("10.0.0.1");
    EXPECT_THROW(set.add("10.0.0.300"), InputError);
    EXPECT_THROW(set.add("10.0.0.0/4"), InputError);
    EXPECT_EQ(set.size(), 1u);
    EXPECT_EQ(set.at(0).str(), "10.0.0.1");
}



// A target given twice (in the arguments and in the list, or in two chunks of a long
// list) is scanned once: later chunks leave out what earlier ones held.
TEST(TargetSource, ATargetListedTwiceIsScannedOnce) {
    const std::string list = ::testing::TempDir() + "/targets_twice.txt";
    {
        std::ofstream f(list);
        f << "198.18.0.3\n198.18.0.20\n";
        // Past the first chunk: every address of the /28 again, then one new one.
        for (std::size_t i = 0; i < scanfw::TargetSource::kChunkEntries; ++i) f << "198.18.0." << (i % 16) << "\n";
        f << "198.18.0.21\n";
    }
    scanfw::TargetSource source({"198.18.0.0/28"}, list, std::nullopt);
    EXPECT_EQ(source.validate(), 18u);
    source.rewind();
    std::vector<std::string> seen;
    TargetSet chunk;
    while (source.next(chunk))
        for (std::uint64_t i = 0; i < chunk.size(); ++i) seen.push_back(chunk.at(i).str());
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(seen.size(), 18u);
    EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end());
    EXPECT_THAT(seen, ::testing::Contains("198.18.0.21"));
    std::remove(list.c_str());
}

}  // namespace
