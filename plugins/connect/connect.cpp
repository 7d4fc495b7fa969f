// Connect scan, nmap -sT: the operating system's own connect(). Needs no privileges.
#include <cerrno>

#include <scanfw/plugin_api.hpp>

namespace {
using namespace scanfw;

class Connect final : public Technique {
public:
    Description describe() const override {
        return {"connect", "TCP connect() scan, no privileges needed, like nmap -sT", "1.0", Protocol::Tcp,
                Transport::Connect};
    }
    Probe probe(std::uint16_t) const override { return {}; }
    Verdict classify(const Reply& r) const override {
        using K = Reply::Kind;
        if (r.kind == K::Silence) return {PortState::Filtered, "no-response"};
        if (r.kind != K::Connect) return {};
        switch (r.connect_errno) {
            case 0: return {PortState::Open, "syn-ack"};
            case ECONNREFUSED: return {PortState::Closed, "conn-refused"};
            case EHOSTUNREACH: return {PortState::Filtered, "host-unreach"};
            case ENETUNREACH: return {PortState::Filtered, "net-unreach"};
            case EACCES:
            case EPERM: return {PortState::Filtered, "admin-prohibited"};
            case ETIMEDOUT: return {PortState::Filtered, "no-response"};
            default: return {};  // e.g. EADDRNOTAVAIL: a local problem, try again
        }
    }
};
}  // namespace

SCANFW_PLUGIN(Connect)
