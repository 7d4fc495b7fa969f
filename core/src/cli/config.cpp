#include "cli/config.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <set>
#include <string_view>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <boost/dll/runtime_symbol_info.hpp>

#include "engine/timing.hpp"
#include "plugin/plugins.hpp"
#include "targets/ports.hpp"

namespace scanfw {

void ScanConfig::override_with(const ScanConfig& over) {
    auto take = [](auto& mine, const auto& theirs) {
        if (theirs) mine = theirs;
    };
    take(name, over.name);
    take(description, over.description);
    if (!over.plugins.empty()) plugins = over.plugins;
    take(discovery, over.discovery);
    take(ping_only, over.ping_only);
    take(disable_arp_ping, over.disable_arp_ping);
    take(ports, over.ports);
    take(top_ports, over.top_ports);
    if (!over.targets.empty()) targets = over.targets;
    take(input_list, over.input_list);
    if (!over.exclude.empty()) exclude = over.exclude;
    take(exclude_file, over.exclude_file);
    take(timing, over.timing);
    take(timeout, over.timeout);
    take(min_rtt_timeout, over.min_rtt_timeout);
    take(max_rtt_timeout, over.max_rtt_timeout);
    take(initial_rtt_timeout, over.initial_rtt_timeout);
    take(retries, over.retries);
    take(max_retries, over.max_retries);
    take(rate, over.rate);
    take(min_rate, over.min_rate);
    take(defeat_icmp_ratelimit, over.defeat_icmp_ratelimit);
    if (!over.source_ip.empty()) source_ip = over.source_ip;
    take(service, over.service);
    take(version_intensity, over.version_intensity);
    take(service_db, over.service_db);
    take(seed, over.seed);
    take(sequential, over.sequential);
    take(interface, over.interface);
    take(reverse_dns, over.reverse_dns);
    if (!over.dns_servers.empty()) dns_servers = over.dns_servers;
    take(shard, over.shard);
    take(reason, over.reason);
    take(open, over.open);
    take(outputs.json, over.outputs.json);
    take(outputs.xml, over.outputs.xml);
    take(outputs.grepable, over.outputs.grepable);
    take(outputs.normal, over.outputs.normal);
    take(outputs.all, over.outputs.all);
}

namespace {

bool all_digits(std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// Decimal digits only; nullopt when not, or when it does not fit.
std::optional<std::uint64_t> parse_u64(std::string_view s) {
    if (!all_digits(s)) return std::nullopt;
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return value;
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
    // DIGITS [. DIGITS] [us|ms|s|m|h], computed exactly as
    // mantissa * unit / 10^fraction_digits microseconds, rounded up to milliseconds.
    const auto int_end = std::min(text.find_first_not_of("0123456789"), text.size());
    if (int_end == 0) return std::nullopt;  // empty, negative, ".5", garbage
    std::string_view digits = text.substr(0, int_end);
    std::string digits_buf;
    std::size_t fraction_digits = 0;
    std::string_view unit = text.substr(int_end);
    if (!unit.empty() && unit.front() == '.') {
        const auto frac_end = std::min(unit.find_first_not_of("0123456789", 1), unit.size());
        fraction_digits = frac_end - 1;
        if (fraction_digits == 0) return std::nullopt;  // "5."
        digits_buf = std::string(digits) + std::string(unit.substr(1, fraction_digits));
        digits = digits_buf;
        unit = unit.substr(frac_end);
    }

    std::uint64_t unit_us = 0;
    if (unit.empty() || unit == "s") unit_us = 1'000'000;
    else if (unit == "us") unit_us = 1;
    else if (unit == "ms") unit_us = 1'000;
    else if (unit == "m") unit_us = 60'000'000;
    else if (unit == "h") unit_us = 3'600'000'000;
    else return std::nullopt;

    const auto mantissa = parse_u64(digits);
    if (!mantissa || fraction_digits > 15) return std::nullopt;
    if (*mantissa > std::numeric_limits<std::uint64_t>::max() / unit_us) return std::nullopt;
    const std::uint64_t numerator = *mantissa * unit_us;
    std::uint64_t denominator = 1'000;  // microseconds per millisecond
    for (std::size_t i = 0; i < fraction_digits; ++i) denominator *= 10;
    const std::uint64_t ms = numerator / denominator + (numerator % denominator != 0 ? 1 : 0);
    if (ms == 0) return std::nullopt;  // zero is not a usable duration
    if (ms > static_cast<std::uint64_t>(std::numeric_limits<std::chrono::milliseconds::rep>::max())) {
        return std::nullopt;
    }
    return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(ms));
}


std::vector<std::string> plugin_names(const std::vector<PluginRequest>& requests) {
    std::vector<std::string> out;
    for (const auto& r : requests) out.push_back(r.name);
    return out;
}

std::optional<double> parse_rate(std::string_view text) {
    if (text.empty() || text.size() > 32) return std::nullopt;
    const std::string s(text);
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(s.c_str(), &end);
    if (errno != 0 || end != s.c_str() + s.size() || !(v > 0) || !std::isfinite(v)) return std::nullopt;
    return v;
}

std::pair<std::string, OptionSetting> parse_plugin_arg(std::string_view text) {
    const auto dot = text.find('.'), eq = text.find('=');
    if (dot == std::string_view::npos || eq == std::string_view::npos || dot > eq || dot == 0 || eq == dot + 1)
        throw InputError(fmt::format("--plugin-arg '{}': give PLUGIN.OPTION=VALUE (e.g. scanflags.flags=FINACK)", text));
    const std::string plugin(text.substr(0, dot));
    if (!valid_plugin_name(plugin))
        throw InputError(fmt::format("--plugin-arg '{}': bad plugin name '{}' ([a-z0-9_-]+)", text, plugin));
    return {plugin, OptionSetting{std::string(text.substr(dot + 1, eq - dot - 1)), std::string(text.substr(eq + 1)),
                                  "--plugin-arg"}};
}

namespace {

constexpr const char* kKnownKeys =
    "name, description, plugins, discovery, ping-only, disable-arp-ping, ports, top-ports, targets, input-list, "
    "exclude, exclude-file, timing, timeout, min-rtt-timeout, max-rtt-timeout, initial-rtt-timeout, retries, max-retries, rate, min-rate, defeat-icmp-ratelimit, source-ip, interface, reverse-dns, dns-servers, service, "
    "version-intensity, service-db, seed, sequential-ports, shard, reason, open, outputs";

std::string_view trim(std::string_view s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    const auto last = s.find_last_not_of(" \t\r\n");
    return s.substr(first, last - first + 1);
}

// How a value looks, for "got ..." in messages.
std::string describe(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Scalar: return fmt::format("'{}'", node.Scalar());
        case YAML::NodeType::Sequence: return "a list";
        case YAML::NodeType::Map: return "a map";
        default: return "nothing";
    }
}

// Reads one profile; every error names the file, the position and the key.
class ProfileReader {
public:
    explicit ProfileReader(const std::string& path) : path_(path) {}

