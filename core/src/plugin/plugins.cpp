#include "plugin/plugins.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <set>

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <fmt/format.h>

#include "system/privileges.hpp"

namespace fs = std::filesystem;

namespace scanfw {

namespace {

constexpr const char* kVersionSymbol = "scanfw_plugin_api_version";
constexpr const char* kFactorySymbol = "scanfw_plugin";

// When privileged, code that another user could have written must not be loaded.
void check_ownership(const fs::path& p) {
    if (!running_privileged()) return;
    struct stat st {};
    if (stat(p.c_str(), &st) != 0) return;  // the load itself will report it
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        throw PluginError(fmt::format("{}: refused: writable by group or others (mode {:o}) while running privileged",
                                      p.string(), st.st_mode & 07777));
    if (st.st_uid != 0 && st.st_uid != getuid())
        throw PluginError(fmt::format("{}: refused: owned by uid {}, neither root nor you, while running privileged",
                                      p.string(), st.st_uid));
}

}  // namespace

bool valid_plugin_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
}

Plugin::Plugin(fs::path file, std::shared_ptr<boost::dll::shared_library> lib, const Technique* t)
    : file_(std::move(file)), lib_(std::move(lib)), technique_(t), info_(t->describe()), name_(info_.name) {}

Probe Plugin::probe(std::uint16_t port) const {
    try {
        return technique_->probe(port);
    } catch (const std::exception& e) {
        throw PluginFailure(fmt::format("plugin '{}' ({}) failed in probe(): {}", name_, file_.string(), e.what()));
    } catch (...) {
        throw PluginFailure(fmt::format("plugin '{}' ({}) failed in probe(): unknown exception", name_, file_.string()));
    }
}

Verdict Plugin::classify(const Reply& reply) const {
    try {
        return technique_->classify(reply);
    } catch (const std::exception& e) {
        throw PluginFailure(fmt::format("plugin '{}' ({}) failed in classify(): {}", name_, file_.string(), e.what()));
    } catch (...) {
        throw PluginFailure(fmt::format("plugin '{}' ({}) failed in classify(): unknown exception", name_, file_.string()));
    }
}

std::shared_ptr<const Plugin> load_plugin_file(const fs::path& file) {
    check_ownership(file.parent_path());
    check_ownership(file);
    auto lib = std::make_shared<boost::dll::shared_library>();
    boost::system::error_code ec;
    lib->load(file.string(), boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
    if (ec) throw PluginError(fmt::format("{}: cannot load: {}", file.string(), ec.message()));
    if (!lib->has(kVersionSymbol) || !lib->has(kFactorySymbol))
        throw PluginError(fmt::format("{}: not a scanfw plugin: no '{}' symbol", file.string(),
                                      lib->has(kVersionSymbol) ? kFactorySymbol : kVersionSymbol));
    const auto version = lib->get<const std::uint32_t>(kVersionSymbol);
    if (version != kPluginApiVersion)
        throw PluginError(fmt::format("{}: built for plugin API version {}, this scanfw has version {}", file.string(),
                                      version, kPluginApiVersion));
    const Technique* technique = nullptr;
    try {
        technique = lib->get<const Technique*()>(kFactorySymbol)();
    } catch (const std::exception& e) {
        throw PluginError(fmt::format("{}: plugin failed to start: {}", file.string(), e.what()));
    }
    if (technique == nullptr) throw PluginError(fmt::format("{}: plugin returned no technique", file.string()));
    auto plugin = std::make_shared<const Plugin>(file, std::move(lib), technique);
    if (!valid_plugin_name(plugin->name()))
        throw PluginError(fmt::format("{}: plugin calls itself '{}', which is not a valid name ([a-z0-9_-]+)", file.string(),
                                      plugin->name()));
    if (plugin->name() != file.stem().string())
        throw PluginError(fmt::format("{}: plugin calls itself '{}' but its file is named '{}'", file.string(), plugin->name(),
                                      file.filename().string()));
    return plugin;
}

std::vector<fs::path> PluginRegistry::search_path(const std::vector<std::string>& extra_dirs) {
    std::vector<fs::path> dirs(extra_dirs.begin(), extra_dirs.end());
    if (const char* env = std::getenv("SCANFW_PLUGIN_PATH")) {
        std::string_view rest = env;
        while (!rest.empty()) {
            const auto colon = rest.find(':');
            const auto part = rest.substr(0, colon);
            if (!part.empty()) dirs.emplace_back(part);
            rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
        }
    }
    const fs::path exe_dir = boost::dll::program_location().parent_path().string();
    dirs.push_back((exe_dir / ".." / SCANFW_PLUGIN_SUBDIR).lexically_normal());
    return dirs;
}

std::shared_ptr<const Plugin> PluginRegistry::load(std::string_view name) {
    if (!valid_plugin_name(name))
        throw PluginError(fmt::format("invalid plugin name '{}': a name is [a-z0-9_-]+, not a path", name));
    if (auto it = loaded_.find(name); it != loaded_.end()) return it->second;
    for (const auto& dir : dirs_) {
        const fs::path file = dir / (std::string(name) + ".so");
        std::error_code ec;
        if (!fs::exists(file, ec)) continue;
        auto plugin = load_plugin_file(file);
        loaded_.emplace(std::string(name), plugin);
        return plugin;
    }
    std::string searched;
    for (const auto& dir : dirs_) searched += (searched.empty() ? "" : ", ") + dir.string();
    throw PluginError(fmt::format("unknown plugin '{}': no {}.so in {} (see --list-plugins)", name, name, searched));
}

std::vector<std::shared_ptr<const Plugin>> PluginRegistry::load_all(std::vector<std::string>& errors) {
    std::set<std::string> seen;
    std::vector<std::shared_ptr<const Plugin>> out;
    for (const auto& dir : dirs_) {
        std::error_code ec;
        if (!fs::is_directory(dir, ec)) continue;
        std::vector<fs::path> files;
        for (const auto& entry : fs::directory_iterator(dir, ec))
            if (entry.path().extension() == ".so") files.push_back(entry.path());
        std::sort(files.begin(), files.end());
        for (const auto& file : files) {
            const std::string name = file.stem().string();
            if (!seen.insert(name).second) continue;
            try {
                out.push_back(valid_plugin_name(name) ? load(name) : load_plugin_file(file));
            } catch (const PluginError& e) {
                errors.emplace_back(e.what());
            }
        }
    }
    return out;
}

}  // namespace scanfw
