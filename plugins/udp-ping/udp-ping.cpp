// Host discovery by UDP, nmap -PU[ports]: a closed port answers with ICMP port
// unreachable, an open one with data; either means up. Ports: `ports` (default 40125,
// unlikely to be open).
#include <scanfw/plugin_api.hpp>
#include <scanfw/wire.hpp>

namespace {
using namespace scanfw;

class UdpPing final : public Technique {
public:
    static constexpr OptionSpec kOptions[] = {{"ports", OptionType::Ports, "40125", "UDP ports to send to"}};
    explicit UdpPing(const Options& o) : ports_(o.ports("ports")) {}
    Description describe() const override {
        return {.name = "udp-ping", .description = "Host discovery by UDP, like nmap -PU", .version = "1.0",
                .kind = Kind::Host, .protocol = Protocol::Udp};
    }
    std::vector<std::uint16_t> probe_ports() const override { return ports_; }
    std::size_t probe(const ProbeContext& ctx, std::span<std::uint8_t> out) const override {
        return wire::Udp::probe(ctx).write(out);
    }
    Verdict classify(const Reply& r) const override {
        switch (r.kind) {
            case Reply::Kind::Udp: return {State::Up, "udp-response"};
            case Reply::Kind::IcmpError:
                if (r.unreach == Unreach::Port) return {State::Up, "port-unreach"};
                return {State::Down, unreach_reason(r.unreach)};
            case Reply::Kind::Silence: return {State::Down, "no-response"};
            default: return {};
        }
    }

private:
    std::vector<std::uint16_t> ports_;
};
}  // namespace

SCANFW_PLUGIN(UdpPing)
