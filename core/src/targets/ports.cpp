#include "targets/ports.hpp"

#include <bitset>
#include <cctype>
#include <charconv>
#include <optional>

#include <fmt/format.h>

#include "common/service_names.hpp"

namespace scanfw {
namespace {

constexpr std::uint32_t kMaxPort = 65535;

std::string_view trim(std::string_view s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    const auto last = s.find_last_not_of(" \t\r\n");
    return s.substr(first, last - first + 1);
}

bool all_digits(std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// A port number: digits only, 0-65535. `item` is the whole item, for the message.
std::uint32_t parse_port(std::string_view text, std::string_view item, std::string_view spec) {
    if (!all_digits(text)) {
        throw InputError(fmt::format("bad port item '{}' in '{}': expected N, N-M, -M, N- or -", item, spec));
    }
    std::uint32_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value > kMaxPort) {
        throw InputError(fmt::format("bad port '{}' in '{}': ports are 0-65535", text, spec));
    }
    return value;
}

using PortBits = std::bitset<kMaxPort + 1>;

std::vector<std::uint16_t> to_vector(const PortBits& bits) {
    std::vector<std::uint16_t> out;
    out.reserve(bits.count());
    for (std::uint32_t p = 0; p <= kMaxPort; ++p) {
        if (bits[p]) out.push_back(static_cast<std::uint16_t>(p));
    }
    return out;
}

}  // namespace

PortSpec parse_ports(std::string_view spec) {
    if (trim(spec).empty()) throw InputError("empty port spec");

    PortBits tcp, udp, ip;
    bool to_tcp = true, to_udp = true, to_ip = true;  // before any prefix: every protocol

    std::size_t pos = 0;
    while (true) {
        const auto comma = spec.find(',', pos);
        const auto raw = spec.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
        std::string_view item = trim(raw);
        if (item.empty()) throw InputError(fmt::format("empty item in '{}'", spec));

        // A protocol prefix switches the section for this and the following items.
        if (item.size() >= 2 && item[1] == ':') {
            const char proto = item[0];
            const char p = static_cast<char>(std::toupper(static_cast<unsigned char>(proto)));
            if (p != 'T' && p != 'U' && p != 'P')
                throw InputError(fmt::format("unsupported protocol prefix '{}' in '{}': T:, U: and P: are supported",
                                             item.substr(0, 2), spec));
            to_tcp = p == 'T';
            to_udp = p == 'U';
            to_ip = p == 'P';
            const auto prefixed = item;
            item = trim(item.substr(2));
            if (item.empty()) throw InputError(fmt::format("empty item '{}' in '{}'", prefixed, spec));
        }

        std::uint32_t lo = 0, hi = 0;
        const auto dash = item.find('-');
        // A service name ("ssh", "http"): every port nmap-services (or /etc/services) calls so.
        if (!item.empty() && std::isalpha(static_cast<unsigned char>(item[0])) && dash == std::string_view::npos) {
            const auto& names = ServiceNames::get();
            const auto t = names.ports_named(item, Protocol::Tcp), u = names.ports_named(item, Protocol::Udp);
            if ((!to_tcp || t.empty()) && (!to_udp || u.empty()))
                throw InputError(fmt::format("no port is called '{}' in {} (in '{}')", item, names.source(), spec));
            if (to_tcp)
                for (auto port : t) tcp.set(port);
            if (to_udp)
                for (auto port : u) udp.set(port);
            if (comma == std::string_view::npos) break;
            pos = comma + 1;
            continue;
        }
        if (dash == std::string_view::npos) {
            lo = hi = parse_port(item, item, spec);
        } else {
            const auto left = item.substr(0, dash);
            const auto right = item.substr(dash + 1);
            lo = left.empty() ? 1 : parse_port(left, item, spec);
            hi = right.empty() ? kMaxPort : parse_port(right, item, spec);
            if (lo > hi) throw InputError(fmt::format("reversed port range '{}' in '{}'", item, spec));
        }
        for (std::uint32_t p = lo; p <= hi; ++p) {
            if (to_tcp) tcp.set(p);
            if (to_udp) udp.set(p);
            if (to_ip) ip.set(p);
        }

        if (comma == std::string_view::npos) break;
        pos = comma + 1;
    }
    return PortSpec{to_vector(tcp), to_vector(udp), to_vector(ip)};
}

}  // namespace scanfw
