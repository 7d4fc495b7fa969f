// TCP Xmas scan (FIN, PSH and URG): a closed port answers RST (RFC 793), an open one stays silent.
#include <scanfw/plugin_api.hpp>

namespace {
using namespace scanfw;

class Xmas final : public Technique {
public:
    Description describe() const override {
        return {"xmas", "TCP Xmas scan: FIN, PSH and URG; RST closed, silence open|filtered (nmap -sX)", "1.0",
                Protocol::Tcp, Transport::RawTcp};
    }
    Probe probe(std::uint16_t) const override { return {.tcp_flags = std::uint8_t(tcp_flag::FIN | tcp_flag::PSH | tcp_flag::URG)}; }
    Verdict classify(const Reply& r) const override {
        using K = Reply::Kind;
        switch (r.kind) {
            case K::Tcp:
                if (r.tcp_flags & tcp_flag::RST) return {PortState::Closed, "reset"};
                return {};
            case K::IcmpUnreach: return tcp_unreach_verdict(r);
            case K::Silence: return {PortState::OpenFiltered, "no-response"};
            default: return {};
        }
    }
};
}  // namespace

SCANFW_PLUGIN(Xmas)
