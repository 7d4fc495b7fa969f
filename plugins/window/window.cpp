// Window scan, nmap -sW: an ACK scan that reads the RST's window. Some stacks answer
// open ports with a non-zero window; Linux always answers 0, so Linux ports read closed.
#include <scanfw/plugin_api.hpp>

namespace {
using namespace scanfw;

class Window final : public Technique {
public:
    Description describe() const override {
        return {"window", "TCP Window scan: ACK probe, RST window > 0 means open, like nmap -sW", "1.0",
                Protocol::Tcp, Transport::RawTcp};
    }
    Probe probe(std::uint16_t) const override { return {.tcp_flags = tcp_flag::ACK}; }
    Verdict classify(const Reply& r) const override {
        using K = Reply::Kind;
        switch (r.kind) {
            case K::Tcp:
                if (r.tcp_flags & tcp_flag::RST)
                    return {r.tcp_window > 0 ? PortState::Open : PortState::Closed, "reset"};
                return {};
            case K::IcmpUnreach: return tcp_unreach_verdict(r);
            case K::Silence: return {PortState::Filtered, "no-response"};
            default: return {};
        }
    }
};
}  // namespace

SCANFW_PLUGIN(Window)
