// UDP scan, nmap -sU. A datagram with no payload goes unanswered by most services,
// so ports with a well-known service get a minimal valid request of its protocol.
#include <scanfw/plugin_api.hpp>
#include <scanfw/wire.hpp>

#include "payloads.hpp"

namespace {
using namespace scanfw;

class Udp final : public Technique {
public:
    Description describe() const override {
        return {.name = "udp",
                .description = "UDP scan with protocol payloads for common services, like nmap -sU",
                .version = "2.0",
                .protocol = Protocol::Udp,
                .answered_by_applications = true};
    }
    std::size_t probe(const ProbeContext& ctx, std::span<std::uint8_t> out) const override {
        return wire::Udp::probe(ctx, udp_payload_for(ctx.port)).write(out);
    }
    Verdict classify(const Reply& r) const override {
        using K = Reply::Kind;
        switch (r.kind) {
            case K::Udp: return {State::Open, "udp-response"};
            case K::IcmpError:
                switch (r.unreach) {
                    case Unreach::Port: return {State::Closed, "port-unreach"};
                    case Unreach::Net: case Unreach::Host: case Unreach::Proto:
                    case Unreach::NetProhibited: case Unreach::HostProhibited: case Unreach::AdminProhibited:
                        return {State::Filtered, unreach_reason(r.unreach)};
                    default: return {};
                }
            case K::Silence: return {State::OpenFiltered, "no-response"};
            default: return {};
        }
    }
};
}  // namespace

SCANFW_PLUGIN(Udp)
