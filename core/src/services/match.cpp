#include "services/match.hpp"

#include <cstdlib>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "services/text.hpp"

namespace scanfw::services {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }
bool is_print(unsigned char c) { return c >= 0x20 && c <= 0x7e; }

// The arguments of $P(...), $SUBST(...), $I(...): integers (strtol base 0, as
// nmap) and double-quoted strings with nmap's escapes; at most 5, strings under
// 128 bytes.
struct Args {
    struct Arg {
        bool is_string = false;
        long number = 0;
        std::string text;
    };
    std::vector<Arg> list;
};

// Parses from just after '(' to just after ')'; returns the end, or npos on a
// malformed list.
std::size_t parse_args(std::string_view t, std::size_t pos, Args& args) {
    constexpr std::size_t kMaxArgs = 5, kMaxString = 127;
    // After an argument, nmap skips to the next ',' or ')'.
    const auto next = [&](std::size_t p) -> std::size_t {
        const auto q = t.find_first_of(",)", p);
        if (q == std::string_view::npos) return q;
        return t[q] == ',' ? q + 1 : q;
    };
    while (pos < t.size() && t[pos] != ')') {
        while (pos < t.size() && is_space(t[pos])) ++pos;
        if (pos >= t.size()) return std::string_view::npos;
        if (t[pos] == ')') break;
        if (args.list.size() == kMaxArgs) return std::string_view::npos;
        Args::Arg arg;
        if (t[pos] == '"') {
            std::string raw;
            std::size_t q = pos + 1;
            // A quote ends the string unless a single backslash escapes it.
            for (;; ++q) {
                if (q >= t.size()) return std::string_view::npos;  // unterminated
                if (t[q] == '"' && (t[q - 1] != '\\' || (q >= 2 && t[q - 2] == '\\'))) break;
                if (raw.size() >= kMaxString) return std::string_view::npos;
                raw.push_back(t[q]);
            }
            auto text = unescape(raw);
            if (!text) return std::string_view::npos;
            arg.is_string = true;
            arg.text = std::move(*text);
            pos = next(q + 1);
        } else {
            const std::string rest(t.substr(pos, 32));  // strtol wants a C string
            char* end = nullptr;
            arg.number = std::strtol(rest.c_str(), &end, 0);
            if (end == rest.c_str()) return std::string_view::npos;
            pos = next(pos + static_cast<std::size_t>(end - rest.c_str()));
        }
        args.list.push_back(std::move(arg));
        if (pos == std::string_view::npos) return pos;
    }
    if (pos < t.size() && t[pos] == ')') ++pos;
    if (args.list.empty()) return std::string_view::npos;
    return pos;
}

// The bytes of group n (1-9), or nullopt when the pattern lacks it or it is unset.
std::optional<std::string_view> group(long n, std::string_view subject, const Captures& groups) {
    if (n < 1 || n > 9 || static_cast<std::size_t>(n) >= groups.groups.size()) return std::nullopt;
    const auto [a, b] = groups.groups[static_cast<std::size_t>(n)];
    if (a == Captures::npos || b == Captures::npos || a > b || b > subject.size()) return std::nullopt;
    return subject.substr(a, b - a);
}

// Values are cut at their first NUL (nmap copies them as C strings); `limit` stops
// building a value that can no longer fit, so a megabyte capture or a $SUBST that
// multiplies it costs at most `limit` bytes.
class Value {
public:
    explicit Value(std::size_t limit) : limit_(limit) {}
    // False once the value is final (a NUL was reached) or too long.
    bool push(char c) {
        if (done_) return false;
        if (c == '\0') {
            done_ = true;
            return false;
        }
        if (text_.size() >= limit_) {
            too_long_ = true;
            done_ = true;
            return false;
        }
        text_.push_back(c);
        return true;
    }
    bool append(std::string_view s) {
        for (char c : s)
            if (!push(c)) return false;
        return true;
    }
    bool too_long() const { return too_long_; }
    std::string take() { return std::move(text_); }

private:
    std::size_t limit_;
    std::string text_;
    bool done_ = false, too_long_ = false;
};

// One $... at t[pos] == '$'; sets `end` after it. nullopt: the field stays empty.
std::optional<std::string> substitute(std::string_view t, std::size_t pos, std::size_t& end, std::string_view subject,
                                      const Captures& groups, std::size_t limit) {
    Value value(limit);
    if (pos + 1 < t.size() && t[pos + 1] >= '0' && t[pos + 1] <= '9') {
        end = pos + 2;
        const auto g = group(t[pos + 1] - '0', subject, groups);
        if (!g) return std::nullopt;
        value.append(*g);
        if (value.too_long()) return std::nullopt;
        return value.take();
    }
    const auto paren = t.find('(', pos + 1);
    if (paren == std::string_view::npos) return std::nullopt;
    const std::string_view command = t.substr(pos + 1, paren - pos - 1);
    if (command.empty() || command.size() >= 16) return std::nullopt;
    Args args;
    end = parse_args(t, paren + 1, args);
    if (end == std::string_view::npos) return std::nullopt;
    const auto& a = args.list;
    if (command == "P") {
        if (a.size() != 1 || a[0].is_string) return std::nullopt;
        const auto g = group(a[0].number, subject, groups);
        if (!g) return std::nullopt;
        for (char c : *g)
            if (is_print(static_cast<unsigned char>(c)) && !value.push(c)) break;
    } else if (command == "SUBST") {
        if (a.size() != 3 || a[0].is_string || !a[1].is_string || !a[2].is_string) return std::nullopt;
        const auto g = group(a[0].number, subject, groups);
        const std::string& find = a[1].text;
        if (!g || find.empty()) return std::nullopt;  // an empty search string would never advance
        for (std::size_t i = 0; i < g->size();) {
            if (g->substr(i, find.size()) == find) {
                if (!value.append(a[2].text)) break;
                i += find.size();
            } else {
                if (!value.push((*g)[i])) break;
                ++i;
            }
        }
    } else if (command == "I") {
        if (a.size() != 2 || a[0].is_string || !a[1].is_string || a[1].text.size() != 1) return std::nullopt;
        const auto g = group(a[0].number, subject, groups);
        if (!g || g->size() > 8) return std::nullopt;
        const char order = a[1].text[0];
        if (order != '>' && order != '<') return std::nullopt;
        unsigned long long n = 0;
        for (std::size_t i = 0; i < g->size(); ++i) {
            const auto byte = static_cast<unsigned char>(order == '>' ? (*g)[i] : (*g)[g->size() - 1 - i]);
            n = (n << 8) | byte;
        }
        value.append(std::to_string(n));
    } else {
        return std::nullopt;  // unknown command
    }
    if (value.too_long()) return std::nullopt;
    return value.take();
}

