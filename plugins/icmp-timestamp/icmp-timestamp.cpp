// Host discovery by ICMP timestamp request, nmap -PP (IPv4 only: ICMPv6 has none). Hosts
// that drop echo requests sometimes answer these.
#include <scanfw/plugin_api.hpp>
#include <scanfw/wire.hpp>

namespace {
using namespace scanfw;

// The body of the request: 20 bytes, zero.
constexpr std::uint8_t kBody[20] = {};

class IcmpTimestamp final : public Technique {
public:
    Description describe() const override {
        return {.name = "icmp-timestamp",
                .description = "Host discovery by ICMP timestamp request, like nmap -PP",
                .version = "1.0",
                .kind = Kind::Host,
                .protocol = Protocol::Icmp,
                .ipv6 = false};
    }
    std::size_t probe(const ProbeContext& ctx, std::span<std::uint8_t> out) const override {
        return wire::Icmp::query(ctx, wire::icmp_type::Timestamp, kBody).write(out);
    }
    Verdict classify(const Reply& r) const override {
        switch (r.kind) {
            case Reply::Kind::Icmp:
                if (r.icmp_type == wire::icmp_type::TimestampReply) return {State::Up, "timestamp-reply"};
                return {};
            case Reply::Kind::IcmpError: return {State::Down, unreach_reason(r.unreach)};
            case Reply::Kind::Silence: return {State::Down, "no-response"};
            default: return {};
        }
    }
};
}  // namespace

SCANFW_PLUGIN(IcmpTimestamp)
