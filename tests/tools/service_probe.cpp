// scanfw_service_probe: the service detection library on the command line, for the
// integration test (tests/integration/services.sh) and for trying it by hand.
//
//   scanfw_service_probe [--probes FILE] [--intensity 0-9] [--debug] HOST PORT/tcp|udp...
//
// Prints one JSON object per line and port, in completion order:
//   {"host":"198.18.0.2","port":22,"protocol":"tcp","name":"ssh","product":"OpenSSH",
//    "version":"9.2p1 Debian 2+deb12u3","extrainfo":"protocol 2.0","tunnel":"",
//    "method":"probed","conf":10,"outcome":"hardmatched","cpe":[...]}
// Exit: 0, 1 on a bad database, 2 on bad arguments, 130 when interrupted.
#include <charconv>
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "system/interrupt.hpp"
#include "common/errors.hpp"
#include "services/prober.hpp"

using namespace scanfw;
using namespace scanfw::services;

namespace {

[[noreturn]] void usage(const std::string& why) {
    std::cerr << "scanfw_service_probe: " << why
              << "\nusage: scanfw_service_probe [--probes FILE] [--intensity 0-9] [--debug] HOST PORT/tcp|udp...\n";
    std::exit(2);
}

ServiceTarget parse_target(const IpAddress& host, std::string_view spec) {
    const auto slash = spec.find('/');
    const auto number = spec.substr(0, slash);
    const auto proto = slash == std::string_view::npos ? std::string_view("tcp") : spec.substr(slash + 1);
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), port);
    if (ec != std::errc() || end != number.data() + number.size() || port > 65535 || (proto != "tcp" && proto != "udp"))
        usage("bad port '" + std::string(spec) + "' (expected PORT/tcp or PORT/udp)");
    return ServiceTarget{host, static_cast<std::uint16_t>(port), proto == "udp"};
}

}  // namespace

int main(int argc, char** argv) {
    std::string probes = kDefaultProbesPath;
    ProberOptions options;
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--probes" && i + 1 < argc) probes = argv[++i];
        else if (a == "--intensity" && i + 1 < argc) {
            const std::string_view v = argv[++i];
            if (v.size() != 1 || v[0] < '0' || v[0] > '9') usage("--intensity takes 0-9");
            options.intensity = v[0] - '0';
        } else if (a == "--debug") spdlog::set_level(spdlog::level::trace);
        else if (!a.empty() && a[0] == '-') usage("unknown option " + std::string(a));
        else args.emplace_back(a);
    }
    if (args.size() < 2) usage("need a host and at least one port");
    const auto host = IpAddress::parse(args[0]);
    if (!host) usage("not an IP address: " + args[0]);
    std::vector<ServiceTarget> targets;
    for (std::size_t i = 1; i < args.size(); ++i) targets.push_back(parse_target(*host, args[i]));

    install_stop_handlers();
    try {
        const ProbeDb db = ProbeDb::load(probes);
        ServiceProber prober(db, options);
        const std::size_t reported = prober.run(targets, [](const ServiceTarget& t, const ServiceResult& r) {
            nlohmann::json j = {{"host", t.host.str()},
                                {"port", t.port},
                                {"protocol", t.udp ? "udp" : "tcp"},
                                {"name", r.id.name},
                                {"product", r.id.product},
                                {"version", r.id.version},
                                {"extrainfo", r.id.extrainfo},
                                {"hostname", r.id.hostname},
                                {"ostype", r.id.ostype},
                                {"devicetype", r.id.devicetype},
                                {"cpe", r.id.cpe},
                                {"tunnel", r.tunnel},
                                {"method", r.method},
                                {"conf", r.conf},
                                {"outcome", outcome_name(r.outcome)},
                                {"probe", r.probe}};
            std::cout << j.dump() << std::endl;
        });
        if (reported < targets.size()) return 130;
    } catch (const InputError& e) {
        std::cerr << "scanfw_service_probe: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
