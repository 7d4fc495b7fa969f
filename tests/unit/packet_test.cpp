// Building probes and parsing what comes back, including malformed and forged
// packets; matching answers to probes by their tags.
#include <gtest/gtest.h>

#include <vector>

#include "engine/order.hpp"
#include "net/capture.hpp"
#include "net/matcher.hpp"
#include "net/packet.hpp"
#include "net/tag.hpp"
#include "scanfw/wire.hpp"

using namespace scanfw;
namespace ipp = wire::ip_proto;

namespace {

IpAddress ip(const char* s) { return *IpAddress::parse(s); }

// An IP packet of `protocol` from src to dst carrying `payload`, checksums filled in.
std::vector<std::uint8_t> ip_packet(const char* src, const char* dst, std::uint8_t protocol,
                                    const std::vector<std::uint8_t>& payload, std::uint16_t id = 7) {
    const IpHeader h{ip(src), ip(dst), protocol, id, 63};
    std::vector<std::uint8_t> buf(kMaxProbeSize);
    const std::size_t hl = ip_header_size(h.dst.family);
    std::copy(payload.begin(), payload.end(), buf.begin() + static_cast<std::ptrdiff_t>(hl));
    buf.resize(finish_ip_packet(h, buf, payload.size()));
    return buf;
}

std::vector<std::uint8_t> tcp(std::uint16_t sport, std::uint16_t dport, std::uint32_t seq, std::uint32_t ack,
                              std::uint8_t flags, std::uint16_t window = 0) {
    std::vector<std::uint8_t> out(20);
    wire::Tcp t;
    t.sport = sport;
    t.dport = dport;
    t.seq = seq;
    t.ack = ack;
    t.flags = flags;
    t.window = window;
    t.write(out);
    return out;
}

std::vector<std::uint8_t> udp(std::uint16_t sport, std::uint16_t dport) {
    std::vector<std::uint8_t> out(8);
    wire::Udp{sport, dport, {}}.write(out);
    return out;
}

std::vector<std::uint8_t> icmp(std::uint8_t type, std::uint8_t code, std::uint16_t id, std::uint16_t seq,
                               const std::vector<std::uint8_t>& body = {}) {
    std::vector<std::uint8_t> out(8 + body.size());
    wire::Icmp{type, code, id, seq, body}.write(out);
    return out;
}

// An ICMP destination unreachable from `from`, quoting (the first 28 bytes of) `quoted`.
std::vector<std::uint8_t> unreach(const char* from, const char* to, std::uint8_t code,
                                  const std::vector<std::uint8_t>& quoted) {
    const std::vector<std::uint8_t> q(quoted.begin(), quoted.begin() + std::min<std::ptrdiff_t>(quoted.size(), 28));
    return ip_packet(from, to, ipp::ICMP, icmp(3, code, 0, 0, q));
}

Received parsed(const std::vector<std::uint8_t>& p) {
    auto r = parse_packet(p, (p[0] >> 4) == 6 ? 0x86dd : 0x0800);
    EXPECT_TRUE(r.has_value());
    return r.value_or(Received{});
}

}  // namespace

TEST(Packet, BuildsValidChecksums) {
    const auto pkt = ip_packet("198.18.0.1", "198.18.0.2", ipp::TCP, tcp(61001, 80, 0x11223344, 0, 0x02, 1024));
    ASSERT_EQ(pkt.size(), 40u);
    EXPECT_EQ(pkt[0], 0x45);
    EXPECT_EQ(pkt[9], 6);
    // The IPv4 header, and the TCP segment with its pseudo-header, checksum to zero.
    EXPECT_EQ(internet_checksum({pkt.data(), 20}), 0);
    std::uint32_t pseudo = 0xc612 + 0x0001 + 0xc612 + 0x0002 + 6 + 20;
    EXPECT_EQ(internet_checksum({pkt.data() + 20, 20}, pseudo), 0);
    // ICMP's covers the message alone.
    const auto echo = ip_packet("198.18.0.1", "198.18.0.2", ipp::ICMP, icmp(8, 0, 1, 2));
    EXPECT_EQ(internet_checksum({echo.data() + 20, 8}), 0);
    // IPv6: the flow label carries the id; UDP's checksum is never 0.
    const auto v6 = ip_packet("fd00:5eed::1", "fd00:5eed::2", ipp::UDP, udp(61000, 53), 0x1234);
    ASSERT_EQ(v6.size(), 48u);
    EXPECT_EQ(wire::get32(v6.data()), 0x60001234u);
    EXPECT_NE(wire::get16(v6.data() + 46), 0);
}

