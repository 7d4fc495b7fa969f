// Window scan, nmap -sW: an ACK scan that reads the RST's window. Some stacks answer
// open ports with a non-zero window; Linux always answers 0, so Linux ports read closed.
#include <scanfw/plugin_api.hpp>
#include <scanfw/wire.hpp>

namespace {
using namespace scanfw;

class Window final : public Technique {
public:
    Description describe() const override {
        return {.name = "window",
                .description = "TCP Window scan: ACK probe, RST window > 0 means open, like nmap -sW",
                .version = "2.0"};
    }
    std::size_t probe(const ProbeContext& ctx, std::span<std::uint8_t> out) const override {
        return wire::Tcp::probe(ctx, tcp_flag::ACK).write(out);
    }
    Verdict classify(const Reply& r) const override {
        using K = Reply::Kind;
        switch (r.kind) {
            case K::Tcp:
                if (r.tcp_flags & tcp_flag::RST) return {r.tcp_window > 0 ? State::Open : State::Closed, "reset"};
                return {};
            case K::IcmpError: return tcp_unreach_verdict(r);
            case K::Silence: return {State::Filtered, "no-response"};
            default: return {};
        }
    }
};
}  // namespace

SCANFW_PLUGIN(Window)
