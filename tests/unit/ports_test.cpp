// parse_ports: nmap's port syntax.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "targets/ports.hpp"

namespace {

using scanfw::InputError;
using scanfw::parse_ports;
using scanfw::PortSpec;
using scanfw::Protocol;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Ports = std::vector<std::uint16_t>;

// The message parse_ports throws for `spec`, or "" when it does not throw.
std::string error_of(const std::string& spec) {
    try {
        parse_ports(spec);
    } catch (const InputError& e) {
        return e.what();
    }
    return "";
}

TEST(Ports, SinglePortAppliesToBothProtocols) {
    const PortSpec p = parse_ports("22");
    EXPECT_THAT(p.tcp, ElementsAre(22));
    EXPECT_THAT(p.udp, ElementsAre(22));
}

TEST(Ports, ListAndRangesAreSortedAndDeduplicated) {
    const PortSpec p = parse_ports("80,22,20-23,22");
    EXPECT_THAT(p.tcp, ElementsAre(20, 21, 22, 23, 80));
    EXPECT_EQ(p.tcp, p.udp);
}

TEST(Ports, OpenRanges) {
    EXPECT_EQ(parse_ports("-").tcp.size(), 65535u);
    EXPECT_EQ(parse_ports("-").tcp.front(), 1);  // "-" starts at 1, not 0
    EXPECT_EQ(parse_ports("-").tcp.back(), 65535);
    EXPECT_THAT(parse_ports("-3").tcp, ElementsAre(1, 2, 3));
    EXPECT_THAT(parse_ports("65533-").tcp, ElementsAre(65533, 65534, 65535));
}

TEST(Ports, ZeroOnlyWhenExplicit) {
    EXPECT_THAT(parse_ports("0").tcp, ElementsAre(0));
    EXPECT_THAT(parse_ports("0-2").tcp, ElementsAre(0, 1, 2));
    EXPECT_THAT(parse_ports("0,-1").tcp, ElementsAre(0, 1));
}

TEST(Ports, Bounds) {
    EXPECT_THAT(parse_ports("65535").tcp, ElementsAre(65535));
    EXPECT_THAT(parse_ports("7-7").tcp, ElementsAre(7));
    EXPECT_THAT(parse_ports("00022").tcp, ElementsAre(22));
}

TEST(Ports, ProtocolSections) {
    const PortSpec p = parse_ports("T:22,80,U:53,161");
    EXPECT_THAT(p.tcp, ElementsAre(22, 80));
    EXPECT_THAT(p.udp, ElementsAre(53, 161));
    EXPECT_EQ(&p.for_protocol(Protocol::Tcp), &p.tcp);
    EXPECT_EQ(&p.for_protocol(Protocol::Udp), &p.udp);
}

TEST(Ports, ItemsBeforeAnyPrefixGoToBoth) {
    const PortSpec p = parse_ports("443,T:22,U:53-54");
    EXPECT_THAT(p.tcp, ElementsAre(22, 443));
    EXPECT_THAT(p.udp, ElementsAre(53, 54, 443));
}

TEST(Ports, OnlyOneProtocol) {
    const PortSpec p = parse_ports("U:53");
    EXPECT_TRUE(p.tcp.empty());
    EXPECT_THAT(p.udp, ElementsAre(53));
}

TEST(Ports, RepeatedSectionsMerge) {
    const PortSpec p = parse_ports("T:80,U:53,T:22");
    EXPECT_THAT(p.tcp, ElementsAre(22, 80));
    EXPECT_THAT(p.udp, ElementsAre(53));
}

TEST(Ports, LowercasePrefixes) {
    const PortSpec p = parse_ports("t:22,u:53");
    EXPECT_THAT(p.tcp, ElementsAre(22));
    EXPECT_THAT(p.udp, ElementsAre(53));
}

TEST(Ports, WhitespaceAroundItems) {
    const PortSpec p = parse_ports(" 22 , 80,\t1-2 , T: 8080 ");
    EXPECT_THAT(p.tcp, ElementsAre(1, 2, 22, 80, 8080));
    EXPECT_THAT(p.udp, ElementsAre(1, 2, 22, 80));
}

TEST(Ports, PortOutOfRange) {
    EXPECT_EQ(error_of("22,70000"), "bad port '70000' in '22,70000': ports are 0-65535");
    EXPECT_THAT(error_of("65536"), HasSubstr("bad port '65536'"));
    EXPECT_THAT(error_of("1-65536"), HasSubstr("bad port '65536' in '1-65536'"));
    EXPECT_THAT(error_of("99999999999999999999999"), HasSubstr("bad port '99999999999999999999999'"));
}

TEST(Ports, ReversedRange) {
    EXPECT_EQ(error_of("22,90-80"), "reversed port range '90-80' in '22,90-80'");
    EXPECT_THAT(error_of("-0"), HasSubstr("reversed port range '-0'"));
}

TEST(Ports, EmptySpec) {
    EXPECT_THAT(error_of(""), HasSubstr("empty port spec"));
    EXPECT_THAT(error_of("  "), HasSubstr("empty port spec"));
}

TEST(Ports, EmptyItem) {
    EXPECT_EQ(error_of("22,,80"), "empty item in '22,,80'");
    EXPECT_THAT(error_of("22,"), HasSubstr("empty item in '22,'"));
    EXPECT_THAT(error_of(",22"), HasSubstr("empty item in ',22'"));
    EXPECT_THAT(error_of("22, ,80"), HasSubstr("empty item"));
    EXPECT_THAT(error_of("T:,80"), HasSubstr("empty item 'T:' in 'T:,80'"));
    EXPECT_THAT(error_of("U:"), HasSubstr("empty item 'U:'"));
}

TEST(Ports, Garbage) {
    EXPECT_THAT(error_of("22,abc"), HasSubstr("no port is called 'abc'"));
    EXPECT_THAT(error_of("22,abc"), HasSubstr("(in '22,abc')"));
    EXPECT_THAT(error_of("1-2-3"), HasSubstr("bad port item '1-2-3'"));
    EXPECT_THAT(error_of("1--3"), HasSubstr("bad port item '1--3'"));
    EXPECT_THAT(error_of("+22"), HasSubstr("bad port item '+22'"));
    EXPECT_THAT(error_of("-22-"), HasSubstr("bad port item '-22-'"));
    EXPECT_THAT(error_of("2 2"), HasSubstr("bad port item '2 2'"));
    EXPECT_THAT(error_of("22;80"), HasSubstr("bad port item '22;80'"));
    EXPECT_THAT(error_of("0x16"), HasSubstr("bad port item '0x16'"));
    EXPECT_THAT(error_of("T:22:80"), HasSubstr("'22:80'"));
}

TEST(Ports, UnsupportedProtocolPrefixes) {
    EXPECT_THAT(error_of("S:22"), HasSubstr("unsupported protocol prefix 'S:' in 'S:22'"));
    EXPECT_THAT(error_of("T:22,Y:1"), HasSubstr("unsupported protocol prefix 'Y:' in 'T:22,Y:1'"));
}

TEST(Ports, ServiceNamesAndIpProtocols) {
    const PortSpec names = parse_ports("T:ssh,U:domain");
    EXPECT_THAT(names.tcp, ::testing::Contains(22));
    EXPECT_THAT(names.udp, ::testing::Contains(53));
    EXPECT_THAT(names.udp, ::testing::Not(::testing::Contains(22)));
    const PortSpec ip = parse_ports("T:80,P:1,6,17");
    EXPECT_EQ(ip.ip, (std::vector<std::uint16_t>{1, 6, 17}));
    EXPECT_EQ(ip.tcp, (std::vector<std::uint16_t>{80}));
    EXPECT_EQ(parse_ports("1-3").ip, (std::vector<std::uint16_t>{1, 2, 3}));  // no prefix: every protocol
}

}  // namespace
