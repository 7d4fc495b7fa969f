// TCP Maimon scan (FIN/ACK, after Uriel Maimon): RFC 9293 has every port answer it with
// RST, but many BSD stacks drop it at open ports. Linux answers RST everywhere.
#include <scanfw/plugin_api.hpp>
#include <scanfw/wire.hpp>

namespace {
using namespace scanfw;

class Maimon final : public Technique {
public:
    Description describe() const override {
        return {.name = "maimon", .description = "TCP Maimon scan: FIN/ACK; RST closed, silence open|filtered (nmap -sM)", .version = "2.0"};
    }
    std::size_t probe(const ProbeContext& ctx, std::span<std::uint8_t> out) const override {
        return wire::Tcp::probe(ctx, std::uint8_t(tcp_flag::FIN | tcp_flag::ACK)).write(out);
    }
    Verdict classify(const Reply& r) const override { return rfc793_verdict(r); }
};
}  // namespace

SCANFW_PLUGIN(Maimon)
