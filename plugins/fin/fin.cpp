// TCP FIN scan (FIN flag only): a closed port answers RST (RFC 793), an open one stays silent.
#include <scanfw/plugin_api.hpp>

namespace {
using namespace scanfw;

class Fin final : public Technique {
public:
    Description describe() const override {
        return {"fin", "TCP FIN scan: FIN flag only; RST closed, silence open|filtered (nmap -sF)", "1.0",
                Protocol::Tcp, Transport::RawTcp};
    }
    Probe probe(std::uint16_t) const override { return {.tcp_flags = tcp_flag::FIN}; }
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

SCANFW_PLUGIN(Fin)
