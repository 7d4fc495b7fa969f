// nmap --scanflags: TCP probes with any flags the user names, classified as one of
// nmap's scan types says (default: as a SYN scan, which is what nmap pairs
// --scanflags with unless -sA, -sF, ... is given).
#include <cctype>
#include <string>

#include <scanfw/plugin_api.hpp>
#include <scanfw/wire.hpp>

namespace {
using namespace scanfw;

// nmap's spellings: names mashed together in any order ("URGACKPSHRSTSYNFIN",
// "SYNFIN", "ALL", "NONE"), or a number 0-255 (decimal, or hex with 0x).
std::uint8_t parse_flags(std::string_view text) {
    std::string s;
    for (char c : text)
        if (c != ' ' && c != ',' && c != '|' && c != '+') s += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (s.empty()) throw OptionError("flags", "no flags given (try SYN, FINACK, URGPSHFIN or a number 0-255)");
    if (std::isdigit(static_cast<unsigned char>(s[0]))) {
        std::size_t used = 0;
        unsigned long v = 0;
        try {
            v = std::stoul(s, &used, 0);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != s.size() || v > 255) throw OptionError("flags", "'" + std::string(text) + "' is not a number 0-255");
        return static_cast<std::uint8_t>(v);
    }
    if (s == "ALL") return 0xff;
    if (s == "NONE") return 0;
    static constexpr std::pair<const char*, std::uint8_t> kNames[] = {
        {"URG", tcp_flag::URG}, {"ACK", tcp_flag::ACK}, {"PSH", tcp_flag::PSH}, {"RST", tcp_flag::RST},
        {"SYN", tcp_flag::SYN}, {"FIN", tcp_flag::FIN}, {"ECE", tcp_flag::ECE}, {"CWR", tcp_flag::CWR}};
    std::uint8_t flags = 0;
    for (std::size_t i = 0; i < s.size();) {
        bool found = false;
        for (const auto& [name, bit] : kNames)
            if (s.compare(i, 3, name) == 0) {
                flags |= bit;
                i += 3;
                found = true;
                break;
            }
        if (!found)
            throw OptionError("flags", "'" + std::string(text) + "': no TCP flag called '" + s.substr(i, 3) +
                                           "' (URG ACK PSH RST SYN FIN ECE CWR, ALL, NONE, or a number 0-255)");
    }
    return flags;
}

enum class As { Syn, Ack, Window, Null };  // whose classification

As parse_as(std::string_view text) {
    if (text == "syn") return As::Syn;
    if (text == "ack") return As::Ack;
    if (text == "window") return As::Window;
    if (text == "null" || text == "fin" || text == "xmas" || text == "maimon") return As::Null;
    throw OptionError("as", "'" + std::string(text) + "' is not a scan type (syn, ack, window, null, fin, xmas, maimon)");
}

class Scanflags final : public Technique {
public:
    static constexpr OptionSpec kOptions[] = {
        {"flags", OptionType::Text, "SYN", "TCP flags to send: URGACKPSHRSTSYNFIN in any mix, ALL, NONE or 0-255"},
        {"as", OptionType::Text, "syn", "classify replies as this scan type does: syn, ack, window, null, fin, xmas"},
    };
    explicit Scanflags(const Options& o) : flags_(parse_flags(o.text("flags"))), as_(parse_as(o.text("as"))) {}

    Description describe() const override {
        return {.name = "scanflags",
                .description = "TCP probes with the flags you choose, like nmap --scanflags",
                .version = "2.0"};
    }
    std::size_t probe(const ProbeContext& ctx, std::span<std::uint8_t> out) const override {
        return wire::Tcp::probe(ctx, flags_).write(out);
    }
    Verdict classify(const Reply& r) const override {
        using K = Reply::Kind;
        switch (as_) {
            case As::Null: return rfc793_verdict(r);
            case As::Syn:
                if (r.kind == K::Tcp) {
                    if (r.tcp_flags & tcp_flag::RST) return {State::Closed, "reset"};
                    if ((r.tcp_flags & tcp_flag::SYN) && (r.tcp_flags & tcp_flag::ACK)) return {State::Open, "syn-ack"};
                    if (r.tcp_flags & tcp_flag::SYN) return {State::Open, "split-handshake-syn"};
                    return {};
                }
                break;
            case As::Ack:
                if (r.kind == K::Tcp)
                    return (r.tcp_flags & tcp_flag::RST) ? Verdict{State::Unfiltered, "reset"} : Verdict{};
                break;
            case As::Window:
                if (r.kind == K::Tcp) {
                    if (!(r.tcp_flags & tcp_flag::RST)) return {};
                    return {r.tcp_window > 0 ? State::Open : State::Closed, "reset"};
                }
                break;
        }
        if (r.kind == K::IcmpError) return tcp_unreach_verdict(r);
        if (r.kind == K::Silence) return {State::Filtered, "no-response"};
        return {};
    }

private:
    std::uint8_t flags_;
    As as_;
};
}  // namespace

SCANFW_PLUGIN(Scanflags)
