// SYN ("half-open") scan, nmap -sS: send SYN; SYN/ACK means open, RST closed.
#include <scanfw/plugin_api.hpp>
#include <scanfw/wire.hpp>

namespace {
using namespace scanfw;

// MSS 1460, as a real SYN carries.
constexpr std::uint8_t kMss[] = {2, 4, 0x05, 0xb4};

class Syn final : public Technique {
public:
    Description describe() const override {
        return {.name = "syn", .description = "TCP SYN (half-open) scan, like nmap -sS", .version = "2.0"};
    }
    std::size_t probe(const ProbeContext& ctx, std::span<std::uint8_t> out) const override {
        return wire::Tcp::probe(ctx, tcp_flag::SYN, kMss).write(out);
    }
    Verdict classify(const Reply& r) const override {
        using K = Reply::Kind;
        switch (r.kind) {
            case K::Tcp:
                if (r.tcp_flags & tcp_flag::RST) return {State::Closed, "reset"};
                if ((r.tcp_flags & tcp_flag::SYN) && (r.tcp_flags & tcp_flag::ACK)) return {State::Open, "syn-ack"};
                if (r.tcp_flags & tcp_flag::SYN) return {State::Open, "split-handshake-syn"};
                return {};
            case K::IcmpError: return tcp_unreach_verdict(r);
            case K::Silence: return {State::Filtered, "no-response"};
            default: return {};
        }
    }
};
}  // namespace

SCANFW_PLUGIN(Syn)
