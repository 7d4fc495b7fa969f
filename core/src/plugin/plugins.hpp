// Finding, loading and configuring technique plugins (Boost.DLL).
//
// Plugins are loaded only after scanfw has given up its privileges (main.cpp opens
// every privileged resource first), so no plugin code, constructors included, runs
// with more than the invoking user has.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "scanfw/plugin_api.hpp"

namespace boost::dll { class shared_library; }

namespace scanfw {

// A plugin could not be found, loaded or configured; the message names the file or
// the plugin and option.
struct PluginError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A plugin's code failed while scanning (an exception escaped it).
struct PluginFailure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// "scanflags.flags=FINACK" from --plugin-arg, or `options: {flags: FINACK}` in a profile.
struct OptionSetting {
    std::string name, value;
    std::string where;  // for messages: "--plugin-arg" or "profile.yaml:3:27"
    bool operator==(const OptionSetting&) const = default;
};

class TechniqueInstance;

// One loaded plugin file, described by an instance made with its default options.
class Plugin : public std::enable_shared_from_this<Plugin> {
public:
    using Create = Technique* (*)(const Options&);
    Plugin(std::filesystem::path file, std::shared_ptr<boost::dll::shared_library> lib, Create create,
           std::span<const OptionSpec> options);
    const Description& info() const { return info_; }
    std::span<const OptionSpec> options() const { return specs_; }
    const std::string& name() const { return name_; }
    const std::filesystem::path& file() const { return file_; }
    std::uint32_t api_version() const { return kPluginApiVersion; }

    // An instance with these settings over the defaults. Throws PluginError naming the
    // plugin, the option and where it was set: an option it does not declare, a value
    // of the wrong type, or one the technique refuses (OptionError).
    std::shared_ptr<const TechniqueInstance> configure(const std::vector<OptionSetting>& settings = {}) const;

private:
    Options options_for(const std::vector<OptionSetting>& settings) const;
    std::filesystem::path file_;
    std::shared_ptr<boost::dll::shared_library> lib_;  // keeps the code mapped
    Create create_;
    std::span<const OptionSpec> specs_;  // in the plugin's library
    Description info_;
    std::string name_;
};

// A configured technique as the core calls it: an exception escaping the plugin
// becomes a PluginFailure naming it. Keeps its plugin's library loaded.
class TechniqueInstance {
public:
    TechniqueInstance(std::shared_ptr<const Plugin> plugin, std::unique_ptr<const Technique> technique, Options options);
    ~TechniqueInstance();
    const Description& info() const { return plugin_->info(); }
    const std::string& name() const { return plugin_->name(); }
    const Plugin& plugin() const { return *plugin_; }
    const Options& options() const { return options_; }

    std::vector<std::uint16_t> probe_ports() const;
    std::size_t probe(const ProbeContext& ctx, std::span<std::uint8_t> out) const;
    Verdict classify(const Reply& reply) const;

private:
    [[noreturn]] void failed(const char* where) const;
    std::shared_ptr<const Plugin> plugin_;
    std::unique_ptr<const Technique> technique_;
    Options options_;
};

// Loads one file. Throws PluginError: not a shared object, not a scanfw plugin (no
// symbols), built for another API version, or a name that does not match the file.
std::shared_ptr<const Plugin> load_plugin_file(const std::filesystem::path& file);

bool valid_plugin_name(std::string_view name);  // [a-z0-9_-]+

class PluginRegistry {
public:
    // Searched in order: extra_dirs (--plugin-dir: each must exist), $SCANFW_PLUGIN_PATH
    // (colon-separated), then <dir of the running binary>/../lib/scanfw/plugins. Throws
    // InputError for a --plugin-dir that is not a folder.
    static std::vector<std::filesystem::path> search_path(const std::vector<std::string>& extra_dirs,
                                                          bool use_environment = true);

    explicit PluginRegistry(std::vector<std::filesystem::path> dirs) : dirs_(std::move(dirs)) {}

    // By name only, from the search path: the first directory that has <name>.so.
    std::shared_ptr<const Plugin> load(std::string_view name);

    // Every <name>.so in the search path, in search order: each loaded plugin, or the
    // error that kept it from loading. A later file of a name already found is listed
    // too, marked as shadowed.
    struct Entry {
        std::filesystem::path file;
        std::shared_ptr<const Plugin> plugin;  // null when it failed
        std::string error;
        bool shadowed = false;  // an earlier folder has a file of this name
    };
    std::vector<Entry> load_all();

    const std::vector<std::filesystem::path>& dirs() const { return dirs_; }

private:
    std::vector<std::filesystem::path> dirs_;
    std::map<std::string, std::shared_ptr<const Plugin>, std::less<>> loaded_;
};

// Names for messages and listings.
std::string_view kind_name(Kind k);          // "port", "host"
std::string_view option_type_name(OptionType t);  // "flag", "number", "text", "ports"

}  // namespace scanfw
