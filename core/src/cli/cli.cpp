#include "cli/cli.hpp"

#include <algorithm>
#include <tuple>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cli/version.hpp"
#include "engine/timing.hpp"
#include "targets/ports.hpp"

namespace scanfw {

namespace {

// nmap's scan types, as the techniques that do them.
constexpr std::pair<const char*, const char*> kScanTypes[] = {
    {"-sS", "syn"}, {"-sT", "connect"}, {"-sA", "ack"},    {"-sW", "window"}, {"-sN", "null"},
    {"-sF", "fin"}, {"-sX", "xmas"},    {"-sU", "udp"},    {"-sM", "maimon"}, {"-sO", "ipproto"}};

// nmap's host discovery flags, as the host techniques that do them (ports after a
// flag go to the technique's `ports` option: -PS22,80).
constexpr std::pair<const char*, const char*> kPingTypes[] = {
    {"-PE", "icmp-echo"},    {"-PP", "icmp-timestamp"}, {"-PM", "icmp-netmask"}, {"-PS", "tcp-syn-ping"},
    {"-PA", "tcp-ack-ping"}, {"-PU", "udp-ping"},       {"-PR", "arp"}};

// nmap's features scanfw does not have: refused with what to use instead (exit 2),
// instead of CLI11's "not expected".
constexpr std::pair<const char*, const char*> kMissing[] = {
    {"-O", "OS detection"},         {"--osscan-limit", "OS detection"}, {"--osscan-guess", "OS detection"},
    {"--traceroute", "traceroute"}, {"-A", "-A (OS detection, -sC and traceroute)"},
    {"-sC", "the scripting engine"}, {"--script", "the scripting engine"}, {"--script-args", "the scripting engine"},
    {"-sY", "SCTP scans"},           {"-sZ", "SCTP scans"},              {"-sI", "the idle scan"},
    {"-b", "the FTP bounce scan"}};

// nmap's combined scan types: -sSV, -sSU, -sUV are -sS -sV, -sS -sU, -sU -sV.
bool expand_scan_types(const std::string& a, std::vector<std::string>& out) {
    if (a.size() <= 3 || a.rfind("-s", 0) != 0 || a.find_first_not_of("STAWNFXUMOV", 2) != std::string::npos)
        return false;
    for (std::size_t i = 2; i < a.size(); ++i) out.push_back(std::string("-s") + a[i]);
    return true;
}

// CLI11's messages, in words where they are not: "--top-ports: At Most 1 required but
// received 2" (an option given twice).
std::string parse_error_text(const std::string& what) {
    const auto at = what.find(": At Most 1 required but received ");
    if (at != std::string::npos)
        return fmt::format("{} is given {} times; give it once", what.substr(0, at),
                           what.substr(at + std::string_view(": At Most 1 required but received ").size()));
    return what;
}

}  // namespace

std::vector<std::string> normalize_nmap_style(const std::vector<std::string>& args) {
    static const std::pair<const char*, const char*> kRenames[] = {
        {"-oJ", "--output-json"},   {"-oX", "--output-xml"}, {"-oG", "--output-grepable"},
        {"-oN", "--output-normal"}, {"-oA", "--output-all"}, {"-iL", "--input-list"}};
    std::vector<std::string> expanded;
    for (const auto& a : args) {
        for (const auto& [flag, what] : kMissing) {
            const std::string f = flag;
            if (a == f || (f.rfind("--", 0) == 0 && a.rfind(f + "=", 0) == 0))
                throw InputError(fmt::format("{}: scanfw has no {}; run nmap for it, beside scanfw's port scan "
                                             "(same target syntax and outputs)",
                                             f, what));
        }
        if (!expand_scan_types(a, expanded)) expanded.push_back(a);
    }
    const auto given = [&](std::string_view flag) {
        return std::any_of(expanded.begin(), expanded.end(), [&](const std::string& a) {
            return a == flag || (a.rfind(flag, 0) == 0 && a.size() > flag.size() && a[flag.size()] == '=');
        });
    };
    if (given("-F") && given("--top-ports"))
        throw InputError("-F and --top-ports: -F is --top-ports 100; give one of them");
    std::vector<std::string> out;
    bool positional = false;  // after "--", everything is a target
    for (const auto& a : expanded) {
        if (positional || a == "--") {
            positional = true;
            out.push_back(a);
            continue;
        }
        bool done = false;
        for (const auto& [flag, technique] : kScanTypes)
            if (a == flag) {
                out.push_back(std::string("--plugin=") + technique);
                done = true;
            }
        for (const auto& [flag, technique] : kPingTypes)
            if (!done && a.rfind(flag, 0) == 0) {
                out.push_back(std::string("--discover=") + technique + (a.size() > 3 ? ":" + a.substr(3) : ""));
                done = true;
            }
        if (done) continue;
        if (a == "-sV") out.emplace_back("--service-detection");
        else if (a == "-sn") out.emplace_back("--ping-only");
        else if (a == "-sL") out.emplace_back("--list-targets");
        else if (a == "-Pn") out.emplace_back("--no-discovery");
        else if (a == "-F") out.emplace_back("--top-ports=100");
        else if (a == "-V") out.emplace_back("--version");
        else if (a.size() >= 2 && a.find_first_not_of('d', 1) == std::string::npos && a[0] == '-') {
            // -d, -dd: nmap's debugging, as scanfw's debug log (-vv) and trace (-vvv).
            out.insert(out.end(), a.size() >= 3 ? 3 : 2, "-v");
        }
        else {
            std::string renamed = a;
            for (const auto& [from, to] : kRenames) {
                const std::string f = from;
                if (a == f) renamed = to;
                else if (a.rfind(f, 0) == 0 && a.size() > f.size()) renamed = std::string(to) + "=" + a.substr(f.size());
            }
            out.push_back(renamed);
        }
    }
    return out;
}

bool CliOptions::only_resume() const {
    const ScanConfig& s = scan;
    return resume && !profile && s.plugins.empty() && !s.discovery && !s.ping_only && !s.ports && !s.top_ports &&
           s.targets.empty() && !s.input_list && s.exclude.empty() && !s.exclude_file && !s.service &&
           s.source_ip.empty() && !s.shard && !s.seed && !s.sequential && !s.interface && !s.reverse_dns &&
           s.dns_servers.empty() && plugin_args.empty() && !scanflags;
}

int parse_command_line(int argc, const char* const* argv, CliOptions& out) {
    return parse_command_line(std::vector<std::string>(argv, argv + argc), out);
}

int parse_command_line(const std::vector<std::string>& argv, CliOptions& out) {
    out.argv = argv;
    std::vector<std::string> args(argv.begin() + (argv.empty() ? 0 : 1), argv.end());
    try {
        args = normalize_nmap_style(args);
    } catch (const InputError& e) {
        spdlog::error("{}", e.what());
        return 2;
    }

    CLI::App app{"scanfw: a port scanner whose scan techniques are plugins", "scanfw"};
    app.set_version_flag("--version", version_text,
                         "Print the version, the plugin API version and the libraries' versions, and exit");
    app.get_formatter()->column_width(34);
    ScanConfig& s = out.scan;

    // Techniques.
    std::vector<std::string> plugins, discover, plugin_args;
    app.add_option("--plugin", plugins,
                   "Techniques to run, by name (repeat or comma-separate: syn,ack); nmap's -sS -sT -sA -sW -sN -sF -sX "
                   "-sU -sM -sO too. Default: syn when raw sockets are allowed, else connect")
        ->delimiter(',')->type_name("NAME")->allow_extra_args(false);
    app.add_option("--plugin-arg", plugin_args, "Set a technique's option: scanflags.flags=FINACK (repeatable)")
        ->type_name("PLUGIN.OPTION=VALUE")->allow_extra_args(false);
    app.add_option("--scanflags", out.scanflags, "TCP probes with these flags (URGACKPSHRSTSYNFIN), as nmap's")
        ->type_name("FLAGS");
    // Host discovery.
    app.add_option("--discover", discover,
                   "Host discovery with these techniques (nmap's -PE -PP -PM -PS[ports] -PA[ports] -PU[ports] -PR); "
                   "NAME:PORTS sets its ports")
        ->type_name("NAME[:PORTS]")->allow_extra_args(false);
    bool no_discovery = false, ping_only = false, service = false, version_light = false, version_all = false;
    app.add_flag("--no-discovery", no_discovery, "-Pn: no host discovery: take every target as up");
    app.add_flag("--ping-only", ping_only, "-sn: host discovery only, no port scan");
    bool disable_arp_ping = false;
    app.add_flag("--disable-arp-ping", disable_arp_ping,
                 "No ARP/neighbour discovery of its own on a local segment: send the discovery probes there too");
    // Ports.
    std::string ports;
    app.add_option("-p,--ports", ports,
                   "Ports, nmap syntax: 22,80,1000-2000 T:22,U:53 ssh,http - (all); P: for IP protocols. "
                   "Default: nmap's 1000 most common")
        ->type_name("PORTS");
    std::uint32_t top = 0;
    app.add_option("--top-ports", top, "The N ports most often open (nmap-services); -F: 100")
        ->check(CLI::Range(1u, 65535u).description(""))->type_name("N");
    // Service detection.
    app.add_flag("--service-detection", service, "-sV: identify what listens on open ports (nmap's service probes)");
    int intensity = -1;
    app.add_option("--version-intensity", intensity, "How many of nmap's probes -sV tries: 0-9 (default 7)")
        ->check(CLI::Range(0, 9).description(""))->type_name("0-9");
    app.add_flag("--version-light", version_light, "-sV with intensity 2");
    app.add_flag("--version-all", version_all, "-sV with intensity 9");
    std::string service_db;
    app.add_option("--service-db", service_db, "nmap-service-probes file (default: nmap's, installed by nmap-common)")
        ->type_name("FILE");
    // Profiles.
    app.add_option("--profile", out.profile, "YAML scan profile, a file or a shipped one's name; flags override it")
        ->type_name("FILE|NAME");
    // Timing.
    std::string timing, timeout, rate, min_rate, min_rtt, max_rtt, initial_rtt;
    int retries = -1, max_retries = -1;
    app.add_option("-T", timing, "Timing template, as nmap's: 0-5 or paranoid .. insane (default 3, normal)")
        ->type_name("0-5|NAME");
    app.add_option("--timeout", timeout,
                   "Wait at most this long for an answer to each try: 500ms, 2s (default 1s; shorter once round trips "
                   "are measured)")
        ->type_name("TIME");
    app.add_option("--max-rtt-timeout", max_rtt, "As nmap's: a try waits at most this long, however slow the round trips")
        ->type_name("TIME");
    app.add_option("--min-rtt-timeout", min_rtt, "As nmap's: a try waits at least this long, however fast the round trips")
        ->type_name("TIME");
    app.add_option("--initial-rtt-timeout", initial_rtt, "As nmap's: a try's wait until a round trip is measured")
        ->type_name("TIME");
    app.add_option("--retries", retries, "Retransmissions of an unanswered probe: exactly N (default: 2, more under loss)")
        ->check(CLI::Range(0, 20).description(""))->type_name("N");
    app.add_option("--max-retries", max_retries, "At most N retransmissions, however lossy the network (default 10)")
        ->check(CLI::Range(0, 50).description(""))->type_name("N");
    app.add_option("--rate,--max-rate", rate, "At most N probes per second (default 10000; -T4 100000, -T5 1000000)")
        ->type_name("N");
    app.add_option("--min-rate", min_rate, "At least N probes per second, whatever the loss")->type_name("N");
    bool defeat = false;
    app.add_flag("--defeat-icmp-ratelimit", defeat,
                 "Believe silence at once instead of waiting out ICMP rate limits (closed UDP ports may read "
                 "open|filtered)");
    // Sources, shards.
    std::vector<std::string> source_ip;
    app.add_option("--source-ip", source_ip,
                   "Send from these addresses of this host (a pool: address, range or prefix, comma-separated)")
        ->type_name("LIST")->allow_extra_args(false);
    std::string interface;
    app.add_option("-e,--interface", interface,
                   "Send through this interface, as nmap's -e: its address is the source, and a target with no "
                   "route through it is taken as on its link")
        ->type_name("IFACE");
    std::string shard;
    app.add_option("--shard", shard, "Scan shard K of N (1..N) of the scan; needs --seed")->type_name("K/N");
    bool no_dns = false, all_dns = false;
    app.add_flag("-n", no_dns, "No reverse DNS (default: the names of the hosts found up, as nmap)");
    app.add_flag("-R", all_dns, "Reverse DNS of every target, also those found down");
    std::vector<std::string> dns_servers;
    app.add_option("--dns-servers", dns_servers, "Ask these DNS servers (comma-separated) instead of /etc/resolv.conf's")
        ->type_name("LIST")->delimiter(',')->allow_extra_args(false);
    bool sequential = false;
    app.add_flag("-r,--sequential-ports", sequential,
                 "Probe ports in order, as nmap's -r (default: a random order, so that no host sees a sweep)");
    std::uint64_t seed = 0;
    auto* seed_opt = app.add_option("--seed", seed, "The seed of the scan's order (the same in every shard)")
                         ->type_name("S");
    // Outputs.
    std::string json, xml, grepable, normal, all;
    app.add_option("--output-json", json, "-oJ FILE: JSON Lines, the scan's record ('-' for stdout)")->type_name("FILE");
    app.add_option("--output-xml", xml, "-oX FILE: nmap XML ('-' for stdout)")->type_name("FILE");
    app.add_option("--output-grepable", grepable, "-oG FILE: nmap grepable output ('-' for stdout)")->type_name("FILE");
    app.add_option("--output-normal", normal, "-oN FILE: nmap normal output ('-' for stdout)")->type_name("FILE");
    app.add_option("--output-all", all, "-oA BASE: BASE.xml, BASE.gnmap, BASE.nmap and BASE.jsonl at once")
        ->type_name("BASE");
    bool reason = false, open = false;
    app.add_flag("--reason", reason, "Show the reason for each state in the table and normal output");
    app.add_flag("--open", open, "Show only ports that are or may be open (open, open|filtered, unfiltered)");
    // Targets.
    std::string input_list, exclude_file;
    std::vector<std::string> exclude;
    app.add_option("--input-list", input_list, "-iL FILE: read targets from FILE (streamed, '#' comments)")
        ->type_name("FILE");
    app.add_option("--exclude", exclude, "Never scan these targets (comma-separated)")
        ->type_name("LIST")->allow_extra_args(false);
    app.add_option("--excludefile", exclude_file, "Never scan the targets listed in FILE")->type_name("FILE");
    bool only4 = false, only6 = false;
    app.add_flag("-4", only4, "IPv4 targets only; hostnames resolve to their IPv4 address (the default prefers it)");
    app.add_flag("-6", only6, "IPv6 targets only; hostnames resolve to their IPv6 address");
    // Running.
    app.add_option("--resume", out.resume,
                   "Continue an interrupted scan from its -oJ FILE; alone, with the command line the file records")
        ->type_name("FILE");
    app.add_option("--user", out.user, "Run as USER once the raw socket and capture are open (default: $SUDO_UID)")
        ->type_name("USER");
    app.add_flag("--dry-run", out.dry_run, "Check the whole command line, profile, plugins, targets and outputs, and say what would be done; send and write nothing");
    app.add_flag("-q,--quiet", out.quiet, "No progress line on stderr");
    app.add_flag("-v,--verbose", out.verbosity, "More log output: -v says what it learns (ICMP limits), -vv debug");
    app.add_flag("--list-plugins", out.list_plugins, "List the technique plugins found, their options, and exit");
    app.add_flag("--list-targets", out.list_targets, "-sL: list the targets (names as given, addresses), scan nothing");
    app.add_option("--plugin-dir", out.plugin_dirs, "Also look for plugins here (before the default places)")
        ->type_name("DIR")->allow_extra_args(false);
    app.add_option("targets", s.targets, "Hosts: 198.18.0.2, 198.18.0.0/24, 198.18.0.1-20, fe80::1%eth0, a hostname")
        ->type_name("TARGET");

    // scanfw merge [outputs] FILES...
    CLI::App* merge = app.add_subcommand("merge", "Write every output of a scan from its shards' -oJ records");
    std::string m_json, m_xml, m_grepable, m_normal, m_all;
    merge->add_option("--output-json", m_json, "-oJ FILE")->type_name("FILE");
    merge->add_option("--output-xml", m_xml, "-oX FILE")->type_name("FILE");
    merge->add_option("--output-grepable", m_grepable, "-oG FILE")->type_name("FILE");
    merge->add_option("--output-normal", m_normal, "-oN FILE")->type_name("FILE");
    merge->add_option("--output-all", m_all, "-oA BASE")->type_name("BASE");
    merge->add_flag("--allow-partial", out.allow_partial,
                    "Merge even when shards are missing or unfinished (every output says what is missing)");
    merge->add_flag("--reason", reason, "Reasons in the table and normal output");
    merge->add_flag("--open", open, "Only ports that are or may be open");
    merge->add_flag("-v,--verbose", out.verbosity, "More log output");
    merge->add_option("files", out.merge_files, "The shards' -oJ files")->type_name("SHARD.jsonl")->required();

    app.footer(
        "Examples:\n  scanfw -sS -p 1-1024 198.18.0.2\n  scanfw --plugin xmas,udp -p T:1-1024,U:53,161 198.18.0.0/28\n"
        "  scanfw -sn 198.18.0.0/24\n  scanfw --profile quick-tcp 198.18.0.2\n"
        "  scanfw --shard 1/4 --seed 7 -sS -p 80 198.18.0.0/16 -oJ shard-1.jsonl\n"
        "  scanfw merge -oA scan shard-*.jsonl\n\n"
        "Exit status: 0 done, 1 the scan failed, 2 bad usage or input, 130 interrupted.");

    std::reverse(args.begin(), args.end());  // CLI11 takes the arguments reversed
    try {
        app.parse(args);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        spdlog::error("{} (see scanfw --help)", parse_error_text(e.what()));
        return 2;
    }

    auto fail = [](const std::string& message) {
        spdlog::error("{} (see scanfw --help)", message);
        return 2;
    };
    try {
        if (only4 && only6) return fail("-4 and -6: a hostname resolves to one family; give one or neither");
        if (only4) out.name_family = Family::V4;
        if (only6) out.name_family = Family::V6;
        for (const auto& p : plugins) {
            if (!valid_plugin_name(p)) return fail(fmt::format("--plugin '{}': a name is [a-z0-9_-]+, not a path", p));
            s.plugins.push_back({p, {}});
        }
        for (const auto& a : plugin_args) out.plugin_args.push_back(parse_plugin_arg(a));
        if (no_discovery && (!discover.empty() || ping_only))
            return fail(no_discovery && ping_only ? "-Pn with -sn: -sn is host discovery alone, -Pn none"
                                                  : "-Pn with -P* flags: choose either no discovery or these probes");
        if (no_discovery) s.discovery = std::vector<PluginRequest>{};
        if (!discover.empty()) {
            std::vector<PluginRequest> d;
            for (const auto& spec : discover) {
                const auto colon = spec.find(':');
                PluginRequest req{spec.substr(0, colon), {}};
                if (colon != std::string::npos) {
                    // Checked where every option is, by the plugin's option list; the
                    // message names the flag as given (-PS22,80).
                    std::string where = "--discover " + spec;
                    for (const auto& [flag, technique] : kPingTypes)
                        if (req.name == technique) where = flag + spec.substr(colon + 1);
                    req.options.push_back({"ports", spec.substr(colon + 1), where});
                }
                // -PR is ARP for IPv4 targets and neighbour discovery for IPv6 ones, as in nmap.
                const bool arp = req.name == "arp";
                d.push_back(std::move(req));
                if (arp) d.push_back({"nd", {}});
            }
            s.discovery = d;
        }
        if (ping_only) s.ping_only = true;
        if (disable_arp_ping) s.disable_arp_ping = true;
        if (!ports.empty()) s.ports = ports;
        if (top > 0) s.top_ports = top;
        if (service || version_light || version_all || intensity >= 0) s.service = true;
        if (intensity >= 0) s.version_intensity = intensity;
        if (version_light) s.version_intensity = 2;
        if (version_all) s.version_intensity = 9;
        if (!service_db.empty()) s.service_db = service_db;
        if (!timing.empty()) {
            const int level = timing_level(timing);
            if (level < 0) return fail(fmt::format("-T '{}': give 0-5 or paranoid, sneaky, polite, normal, aggressive, insane", timing));
            s.timing = level;
        }
        if (!timeout.empty()) {
            s.timeout = parse_duration(timeout);
            if (!s.timeout) return fail(fmt::format("--timeout: '{}' is not a duration (try 500ms or 2s)", timeout));
        }
        for (const auto& [flag, text, field] : {std::tuple{"--min-rtt-timeout", &min_rtt, &s.min_rtt_timeout},
                                                {"--max-rtt-timeout", &max_rtt, &s.max_rtt_timeout},
                                                {"--initial-rtt-timeout", &initial_rtt, &s.initial_rtt_timeout}}) {
            if (text->empty()) continue;
            *field = parse_duration(*text);
            if (!*field) return fail(fmt::format("{}: '{}' is not a duration (try 500ms or 2s)", flag, *text));
        }
        if (retries >= 0) s.retries = retries;
        if (max_retries >= 0) s.max_retries = max_retries;
        if (!rate.empty()) {
            s.rate = parse_rate(rate);
            if (!s.rate) return fail(fmt::format("--rate: '{}' is not a positive number of probes per second", rate));
        }
        if (!min_rate.empty()) {
            s.min_rate = parse_rate(min_rate);
            if (!s.min_rate) return fail(fmt::format("--min-rate: '{}' is not a positive number of probes per second", min_rate));
        }
        if (defeat) s.defeat_icmp_ratelimit = true;
        if (!source_ip.empty()) s.source_ip = source_ip;
        if (!shard.empty()) s.shard = shard;
        if (seed_opt->count() > 0) s.seed = seed;
        if (sequential) s.sequential = true;
        if (!interface.empty()) s.interface = interface;
        if (no_dns && all_dns) return fail("-n and -R contradict each other: -n asks no names, -R every target's");
        if (no_dns) s.reverse_dns = "never";
        if (all_dns) s.reverse_dns = "all";
        if (!dns_servers.empty()) s.dns_servers = dns_servers;
        if (reason) s.reason = true;
        if (open) s.open = true;
        if (!input_list.empty()) s.input_list = input_list;
        if (!exclude.empty()) s.exclude = exclude;
        if (!exclude_file.empty()) s.exclude_file = exclude_file;
        out.merge = merge->parsed();
        const bool m = out.merge;
        if (!(m ? m_json : json).empty()) s.outputs.json = m ? m_json : json;
        if (!(m ? m_xml : xml).empty()) s.outputs.xml = m ? m_xml : xml;
        if (!(m ? m_grepable : grepable).empty()) s.outputs.grepable = m ? m_grepable : grepable;
        if (!(m ? m_normal : normal).empty()) s.outputs.normal = m ? m_normal : normal;
        if (!(m ? m_all : all).empty()) s.outputs.all = m ? m_all : all;
    } catch (const InputError& e) {
        return fail(e.what());
    }
    return -1;
}

}  // namespace scanfw
