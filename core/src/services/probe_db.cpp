#include "services/probe_db.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <unordered_map>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/errors.hpp"
#include "targets/ports.hpp"
#include "services/text.hpp"

namespace scanfw::services {

bool Probe::lists_port(std::uint16_t port, bool ssl) const {
    const auto& list = ssl ? sslports : ports;
    return std::binary_search(list.begin(), list.end(), port);
}

bool Probe::can_detect(std::string_view service) const {
    return std::find(services.begin(), services.end(), service) != services.end();
}

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

bool starts_with_word(std::string_view line, std::string_view word) {
    return line.size() > word.size() && line.substr(0, word.size()) == word && is_space(line[word.size()]);
}

// A delimited field such as m|...|i or p/.../: the mode letters, the text between
// the delimiters, and the letters after the closing one. nmap has no escape for the
// delimiter: the field ends at its next occurrence.
struct Field {
    std::string mode;
    std::string text;
    std::string flags;
};

}  // namespace

class ProbeFileParser {
public:
    ProbeFileParser(std::string_view text, const std::string& name) : text_(text), name_(name) {}

    ProbeDb run() {
        db_.source_ = name_;
        std::size_t pos = 0;
        while (pos <= text_.size()) {
            const auto nl = text_.find('\n', pos);
            std::string_view line = text_.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
            ++line_no_;
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // a CRLF file
            handle(line);
            if (nl == std::string_view::npos) break;
            pos = nl + 1;
        }
        resolve_fallbacks();
        return std::move(db_);
    }

private:
    [[noreturn]] void fail(const std::string& what) const { fail_at(line_no_, what); }
    [[noreturn]] void fail_at(int line, const std::string& what) const {
        throw InputError(fmt::format("{}:{}: {}", name_, line, what));
    }

    Probe& current(std::string_view directive) {
        if (db_.probes_->empty()) fail(fmt::format("'{}' before the first Probe line", directive));
        return db_.probes_->back();
    }

    void handle(std::string_view line) {
        if (trim(line).empty() || line.front() == '#') return;
        for (const char* word : {"Exclude", "Probe", "match", "softmatch", "ports", "sslports", "rarity", "fallback",
                                 "totalwaitms", "tcpwrappedms"})
            if (trim(line) == word) fail(fmt::format("'{}' without its arguments", word));
        if (starts_with_word(line, "Exclude")) return exclude(trim(line.substr(7)));
        if (starts_with_word(line, "Probe")) return probe(line.substr(6));
        if (starts_with_word(line, "match")) return match(line.substr(6), false);
        if (starts_with_word(line, "softmatch")) return match(line.substr(10), true);
        if (starts_with_word(line, "ports")) return port_list(current("ports").ports, line.substr(6), "ports");
        if (starts_with_word(line, "sslports"))
            return port_list(current("sslports").sslports, line.substr(9), "sslports");
        if (starts_with_word(line, "rarity")) {
            Probe& p = current("rarity");
            p.rarity = number(line.substr(7), 1, 9, "rarity");
            return;
        }
        if (starts_with_word(line, "totalwaitms")) {
            Probe& p = current("totalwaitms");
            p.total_wait = std::chrono::milliseconds(number(line.substr(12), 100, 300000, "totalwaitms"));
            return;
        }
        if (starts_with_word(line, "tcpwrappedms")) {
            Probe& p = current("tcpwrappedms");
            p.tcp_wrapped = std::chrono::milliseconds(number(line.substr(13), 100, 300000, "tcpwrappedms"));
            return;
        }
        if (starts_with_word(line, "fallback")) {
            current("fallback");
            fallback_lines_[db_.probes_->size() - 1] = {std::string(trim(line.substr(9))), line_no_};
            return;
        }
        const auto word = line.substr(0, std::min(line.size(), line.find_first_of(" \t")));
        fail(fmt::format("unknown directive '{}' (expected Exclude, Probe, match, softmatch, ports, sslports, "
                         "rarity, fallback, totalwaitms or tcpwrappedms)",
                         escape_bytes(word, 40)));
    }

