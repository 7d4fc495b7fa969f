// fuzz_reply: the bytes of one captured packet, from its network header on, as the
// capture passes them (after the link-layer header) to the reply parser under each
// ethertype it captures (IPv4, IPv6, ARP), and what it accepts to the matcher. Nothing
// may crash, read out of bounds or overflow; a parsed packet must be self-consistent
// (its parts inside the bytes, its family the ethertype's); and matching it against
// the jobs of a scan of every protocol must be well defined and name only their
// protocols' items.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "net/matcher.hpp"
#include "net/packet.hpp"
#include "net/tag.hpp"

namespace {

using namespace scanfw;

// A fixed scan key and jobs of every protocol, so the fuzzer can learn to hit the
// accepting branches of the matcher (the seed corpus carries replies to tag 0).
const SipKey kKey{0x0123456789abcdefULL, 0xfedcba9876543210ULL};
const Tagger kTagger(kKey);
const Matcher kMatcher(kTagger, {{0, Protocol::Tcp, {}},
                                 {1, Protocol::Udp, {}},
                                 {2, Protocol::Icmp, {8, 13, 17}},
                                 {3, Protocol::Ip, {}},
                                 {4, Protocol::Link, {}}});

[[noreturn]] void fail() { std::abort(); }

void check(const Received& r, std::span<const std::uint8_t> packet, std::uint16_t ethertype) {
    if (r.end > packet.size()) fail();
    if (r.transport_off > r.end || r.payload_off > r.end || r.quoted_off > r.end) fail();
    switch (ethertype) {
        case 0x0800:
            if (r.family != Family::V4 || r.what == Received::What::Arp || r.what == Received::What::Advert) fail();
            break;
        case 0x86dd:
            if (r.family != Family::V6 || r.what == Received::What::Arp) fail();
            break;
        default:
            if (r.what != Received::What::Arp) fail();
    }
    std::vector<Match> out;
    kMatcher.match(r, out);
    for (const Match& m : out)
        if (m.item.job > 4) fail();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> packet(data, size);
    // Each ethertype sees every input: the parser must reject what is not its own.
    for (const std::uint16_t ethertype : {0x0800, 0x86dd, 0x0806}) {
        if (const auto r = parse_packet(packet, ethertype)) check(*r, packet, ethertype);
    }
    return 0;
}
