// fuzz_profile: YAML text -> parse_profile, the loader behind --profile. The only
// exception allowed out is InputError (any other one reaches libFuzzer and counts as
// a crash); what it accepts must satisfy the promises the rest of scanfw relies on.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cli/config.hpp"
#include "plugin/plugins.hpp"
#include "targets/ports.hpp"

namespace {
[[noreturn]] void fail() { std::abort(); }
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    static const std::string kName = "fuzz.yaml";
    scanfw::ScanConfig cfg;
    try {
        cfg = scanfw::parse_profile(text, kName);
    } catch (const scanfw::InputError& e) {
        // Every message names the profile.
        if (std::string_view(e.what()).substr(0, kName.size()) != kName) fail();
        return 0;
    }
    for (const auto& request : cfg.plugins) {
        if (!scanfw::valid_plugin_name(request.name)) fail();  // a profile can never name a path
    }
    if (cfg.discovery)
        for (const auto& request : *cfg.discovery)
            if (!scanfw::valid_plugin_name(request.name)) fail();
    if (cfg.version_intensity && (*cfg.version_intensity < 0 || *cfg.version_intensity > 9)) fail();
    if (cfg.service_db && cfg.service_db->empty()) fail();
    if (cfg.ports) {
        try {
            (void)scanfw::parse_ports(*cfg.ports);  // checked by the loader already
        } catch (const scanfw::InputError&) {
            fail();
        }
    }
    for (const auto& target : cfg.targets) {
        if (target.empty()) fail();
    }
    if (cfg.timeout && cfg.timeout->count() <= 0) fail();
    if (cfg.retries && (*cfg.retries < 0 || *cfg.retries > 20)) fail();
    if (cfg.rate && *cfg.rate == 0) fail();
    if (cfg.outputs.json && cfg.outputs.json->empty()) fail();
    return 0;
}
