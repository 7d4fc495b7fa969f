// Finding and loading technique plugins (Boost.DLL).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "scanfw/plugin_api.hpp"

namespace boost::dll { class shared_library; }

namespace scanfw {

// A plugin could not be found or loaded; the message names the file and the reason.
struct PluginError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A plugin's code failed while scanning (an exception escaped it).
struct PluginFailure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// One loaded plugin. Calls into the plugin go through probe()/classify(), which
// turn an exception escaping the plugin into a PluginFailure naming it.
class Plugin {
public:
    Plugin(std::filesystem::path file, std::shared_ptr<boost::dll::shared_library> lib, const Technique* t);
    const Description& info() const { return info_; }
    const std::string& name() const { return name_; }
    const std::filesystem::path& file() const { return file_; }
    std::uint32_t api_version() const { return kPluginApiVersion; }
    Probe probe(std::uint16_t port) const;
    Verdict classify(const Reply& reply) const;

private:
    std::filesystem::path file_;
    std::shared_ptr<boost::dll::shared_library> lib_;  // keeps the code mapped
    const Technique* technique_;
    Description info_;
    std::string name_;
};

// Loads one file. Throws PluginError: not loadable, not a scanfw plugin (missing
// symbol), built for another API version, or a name that does not match the file.
std::shared_ptr<const Plugin> load_plugin_file(const std::filesystem::path& file);

bool valid_plugin_name(std::string_view name);  // [a-z0-9_-]+

class PluginRegistry {
public:
    // Searched in order: extra_dirs (--plugin-dir), $SCANFW_PLUGIN_PATH (colon-separated),
    // then <dir of the running binary>/../lib/scanfw/plugins.
    static std::vector<std::filesystem::path> search_path(const std::vector<std::string>& extra_dirs);

    explicit PluginRegistry(std::vector<std::filesystem::path> dirs) : dirs_(std::move(dirs)) {}

    // By name only, from the search path: the first directory that has <name>.so.
    std::shared_ptr<const Plugin> load(std::string_view name);

    // Every <name>.so in the search path (first one of a name wins). A file that fails
    // to load is reported in `errors` and skipped.
    std::vector<std::shared_ptr<const Plugin>> load_all(std::vector<std::string>& errors);

    const std::vector<std::filesystem::path>& dirs() const { return dirs_; }

private:
    std::vector<std::filesystem::path> dirs_;
    std::map<std::string, std::shared_ptr<const Plugin>, std::less<>> loaded_;
};

}  // namespace scanfw
