// ACK scan, nmap -sA: maps firewall rules. Any RST means the probe got through.
#include <scanfw/plugin_api.hpp>

namespace {
using namespace scanfw;

class Ack final : public Technique {
public:
    Description describe() const override {
        return {"ack", "TCP ACK scan: filtered or unfiltered, like nmap -sA", "1.0", Protocol::Tcp, Transport::RawTcp};
    }
    Probe probe(std::uint16_t) const override { return {.tcp_flags = tcp_flag::ACK}; }
    Verdict classify(const Reply& r) const override {
        using K = Reply::Kind;
        switch (r.kind) {
            case K::Tcp:
                if (r.tcp_flags & tcp_flag::RST) return {PortState::Unfiltered, "reset"};
                return {};
            case K::IcmpUnreach: return tcp_unreach_verdict(r);
            case K::Silence: return {PortState::Filtered, "no-response"};
            default: return {};
        }
    }
};
}  // namespace

SCANFW_PLUGIN(Ack)
