#include "cli/config.hpp"

#include <algorithm>
#include <cerrno>
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

#include "plugin/plugins.hpp"
#include "targets/ports.hpp"

namespace scanfw {

void ScanConfig::override_with(const ScanConfig& over) {
    if (over.name) name = over.name;
    if (over.description) description = over.description;
    if (!over.plugins.empty()) plugins = over.plugins;
    if (over.ports) ports = over.ports;
    if (!over.targets.empty()) targets = over.targets;
    if (over.timeout) timeout = over.timeout;
    if (over.retries) retries = over.retries;
    if (over.rate) rate = over.rate;
    if (over.outputs.json) outputs.json = over.outputs.json;
    if (over.outputs.xml) outputs.xml = over.outputs.xml;
    if (over.outputs.grepable) outputs.grepable = over.outputs.grepable;
    if (over.outputs.normal) outputs.normal = over.outputs.normal;
    if (over.outputs.all) outputs.all = over.outputs.all;
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

namespace {

constexpr const char* kKnownKeys = "name, description, plugins, ports, targets, timeout, retries, rate, outputs";

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
            const YAML::Node& value = entry.second;
            if (key == "name") cfg.name = string_value(value, key);
            else if (key == "description") cfg.description = string_value(value, key);
            else if (key == "plugins") cfg.plugins = plugins(value);
            else if (key == "ports") cfg.ports = ports(value);
            else if (key == "targets") cfg.targets = targets(value);
            else if (key == "timeout") cfg.timeout = timeout(value);
            else if (key == "retries") cfg.retries = static_cast<int>(retries(value));
            else if (key == "rate") cfg.rate = rate(value);
            else if (key == "outputs") cfg.outputs = outputs(value);
            else fail(entry.first, fmt::format("unknown key '{}' (known: {})", key, kKnownKeys));
        }
        return cfg;
    }

private:
    const std::string& path_;

    [[noreturn]] void fail(const YAML::Node& at, const std::string& message) const {
        const YAML::Mark mark = at.Mark();
        if (mark.is_null()) throw InputError(fmt::format("{}: {}", path_, message));
        throw InputError(fmt::format("{}:{}:{}: {}", path_, mark.line + 1, mark.column + 1, message));
    }

    std::string key_name(const YAML::Node& key, std::set<std::string>& seen) const {
        if (!key.IsScalar()) fail(key, fmt::format("keys must be names, got {}", describe(key)));
        const std::string name = key.Scalar();
        if (!seen.insert(name).second) fail(key, fmt::format("duplicate key '{}'", name));
        return name;
    }

    std::string string_value(const YAML::Node& value, const std::string& key) const {
        if (!value.IsScalar()) fail(value, fmt::format("'{}' must be a string, got {}", key, describe(value)));
        return value.Scalar();
    }

    // A string "syn,ack" or a list of such strings.
    std::vector<std::string> plugins(const YAML::Node& value) const {
        std::vector<std::string> names;
        auto add = [&](const YAML::Node& item) {
            if (item.IsNull() && value.IsSequence()) {  // a bare `null` in the list: the NULL technique
                names.emplace_back("null");
                return;
            }
            if (!item.IsScalar()) {
                fail(item, fmt::format("'plugins' must be a plugin name or a list of them, got {}", describe(item)));
            }
            std::string_view text = item.Scalar();
            while (true) {
                const auto comma = text.find(',');
                const auto name = trim(text.substr(0, comma));
                if (!valid_plugin_name(name)) {
                    fail(item, fmt::format("'plugins': bad plugin name '{}' (names are made of a-z, 0-9, '_' and '-')",
                                           name));
                }
                names.emplace_back(name);
                if (comma == std::string_view::npos) break;
                text.remove_prefix(comma + 1);
            }
        };
        if (value.IsSequence()) {
            for (const auto& item : value) add(item);
        } else {
            add(value);
        }
        if (names.empty()) fail(value, "'plugins' must name at least one plugin");
        return names;
    }

    std::string ports(const YAML::Node& value) const {
        if (!value.IsScalar()) fail(value, fmt::format("'ports' must be a port list like \"22,80,1000-2000\", got {}",
                                                       describe(value)));
        const std::string spec = value.Scalar();
        try {
            parse_ports(spec);
        } catch (const InputError& e) {
            fail(value, fmt::format("'ports' is not a valid port list: {}", e.what()));
        }
        return spec;
    }

    // A string (several targets separated by spaces) or a list of strings.
    std::vector<std::string> targets(const YAML::Node& value) const {
        std::vector<std::string> out;
        auto add = [&](const YAML::Node& item) {
            if (!item.IsScalar()) {
                fail(item, fmt::format("'targets' must be a target or a list of targets, got {}", describe(item)));
            }
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
            if (out.size() == before) fail(item, "'targets' has an empty target");
        };
        if (value.IsSequence()) {
            for (const auto& item : value) add(item);
        } else {
            add(value);
        }
        if (out.empty()) fail(value, "'targets' must name at least one target");
        return out;
    }

    std::chrono::milliseconds timeout(const YAML::Node& value) const {
        std::optional<std::chrono::milliseconds> d;
        if (value.IsScalar()) d = parse_duration(value.Scalar());
        if (!d) {
            fail(value, fmt::format("'timeout' must be a positive duration like 500ms, 2s, 1.5s or 1m, got {}",
                                    describe(value)));
        }
        return *d;
    }

    std::uint64_t retries(const YAML::Node& value) const {
        std::optional<std::uint64_t> n;
        if (value.IsScalar()) n = parse_u64(value.Scalar());
        if (!n || *n > 20) fail(value, fmt::format("'retries' must be an integer from 0 to 20, got {}", describe(value)));
        return *n;
    }

    std::uint64_t rate(const YAML::Node& value) const {
        std::optional<std::uint64_t> n;
        if (value.IsScalar()) n = parse_u64(value.Scalar());
        if (!n || *n == 0) {
            fail(value, fmt::format("'rate' must be a positive integer (probes per second), got {}", describe(value)));
        }
        return *n;
    }

    OutputConfig outputs(const YAML::Node& value) const {
        OutputConfig out;
        if (!value.IsMap()) fail(value, fmt::format("'outputs' must be a map like {{json: out.jsonl}}, got {}",
                                                    describe(value)));
        const std::pair<const char*, std::optional<std::string> OutputConfig::*> kinds[] = {
            {"json", &OutputConfig::json}, {"xml", &OutputConfig::xml}, {"grepable", &OutputConfig::grepable},
            {"normal", &OutputConfig::normal}, {"all", &OutputConfig::all}};
        std::set<std::string> seen;
        for (const auto& entry : value) {
            const std::string key = key_name(entry.first, seen);
            const auto kind = std::find_if(std::begin(kinds), std::end(kinds), [&](auto& k) { return key == k.first; });
            if (kind == std::end(kinds)) {
                fail(entry.first,
                     fmt::format("unknown key '{}' under 'outputs' (known: json, xml, grepable, normal, all)", key));
            }
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

ScanConfig load_profile(const std::string& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        throw InputError(fmt::format("{}: cannot read: {}", path, std::strerror(EISDIR)));
    }
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
