// TCP NULL scan (no flags set): a closed port answers RST, an open one stays silent.
#include <scanfw/plugin_api.hpp>
#include <scanfw/wire.hpp>

namespace {
using namespace scanfw;

class Null final : public Technique {
public:
    Description describe() const override {
        return {.name = "null", .description = "TCP NULL scan: no flags set; RST closed, silence open|filtered (nmap -sN)", .version = "2.0"};
    }
    std::size_t probe(const ProbeContext& ctx, std::span<std::uint8_t> out) const override {
        return wire::Tcp::probe(ctx, 0).write(out);
    }
    Verdict classify(const Reply& r) const override { return rfc793_verdict(r); }
};
}  // namespace

SCANFW_PLUGIN(Null)
