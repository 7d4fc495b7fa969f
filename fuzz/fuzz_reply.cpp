// fuzz_reply: the bytes of one captured packet, from its IP header on, as
// Capture::handle passes them (after the link-layer header) to the reply parsers
// (IPv4 and IPv6) and the matcher. Nothing may crash, read out of bounds or
// overflow; a parsed answer must be self-consistent; and matching it against a
// fixed probe tag, and against the tag derived for the endpoint it names, must be
// well defined.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "net/capture.hpp"
#include "net/tag.hpp"
#include "net/packet.hpp"

namespace {

using namespace scanfw;

// A fixed scan key, and the tag of one fixed probe, so the fuzzer can learn to hit
// the accepting branches of the matcher (the seed corpus carries replies to it).
const SipKey kKey{0x0123456789abcdefULL, 0xfedcba9876543210ULL};
const Tagger kTagger(kKey);
constexpr ProbeTag kTag{61234, 0x11223344u, 0x55667788u, 0x9abc};

[[noreturn]] void fail() { std::abort(); }

void check(const Answer& a, std::span<const std::uint8_t> packet, Family family) {
    // What the parser promises about what it accepted.
    if (packet.size() < (family == Family::V4 ? 20u : 40u)) fail();
    if (a.target.family != family) fail();
    switch (a.reply.kind) {
        case Reply::Kind::Tcp:
            if (a.quoted || a.proto != Protocol::Tcp) fail();
            break;
        case Reply::Kind::Udp:
            if (a.quoted || a.proto != Protocol::Udp) fail();
            break;
        case Reply::Kind::IcmpUnreach:
            if (!a.quoted) fail();
            break;
        default:
            fail();  // a packet never parses to silence or a connect outcome
    }
    volatile bool sink = Capture::matches(a, kTag);
    sink = Capture::matches(a, kTagger.tag(a.target, a.target_port));
    (void)sink;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> packet(data, size);

    // Each parser sees every input, whatever its version nibble says: it must
    // reject what is not its family by itself.
    const auto v4 = parse_ipv4_answer(packet);
    if (v4) check(*v4, packet, Family::V4);
    const auto v6 = parse_ipv6_answer(packet);
    if (v6) check(*v6, packet, Family::V6);
    if (v4 && v6) fail();  // one packet cannot be both

    // The dispatcher by version nibble agrees with the parser it picks.
    const auto any = parse_ip_answer(packet);
    if (any.has_value() != (v4 || v6)) fail();
    if (any && (any->target != (v4 ? v4->target : v6->target) || any->our_port != (v4 ? v4->our_port : v6->our_port)))
        fail();
    return 0;
}