    ScanConfig read(const YAML::Node& root) const {
        ScanConfig cfg;
        if (root.IsNull()) return cfg;  // an empty profile sets nothing
        if (!root.IsMap()) fail(root, fmt::format("a profile must be a map of keys, got {}", describe(root)));

        std::set<std::string> seen;
        for (const auto& entry : root) {
            const std::string key = key_name(entry.first, seen);
            const YAML::Node& v = entry.second;
            if (key == "name") cfg.name = text(v, key);
            else if (key == "description") cfg.description = text(v, key);
            else if (key == "plugins") cfg.plugins = plugins(v, key, false);
            else if (key == "discovery") cfg.discovery = plugins(v, key, true);
            else if (key == "ping-only") cfg.ping_only = flag(v, key);
            else if (key == "disable-arp-ping") cfg.disable_arp_ping = flag(v, key);
            else if (key == "ports") cfg.ports = ports(v);
            else if (key == "top-ports") cfg.top_ports = static_cast<std::uint32_t>(number(v, key, 1, 65535));
            else if (key == "targets") cfg.targets = words(v, key);
            else if (key == "input-list") cfg.input_list = text(v, key);
            else if (key == "exclude") cfg.exclude = words(v, key);
            else if (key == "exclude-file") cfg.exclude_file = text(v, key);
            else if (key == "timing") cfg.timing = timing(v);
            else if (key == "timeout") cfg.timeout = duration(v, key);
            else if (key == "min-rtt-timeout") cfg.min_rtt_timeout = duration(v, key);
            else if (key == "max-rtt-timeout") cfg.max_rtt_timeout = duration(v, key);
            else if (key == "initial-rtt-timeout") cfg.initial_rtt_timeout = duration(v, key);
            else if (key == "retries") cfg.retries = static_cast<int>(number(v, key, 0, 20));
            else if (key == "max-retries") cfg.max_retries = static_cast<int>(number(v, key, 0, 50));
            else if (key == "rate") cfg.rate = rate(v, key);
            else if (key == "min-rate") cfg.min_rate = rate(v, key);
            else if (key == "defeat-icmp-ratelimit") cfg.defeat_icmp_ratelimit = flag(v, key);
            else if (key == "source-ip") cfg.source_ip = words(v, key);
            else if (key == "service") cfg.service = flag(v, key);
            else if (key == "version-intensity") cfg.version_intensity = static_cast<int>(number(v, key, 0, 9));
            else if (key == "service-db") cfg.service_db = text(v, key);
            else if (key == "sequential-ports") cfg.sequential = flag(v, key);
            else if (key == "interface") cfg.interface = text(v, key);
            else if (key == "reverse-dns") cfg.reverse_dns = choice(v, key, {"up", "all", "never"});
            else if (key == "dns-servers") cfg.dns_servers = words(v, key);
            else if (key == "seed") cfg.seed = number(v, key, 0, std::numeric_limits<std::uint64_t>::max());
            else if (key == "shard") cfg.shard = text(v, key);
            else if (key == "reason") cfg.reason = flag(v, key);
            else if (key == "open") cfg.open = flag(v, key);
            else if (key == "outputs") cfg.outputs = outputs(v);
            else fail(entry.first, fmt::format("unknown key '{}' (known: {})", key, kKnownKeys));
        }
        return cfg;
    }

private:
    const std::string& path_;

