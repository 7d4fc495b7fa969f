#include "services/text.hpp"

#include <fmt/format.h>

namespace scanfw::services {

namespace {
bool is_print(unsigned char c) { return c >= 0x20 && c <= 0x7e; }
bool is_alnum(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
}  // namespace

std::optional<std::string> unescape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\\') {
            out.push_back(text[i]);
            continue;
        }
        if (++i == text.size()) return std::nullopt;  // a lone backslash at the end
        const char c = text[i];
        switch (c) {
            case '0': out.push_back('\0'); break;
            case 'a': out.push_back('\a'); break;
            case 'b': out.push_back('\b'); break;
            case 'f': out.push_back('\f'); break;
            case 'n': out.push_back('\n'); break;
            case 'r': out.push_back('\r'); break;
            case 't': out.push_back('\t'); break;
            case 'v': out.push_back('\v'); break;
            case 'x': {
                if (i + 2 >= text.size()) return std::nullopt;  // needs two more characters
                const int hi = hex_value(text[i + 1]), lo = hex_value(text[i + 2]);
                if (hi < 0 || lo < 0) return std::nullopt;
                out.push_back(static_cast<char>(hi * 16 + lo));
                i += 2;
                break;
            }
            default:
                // nmap refuses other letters and digits (no octal escapes); any other
                // character stands for itself.
                if (is_alnum(static_cast<unsigned char>(c))) return std::nullopt;
                out.push_back(c);
        }
    }
    return out;
}

std::string printable_field(std::string_view text, std::size_t max_len) {
    const auto nul = text.find('\0');
    if (nul != std::string_view::npos) text = text.substr(0, nul);
    if (text.size() > max_len) text = text.substr(0, max_len);
    std::string out(text);
    for (char& c : out)
        if (!is_print(static_cast<unsigned char>(c))) c = '.';
    return out;
}

std::string escape_bytes(std::string_view bytes, std::size_t max_len) {
    std::string out;
    const std::size_t n = std::min(bytes.size(), max_len);
    out.reserve(n + 8);
    for (std::size_t i = 0; i < n; ++i) {
        const auto c = static_cast<unsigned char>(bytes[i]);
        if (c == '\\') out += "\\\\";
        else if (is_print(c)) out.push_back(static_cast<char>(c));
        else out += fmt::format("\\x{:02x}", c);
    }
    if (bytes.size() > max_len) out += "...";
    return out;
}

}  // namespace scanfw::services
