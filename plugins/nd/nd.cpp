// Host discovery by IPv6 neighbour discovery on a local Ethernet segment (nmap -PR for
// IPv6 targets): a neighbour solicitation (RFC 4861 4.3) for the target's address; a
// neighbour advertisement means up.
#include <cstring>

#include <scanfw/plugin_api.hpp>
#include <scanfw/wire.hpp>

namespace {
using namespace scanfw;

class Nd final : public Technique {
public:
    Description describe() const override {
        return {.name = "nd",
                .description = "Host discovery by IPv6 neighbour discovery on the local segment (nmap -PR)",
                .version = "1.0",
                .kind = Kind::Host,
                .protocol = Protocol::Link,
                .ipv4 = false};
    }
    // Type 135, the target's address, and our link-layer address as an option.
    std::size_t probe(const ProbeContext& ctx, std::span<std::uint8_t> out) const override {
        if (out.size() < 32 || ctx.dst.size() != 16 || ctx.src_mac.size() != 6) return 0;
        std::fill(out.begin(), out.begin() + 32, 0);
        out[0] = wire::icmp_type::NeighborSolicit;
        std::memcpy(out.data() + 8, ctx.dst.data(), 16);
        out[24] = 1;  // source link-layer address
        out[25] = 1;  // 8 bytes
        std::memcpy(out.data() + 26, ctx.src_mac.data(), 6);
        return 32;
    }
    Verdict classify(const Reply& r) const override {
        if (r.kind == Reply::Kind::Link) return {State::Up, "nd-response"};
        if (r.kind == Reply::Kind::Silence) return {State::Down, "no-response"};
        return {};
    }
};
}  // namespace

SCANFW_PLUGIN(Nd)
