#include "output/resume.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "targets/ports.hpp"

namespace scanfw {

std::string ResumeSet::key(std::string_view technique, const IpAddress& host, std::uint16_t port) {
    std::string k(technique);
    k += '/';
    k.append(reinterpret_cast<const char*>(host.bytes.data()), host.family == Family::V4 ? 4 : 16);
    k += static_cast<char>(port >> 8);
    k += static_cast<char>(port & 0xff);
    return k;
}

void ResumeSet::load(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw InputError(fmt::format("--resume {}: cannot read: {}", path, std::strerror(errno)));
    std::string line;
    for (std::size_t n = 1; std::getline(in, line); ++n) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        const auto j = nlohmann::json::parse(line, nullptr, false);
        auto bad = [&](const char* why) { return InputError(fmt::format("{}:{}: {}", path, n, why)); };
        if (j.is_discarded() || !j.is_object()) throw bad("not a JSON object (is this scanfw's -oJ output?)");
        if (!j.contains("port")) continue;  // the summary object
        if (!j.contains("host") || !j["host"].is_string() || !j["port"].is_number_unsigned() ||
            !j.contains("technique") || !j["technique"].is_string())
            throw bad("a result needs host, port and technique");
        const auto host = IpAddress::parse(j["host"].get<std::string>());
        const auto port = j["port"].get<std::uint64_t>();
        if (!host || port > 65535) throw bad("bad host or port");
        done_.insert(key(j["technique"].get<std::string>(), *host, static_cast<std::uint16_t>(port)));
    }
}

bool ResumeSet::done(std::string_view technique, const IpAddress& host, std::uint16_t port) const {
    return done_.count(key(technique, host, port)) != 0;
}

}  // namespace scanfw
