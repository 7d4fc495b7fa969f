// UDP scan, nmap -sU. A datagram with no payload goes unanswered by most services,
// so ports with a well-known service get a minimal valid request of its protocol.
#include <cstdint>
#include <span>

#include <scanfw/plugin_api.hpp>

#include "payloads.hpp"

namespace {
using namespace scanfw;

class Udp final : public Technique {
public:
    Description describe() const override {
        return {"udp", "UDP scan with protocol payloads for common services, like nmap -sU", "1.0",
                Protocol::Udp, Transport::RawUdp};
    }
    Probe probe(std::uint16_t port) const override { return {.payload = udp_payload_for(port)}; }
    Verdict classify(const Reply& r) const override {
        using K = Reply::Kind;
        switch (r.kind) {
            case K::Udp: return {PortState::Open, "udp-response"};
            case K::IcmpUnreach:
                switch (r.unreach) {
                    case Unreach::Port: return {PortState::Closed, "port-unreach"};
                    case Unreach::Net: case Unreach::Host: case Unreach::Proto:
                    case Unreach::NetProhibited: case Unreach::HostProhibited: case Unreach::AdminProhibited:
                        return {PortState::Filtered, unreach_reason(r.unreach)};
                    default: return {};
                }
            case K::Silence: return {PortState::OpenFiltered, "no-response"};
            default: return {};
        }
    }
};
}  // namespace

SCANFW_PLUGIN(Udp)
