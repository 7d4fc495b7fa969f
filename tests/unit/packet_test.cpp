// Building probes and parsing replies, including malformed and forged packets.
#include <gtest/gtest.h>

#include <vector>

#include "net/capture.hpp"
#include "net/tag.hpp"
#include "net/packet.hpp"

using namespace scanfw;

namespace {

IpAddress ip(const char* s) { return *IpAddress::parse(s); }

// A TCP reply as the target would send it, built with the same builder.
std::vector<std::uint8_t> tcp_packet(const char* src, const char* dst, std::uint16_t sport, std::uint16_t dport,
                                     std::uint32_t seq, std::uint32_t ack, std::uint8_t flags,
                                     std::uint16_t window = 0) {
    std::vector<std::uint8_t> buf(kMaxProbeSize);
    ProbeHeader h{ip(src), ip(dst), sport, dport, seq, ack, 7, 63};
    Probe p;
    p.tcp_flags = flags;
    p.tcp_window = window;
    buf.resize(build_probe(Protocol::Tcp, h, p, buf));
    return buf;
}

// An ICMP destination unreachable from `from`, quoting `quoted`.
std::vector<std::uint8_t> icmp_unreach(const char* from, const char* to, std::uint8_t code,
                                       const std::vector<std::uint8_t>& quoted) {
    std::vector<std::uint8_t> pkt(20 + 8);
    pkt[0] = 0x45;
    const std::size_t total = 28 + std::min<std::size_t>(quoted.size(), 28);
    pkt[2] = std::uint8_t(total >> 8);
    pkt[3] = std::uint8_t(total);
    pkt[8] = 64;
    pkt[9] = 1;
    const auto a = ip(from), b = ip(to);
    std::copy_n(a.bytes.begin(), 4, pkt.begin() + 12);
    std::copy_n(b.bytes.begin(), 4, pkt.begin() + 16);
    pkt[20] = 3;
    pkt[21] = code;
    pkt.insert(pkt.end(), quoted.begin(), quoted.begin() + std::min<std::ptrdiff_t>(quoted.size(), 28));
    return pkt;
}

}  // namespace

TEST(Packet, BuildsAValidTcpProbe) {
    const auto pkt = tcp_packet("198.18.0.1", "198.18.0.2", 61001, 80, 0x11223344, 0, 0x02, 1024);
    ASSERT_EQ(pkt.size(), 40u);
    EXPECT_EQ(pkt[0], 0x45);
    EXPECT_EQ(pkt[9], 6);
    EXPECT_EQ(pkt[20 + 13], 0x02);
    // The IPv4 header checksums to zero.
    std::uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2) sum += std::uint32_t(pkt[i] << 8 | pkt[i + 1]);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    EXPECT_EQ(sum, 0xffffu);
}

TEST(Packet, ParsesATcpReplyAsTheTargetsAnswer) {
    const auto pkt = tcp_packet("198.18.0.2", "198.18.0.1", 22, 61001, 5, 0x11223345, 0x12, 29200);
    const auto a = parse_ipv4_answer(pkt);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->target.str(), "198.18.0.2");
    EXPECT_EQ(a->target_port, 22);
    EXPECT_EQ(a->our_port, 61001);
    EXPECT_EQ(a->ack, 0x11223345u);
    EXPECT_EQ(a->reply.kind, Reply::Kind::Tcp);
    EXPECT_EQ(a->reply.tcp_flags, 0x12);
    EXPECT_EQ(a->reply.tcp_window, 29200);
    EXPECT_EQ(a->reply.ttl, 63);
}

TEST(Packet, ParsesAnIcmpErrorByItsQuotedProbe) {
    const auto probe = tcp_packet("198.18.0.1", "198.18.0.2", 61001, 8081, 0xabcdef01, 0, 0x02);
    const auto a = parse_ipv4_answer(icmp_unreach("198.18.0.2", "198.18.0.1", 13, probe));
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->quoted);
    EXPECT_EQ(a->target.str(), "198.18.0.2");
    EXPECT_EQ(a->target_port, 8081);
    EXPECT_EQ(a->our_port, 61001);
    EXPECT_EQ(a->seq, 0xabcdef01u);
    EXPECT_EQ(a->reply.unreach, Unreach::AdminProhibited);
}

