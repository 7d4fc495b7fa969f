#include "plugin/listing.hpp"

#include <string>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/result.hpp"

namespace scanfw {

bool list_plugins(PluginRegistry& registry) {
    const auto entries = registry.load_all();
    fmt::print("{:<16} {:<4} {:<5} {:<7} {:<3} {}\n", "NAME", "KIND", "PROTO", "CARRIER", "API", "DESCRIPTION");
    bool any = false, errors = false;
    for (const auto& e : entries) {
        if (!e.plugin) {
            spdlog::error("{}", e.error);
            fmt::print("{:<16} not loaded: {}\n", e.file.stem().string(), e.error);
            errors = true;
            continue;
        }
        any = true;
        const auto& d = e.plugin->info();
        fmt::print("{:<16} {:<4} {:<5} {:<7} {:<3} {}\n", d.name, kind_name(d.kind), protocol_name(d.protocol),
                   d.carrier == Carrier::Connect ? "connect" : "packet", e.plugin->api_version(), d.description);
        fmt::print("{:<16} file {}{}\n", "", e.file.string(), e.shadowed ? " (shadowed by an earlier folder)" : "");
        for (const auto& o : e.plugin->options())
            fmt::print("{:<16} option {} ({}, default '{}'): {}\n", "", o.name, option_type_name(o.type),
                       o.default_value, o.help);
    }
    if (!any) {
        std::string dirs;
        for (const auto& d : registry.dirs()) dirs += " " + d.string();
        spdlog::error("no plugins found in:{}", dirs);
        return false;
    }
    return !errors;
}

}  // namespace scanfw