TEST(Packet, Crc32cMatchesTheStandardCheckValue) {
    const std::string text = "123456789";
    EXPECT_EQ(crc32c({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}), 0xE3069283u);
}

TEST(Packet, ParsesEachKindOfAnswer) {
    const auto t = parsed(ip_packet("198.18.0.2", "198.18.0.1", ipp::TCP, tcp(22, 61001, 5, 6, 0x12, 512)));
    EXPECT_EQ(t.what, Received::What::Tcp);
    EXPECT_EQ(t.src, ip("198.18.0.2"));
    EXPECT_EQ(t.sport, 22);
    EXPECT_EQ(t.dport, 61001);
    EXPECT_EQ(t.tcp_flags, 0x12);
    EXPECT_EQ(t.tcp_window, 512);
    EXPECT_EQ(t.ttl, 63);
    const auto reply = parsed(ip_packet("198.18.0.2", "198.18.0.1", ipp::ICMP, icmp(0, 0, 77, 88)));
    EXPECT_EQ(reply.what, Received::What::IcmpReply);
    EXPECT_EQ(reply.icmp_id, 77);
    EXPECT_EQ(reply.icmp_seq, 88);
    const auto probe = ip_packet("198.18.0.1", "198.18.0.2", ipp::UDP, udp(61002, 161), 0x4242);
    const auto err = parsed(unreach("198.18.0.2", "198.18.0.1", 3, probe));
    EXPECT_EQ(err.what, Received::What::IcmpError);
    EXPECT_EQ(err.unreach, Unreach::Port);
    EXPECT_EQ(err.quoted.dst, ip("198.18.0.2"));
    EXPECT_EQ(err.quoted.protocol, ipp::UDP);
    EXPECT_EQ(err.quoted.id, 0x4242);
    EXPECT_TRUE(err.quoted.has_ports);
    EXPECT_EQ(err.quoted.sport, 61002);
    EXPECT_EQ(err.quoted.dport, 161);
    const auto other = parsed(ip_packet("198.18.0.2", "198.18.0.1", 47, {}));
    EXPECT_EQ(other.what, Received::What::OtherIp);
    EXPECT_EQ(other.protocol, 47);
    // ICMPv6 parameter problem, unrecognised next header: the IPv6 protocol scan's "closed".
    const auto v6probe = ip_packet("fd00:5eed::1", "fd00:5eed::2", 47, {}, 9);
    auto pp = icmp(4, 1, 0, 6, v6probe);
    const auto v6err = parsed(ip_packet("fd00:5eed::2", "fd00:5eed::1", ipp::ICMPV6, pp));
    EXPECT_EQ(v6err.what, Received::What::IcmpError);
    EXPECT_EQ(v6err.unreach, Unreach::Proto);
    EXPECT_EQ(v6err.quoted.protocol, 47);
    EXPECT_EQ(v6err.quoted.id, 9);
}

