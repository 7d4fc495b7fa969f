// Host discovery by TCP SYN, nmap -PS[ports]: any TCP answer (SYN/ACK or RST) means
// the host is up. Ports: its `ports` option (default 80).
#include <scanfw/plugin_api.hpp>
#include <scanfw/wire.hpp>

namespace {
using namespace scanfw;

constexpr std::uint8_t kMss[] = {2, 4, 0x05, 0xb4};

class TcpSynPing final : public Technique {
public:
    static constexpr OptionSpec kOptions[] = {{"ports", OptionType::Ports, "80", "TCP ports to send the SYN to"}};
    explicit TcpSynPing(const Options& o) : ports_(o.ports("ports")) {}
    Description describe() const override {
        return {.name = "tcp-syn-ping", .description = "Host discovery by TCP SYN, like nmap -PS", .version = "1.0",
                .kind = Kind::Host};
    }
    std::vector<std::uint16_t> probe_ports() const override { return ports_; }
    std::size_t probe(const ProbeContext& ctx, std::span<std::uint8_t> out) const override {
        return wire::Tcp::probe(ctx, tcp_flag::SYN, kMss).write(out);
    }
    Verdict classify(const Reply& r) const override {
        switch (r.kind) {
            case Reply::Kind::Tcp:
                if (r.tcp_flags & tcp_flag::RST) return {State::Up, "reset"};
                if ((r.tcp_flags & (tcp_flag::SYN | tcp_flag::ACK)) == (tcp_flag::SYN | tcp_flag::ACK))
                    return {State::Up, "syn-ack"};
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

SCANFW_PLUGIN(TcpSynPing)