    void exclude(std::string_view spec) {
        if (exclude_seen_) fail("a second Exclude line (nmap allows one)");
        if (!db_.probes_->empty()) fail("Exclude after a Probe line (it must come first)");
        exclude_seen_ = true;
        try {
            const PortSpec ports = parse_ports(spec);
            db_.exclude_tcp_ = ports.tcp;
            db_.exclude_udp_ = ports.udp;
        } catch (const InputError& e) {
            fail(fmt::format("bad Exclude: {}", e.what()));
        }
    }

    int number(std::string_view text, int lo, int hi, std::string_view what) {
        text = trim(text);
        int value = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < lo || value > hi)
            fail(fmt::format("bad {} '{}': expected a number from {} to {}", what, escape_bytes(text, 40), lo, hi));
        return value;
    }

    // "21,23,1000-1010": what nmap's probe port lists allow (no T:/U: sections).
    void port_list(std::vector<std::uint16_t>& out, std::string_view text, std::string_view what) {
        const std::string_view all = trim(text);
        if (all.empty()) fail(fmt::format("empty {} list", what));
        std::size_t pos = 0;
        while (pos < all.size()) {
            const auto comma = all.find(',', pos);
            const auto item = trim(all.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos));
            const auto dash = item.find('-');
            const auto lo = port_number(item.substr(0, dash), item, what);
            const auto hi = dash == std::string_view::npos ? lo : port_number(item.substr(dash + 1), item, what);
            if (hi < lo) fail(fmt::format("reversed range '{}' in {}", item, what));
            for (std::uint32_t p = lo; p <= hi; ++p) out.push_back(static_cast<std::uint16_t>(p));
            if (comma == std::string_view::npos) break;
            pos = comma + 1;  // nmap accepts a trailing comma
        }
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
    }

    std::uint32_t port_number(std::string_view text, std::string_view item, std::string_view what) {
        text = trim(text);
        std::uint32_t value = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value > 65535)
            fail(fmt::format("bad port '{}' in {}: expected N or N-M with ports 0-65535, e.g. 21-25,53,80",
                             escape_bytes(item, 40), what));
        return value;
    }

    // Probe TCP|UDP NAME q|STRING| [no-payload]
    void probe(std::string_view rest) {
        Probe p;
        p.line = line_no_;
        rest = trim(rest);
        if (rest.substr(0, 4) == "TCP " || rest.substr(0, 4) == "TCP\t") p.protocol = Protocol::Tcp;
        else if (rest.substr(0, 4) == "UDP " || rest.substr(0, 4) == "UDP\t") p.protocol = Protocol::Udp;
        else fail("bad Probe line: expected 'Probe TCP|UDP NAME q|STRING|'");
        rest = trim(rest.substr(4));
        if (rest.empty() || !is_alnum(rest.front())) fail("bad probe name: it must start with a letter or digit");
        const auto space = rest.find_first_of(" \t");
        if (space == std::string_view::npos) fail(fmt::format("nothing after the probe name '{}'", rest));
        p.name = std::string(rest.substr(0, space));
        rest = trim(rest.substr(space));
        if (rest.size() < 2 || rest.front() != 'q')
            fail(fmt::format("probe {}: the probe string must be q followed by a delimiter, e.g. q|GET / HTTP/1.0\\r\\n\\r\\n|", p.name));
        const char delim = rest[1];
        const auto end = rest.find(delim, 2);
        if (end == std::string_view::npos) fail(fmt::format("probe {}: no closing '{}' for the probe string", p.name, delim));
        auto payload = unescape(rest.substr(2, end - 2));
        if (!payload) fail(fmt::format("probe {}: bad escape in the probe string (\\0 \\a \\b \\f \\n \\r \\t \\v \\xHH, or \\ before punctuation)", p.name));
        p.payload = std::move(*payload);
        for (std::string_view flags = trim(rest.substr(end + 1)); !flags.empty();) {
            const auto sp = flags.find_first_of(" \t");
            const auto flag = flags.substr(0, sp);
            if (flag == "no-payload") p.no_payload = true;
            else fail(fmt::format("probe {}: unknown option '{}' after the probe string (only no-payload)", p.name, escape_bytes(flag, 40)));
            flags = sp == std::string_view::npos ? std::string_view{} : trim(flags.substr(sp));
        }
        if (p.is_null()) {
            if (p.protocol != Protocol::Tcp) fail(fmt::format("UDP probe {} sends nothing: only the TCP NULL probe may", p.name));
            if (db_.null_ != nullptr || null_seen_) fail(fmt::format("a second probe with an empty string ({}): there is one NULL probe", p.name));
            null_seen_ = true;
        }
        db_.probes_->push_back(std::move(p));
    }

    // One delimited field at `s` (after blanks): MODE DELIM TEXT DELIM FLAGS. The
    // mode is letters, or "cpe:". nullopt at the end of the line.
    std::optional<Field> next_field(std::string_view& s, std::string_view what) {
        while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
        if (s.empty()) return std::nullopt;
        Field f;
        std::size_t i = 0;
        while (i < s.size() && is_alpha(s[i])) ++i;
        f.mode = std::string(s.substr(0, i));
        if (f.mode == "cpe" && i < s.size() && s[i] == ':') {
            f.mode = "cpe:";
            ++i;
        }
        if (f.mode.empty()) fail(fmt::format("{}: expected a field like p/.../, found '{}'", what, escape_bytes(s.substr(0, 20))));
        if (i >= s.size() || is_space(s[i])) fail(fmt::format("{}: '{}' has no delimiter after it", what, f.mode));
        const char delim = s[i];
        const auto end = s.find(delim, i + 1);
        if (end == std::string_view::npos) fail(fmt::format("{}: no closing '{}' for {}{}", what, delim, f.mode, delim));
        f.text = std::string(s.substr(i + 1, end - i - 1));
        std::size_t j = end + 1;
        while (j < s.size() && is_alpha(s[j])) ++j;
        f.flags = std::string(s.substr(end + 1, j - end - 1));
        if (j < s.size() && !is_space(s[j]))
            fail(fmt::format("{}: unexpected '{}' after {}{}...{}{}", what, escape_bytes(s.substr(j, 1)), f.mode, delim, delim, f.flags));
        s.remove_prefix(j);
        return f;
    }

    // match|softmatch SERVICE m|REGEX|FLAGS TEMPLATES...
    void match(std::string_view rest, bool soft) {
        Probe& probe = current(soft ? "softmatch" : "match");
        Match m;
        m.soft = soft;
        m.line = line_no_;
        while (!rest.empty() && is_space(rest.front())) rest.remove_prefix(1);
        const auto space = rest.find_first_of(" \t");
        if (rest.empty() || space == std::string_view::npos) fail("match line without a service name and pattern");
        m.service = std::string(rest.substr(0, space));
        rest.remove_prefix(space);
        const std::string what = fmt::format("{} {}", soft ? "softmatch" : "match", escape_bytes(m.service, 40));
        auto regex = next_field(rest, what);
        if (!regex || regex->mode != "m") fail(fmt::format("{}: the pattern must be m followed by a delimiter, e.g. m|^220 |", what));
        for (char c : regex->flags) {
            if (c == 'i') m.caseless = true;
            else if (c == 's') m.dotall = true;
            else fail(fmt::format("{}: unknown regex flag '{}' (only i and s)", what, c));
        }
        m.pattern = std::move(regex->text);
        while (auto f = next_field(rest, what)) {
            std::optional<std::string>* slot = nullptr;
            VersionTemplates& t = m.templates;
            if (f->mode == "p") slot = &t.product;
            else if (f->mode == "v") slot = &t.version;
            else if (f->mode == "i") slot = &t.info;
            else if (f->mode == "h") slot = &t.hostname;
            else if (f->mode == "o") slot = &t.ostype;
            else if (f->mode == "d") slot = &t.devicetype;
            else if (f->mode == "cpe:") {
                // nmap keeps the "cpe:/" prefix in the template; its letter flag
                // ("a") changes nothing in the result.
                t.cpe.push_back("cpe:/" + f->text);
                continue;
            } else {
                fail(fmt::format("{}: unknown field '{}' (expected p v i h o d or cpe:)", what, escape_bytes(f->mode, 20)));
            }
            if (slot->has_value())
                spdlog::debug("services: {}:{}: {}/{}/ replaces {}/{}/", name_, line_no_, f->mode, f->text, f->mode, **slot);
            *slot = std::move(f->text);
        }
        try {
            m.regex = Regex(m.pattern, m.caseless, m.dotall, fmt::format("{}:{}", name_, line_no_));
        } catch (const RegexError& e) {
            fail(fmt::format("{}: bad regex at offset {}: {}", what, e.offset, e.message));
        }
        if (!probe.can_detect(m.service)) probe.services.push_back(m.service);
        probe.matches.push_back(std::move(m));
    }

    // After the whole file: each probe's list of probes to match against, as nmap's
    // compileFallbacks builds it (itself, its fallbacks, then the NULL probe for TCP).
    void resolve_fallbacks() {
        auto& probes = *db_.probes_;
        for (const Probe& p : probes)
            if (p.is_null()) db_.null_ = &p;
        constexpr std::size_t kMaxNamed = 17;  // nmap's MAXFALLBACKS leaves room for 17 names
        for (std::size_t i = 0; i < probes.size(); ++i) {
            Probe& p = probes[i];
            p.fallbacks = {&p};
            if (p.is_null()) continue;
            if (const auto it = fallback_lines_.find(i); it != fallback_lines_.end()) {
                const auto& [names, line] = it->second;
                std::size_t named = 0;
                std::size_t pos = 0;
                while (pos < names.size()) {
                    const auto end = names.find_first_of(", \t", pos);
                    const auto name = std::string_view(names).substr(pos, end == std::string::npos ? std::string::npos : end - pos);
                    pos = end == std::string::npos ? names.size() : end + 1;
                    if (name.empty()) continue;
                    const Probe* target = db_.find(name, p.protocol);
                    if (target == nullptr) fail_at(line, fmt::format("probe {}: unknown fallback probe '{}'", p.name, escape_bytes(name, 40)));
                    if (++named > kMaxNamed) fail_at(line, fmt::format("probe {}: more than {} fallback probes", p.name, kMaxNamed));
                    p.fallbacks.push_back(target);
                }
            }
            if (p.protocol == Protocol::Tcp && db_.null_ != nullptr) p.fallbacks.push_back(db_.null_);
        }
    }

    std::string_view text_;
    const std::string& name_;
    ProbeDb db_;
    int line_no_ = 0;
    bool exclude_seen_ = false;
    bool null_seen_ = false;
    std::unordered_map<std::size_t, std::pair<std::string, int>> fallback_lines_;  // probe index -> names, line
};

