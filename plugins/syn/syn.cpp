// SYN ("half-open") scan, nmap -sS: send SYN; SYN/ACK means open, RST closed.
#include <scanfw/plugin_api.hpp>

namespace {
using namespace scanfw;

// MSS 1460, as a real SYN carries.
constexpr std::uint8_t kMss[] = {2, 4, 0x05, 0xb4};

class Syn final : public Technique {
public:
    Description describe() const override {
        return {"syn", "TCP SYN (half-open) scan, like nmap -sS", "1.0", Protocol::Tcp, Transport::RawTcp};
    }
    Probe probe(std::uint16_t) const override { return {.tcp_flags = tcp_flag::SYN, .tcp_options = kMss}; }
    Verdict classify(const Reply& r) const override {
        using K = Reply::Kind;
        switch (r.kind) {
            case K::Tcp:
                if (r.tcp_flags & tcp_flag::RST) return {PortState::Closed, "reset"};
                if ((r.tcp_flags & tcp_flag::SYN) && (r.tcp_flags & tcp_flag::ACK)) return {PortState::Open, "syn-ack"};
                if (r.tcp_flags & tcp_flag::SYN) return {PortState::Open, "split-handshake-syn"};
                return {};
            case K::IcmpUnreach: return tcp_unreach_verdict(r);
            case K::Silence: return {PortState::Filtered, "no-response"};
            default: return {};
        }
    }
};
}  // namespace

SCANFW_PLUGIN(Syn)
