// Host discovery by ICMP echo (ping), nmap -PE: an echo reply means up. IPv4 sends
// ICMP echo, IPv6 ICMPv6 echo.
#include <scanfw/plugin_api.hpp>
#include <scanfw/wire.hpp>

namespace {
using namespace scanfw;

class IcmpEcho final : public Technique {
public:
    Description describe() const override {
        return {.name = "icmp-echo",
                .description = "Host discovery by ICMP/ICMPv6 echo request, like nmap -PE",
                .version = "1.0",
                .kind = Kind::Host,
                .protocol = Protocol::Icmp};
    }
    std::size_t probe(const ProbeContext& ctx, std::span<std::uint8_t> out) const override {
        return wire::Icmp::query(ctx, ctx.ipv6 ? wire::icmp_type::V6Echo : wire::icmp_type::Echo).write(out);
    }
    Verdict classify(const Reply& r) const override {
        switch (r.kind) {
            case Reply::Kind::Icmp: return {State::Up, "echo-reply"};
            case Reply::Kind::IcmpError: return {State::Down, unreach_reason(r.unreach)};
            case Reply::Kind::Silence: return {State::Down, "no-response"};
            default: return {};
        }
    }
};
}  // namespace

SCANFW_PLUGIN(IcmpEcho)