ProbeDb ProbeDb::parse(std::string_view text, const std::string& name) { return ProbeFileParser(text, name).run(); }

ProbeDb ProbeDb::load(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(fmt::format("{}: cannot read: {}", path.string(), std::strerror(errno)));
    std::ostringstream buf;
    buf << in.rdbuf();
    if (in.bad()) throw InputError(fmt::format("{}: read error", path.string()));
    return parse(buf.str(), path.string());
}

const Probe* ProbeDb::find(std::string_view name, Protocol protocol) const {
    for (const Probe& p : *probes_)
        if (p.protocol == protocol && p.name == name) return &p;
    for (const Probe& p : *probes_)
        if (p.name == name) return &p;
    return nullptr;
}

bool ProbeDb::excluded(std::uint16_t port, Protocol protocol) const {
    const auto& list = protocol == Protocol::Tcp ? exclude_tcp_ : exclude_udp_;
    return std::binary_search(list.begin(), list.end(), port);
}

std::size_t ProbeDb::match_count() const {
    std::size_t n = 0;
    for (const Probe& p : *probes_) n += p.matches.size();
    return n;
}

void ProbeDb::compile_all() const {
    for (const Probe& p : *probes_)
        for (const Match& m : p.matches) m.regex.ensure_jit();
}

}  // namespace scanfw::services