    std::string where(const YAML::Node& at) const {
        const YAML::Mark mark = at.Mark();
        if (mark.is_null()) return path_;
        return fmt::format("{}:{}:{}", path_, mark.line + 1, mark.column + 1);
    }

    [[noreturn]] void fail(const YAML::Node& at, const std::string& message) const {
        throw InputError(fmt::format("{}: {}", where(at), message));
    }

    std::string key_name(const YAML::Node& key, std::set<std::string>& seen) const {
        if (!key.IsScalar()) fail(key, fmt::format("keys must be names, got {}", describe(key)));
        const std::string name = key.Scalar();
        if (!seen.insert(name).second) fail(key, fmt::format("duplicate key '{}'", name));
        return name;
    }

    std::string text(const YAML::Node& v, const std::string& key) const {
        if (!v.IsScalar() || v.Scalar().empty()) fail(v, fmt::format("'{}' must be a string, got {}", key, describe(v)));
        return v.Scalar();
    }

    std::string choice(const YAML::Node& v, const std::string& key, std::initializer_list<const char*> choices) const {
        const std::string t = text(v, key);
        std::string known;
        for (const char* c : choices) {
            if (t == c) return t;
            known += (known.empty() ? "" : ", ") + std::string(c);
        }
        fail(v, fmt::format("'{}' must be one of {}, got '{}'", key, known, t));
    }

    bool flag(const YAML::Node& v, const std::string& key) const {
        if (v.IsScalar()) {
            const std::string t = v.Scalar();
            if (t == "true" || t == "yes" || t == "on") return true;
            if (t == "false" || t == "no" || t == "off") return false;
        }
        fail(v, fmt::format("'{}' must be true or false, got {}", key, describe(v)));
    }

    std::uint64_t number(const YAML::Node& v, const std::string& key, std::uint64_t lo, std::uint64_t hi) const {
        std::optional<std::uint64_t> n;
        if (v.IsScalar()) n = parse_u64(v.Scalar());
        if (!n || *n < lo || *n > hi)
            fail(v, fmt::format("'{}' must be an integer from {} to {}, got {}", key, lo, hi, describe(v)));
        return *n;
    }

    double rate(const YAML::Node& v, const std::string& key) const {
        std::optional<double> r;
        if (v.IsScalar()) r = parse_rate(v.Scalar());
        if (!r) fail(v, fmt::format("'{}' must be a positive number (probes per second), got {}", key, describe(v)));
        return *r;
    }