TEST(Packet, ParsesArpRepliesAndNeighbourAdvertisements) {
    wire::Arp a;
    a.op = wire::Arp::Reply;
    const std::uint8_t mac[6] = {0x9e, 1, 2, 3, 4, 5}, sip[4] = {198, 18, 0, 2}, tip[4] = {198, 18, 0, 1};
    std::copy(std::begin(mac), std::end(mac), a.sender_mac);
    std::copy(std::begin(sip), std::end(sip), a.sender_ip);
    std::copy(std::begin(tip), std::end(tip), a.target_ip);
    std::vector<std::uint8_t> bytes(28);
    a.write(bytes);
    const auto r = parse_packet(bytes, 0x0806);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->what, Received::What::Arp);
    EXPECT_EQ(r->about, ip("198.18.0.2"));
    EXPECT_EQ(r->link_addr->at(0), 0x9e);
    a.op = wire::Arp::Request;  // a request is nobody's answer
    a.write(bytes);
    EXPECT_FALSE(parse_packet(bytes, 0x0806));

    // RFC 4861 4.4: flags, target, target link-layer address option.
    std::vector<std::uint8_t> na(24 + 8);
    na[0] = 136;
    const auto target = ip("fd00:5eed::2");
    std::copy(target.bytes.begin(), target.bytes.end(), na.begin() + 8);
    na[24] = 2;
    na[25] = 1;
    std::copy(std::begin(mac), std::end(mac), na.begin() + 26);
    const auto adv = parsed(ip_packet("fd00:5eed::2", "fd00:5eed::1", ipp::ICMPV6, na));
    EXPECT_EQ(adv.what, Received::What::Advert);
    EXPECT_EQ(adv.about, target);
    ASSERT_TRUE(adv.link_addr);
    EXPECT_EQ(adv.link_addr->at(5), 5);
}

TEST(Packet, RejectsMalformedPackets) {
    const auto good = ip_packet("198.18.0.2", "198.18.0.1", ipp::TCP, tcp(22, 61001, 5, 6, 0x12));
    ASSERT_TRUE(parse_packet(good, 0x0800));
    EXPECT_FALSE(parse_packet(good, 0x86dd)) << "an IPv4 packet the link layer calls IPv6";
    for (std::size_t cut = 0; cut < good.size(); ++cut)
        EXPECT_FALSE(parse_packet({good.data(), cut}, 0x0800)) << "truncated to " << cut;
    auto bad_ihl = good;
    bad_ihl[0] = 0x44;
    EXPECT_FALSE(parse_packet(bad_ihl, 0x0800));
    auto bad_offset = good;
    bad_offset[20 + 12] = 0x40;  // data offset 4 words < 5
    EXPECT_FALSE(parse_packet(bad_offset, 0x0800));
    auto huge_offset = good;
    huge_offset[20 + 12] = 0xf0;
    EXPECT_FALSE(parse_packet(huge_offset, 0x0800));
    auto fragment = good;
    fragment[6] = 0x20;  // more fragments
    EXPECT_FALSE(parse_packet(fragment, 0x0800));
    auto later_fragment = good;
    later_fragment[7] = 0x10;
    EXPECT_FALSE(parse_packet(later_fragment, 0x0800));
    auto v6 = good;
    v6[0] = 0x65;
    EXPECT_FALSE(parse_packet(v6, 0x0800));
    EXPECT_FALSE(parse_packet(good, 0x1234));  // not IP or ARP
}

TEST(Matching, TcpAnswersMustCarryTheTag) {
    const Tagger tagger(random_key());
    const auto us = ip("198.18.0.1"), target = ip("198.18.0.2");
    const Matcher matcher(tagger, {MatchJob{0, Protocol::Tcp, {}}});
    const ProbeTag tag = tagger.tag(0, us, target, 22);
    auto matches = [&](std::uint16_t our_port, std::uint32_t seq, std::uint32_t ack, std::uint8_t flags) {
        std::vector<Match> out;
        matcher.match(parsed(ip_packet("198.18.0.2", "198.18.0.1", ipp::TCP, tcp(22, our_port, seq, ack, flags))), out);
        return out.size() == 1 && out[0].item == Item{target, 22, 0} && out[0].kind == Reply::Kind::Tcp;
    };
    const std::uint16_t sport = tag.fields.sport;
    EXPECT_TRUE(matches(sport, 99, tag.fields.seq + 1, 0x12));   // SYN/ACK
    EXPECT_TRUE(matches(sport, 0, tag.fields.seq, 0x14));        // RST/ACK to NULL
    EXPECT_TRUE(matches(sport, tag.fields.ack, 0, 0x04));        // RST to ACK
    EXPECT_FALSE(matches(sport, 99, tag.fields.seq + 2, 0x12));   // wrong ack: a near miss
    EXPECT_FALSE(matches(sport, tag.fields.ack + 1, 0, 0x04));   // wrong seq
    EXPECT_FALSE(matches(std::uint16_t(sport + 1), 99, tag.fields.seq + 1, 0x12));  // wrong port
    EXPECT_FALSE(matches(sport, 99, 0, 0x02));                   // SYN without ACK, seq not ours
    // The same answer from another address is no answer to our probe of 198.18.0.2.
    std::vector<Match> out;
    matcher.match(parsed(ip_packet("198.18.0.3", "198.18.0.1", ipp::TCP, tcp(22, sport, 99, tag.fields.seq + 1, 0x12))),
                  out);
    EXPECT_TRUE(out.empty());
}

