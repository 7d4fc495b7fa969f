// TCP FIN scan: a closed port answers RST, an open one stays silent.
#include <scanfw/plugin_api.hpp>
#include <scanfw/wire.hpp>

namespace {
using namespace scanfw;

class Fin final : public Technique {
public:
    Description describe() const override {
        return {.name = "fin", .description = "TCP FIN scan: RST closed, silence open|filtered (nmap -sF)", .version = "2.0"};
    }
    std::size_t probe(const ProbeContext& ctx, std::span<std::uint8_t> out) const override {
        return wire::Tcp::probe(ctx, tcp_flag::FIN).write(out);
    }
    Verdict classify(const Reply& r) const override { return rfc793_verdict(r); }
};
}  // namespace

SCANFW_PLUGIN(Fin)
