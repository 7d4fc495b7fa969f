#include "cli/plan.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/errors.hpp"
#include "common/result.hpp"
#include "common/service_names.hpp"

namespace scanfw {

namespace {

// The scan types --scanflags pairs with, as nmap does (-sA --scanflags ... classifies
// as an ACK scan).
constexpr const char* kScanflagsAs[] = {"syn", "ack", "window", "null", "fin", "xmas", "maimon"};

}  // namespace

ScanConfig resolve_request(const CliOptions& opts) {
    ScanConfig cfg;
    if (opts.profile) cfg = load_profile(*opts.profile);
    cfg.override_with(opts.scan);
    if (opts.scanflags) {
        // nmap: --scanflags with -sA, -sF, ... takes that scan type's classification.
        PluginRequest sf{"scanflags", {{"flags", *opts.scanflags, "--scanflags"}}};
        std::vector<PluginRequest> rest;
        for (auto& p : cfg.plugins) {
            const bool pairs = std::find(std::begin(kScanflagsAs), std::end(kScanflagsAs), p.name) != std::end(kScanflagsAs);
            if (pairs && sf.options.size() == 1) sf.options.push_back({"as", p.name, "--scanflags with --plugin " + p.name});
            else rest.push_back(std::move(p));
        }
        rest.insert(rest.begin(), std::move(sf));
        cfg.plugins = std::move(rest);
    }
    if (cfg.ping_only.value_or(false) && !cfg.plugins.empty())
        throw InputError("-sn is host discovery alone: it does no port scan, so it takes no port technique (--plugin, -sS, "
                         "...); drop one or the other");
    // What nmap refuses, in words.
    if (cfg.ping_only.value_or(false) && (cfg.ports || cfg.top_ports))
        throw InputError("-sn is host discovery alone: it scans no ports, so it takes no -p, -F or --top-ports; "
                         "drop one or the other");
    if (cfg.ping_only.value_or(false) && cfg.service.value_or(false))
        throw InputError("-sn is host discovery alone: there are no open ports for -sV to identify; drop one or the "
                         "other");
    if (cfg.ports && cfg.top_ports)
        throw InputError("-p names the ports, -F and --top-ports pick them by frequency: give one of them");
    if (cfg.rate && cfg.min_rate && *cfg.min_rate > *cfg.rate)
        throw InputError(fmt::format("--min-rate {} is above --rate {}: the scan cannot send at least {} and at most {} "
                                     "probes a second",
                                     *cfg.min_rate, *cfg.rate, *cfg.min_rate, *cfg.rate));
    return cfg;
}

PortSpec resolve_ports(const ScanConfig& cfg) {
    if (cfg.ports) return parse_ports(*cfg.ports);
    const auto& names = ServiceNames::get();
    const std::uint32_t n = cfg.top_ports.value_or(1000);
    PortSpec p;
    for (std::uint16_t i = 0; i < 256; ++i) p.ip.push_back(i);  // nmap -sO scans all 256 by default
    if (names.has_frequencies()) {
        p.tcp = names.top(n, Protocol::Tcp);
        p.udp = names.top(n, Protocol::Udp);
        std::sort(p.tcp.begin(), p.tcp.end());
        std::sort(p.udp.begin(), p.udp.end());
        return p;
    }
    // Without nmap-services there are no frequencies: the first N ports that
    // /etc/services names, or 1-1024 for the default.
    if (!cfg.top_ports) {
        for (std::uint32_t i = 1; i <= 1024; ++i) p.tcp.push_back(static_cast<std::uint16_t>(i));
        p.udp = p.tcp;
        return p;
    }
    spdlog::warn("--top-ports/-F: nmap's nmap-services is not installed (apt-get install nmap-common), so port "
                 "frequencies are unknown: taking the {} lowest ports {} names", n, names.source());
    for (std::uint32_t port = 1; port <= 65535 && (p.tcp.size() < n || p.udp.size() < n); ++port) {
        if (p.tcp.size() < n && names.name(static_cast<std::uint16_t>(port), Protocol::Tcp)) p.tcp.push_back(static_cast<std::uint16_t>(port));
        if (p.udp.size() < n && names.name(static_cast<std::uint16_t>(port), Protocol::Udp)) p.udp.push_back(static_cast<std::uint16_t>(port));
    }
    return p;
}

Timing resolve_timing(const ScanConfig& cfg) {
    Timing t = timing_template(cfg.timing.value_or(3));
    if (cfg.timeout) {  // the longest wait; measured round trips may shorten it
        t.timeout = t.max_timeout = *cfg.timeout;
        t.min_timeout = std::min(t.min_timeout, *cfg.timeout);
        t.app_wait = std::min(t.app_wait, *cfg.timeout);
    }
    if (cfg.max_rtt_timeout) {
        t.max_timeout = *cfg.max_rtt_timeout;
        t.timeout = std::min(t.timeout, t.max_timeout);
        t.min_timeout = std::min(t.min_timeout, t.max_timeout);
        t.app_wait = std::min(t.app_wait, t.max_timeout);
    }
    if (cfg.min_rtt_timeout) {
        if (cfg.max_rtt_timeout && *cfg.min_rtt_timeout > *cfg.max_rtt_timeout)
            throw InputError(fmt::format("--min-rtt-timeout {}ms is above --max-rtt-timeout {}ms: a try cannot wait "
                                         "at least the one and at most the other",
                                         cfg.min_rtt_timeout->count(), cfg.max_rtt_timeout->count()));
        t.min_timeout = *cfg.min_rtt_timeout;
        t.max_timeout = std::max(t.max_timeout, t.min_timeout);
        t.timeout = std::max(t.timeout, t.min_timeout);
    }
    if (cfg.initial_rtt_timeout) {
        if (*cfg.initial_rtt_timeout < t.min_timeout || *cfg.initial_rtt_timeout > t.max_timeout)
            throw InputError(fmt::format("--initial-rtt-timeout {}ms is outside the waits allowed, {}ms to {}ms "
                                         "(--min-rtt-timeout, --max-rtt-timeout, --timeout and -T set them)",
                                         cfg.initial_rtt_timeout->count(), t.min_timeout.count(), t.max_timeout.count()));
        t.timeout = *cfg.initial_rtt_timeout;
    }
    if (cfg.retries) {  // exactly this many
        t.retries = *cfg.retries;
        t.adaptive_retries = false;
    }
    if (cfg.max_retries) {
        t.max_retries = *cfg.max_retries;
        t.retries = std::min(t.retries, t.max_retries);
    }
    if (cfg.rate) t.rate = *cfg.rate;
    if (cfg.min_rate) {
        t.min_rate = *cfg.min_rate;
        t.rate = std::max(t.rate, t.min_rate);
    }
    t.defeat_icmp_ratelimit = cfg.defeat_icmp_ratelimit.value_or(false);
    return t;
}

Shard resolve_shard(const ScanConfig& cfg) {
    if (!cfg.shard) return {};
    unsigned k = 0, n = 0;
    char extra = 0;
    if (std::sscanf(cfg.shard->c_str(), "%u/%u%c", &k, &n, &extra) != 2 || n == 0 || k == 0 || k > n || n > 1000000)
        throw InputError(fmt::format("--shard '{}': give K/N with 1 <= K <= N, e.g. 1/4", *cfg.shard));
    if (!cfg.seed)
        throw InputError(fmt::format("--shard {} needs --seed S: without one every process draws its own order and the "
                                     "shards would overlap and leave gaps (give the same seed to every shard)",
                                     *cfg.shard));
    return {k, n};
}

std::vector<PluginRequest> default_techniques(bool raw_allowed) {
    return {PluginRequest{raw_allowed ? "syn" : "connect", {}}};
}

DefaultDiscovery default_discovery(bool raw_allowed, bool arp_ping) {
    DefaultDiscovery d;
    // Without raw sockets there is no ARP either: connect() for every host.
    if (raw_allowed && arp_ping) d.local = {{"arp", {}}, {"nd", {}}};
    if (raw_allowed)
        d.remote = {{"icmp-echo", {}},
                    {"tcp-syn-ping", {{"ports", "443", "default discovery"}}},
                    {"tcp-ack-ping", {{"ports", "80", "default discovery"}}},
                    {"icmp-timestamp", {}}};
    else
        d.remote = {{"tcp-connect-ping", {}}};
    return d;
}

DefaultDiscovery explicit_discovery(std::vector<PluginRequest> requests, bool raw_allowed, bool arp_ping) {
    DefaultDiscovery d;
    const bool link = std::any_of(requests.begin(), requests.end(),
                                  [](const PluginRequest& r) { return r.name == "arp" || r.name == "nd"; });
    if (raw_allowed && arp_ping && !link) d.local = {{"arp", {}, {}}, {"nd", {}, {}}};
    d.remote = std::move(requests);
    return d;
}

Jobs make_jobs(const std::vector<PluginRequest>& port_requests, const std::vector<PluginRequest>& host_requests,
               const std::vector<std::pair<std::string, OptionSetting>>& plugin_args, const DefaultDiscovery* defaults,
               PluginRegistry& registry, const PortSpec& ports) {
    Jobs out;
    // Every request, with the --plugin-arg settings for it appended.
    struct Want {
        PluginRequest req;
        Kind kind;
        bool local_only = false, remote_only = false;
    };
    std::vector<Want> wants;
    for (const auto& r : port_requests) wants.push_back({r, Kind::Port});
    for (const auto& r : host_requests) wants.push_back({r, Kind::Host});
    if (defaults) {
        for (const auto& r : defaults->local) wants.push_back({r, Kind::Host, true, false});
        for (const auto& r : defaults->remote) wants.push_back({r, Kind::Host, false, !defaults->local.empty()});
    }
    for (const auto& [plugin, setting] : plugin_args) {
        bool found = false;
        for (auto& w : wants)
            if (w.req.name == plugin) {
                w.req.options.push_back(setting);
                found = true;
            }
        if (!found)
            throw InputError(fmt::format("--plugin-arg {}.{}: plugin '{}' is not run in this scan (add --plugin {}, or a "
                                         "discovery flag for a host technique)",
                                         plugin, setting.name, plugin, plugin));
    }
    for (auto& w : wants) {
        // The same technique twice: the first stands (options merged into it).
        const bool dup = std::any_of(out.jobs.begin(), out.jobs.end(), [&](const Job& j) { return j.name() == w.req.name; });
        if (dup) continue;
        const std::string at = w.req.where.empty() ? "" : w.req.where + ": ";
        std::shared_ptr<const Plugin> plugin;
        try {
            plugin = registry.load(w.req.name);
        } catch (const PluginError& e) {
            throw PluginError(at + e.what());
        }
        if (plugin->info().kind != w.kind) {
            if (w.kind == Kind::Port)
                throw InputError(fmt::format("{}'{}' is a host technique (host discovery), not a port technique: use it as "
                                             "--discover {} or with its nmap -P flag",
                                             at, w.req.name, w.req.name));
            throw InputError(fmt::format("{}'{}' is a port technique, not a host technique: use it as --plugin {}", at,
                                         w.req.name, w.req.name));
        }
        auto technique = plugin->configure(w.req.options);
        const Description& d = technique->info();
        std::vector<std::uint16_t> job_ports;
        if (d.kind == Kind::Host) {
            job_ports = technique->probe_ports();
            std::sort(job_ports.begin(), job_ports.end());
            job_ports.erase(std::unique(job_ports.begin(), job_ports.end()), job_ports.end());
        } else {
            job_ports = ports.for_protocol(d.protocol);
            if (d.protocol == Protocol::Ip) {
                if (!job_ports.empty() && job_ports.back() > 255)
                    throw InputError(fmt::format("{}: -p {} is not an IP protocol number: they are 0-255 (give "
                                                 "P:0-255, or fewer)",
                                                 w.req.name, job_ports.back()));
            }
            if (job_ports.empty())
                throw InputError(fmt::format("{} scans {} ports, and the port list has none (give T:, U: or P: ports "
                                             "for it, or drop it)",
                                             w.req.name, protocol_name(d.protocol)));
        }
        const auto id = static_cast<std::uint16_t>(out.jobs.size());
        (d.kind == Kind::Host ? out.host_jobs : out.port_jobs).push_back(id);
        out.local_only.push_back(w.local_only);
        out.remote_only.push_back(w.remote_only);
        out.jobs.push_back(make_job(std::move(technique), std::move(job_ports)));
    }
    return out;
}

}  // namespace scanfw
