// Host discovery by TCP ACK, nmap -PA[ports]: a host answers an ACK it did not expect
// with RST, open port or not, so a reset means up. Ports: `ports` (default 80).
#include <scanfw/plugin_api.hpp>
#include <scanfw/wire.hpp>

namespace {
using namespace scanfw;

class TcpAckPing final : public Technique {
public:
    static constexpr OptionSpec kOptions[] = {{"ports", OptionType::Ports, "80", "TCP ports to send the ACK to"}};
    explicit TcpAckPing(const Options& o) : ports_(o.ports("ports")) {}
    Description describe() const override {
        return {.name = "tcp-ack-ping", .description = "Host discovery by TCP ACK, like nmap -PA", .version = "1.0",
                .kind = Kind::Host};
    }
    std::vector<std::uint16_t> probe_ports() const override { return ports_; }
    std::size_t probe(const ProbeContext& ctx, std::span<std::uint8_t> out) const override {
        return wire::Tcp::probe(ctx, tcp_flag::ACK).write(out);
    }
    Verdict classify(const Reply& r) const override {
        switch (r.kind) {
            case Reply::Kind::Tcp:
                if (r.tcp_flags & tcp_flag::RST) return {State::Up, "reset"};
                return {};
            case Reply::Kind::IcmpError: return {State::Down, unreach_reason(r.unreach)};
            case Reply::Kind::Silence: return {State::Down, "no-response"};
            default: return {};
        }
    }

private:
    std::vector<std::uint16_t> ports_;
};
}  // namespace

SCANFW_PLUGIN(TcpAckPing)