TEST(Packet, RejectsMalformedPackets) {
    auto good = tcp_packet("198.18.0.2", "198.18.0.1", 22, 61001, 5, 6, 0x14);
    for (std::size_t cut = 0; cut < good.size(); ++cut)
        EXPECT_FALSE(parse_ipv4_answer({good.data(), cut})) << "truncated to " << cut;
    auto bad_ihl = good;
    bad_ihl[0] = 0x44;
    EXPECT_FALSE(parse_ipv4_answer(bad_ihl));
    auto long_ihl = good;
    long_ihl[0] = 0x4f;
    EXPECT_FALSE(parse_ipv4_answer(long_ihl));
    auto bad_offset = good;
    bad_offset[20 + 12] = 0x40;  // data offset 4 words < 5
    EXPECT_FALSE(parse_ipv4_answer(bad_offset));
    auto huge_offset = good;
    huge_offset[20 + 12] = 0xf0;
    EXPECT_FALSE(parse_ipv4_answer(huge_offset));
    auto fragment = good;
    fragment[6] = 0x20;  // more fragments
    EXPECT_FALSE(parse_ipv4_answer(fragment));
    auto later_fragment = good;
    later_fragment[7] = 0x10;
    EXPECT_FALSE(parse_ipv4_answer(later_fragment));
    auto v6 = good;
    v6[0] = 0x65;
    EXPECT_FALSE(parse_ipv4_answer(v6));
}

TEST(Matching, AcceptsOnlyAnswersCarryingOurTag) {
    const Tagger tagger(random_key());
    const auto target = ip("198.18.0.2");
    const ProbeTag tag = tagger.tag(target, 22);
    auto answer = [&](std::uint16_t our_port, std::uint32_t seq, std::uint32_t ack, std::uint8_t flags) {
        return *parse_ipv4_answer(tcp_packet("198.18.0.2", "198.18.0.1", 22, our_port, seq, ack, flags));
    };
    EXPECT_TRUE(Capture::matches(answer(tag.sport, 99, tag.seq + 1, 0x12), tag));  // SYN/ACK
    EXPECT_TRUE(Capture::matches(answer(tag.sport, 0, tag.seq, 0x14), tag));       // RST/ACK to NULL
    EXPECT_TRUE(Capture::matches(answer(tag.sport, tag.ack, 0, 0x04), tag));       // RST to ACK
    EXPECT_FALSE(Capture::matches(answer(tag.sport, 99, tag.seq + 7, 0x12), tag));  // wrong ack
    EXPECT_FALSE(Capture::matches(answer(tag.sport, tag.ack + 1, 0, 0x04), tag));   // wrong seq
    EXPECT_FALSE(Capture::matches(answer(std::uint16_t(tag.sport + 1), 99, tag.seq + 1, 0x12), tag));  // wrong port
    EXPECT_FALSE(Capture::matches(answer(tag.sport, 99, 0, 0x02), tag));  // SYN without ACK, seq not ours
}

TEST(Cookie, TagsAreKeyedAndStable) {
    const SipKey k1{1, 2}, k2{3, 4};
    const auto t = ip("198.18.0.2");
    EXPECT_EQ(Tagger(k1).tag(t, 80).seq, Tagger(k1).tag(t, 80).seq);
    EXPECT_NE(Tagger(k1).tag(t, 80).seq, Tagger(k2).tag(t, 80).seq);
    EXPECT_NE(Tagger(k1).tag(t, 80).seq, Tagger(k1).tag(t, 81).seq);
    const auto sport = Tagger(k1).tag(t, 80).sport;
    EXPECT_GE(sport, kSourcePortBase);
    EXPECT_LE(sport, 65535);
}

TEST(Cookie, SipHashMatchesTheReferenceVector) {
    // SipHash-2-4 paper, appendix A: key 00..0f, message 00..0e.
    SipKey key{0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
    std::uint8_t msg[15];
    for (int i = 0; i < 15; ++i) msg[i] = std::uint8_t(i);
    EXPECT_EQ(siphash24(key, msg, sizeof msg), 0xa129ca6149be45e5ULL);
}

TEST(Permutation, IsABijectionForManySizes) {
    for (std::uint64_t n : {1u, 2u, 3u, 5u, 17u, 1000u, 65535u}) {
        Permutation p(n, SipKey{9, 9});
        std::vector<bool> seen(n);
        for (std::uint64_t i = 0; i < n; ++i) {
            const auto j = p(i);
            ASSERT_LT(j, n);
            ASSERT_FALSE(seen[j]) << "n=" << n;
            seen[j] = true;
        }
    }
}

TEST(Permutation, DoesNotWalkPortsInOrder) {
    Permutation p(1024, SipKey{5, 6});
    int sequential = 0;
    for (std::uint64_t i = 1; i < 1024; ++i) sequential += p(i) == p(i - 1) + 1;
    EXPECT_LT(sequential, 20);
}