TEST(Matching, TagsCoverTheTechniqueAndOurAddress) {
    const Tagger tagger(random_key());
    const auto target = ip("198.18.0.2");
    const Matcher two(tagger, {MatchJob{0, Protocol::Tcp, {}}, MatchJob{1, Protocol::Tcp, {}}});
    const ProbeTag t1 = tagger.tag(1, ip("198.18.0.1"), target, 80);
    std::vector<Match> out;
    two.match(parsed(ip_packet("198.18.0.2", "198.18.0.1", ipp::TCP, tcp(80, t1.fields.sport, 0, t1.fields.seq + 1, 0x12))),
              out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].item.job, 1);  // only the technique that sent it
    // An answer to another source address of ours is checked with that address's tag.
    const ProbeTag other = tagger.tag(1, ip("198.18.0.9"), target, 80);
    out.clear();
    two.match(parsed(ip_packet("198.18.0.2", "198.18.0.1", ipp::TCP,
                               tcp(80, other.fields.sport, 0, other.fields.seq + 1, 0x12))),
              out);
    EXPECT_TRUE(out.empty());
}

TEST(Matching, IcmpErrorsMatchByTheQuotedProbe) {
    const Tagger tagger(random_key());
    const auto us = ip("198.18.0.1"), target = ip("198.18.0.2");
    const Matcher matcher(tagger, {MatchJob{0, Protocol::Udp, {}}, MatchJob{1, Protocol::Ip, {}}});
    const ProbeTag t = tagger.tag(0, us, target, 161);
    const auto probe = ip_packet("198.18.0.1", "198.18.0.2", ipp::UDP, udp(t.fields.sport, 161), t.ip_id);
    std::vector<Match> out;
    matcher.match(parsed(unreach("198.18.0.2", "198.18.0.1", 3, probe)), out);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].item, (Item{target, 161, 0}));
    EXPECT_EQ(out[0].kind, Reply::Kind::IcmpError);
    // Any ICMP error the target sends about our probes shows it speaks ICMP: the IP
    // protocol scan's protocol 1 is open (nmap says the same).
    EXPECT_EQ(out[1].item, (Item{target, 1, 1}));
    EXPECT_EQ(out[1].kind, Reply::Kind::Ip);
    // A wrong IP id, or a source port not ours: a probe we never sent.
    out.clear();
    matcher.match(parsed(unreach("198.18.0.2", "198.18.0.1", 3,
                                 ip_packet("198.18.0.1", "198.18.0.2", ipp::UDP, udp(t.fields.sport, 161),
                                           static_cast<std::uint16_t>(t.ip_id + 1)))),
                  out);
    EXPECT_TRUE(out.empty());
    out.clear();
    matcher.match(parsed(unreach("198.18.0.2", "198.18.0.1", 3,
                                 ip_packet("198.18.0.1", "198.18.0.2", ipp::UDP,
                                           udp(static_cast<std::uint16_t>(t.fields.sport ^ 1), 161), t.ip_id))),
                  out);
    EXPECT_TRUE(out.empty());
    // The IP protocol scan: protocol 47's unreachable answers item 47, and shows ICMP is
    // spoken (item 1), as in nmap.
    const ProbeTag g = tagger.tag(1, us, target, 47);
    out.clear();
    matcher.match(parsed(unreach("198.18.0.2", "198.18.0.1", 2, ip_packet("198.18.0.1", "198.18.0.2", 47, {}, g.ip_id))),
                  out);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].item, (Item{target, 47, 1}));
    EXPECT_EQ(out[0].kind, Reply::Kind::IcmpError);
    EXPECT_EQ(out[1].item, (Item{target, 1, 1}));
    EXPECT_EQ(out[1].kind, Reply::Kind::Ip);
}

