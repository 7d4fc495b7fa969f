// fuzz_reply: the bytes of one captured packet, from its IP header on, into the
// packet parser (parse_packet as IPv4, IPv6 and ARP), the matcher (Matcher::match,
// Matcher::tcp_answers) and the capture's frame path (Capture::answers_of, after a
// Linux cooked header). Nothing may crash, read out of bounds or overflow; what the
// parser accepts must be self-consistent, and every answer's spans must lie inside
// its own bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "net/capture.hpp"
#include "net/matcher.hpp"
#include "net/packet.hpp"
#include "net/tag.hpp"

namespace {

using namespace scanfw;

// A fixed scan key and one job of each kind the matcher knows, so the fuzzer can
// learn to hit its accepting branches.
const SipKey kKey{0x0123456789abcdefULL, 0xfedcba9876543210ULL};
const Tagger kTagger(kKey);
const Matcher kMatcher(kTagger, {MatchJob{0, Protocol::Tcp, {}}, MatchJob{1, Protocol::Udp, {}},
                                 MatchJob{2, Protocol::Icmp, {0}}, MatchJob{3, Protocol::Ip, {}}});
constexpr ProbeTag kTag{{61234, 0x11223344u, 0x55667788u, 0, 0}, 0x9abc};

[[noreturn]] void fail() { std::abort(); }

void check(const Received& r, std::span<const std::uint8_t> bytes) {
    // What the parser promises about what it accepted.
    if (r.end > bytes.size()) fail();
    if (r.transport_off > r.end || r.payload_off > r.end || r.quoted_off > r.end) fail();
    if (r.what == Received::What::Tcp || r.what == Received::What::Udp) {
        if (r.payload_off < r.transport_off) fail();
        if (r.what == Received::What::Tcp) (void)Matcher::tcp_answers(r, kTag);
    }
    std::vector<Match> out;
    kMatcher.match(r, out);
    for (const Match& m : out)
        if (m.item.job > 3) fail();
}

void check(const Answer& a) {
    if (a.len > a.bytes.size()) fail();
    const Reply r = a.view();
    const auto inside = [&](std::span<const std::uint8_t> s) {
        if (s.empty()) return;
        if (s.data() < a.bytes.data() || s.data() + s.size() > a.bytes.data() + a.len) fail();
    };
    inside(r.packet);
    inside(r.transport);
    inside(r.payload);
    inside(r.quoted);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> packet(data, size);

    // Each family's parser sees every input, whatever its version nibble says: it must
    // reject what is not its own by itself.
    for (const std::uint16_t ethertype : {0x0800, 0x86dd, 0x0806})
        if (const auto r = parse_packet(packet, ethertype)) check(*r, packet);

    // The capture's path: a Linux cooked header (v1) with the ethertype the version
    // nibble names, then the packet.
    std::vector<std::uint8_t> frame = {0, 0, 0, 1, 0, 6, 0x9e, 6, 0xc8, 0xd8, 0x49, 0x31, 0, 0, 0x08, 0x00};
    if (size > 0 && (data[0] >> 4) == 6) frame[15] = 0xdd, frame[14] = 0x86;
    frame.insert(frame.end(), data, data + size);
    std::vector<Answer> answers;
    Capture::answers_of(frame, kMatcher, answers);
    for (const Answer& a : answers) check(a);
    return 0;
}
