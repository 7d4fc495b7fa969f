// Host discovery without privileges: connect() to a few TCP ports (default 80 and 443,
// what nmap does unprivileged). An accepted or a refused connection means up.
#include <cerrno>

#include <scanfw/plugin_api.hpp>

namespace {
using namespace scanfw;

class TcpConnectPing final : public Technique {
public:
    static constexpr OptionSpec kOptions[] = {{"ports", OptionType::Ports, "80,443", "TCP ports to connect to"}};
    explicit TcpConnectPing(const Options& o) : ports_(o.ports("ports")) {}
    Description describe() const override {
        return {.name = "tcp-connect-ping",
                .description = "Host discovery by connect() to TCP ports, no privileges needed",
                .version = "1.0",
                .kind = Kind::Host,
                .carrier = Carrier::Connect};
    }
    std::vector<std::uint16_t> probe_ports() const override { return ports_; }
    Verdict classify(const Reply& r) const override {
        if (r.kind == Reply::Kind::Silence) return {State::Down, "no-response"};
        if (r.kind != Reply::Kind::Connect) return {};
        switch (r.connect_errno) {
            case 0: return {State::Up, "syn-ack"};
            case ECONNREFUSED: return {State::Up, "conn-refused"};
            case EHOSTUNREACH: return {State::Down, "host-unreach"};
            case ENETUNREACH: return {State::Down, "net-unreach"};
            case ETIMEDOUT: return {State::Down, "no-response"};
            default: return {};
        }
    }

private:
    std::vector<std::uint16_t> ports_;
};
}  // namespace

SCANFW_PLUGIN(TcpConnectPing)
