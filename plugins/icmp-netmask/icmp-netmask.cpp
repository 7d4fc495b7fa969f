// Host discovery by ICMP address mask request, nmap -PM (IPv4 only: ICMPv6 has none). Hosts
// that drop echo requests sometimes answer these.
#include <scanfw/plugin_api.hpp>
#include <scanfw/wire.hpp>

namespace {
using namespace scanfw;

// The body of the request: 4 bytes, zero.
constexpr std::uint8_t kBody[4] = {};

class IcmpNetmask final : public Technique {
public:
    Description describe() const override {
        return {.name = "icmp-netmask",
                .description = "Host discovery by ICMP address mask request, like nmap -PM",
                .version = "1.0",
                .kind = Kind::Host,
                .protocol = Protocol::Icmp,
                .ipv6 = false};
    }
    std::size_t probe(const ProbeContext& ctx, std::span<std::uint8_t> out) const override {
        return wire::Icmp::query(ctx, wire::icmp_type::AddressMask, kBody).write(out);
    }
    Verdict classify(const Reply& r) const override {
        switch (r.kind) {
            case Reply::Kind::Icmp:
                if (r.icmp_type == wire::icmp_type::AddressMaskReply) return {State::Up, "addressmask-reply"};
                return {};
            case Reply::Kind::IcmpError: return {State::Down, unreach_reason(r.unreach)};
            case Reply::Kind::Silence: return {State::Down, "no-response"};
            default: return {};
        }
    }
};
}  // namespace

SCANFW_PLUGIN(IcmpNetmask)
