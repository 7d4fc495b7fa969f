#include "common/service_names.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace scanfw {

ServiceNames ServiceNames::load(const std::string& services_file, const std::string& protocols_file) {
    ServiceNames s;
    s.source_ = services_file;
    std::ifstream in(services_file);
    for (std::string line; std::getline(in, line);) {
        line = line.substr(0, line.find('#'));
        std::istringstream fields(line);
        std::string name, port_proto, freq;
        if (!(fields >> name >> port_proto)) continue;
        const auto slash = port_proto.find('/');
        if (slash == std::string::npos) continue;
        unsigned port = 0;
        const auto* begin = port_proto.data();
        if (std::from_chars(begin, begin + slash, port).ec != std::errc() || port > 65535) continue;
        const std::string proto = port_proto.substr(slash + 1);
        if (proto != "tcp" && proto != "udp") continue;
        Entry e{name, 0};
        if (fields >> freq) {
            try {
                e.frequency = std::stod(freq);
                s.frequencies_ = true;
            } catch (const std::exception&) {
                // /etc/services has aliases here, not a frequency
            }
        }
        // The first entry of a port wins, as getservbyport() does.
        s.ports_.try_emplace(key(static_cast<std::uint16_t>(port), proto == "tcp" ? Protocol::Tcp : Protocol::Udp), e);
    }
    std::ifstream protocols(protocols_file);
    for (std::string line; std::getline(protocols, line);) {
        line = line.substr(0, line.find('#'));
        std::istringstream fields(line);
        std::string name;
        unsigned number = 0;
        if (fields >> name >> number && number < 256 && s.protocols_[number].empty()) s.protocols_[number] = name;
    }
    return s;
}

const ServiceNames& ServiceNames::get() {
    static const ServiceNames names = [] {
        std::vector<std::string> candidates;
        if (const char* env = std::getenv("SCANFW_NMAP_SERVICES")) candidates.emplace_back(env);
        candidates.emplace_back("/usr/share/nmap/nmap-services");
        candidates.emplace_back("/etc/services");
        for (const auto& c : candidates)
            if (std::ifstream(c)) return load(c, "/etc/protocols");
        return load("/etc/services", "/etc/protocols");
    }();
    return names;
}

std::optional<std::string_view> ServiceNames::name(std::uint16_t port, Protocol p) const {
    if (p == Protocol::Ip) {
        if (port < 256 && !protocols_[port].empty()) return protocols_[port];
        return std::nullopt;
    }
    const auto it = ports_.find(key(port, p));
    if (it == ports_.end()) return std::nullopt;
    return it->second.name;
}

std::vector<std::uint16_t> ServiceNames::ports_named(std::string_view name, Protocol p) const {
    std::vector<std::uint16_t> out;
    for (const auto& [k, e] : ports_)
        if (e.name == name && Protocol(k >> 16) == p) out.push_back(static_cast<std::uint16_t>(k & 0xffff));
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<std::uint16_t> ServiceNames::top(std::size_t n, Protocol p) const {
    std::vector<std::pair<double, std::uint16_t>> ranked;
    for (const auto& [k, e] : ports_)
        if (Protocol(k >> 16) == p && e.frequency > 0) ranked.emplace_back(e.frequency, static_cast<std::uint16_t>(k & 0xffff));
    std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    std::vector<std::uint16_t> out;
    for (std::size_t i = 0; i < ranked.size() && i < n; ++i) out.push_back(ranked[i].second);
    return out;
}

}  // namespace scanfw
