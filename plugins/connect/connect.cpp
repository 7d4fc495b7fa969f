// Connect scan, nmap -sT: the operating system's own connect(). Needs no privileges.
#include <cerrno>

#include <scanfw/plugin_api.hpp>

namespace {
using namespace scanfw;

class Connect final : public Technique {
public:
    Description describe() const override {
        return {.name = "connect",
                .description = "TCP connect() scan, no privileges needed, like nmap -sT",
                .version = "2.0",
                .carrier = Carrier::Connect};
    }
    Verdict classify(const Reply& r) const override {
        using K = Reply::Kind;
        if (r.kind == K::Silence) return {State::Filtered, "no-response"};
        if (r.kind != K::Connect) return {};
        switch (r.connect_errno) {
            case 0: return {State::Open, "syn-ack"};
            case ECONNREFUSED: return {State::Closed, "conn-refused"};
            case EHOSTUNREACH: return {State::Filtered, "host-unreach"};
            case ENETUNREACH: return {State::Filtered, "net-unreach"};
            case EACCES:
            case EPERM: return {State::Filtered, "admin-prohibited"};
            case ETIMEDOUT: return {State::Filtered, "no-response"};
            default: return {};  // e.g. EADDRNOTAVAIL: a local problem, try again
        }
    }
};
}  // namespace

SCANFW_PLUGIN(Connect)