    int timing(const YAML::Node& v) const {
        const int level = v.IsScalar() ? timing_level(v.Scalar()) : -1;
        if (level < 0)
            fail(v, fmt::format("'timing' must be 0-5 or paranoid, sneaky, polite, normal, aggressive, insane; got {}",
                                describe(v)));
        return level;
    }

    std::chrono::milliseconds duration(const YAML::Node& v, const std::string& key) const {
        std::optional<std::chrono::milliseconds> d;
        if (v.IsScalar()) d = parse_duration(v.Scalar());
        if (!d)
            fail(v, fmt::format("'{}' must be a positive duration like 500ms, 2s, 1.5s or 1m, got {}", key, describe(v)));
        return *d;
    }

    // Techniques: "syn,ack", a list of names, or of maps {name: N, options: {K: V}}.
    // `none` (discovery only) is an empty list: no discovery.
    std::vector<PluginRequest> plugins(const YAML::Node& value, const std::string& key, bool allow_none) const {
        std::vector<PluginRequest> out;
        auto name_check = [&](const YAML::Node& at, std::string_view name) {
            if (!valid_plugin_name(name))
                fail(at, fmt::format("'{}': bad plugin name '{}' (names are made of a-z, 0-9, '_' and '-')", key, name));
        };
        auto add = [&](const YAML::Node& item) {
            if (item.IsNull() && value.IsSequence()) {  // a bare `null` in the list: the NULL technique
                out.push_back({"null", {}, where(item)});
                return;
            }
            if (item.IsMap()) {
                PluginRequest req;
                std::set<std::string> seen;
                for (const auto& e : item) {
                    const std::string k = key_name(e.first, seen);
                    if (k == "name") {
                        req.name = text(e.second, key + ".name");
                        name_check(e.second, req.name);
                    } else if (k == "options") {
                        if (!e.second.IsMap())
                            fail(e.second, fmt::format("'{}': options must be a map like {{flags: FINACK}}, got {}", key,
                                                       describe(e.second)));
                        std::set<std::string> opts;
                        for (const auto& o : e.second) {
                            const std::string oname = key_name(o.first, opts);
                            if (!o.second.IsScalar())
                                fail(o.second, fmt::format("option '{}' must be a value, got {}", oname, describe(o.second)));
                            req.options.push_back({oname, o.second.Scalar(), where(o.second)});
                        }
                    } else {
                        fail(e.first, fmt::format("unknown key '{}' in a '{}' entry (known: name, options)", k, key));
                    }
                }
                if (req.name.empty()) fail(item, fmt::format("a '{}' entry needs a name", key));
                req.where = where(item);
                out.push_back(std::move(req));
                return;
            }
            if (!item.IsScalar())
                fail(item, fmt::format("'{}' must be a plugin name or a list of them, got {}", key, describe(item)));
            std::string_view rest = item.Scalar();
            while (true) {
                const auto comma = rest.find(',');
                const auto name = trim(rest.substr(0, comma));
                name_check(item, name);
                out.push_back({std::string(name), {}, where(item)});
                if (comma == std::string_view::npos) break;
                rest.remove_prefix(comma + 1);
            }
        };
        if (allow_none && value.IsScalar() && value.Scalar() == "none") return out;
        if (value.IsSequence()) {
            for (const auto& item : value) add(item);
        } else {
            add(value);
        }
        if (out.empty()) fail(value, fmt::format("'{}' must name at least one plugin{}", key, allow_none ? " (or be none)" : ""));
        return out;
    }

    std::string ports(const YAML::Node& value) const {
        if (!value.IsScalar())
            fail(value, fmt::format("'ports' must be a port list like \"22,80,1000-2000\", got {}", describe(value)));
        const std::string spec = value.Scalar();
        try {
            parse_ports(spec);
        } catch (const InputError& e) {
            fail(value, fmt::format("'ports' is not a valid port list: {}", e.what()));
        }
        return spec;
    }

