#include "cli/cli.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cli/version.hpp"
#include "targets/ports.hpp"

namespace scanfw {

std::vector<std::string> normalize_nmap_style(const std::vector<std::string>& args) {
    static const std::pair<const char*, const char*> kRenames[] = {
        {"-oJ", "--output-json"},   {"-oX", "--output-xml"}, {"-oG", "--output-grepable"},
        {"-oN", "--output-normal"}, {"-oA", "--output-all"},      {"-iL", "--input-list"}};
    std::vector<std::string> out;
    for (const auto& a : args) {
        std::string renamed = a;
        for (const auto& [from, to] : kRenames) {
            const std::string f = from;
            if (a == f) renamed = to;
            else if (a.rfind(f, 0) == 0 && a.size() > f.size()) renamed = std::string(to) + "=" + a.substr(f.size());
        }
        out.push_back(renamed);
    }
    return out;
}

int parse_command_line(int argc, const char* const* argv, CliOptions& out) {
    std::vector<std::string> args(argv + 1, argv + argc);
    for (int i = 0; i < argc; ++i) out.command_line += (i ? " " : "") + std::string(argv[i]);
    args = normalize_nmap_style(args);

    CLI::App app{"scanfw: a port scanner whose scan techniques are plugins", "scanfw"};
    app.set_version_flag("--version", version_text, "Print the version, the plugin API version and the libraries' versions, and exit");
    app.get_formatter()->column_width(32);

    std::vector<std::string> plugins;
    std::string ports, timeout, json, xml, grepable, normal, all;
    int retries = -1;
    std::uint64_t rate = 0;
    app.add_option("--plugin", plugins, "Techniques to run, by name (repeat or comma-separate: syn,ack)")
        ->delimiter(',')->type_name("NAME")->allow_extra_args(false);
    app.add_option("-p,--ports", ports, "Ports, nmap syntax: 22,80,1000-2000  T:22,U:53  - (all); default 1-1024")
        ->type_name("PORTS");
    app.add_option("--profile", out.profile, "YAML scan profile; flags given here override it")->type_name("FILE");
    app.add_option("--timeout", timeout, "Wait at most this long for a reply to each try: 500ms, 2s (default 1s,\nshorter once round trips are measured)")
        ->type_name("TIME");
    app.add_option("-T", out.timing_level, "Timing template 0-5, as nmap's (-T4: fast network; default 3)")
        ->check(CLI::Range(0, 5))->type_name("0-5");
    app.add_option("--min-rate", out.min_rate, "Send at least N probes per second, whatever the loss")
        ->check(CLI::Range(0.001, 1e8))->type_name("N");
    app.add_option("--max-retries", out.max_retries, "At most N retransmissions, however lossy the network (default 10)")
        ->check(CLI::Range(0, 50))->type_name("N");
    app.add_flag("--defeat-icmp-ratelimit", out.defeat_icmp_ratelimit,
                 "UDP: do not wait out a target's ICMP rate limit (unanswered ports report open|filtered)");
    app.add_flag("-q,--quiet", out.quiet, "No progress line on stderr");
    app.add_option("--retries", retries, "Retransmissions of an unanswered probe: fixed N (default: 2, more under loss)")
        ->check(CLI::Range(0, 20))->type_name("N");
    app.add_option("--rate", rate, "At most N probes per second (default 10000; -T4 100000, -T5 1000000)")
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100'000'000}))->type_name("N");
    app.add_option("--output-json", json, "-oJ FILE: JSON Lines, one object per result ('-' for stdout)")
        ->type_name("FILE");
    app.add_option("--output-xml", xml, "-oX FILE: nmap XML ('-' for stdout)")->type_name("FILE");
    app.add_option("--output-grepable", grepable, "-oG FILE: nmap grepable output ('-' for stdout)")
        ->type_name("FILE");
    app.add_option("--output-normal", normal, "-oN FILE: nmap normal output ('-' for stdout)")->type_name("FILE");
    app.add_option("--output-all", all, "-oA BASE: BASE.xml, BASE.gnmap, BASE.nmap and BASE.jsonl at once")
        ->type_name("BASE");
    app.add_flag("--reason", out.show_reason, "Show the reason for each state in the table and normal output");
    app.add_flag("--open", out.open_only, "Show only ports that are or may be open (open, open|filtered, unfiltered)");
    app.add_option("--input-list", out.input_list, "-iL FILE: read targets from FILE (streamed, '#' comments)")
        ->type_name("FILE");
    app.add_option("--exclude", out.exclude, "Never scan these targets (comma-separated)")
        ->type_name("LIST")->allow_extra_args(false);
    app.add_option("--excludefile", out.exclude_file, "Never scan the targets listed in FILE")->type_name("FILE");
    app.add_option("--resume", out.resume,
                   "Continue an interrupted scan: skip every result FILE (its -oJ output) already has")
        ->type_name("FILE");
    app.add_option("--user", out.user, "Run as USER once the raw socket and capture are open (default: $SUDO_UID)")
        ->type_name("USER");
    bool only4 = false, only6 = false;
    auto* flag4 = app.add_flag("-4", only4, "Hostnames resolve to their IPv4 address (the default prefers it)");
    app.add_flag("-6", only6, "Hostnames resolve to their IPv6 address")->excludes(flag4);
    app.add_flag("--list-plugins", out.list_plugins, "List the technique plugins found, and exit");
    app.add_option("--plugin-dir", out.plugin_dirs, "Also look for plugins here (before the default places)")
        ->type_name("DIR")->allow_extra_args(false);
    app.add_flag("-v,--verbose", out.verbosity, "More log output (-vv: debug)");
    app.add_option("targets", out.scan.targets, "Hosts: 198.18.0.2, 198.18.0.0/24, 198.18.0.1-20, a hostname")
        ->type_name("TARGET");
    app.footer("Examples:\n  scanfw --plugin xmas -p 1-1024 198.18.0.2\n  scanfw --plugin syn,ack -p- 198.18.0.0/28\n"
               "  scanfw --profile profiles/quick-tcp.yaml 198.18.0.2\n\n"
               "Exit status: 0 done, 1 the scan failed, 2 bad usage or input.");

    std::reverse(args.begin(), args.end());  // CLI11 takes the arguments reversed
    try {
        app.parse(args);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        spdlog::error("{} (see scanfw --help)", e.what());
        return 2;
    }

    if (only4) out.name_family = Family::V4;
    if (only6) out.name_family = Family::V6;
    out.scan.plugins = plugins;
    if (!ports.empty()) out.scan.ports = ports;
    if (!timeout.empty()) {
        out.scan.timeout = parse_duration(timeout);
        if (!out.scan.timeout) {
            spdlog::error("--timeout: '{}' is not a duration (try 500ms or 2s)", timeout);
            return 2;
        }
    }
    if (retries >= 0) out.scan.retries = retries;
    if (rate > 0) out.scan.rate = rate;
    if (!json.empty()) out.scan.outputs.json = json;
    if (!xml.empty()) out.scan.outputs.xml = xml;
    if (!grepable.empty()) out.scan.outputs.grepable = grepable;
    if (!normal.empty()) out.scan.outputs.normal = normal;
    if (!all.empty()) out.scan.outputs.all = all;
    return -1;
}

}  // namespace scanfw
