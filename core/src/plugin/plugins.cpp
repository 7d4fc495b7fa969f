#include "plugin/plugins.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <set>

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <fmt/format.h>

#include "common/errors.hpp"
#include "system/privileges.hpp"
#include "targets/ports.hpp"

namespace fs = std::filesystem;

namespace scanfw {

namespace {

constexpr const char* kVersionSymbol = "scanfw_plugin_api_version";
constexpr const char* kCreateSymbol = "scanfw_plugin_create";
constexpr const char* kOptionsSymbol = "scanfw_plugin_options";

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

// dlopen() says "Bad file descriptor" or "invalid ELF header" for files that are no
// shared object at all; say so plainly before trying.
void check_shared_object(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return;  // the load reports it
    unsigned char header[18] = {};
    in.read(reinterpret_cast<char*>(header), sizeof header);
    const bool elf = in.gcount() == sizeof header && header[0] == 0x7f && header[1] == 'E' && header[2] == 'L' &&
                     header[3] == 'F';
    if (!elf) throw PluginError(fmt::format("{}: not a shared object (no ELF header): a plugin is a .so built with "
                                            "scanfw_add_plugin()", file.string()));
    const unsigned type = header[5] == 2 ? unsigned(header[16]) << 8 | header[17] : unsigned(header[17]) << 8 | header[16];
    if (type != 3 /* ET_DYN */)
        throw PluginError(fmt::format("{}: not a shared object (an ELF file of type {}): a plugin is a .so built with "
                                      "scanfw_add_plugin()", file.string(), type));
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

}  // namespace

std::string_view kind_name(Kind k) { return k == Kind::Host ? "host" : "port"; }

std::string_view option_type_name(OptionType t) {
    switch (t) {
        case OptionType::Flag: return "flag";
        case OptionType::Number: return "number";
        case OptionType::Text: return "text";
        case OptionType::Ports: return "ports";
    }
    return "?";
}

bool valid_plugin_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
}

// ---- Plugin --------------------------------------------------------------------

Plugin::Plugin(fs::path file, std::shared_ptr<boost::dll::shared_library> lib, Create create,
               std::span<const OptionSpec> options)
    : file_(std::move(file)), lib_(std::move(lib)), create_(create), specs_(options), name_(file_.stem().string()) {
    for (const auto& spec : specs_)
        if (!valid_plugin_name(spec.name))
            throw PluginError(fmt::format("{}: option name '{}' is not valid ([a-z0-9_-]+)", file_.string(), spec.name));
    // The description comes from an instance with every option at its default; the
    // defaults are checked here like any value a user gives.
    try {
        const std::unique_ptr<const Technique> described(create_(options_for({})));
        if (!described) throw PluginError(fmt::format("{}: plugin returned no technique", file_.string()));
        info_ = described->describe();
    } catch (const PluginError& e) {
        throw PluginError(fmt::format("{}: its default options are refused: {}", file_.string(), e.what()));
    } catch (const OptionError& e) {
        throw PluginError(fmt::format("{}: its default for option '{}' is refused: {}", file_.string(), e.option,
                                      e.what()));
    } catch (const std::exception& e) {
        throw PluginError(fmt::format("{}: plugin failed to start: {}", file_.string(), e.what()));
    }
    name_ = info_.name;
    if (!valid_plugin_name(name_))
        throw PluginError(fmt::format("{}: plugin calls itself '{}', which is not a valid name ([a-z0-9_-]+)",
                                      file_.string(), name_));
    if (name_ != file_.stem().string())
        throw PluginError(fmt::format("{}: plugin calls itself '{}' but its file is named '{}'", file_.string(), name_,
                                      file_.filename().string()));
}

Options Plugin::options_for(const std::vector<OptionSetting>& settings) const {
    Options options;
    auto bad = [&](const OptionSetting* s, std::string_view option, const std::string& why) {
        return PluginError(fmt::format("{}plugin '{}', option '{}': {}", s ? s->where + ": " : "", name_, option, why));
    };
    for (const auto& s : settings) {
        const bool declared = std::any_of(specs_.begin(), specs_.end(),
                                          [&](const OptionSpec& o) { return o.name == s.name; });
        if (!declared) {
            std::string known;
            for (const auto& o : specs_) known += (known.empty() ? "" : ", ") + std::string(o.name);
            throw PluginError(fmt::format("{}plugin '{}' has no option '{}' ({})", s.where.empty() ? "" : s.where + ": ",
                                          name_, s.name, known.empty() ? "it takes none" : "it has: " + known));
        }
    }
    for (const auto& spec : specs_) {
        const OptionSetting* given = nullptr;
        for (const auto& s : settings)
            if (s.name == spec.name) given = &s;  // the last one given wins
        Options::Value v;
        v.name = spec.name;
        v.text = given ? given->value : std::string(spec.default_value);
        switch (spec.type) {
            case OptionType::Flag: {
                const std::string t = lower(v.text);
                if (t == "true" || t == "yes" || t == "on" || t == "1") v.number = 1;
                else if (t == "false" || t == "no" || t == "off" || t == "0") v.number = 0;
                else throw bad(given, spec.name, fmt::format("'{}' is not a flag (true/false, yes/no, on/off, 1/0)", v.text));
                break;
            }
            case OptionType::Number: {
                const char* end = v.text.data() + v.text.size();
                const auto [p, ec] = std::from_chars(v.text.data(), end, v.number);
                if (v.text.empty() || ec != std::errc() || p != end)
                    throw bad(given, spec.name, fmt::format("'{}' is not a whole number", v.text));
                break;
            }
            case OptionType::Text: break;
            case OptionType::Ports: {
                try {
                    const PortSpec ports = parse_ports(v.text);
                    if (ports.tcp != ports.udp) throw InputError("give a plain port list, without T: or U:");
                    if (!ports.tcp.empty() && ports.tcp.front() == 0)
                        throw InputError("port 0 cannot be probed (give ports 1-65535)");
                    v.ports = ports.tcp;
                } catch (const InputError& e) {
                    throw bad(given, spec.name, fmt::format("'{}' is not a port list: {}", v.text, e.what()));
                }
                break;
            }
        }
        options.values.push_back(std::move(v));
    }
    return options;
}

std::shared_ptr<const TechniqueInstance> Plugin::configure(const std::vector<OptionSetting>& settings) const {
    Options options = options_for(settings);
    std::unique_ptr<const Technique> technique;
    try {
        technique.reset(create_(options));
    } catch (const OptionError& e) {
        const OptionSetting* where = nullptr;
        for (const auto& s : settings)
            if (s.name == e.option) where = &s;
        throw PluginError(fmt::format("{}plugin '{}', option '{}': {}", where ? where->where + ": " : "", name_,
                                      e.option, e.what()));
    } catch (const std::exception& e) {
        throw PluginError(fmt::format("plugin '{}' ({}) failed to start: {}", name_, file_.string(), e.what()));
    }
    if (!technique) throw PluginError(fmt::format("plugin '{}' ({}) returned no technique", name_, file_.string()));
    return std::make_shared<const TechniqueInstance>(shared_from_this(), std::move(technique), std::move(options));
}

// ---- TechniqueInstance -------------------------------------------------------------

TechniqueInstance::TechniqueInstance(std::shared_ptr<const Plugin> plugin, std::unique_ptr<const Technique> technique,
                                     Options options)
    : plugin_(std::move(plugin)), technique_(std::move(technique)), options_(std::move(options)) {}

// The technique's code lives in the plugin's library: destroy it first.
TechniqueInstance::~TechniqueInstance() { technique_.reset(); }

void TechniqueInstance::failed(const char* where) const {
    try {
        throw;
    } catch (const std::exception& e) {
        throw PluginFailure(fmt::format("plugin '{}' ({}) failed in {}: {}", name(), plugin_->file().string(), where,
                                        e.what()));
    } catch (...) {
        throw PluginFailure(fmt::format("plugin '{}' ({}) failed in {}: unknown exception", name(),
                                        plugin_->file().string(), where));
    }
}

std::vector<std::uint16_t> TechniqueInstance::probe_ports() const {
    try {
        return technique_->probe_ports();
    } catch (...) {
        failed("probe_ports()");
    }
}

std::size_t TechniqueInstance::probe(const ProbeContext& ctx, std::span<std::uint8_t> out) const {
    try {
        return technique_->probe(ctx, out);
    } catch (...) {
        failed("probe()");
    }
}

Verdict TechniqueInstance::classify(const Reply& reply) const {
    try {
        return technique_->classify(reply);
    } catch (...) {
        failed("classify()");
    }
}

// ---- loading ---------------------------------------------------------------------

std::shared_ptr<const Plugin> load_plugin_file(const fs::path& file) {
    check_ownership(file.parent_path());
    check_ownership(file);
    check_shared_object(file);
    auto lib = std::make_shared<boost::dll::shared_library>();
    boost::system::error_code ec;
    lib->load(file.string(), boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
    if (ec) throw PluginError(fmt::format("{}: cannot load: {}", file.string(), ec.message()));
    if (!lib->has(kVersionSymbol))
        throw PluginError(fmt::format("{}: not a scanfw plugin: no '{}' symbol", file.string(), kVersionSymbol));
    const auto version = lib->get<const std::uint32_t>(kVersionSymbol);
    if (version != kPluginApiVersion)
        throw PluginError(fmt::format("{}: built for plugin API version {}, this scanfw has version {}: rebuild it "
                                      "against this scanfw's SDK (README: \"Writing a plugin\")",
                                      file.string(), version, kPluginApiVersion));
    if (!lib->has(kCreateSymbol))
        throw PluginError(fmt::format("{}: not a scanfw plugin: no '{}' symbol", file.string(), kCreateSymbol));
    if (!lib->has(kOptionsSymbol))
        throw PluginError(fmt::format("{}: not a scanfw plugin: no '{}' symbol", file.string(), kOptionsSymbol));
    auto create = &lib->get<Technique*(const Options&)>(kCreateSymbol);
    std::size_t count = 0;
    const OptionSpec* specs = lib->get<const OptionSpec*(std::size_t*)>(kOptionsSymbol)(&count);
    return std::make_shared<const Plugin>(file, std::move(lib), create, std::span<const OptionSpec>(specs, count));
}

std::vector<fs::path> PluginRegistry::search_path(const std::vector<std::string>& extra_dirs, bool use_environment) {
    std::vector<fs::path> dirs;
    for (const auto& d : extra_dirs) {
        std::error_code ec;
        if (!fs::is_directory(d, ec))
            throw InputError(fmt::format("--plugin-dir {}: {}", d, fs::exists(d, ec) ? "not a folder" : "no such folder"));
        dirs.emplace_back(d);
    }
    if (const char* env = std::getenv("SCANFW_PLUGIN_PATH"); env && use_environment) {
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

std::vector<PluginRegistry::Entry> PluginRegistry::load_all() {
    std::set<std::string> seen;
    std::vector<Entry> out;
    for (const auto& dir : dirs_) {
        std::error_code ec;
        if (!fs::is_directory(dir, ec)) continue;
        std::vector<fs::path> files;
        for (const auto& entry : fs::directory_iterator(dir, ec))
            if (entry.path().extension() == ".so") files.push_back(entry.path());
        std::sort(files.begin(), files.end());
        for (const auto& file : files) {
            Entry e;
            e.file = file;
            const std::string name = file.stem().string();
            e.shadowed = !seen.insert(name).second;
            try {
                e.plugin = load_plugin_file(file);
                if (!e.shadowed) loaded_.emplace(name, e.plugin);
            } catch (const PluginError& err) {
                e.error = err.what();
            }
            out.push_back(std::move(e));
        }
    }
    return out;
}

}  // namespace scanfw