    // A string (several words separated by spaces) or a list of strings.
    std::vector<std::string> words(const YAML::Node& value, const std::string& key) const {
        std::vector<std::string> out;
        auto add = [&](const YAML::Node& item) {
            if (!item.IsScalar()) fail(item, fmt::format("'{}' must be a word or a list of them, got {}", key, describe(item)));
            const std::size_t before = out.size();
            std::string_view text = item.Scalar();
            while (true) {
                const auto start = text.find_first_not_of(" \t\r\n");
                if (start == std::string_view::npos) break;
                text.remove_prefix(start);
                const auto end = std::min(text.find_first_of(" \t\r\n"), text.size());
                out.emplace_back(text.substr(0, end));
                text.remove_prefix(end);
            }
            if (out.size() == before) fail(item, fmt::format("'{}' has an empty entry", key));
        };
        if (value.IsSequence()) {
            for (const auto& item : value) add(item);
        } else {
            add(value);
        }
        if (out.empty()) fail(value, fmt::format("'{}' must have at least one entry", key));
        return out;
    }

    OutputConfig outputs(const YAML::Node& value) const {
        OutputConfig out;
        if (!value.IsMap())
            fail(value, fmt::format("'outputs' must be a map like {{json: out.jsonl}}, got {}", describe(value)));
        const std::pair<const char*, std::optional<std::string> OutputConfig::*> kinds[] = {
            {"json", &OutputConfig::json}, {"xml", &OutputConfig::xml}, {"grepable", &OutputConfig::grepable},
            {"normal", &OutputConfig::normal}, {"all", &OutputConfig::all}};
        std::set<std::string> seen;
        for (const auto& entry : value) {
            const std::string key = key_name(entry.first, seen);
            const auto kind = std::find_if(std::begin(kinds), std::end(kinds), [&](auto& k) { return key == k.first; });
            if (kind == std::end(kinds))
                fail(entry.first, fmt::format("unknown key '{}' under 'outputs' (known: json, xml, grepable, normal, all)", key));
            if (!entry.second.IsScalar() || entry.second.Scalar().empty()) {
                const char* what = key == "all" ? "a base file name" : "a file path or \"-\"";
                fail(entry.second, fmt::format("'outputs.{}' must be {}, got {}", key, what, describe(entry.second)));
            }
            out.*(kind->second) = entry.second.Scalar();
        }
        return out;
    }
};

}  // namespace

std::string profile_dir() {
    const std::filesystem::path exe = boost::dll::program_location().parent_path().string();
    return (exe / ".." / "share" / "scanfw" / "profiles").lexically_normal().string();
}

std::optional<std::string> find_profile(const std::string& path_or_name) {
    std::error_code ec;
    if (std::filesystem::exists(path_or_name, ec)) return path_or_name;
    // A bare name: one of the shipped profiles.
    if (path_or_name.find('/') != std::string::npos || path_or_name.empty()) return std::nullopt;
    std::string name = path_or_name;
    if (name.size() > 5 && name.compare(name.size() - 5, 5, ".yaml") == 0) name.resize(name.size() - 5);
    const std::string file = profile_dir() + "/" + name + ".yaml";
    if (std::filesystem::exists(file, ec)) return file;
    return std::nullopt;
}

ScanConfig load_profile(const std::string& path_or_name) {
    const auto found = find_profile(path_or_name);
    if (!found)
        throw InputError(fmt::format("{}: cannot read: {} (nor is it a profile in {})", path_or_name,
                                     std::strerror(ENOENT), profile_dir()));
    const std::string& path = *found;
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        throw InputError(fmt::format("{}: cannot read: {}", path, std::strerror(EISDIR)));
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        const int err = errno;
        throw InputError(fmt::format("{}: cannot read: {}", path, std::strerror(err != 0 ? err : ENOENT)));
    }
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw InputError(fmt::format("{}: cannot read: {}", path, std::strerror(EIO)));
    return parse_profile(text, path);
}

ScanConfig parse_profile(std::string_view yaml_text, const std::string& name_for_errors) {
    const std::string& path = name_for_errors;
    YAML::Node root;
    try {
        root = YAML::Load(std::string(yaml_text));
    } catch (const YAML::Exception& e) {
        if (e.mark.is_null()) throw InputError(fmt::format("{}: {}", path, e.msg));
        throw InputError(fmt::format("{}:{}:{}: {}", path, e.mark.line + 1, e.mark.column + 1, e.msg));
    }
    return ProfileReader(path).read(root);
}

}  // namespace scanfw
