// Host discovery by ARP on a local Ethernet segment, nmap -PR: a host that answers
// "who has" for its address is up, whatever its firewall does. IPv4 only; for IPv6
// see nd.
#include <scanfw/plugin_api.hpp>
#include <scanfw/wire.hpp>

namespace {
using namespace scanfw;

class Arp final : public Technique {
public:
    Description describe() const override {
        return {.name = "arp",
                .description = "Host discovery by ARP on the local segment, like nmap -PR",
                .version = "1.0",
                .kind = Kind::Host,
                .protocol = Protocol::Link,
                .ipv6 = false};
    }
    std::size_t probe(const ProbeContext& ctx, std::span<std::uint8_t> out) const override {
        return wire::Arp::request(ctx).write(out);
    }
    Verdict classify(const Reply& r) const override {
        if (r.kind == Reply::Kind::Link) return {State::Up, "arp-response"};
        if (r.kind == Reply::Kind::Silence) return {State::Down, "no-response"};
        return {};
    }
};
}  // namespace

SCANFW_PLUGIN(Arp)