// nmap's CPE transform of a substituted value: URL-escape what CPE 2.2 reserves,
// blanks to '_', letters to lower case.
std::string cpe_transform(std::string_view s) {
    static constexpr std::string_view kReserved = ":/?#[]@!$&'()*+,;=%<>\"";
    std::string out;
    for (char c : s) {
        if (kReserved.find(c) != std::string_view::npos) out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
        else if (is_space(c)) out.push_back('_');
        else if (c >= 'A' && c <= 'Z') out.push_back(static_cast<char>(c - 'A' + 'a'));
        else out.push_back(c);
    }
    return out;
}

}  // namespace

std::optional<std::string> expand_template(std::string_view tmpl, std::string_view subject, const Captures& groups,
                                           std::size_t size, bool cpe) {
    if (size < 3) return std::nullopt;
    // Sizes as nmap's C buffers of `size` bytes allow: literal text up to size-1
    // bytes in all, a substitution only while the result stays under size-1.
    std::string out;
    std::size_t pos = 0;
    while (pos < tmpl.size()) {
        const auto dollar = tmpl.find('$', pos);
        const auto literal = tmpl.substr(pos, dollar == std::string_view::npos ? std::string_view::npos : dollar - pos);
        if (out.size() + literal.size() > (dollar == std::string_view::npos ? size - 1 : size)) return std::nullopt;
        out += literal;
        if (dollar == std::string_view::npos) break;
        std::size_t end = dollar + 1;
        auto value = substitute(tmpl, dollar, end, subject, groups, size);
        if (!value) return std::nullopt;
        if (cpe) *value = cpe_transform(*value);
        if (out.size() + value->size() >= size - 1) return std::nullopt;
        out += *value;
        pos = end;
    }
    while (!out.empty() && (is_space(out.back()) || out.back() == ',')) out.pop_back();
    return out;
}

namespace {

std::string field(const std::optional<std::string>& tmpl, std::string_view subject, const Captures& groups,
                  std::size_t size, const Match& m, const char* what) {
    if (!tmpl) return {};
    auto value = expand_template(*tmpl, subject, groups, size);
    if (!value) {
        spdlog::debug("services: line {}: cannot fill {}/{}/ from a {}-byte response (missing group or over {} bytes)",
                      m.line, what, escape_bytes(*tmpl, 80), subject.size(), size - 1);
        return {};
    }
    return printable_field(*value, size - 1);
}

}  // namespace

std::optional<MatchResult> test_match(const Match& m, std::string_view response) {
    Captures groups;
    if (!m.regex.match(response, groups)) return std::nullopt;
    MatchResult r;
    r.soft = m.soft;
    r.match = &m;
    ServiceIdentity& id = r.id;
    id.name = m.service;
    const VersionTemplates& t = m.templates;
    id.product = field(t.product, response, groups, kProductSize, m, "p");
    id.version = field(t.version, response, groups, kVersionSize, m, "v");
    id.extrainfo = field(t.info, response, groups, kInfoSize, m, "i");
    id.hostname = field(t.hostname, response, groups, kHostnameSize, m, "h");
    id.ostype = field(t.ostype, response, groups, kOstypeSize, m, "o");
    id.devicetype = field(t.devicetype, response, groups, kDevicetypeSize, m, "d");
    // One CPE per part (a, h, o); a later template for the same part replaces an
    // earlier one, as in nmap.
    std::string parts[3];
    for (const std::string& tmpl : t.cpe) {
        const char part = tmpl.size() > 5 ? tmpl[5] : '\0';
        const int slot = part == 'a' ? 0 : part == 'h' ? 1 : part == 'o' ? 2 : -1;
        if (slot < 0) {
            spdlog::debug("services: line {}: ignoring {} (part is not a, h or o)", m.line, escape_bytes(tmpl, 80));
            continue;
        }
        auto value = expand_template(tmpl, response, groups, kCpeSize, true);
        parts[slot] = value ? printable_field(*value, kCpeSize - 1) : std::string{};
    }
    for (auto& p : parts)
        if (!p.empty()) id.cpe.push_back(std::move(p));
    return r;
}

std::optional<MatchResult> find_match(const Probe& probe, std::string_view response) {
    for (const Probe* source : probe.fallbacks) {
        for (const Match& m : source->matches) {
            if (auto r = test_match(m, response)) {
                r->matched_in = source;
                return r;
            }
        }
    }
    return std::nullopt;
}

}  // namespace scanfw::services
