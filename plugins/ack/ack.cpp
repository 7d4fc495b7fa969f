// ACK scan, nmap -sA: maps firewall rules. Any RST means the probe got through.
#include <scanfw/plugin_api.hpp>
#include <scanfw/wire.hpp>

namespace {
using namespace scanfw;

class Ack final : public Technique {
public:
    Description describe() const override {
        return {.name = "ack", .description = "TCP ACK scan: filtered or unfiltered, like nmap -sA", .version = "2.0"};
    }
    std::size_t probe(const ProbeContext& ctx, std::span<std::uint8_t> out) const override {
        return wire::Tcp::probe(ctx, tcp_flag::ACK).write(out);
    }
    Verdict classify(const Reply& r) const override {
        using K = Reply::Kind;
        switch (r.kind) {
            case K::Tcp:
                if (r.tcp_flags & tcp_flag::RST) return {State::Unfiltered, "reset"};
                return {};
            case K::IcmpError: return tcp_unreach_verdict(r);
            case K::Silence: return {State::Filtered, "no-response"};
            default: return {};
        }
    }
};
}  // namespace

SCANFW_PLUGIN(Ack)