TEST(Matching, IcmpRepliesCarryTheTagInIdentifierAndSequence) {
    const Tagger tagger(random_key());
    const auto us = ip("198.18.0.1"), target = ip("198.18.0.2");
    const Matcher matcher(tagger, {MatchJob{0, Protocol::Icmp, {0}}});
    const ProbeTag t = tagger.tag(0, us, target, 0);
    std::vector<Match> out;
    matcher.match(parsed(ip_packet("198.18.0.2", "198.18.0.1", ipp::ICMP, icmp(0, 0, t.fields.icmp_id, t.fields.icmp_seq))),
                  out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].kind, Reply::Kind::Icmp);
    out.clear();
    matcher.match(parsed(ip_packet("198.18.0.2", "198.18.0.1", ipp::ICMP,
                                   icmp(0, 0, t.fields.icmp_id, static_cast<std::uint16_t>(t.fields.icmp_seq + 1)))),
                  out);
    EXPECT_TRUE(out.empty());
}

TEST(Capture, FramesBecomeAnswersWithTheSendersMac) {
    const Tagger tagger(random_key());
    const auto us = ip("198.18.0.1"), target = ip("198.18.0.2");
    const Matcher matcher(tagger, {MatchJob{0, Protocol::Tcp, {}}});
    const ProbeTag t = tagger.tag(0, us, target, 80);
    const auto pkt = ip_packet("198.18.0.2", "198.18.0.1", ipp::TCP, tcp(80, t.fields.sport, 0, t.fields.seq + 1, 0x12));
    // Linux cooked header: packet type, ARPHRD, address length 6, the address, protocol.
    std::vector<std::uint8_t> frame = {0, 0, 0, 1, 0, 6, 0x9e, 6, 0xc8, 0xd8, 0x49, 0x31, 0, 0, 0x08, 0x00};
    frame.insert(frame.end(), pkt.begin(), pkt.end());
    std::vector<Answer> out;
    Capture::answers_of(frame, matcher, out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].item, (Item{target, 80, 0}));
    EXPECT_EQ(out[0].ours, us);
    ASSERT_TRUE(out[0].mac);
    EXPECT_EQ(mac_text(*out[0].mac), "9E:06:C8:D8:49:31");
    const Reply r = out[0].view();
    EXPECT_EQ(r.kind, Reply::Kind::Tcp);
    EXPECT_EQ(r.tcp_flags, 0x12);
    EXPECT_EQ(r.packet.size(), 40u);
    EXPECT_EQ(r.transport.size(), 20u);
    EXPECT_TRUE(r.payload.empty());
    // Forged: the same frame cut short anywhere is nobody's answer.
    for (std::size_t cut = 0; cut < frame.size(); ++cut) {
        out.clear();
        Capture::answers_of({frame.data(), cut}, matcher, out);
        EXPECT_TRUE(out.empty()) << cut;
    }
}

TEST(Tags, AreKeyedAndStable) {
    const SipKey k1{1, 2}, k2{3, 4};
    const auto t = ip("198.18.0.2"), us = ip("198.18.0.1");
    EXPECT_EQ(Tagger(k1).tag(0, us, t, 80).fields.seq, Tagger(k1).tag(0, us, t, 80).fields.seq);
    EXPECT_NE(Tagger(k1).tag(0, us, t, 80).fields.seq, Tagger(k2).tag(0, us, t, 80).fields.seq);
    EXPECT_NE(Tagger(k1).tag(0, us, t, 80).fields.seq, Tagger(k1).tag(0, us, t, 81).fields.seq);
    EXPECT_NE(Tagger(k1).tag(0, us, t, 80).fields.seq, Tagger(k1).tag(1, us, t, 80).fields.seq);
    EXPECT_NE(Tagger(k1).tag(0, us, t, 80).fields.seq, Tagger(k1).tag(0, ip("198.18.0.9"), t, 80).fields.seq);
    const auto sport = Tagger(k1).tag(0, us, t, 80).fields.sport;
    EXPECT_GE(sport, kSourcePortBase);
}

TEST(Tags, SipHashMatchesTheReferenceVector) {
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
