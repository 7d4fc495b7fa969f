// TCP Xmas scan (FIN, PSH and URG): a closed port answers RST, an open one stays silent.
#include <scanfw/plugin_api.hpp>
#include <scanfw/wire.hpp>

namespace {
using namespace scanfw;

class Xmas final : public Technique {
public:
    Description describe() const override {
        return {.name = "xmas", .description = "TCP Xmas scan: FIN, PSH and URG; RST closed, silence open|filtered (nmap -sX)", .version = "2.0"};
    }
    std::size_t probe(const ProbeContext& ctx, std::span<std::uint8_t> out) const override {
        return wire::Tcp::probe(ctx, std::uint8_t(tcp_flag::FIN | tcp_flag::PSH | tcp_flag::URG)).write(out);
    }
    Verdict classify(const Reply& r) const override { return rfc793_verdict(r); }
};
}  // namespace

SCANFW_PLUGIN(Xmas)
