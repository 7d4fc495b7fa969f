// scanfw's entry point: it wires the phases of a scan together and does none of them
// itself. Read the request (cli/), check the targets (targets/), open what needs
// privileges and give them up, load the techniques (plugin/), then per chunk of
// targets run discovery (discovery/) and the port scan (portscan/) in one engine
// (engine/), and write every output (output/).
// Exit 0 done, 1 runtime failure, 2 bad usage or input, 130 interrupted.
#include <unistd.h>

#include <thread>

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/cli.hpp"
#include "common/errors.hpp"
#include "discovery/discovery.hpp"
#include "engine/connect_io.hpp"
#include "engine/order.hpp"
#include "engine/packet_io.hpp"
#include "engine/scheduler.hpp"
#include "output/output.hpp"
#include "output/resume.hpp"
#include "plugin/plugins.hpp"
#include "portscan/port_scan.hpp"
#include "system/interrupt.hpp"
#include "system/privileges.hpp"
#include "targets/ports.hpp"
#include "targets/target_source.hpp"

namespace {

using namespace scanfw;

constexpr int kExitOk = 0, kExitRuntime = 1, kExitInput = 2, kExitInterrupted = 130;

void setup_logging() {
    auto logger = spdlog::stderr_color_st("scanfw");
    logger->set_pattern("scanfw: %^%l%$: %v");
    spdlog::set_default_logger(logger);
}

int list_plugins(PluginRegistry& registry) {
    const auto entries = registry.load_all();
    fmt::print("{:<14} {:<4} {:<5} {:<7} {:<4} {:<60} {}\n", "NAME", "KIND", "PROTO", "CARRIER", "API", "DESCRIPTION",
               "FILE");
    bool any = false, errors = false;
    for (const auto& e : entries) {
        if (!e.plugin) {
            spdlog::error("{}", e.error);
            fmt::print("{:<14} {}: {}\n", e.file.stem().string(), "not loaded", e.error);
            errors = true;
            continue;
        }
        any = true;
        const auto& d = e.plugin->info();
        fmt::print("{:<14} {:<4} {:<5} {:<7} {:<4} {:<60} {}{}\n", d.name, kind_name(d.kind), protocol_name(d.protocol),
                   d.carrier == Carrier::Connect ? "connect" : "packet", e.plugin->api_version(), d.description,
                   e.file.string(), e.shadowed ? " (shadowed by an earlier folder)" : "");
        for (const auto& o : e.plugin->options())
            fmt::print("{:<14}   option {}={} ({}, default '{}'): {}\n", "", o.name, option_type_name(o.type),
                       option_type_name(o.type), o.default_value, o.help);
    }
    if (!any) {
        std::string dirs;
        for (const auto& d : registry.dirs()) dirs += " " + d.string();
        spdlog::error("no plugins found in:{}", dirs);
        return kExitRuntime;
    }
    return errors ? kExitRuntime : kExitOk;
}

// nmap's template, then what was asked for explicitly.
Timing make_timing(const ScanConfig& cfg, const CliOptions& opts) {
    Timing t = timing_template(opts.timing_level.value_or(3));
    if (cfg.timeout) {  // the longest wait; measured round trips may shorten it
        t.timeout = t.max_timeout = *cfg.timeout;
        t.min_timeout = std::min(t.min_timeout, *cfg.timeout);
        t.app_wait = std::min(t.app_wait, *cfg.timeout);
    }
    if (cfg.retries) {  // exactly this many
        t.retries = *cfg.retries;
        t.adaptive_retries = false;
    }
    if (opts.max_retries) {
        t.max_retries = *opts.max_retries;
        t.retries = std::min(t.retries, t.max_retries);
    }
    if (cfg.rate) t.rate = static_cast<double>(*cfg.rate);
    if (opts.min_rate) {
        t.min_rate = *opts.min_rate;
        t.rate = std::max(t.rate, t.min_rate);
    }
    t.defeat_icmp_ratelimit = opts.defeat_icmp_ratelimit;
    return t;
}

// The techniques asked for, configured, each with the ports it probes.
std::vector<Job> make_jobs(const ScanConfig& cfg, PluginRegistry& registry, const PortSpec& ports) {
    if (cfg.plugins.empty()) throw InputError("no technique chosen: give --plugin NAME (see --list-plugins) or --profile");
    std::vector<Job> jobs;
    for (const auto& name : cfg.plugins) {
        const auto plugin = registry.load(name);
        if (std::any_of(jobs.begin(), jobs.end(), [&](const Job& j) { return j.name() == plugin->name(); })) continue;
        auto technique = plugin->configure();
        const Description& d = technique->info();
        std::vector<std::uint16_t> job_ports;
        if (d.kind == Kind::Host) job_ports = technique->probe_ports();
        else if (d.protocol == Protocol::Udp) job_ports = ports.udp;
        else job_ports = ports.tcp;
        jobs.push_back(make_job(std::move(technique), std::move(job_ports)));
    }
    return jobs;
}

// Everything that can be wrong with the targets is found here, before a probe is
// sent: each one parses, and they are not all excluded. Returns how many there are.
std::uint64_t check_targets(TargetSource& source, const ExcludeList& excludes) {
    const std::uint64_t total = source.validate();
    if (total == 0) throw InputError("no targets given: name at least one host, address or range (or -iL FILE)");
    if (excludes.empty()) return total;
    TargetSet chunk;
    while (source.next(chunk))
        for (std::uint64_t i = 0; i < chunk.size(); ++i)
            if (!excludes.contains(chunk.at(i))) {
                source.rewind();
                return total;
            }
    throw InputError(fmt::format("all {} target address(es) are excluded (--exclude/--excludefile): nothing to scan",
                                 total));
}

// Counts results and open ports on their way to the outputs.
struct Counter final : ResultSink {
    ResultSink& next;
    Progress& progress;
    std::uint64_t n = 0;
    Counter(ResultSink& s, Progress& p) : next(s), progress(p) {}
    void on_host(const HostStatus& h) override { next.on_host(h); }
    void on_result(const Result& r) override {
        ++n;
        if (r.state == State::Open) progress.found_open();
        next.on_result(r);
    }
};

int scan(const CliOptions& opts) {
    ScanConfig cfg;
    if (opts.profile) cfg = load_profile(*opts.profile);
    cfg.override_with(opts.scan);
    const PortSpec ports = parse_ports(cfg.ports.value_or(ScanConfig::kDefaultPorts));
    const Timing timing = make_timing(cfg, opts);
    TargetSource targets(cfg.targets, opts.input_list, opts.name_family);
    ExcludeList excludes;
    for (const auto& list : opts.exclude) excludes.add_list(list);
    if (opts.exclude_file) excludes.add_file(*opts.exclude_file);
    const std::uint64_t total_hosts = check_targets(targets, excludes);
    ResumeSet resumed;
    if (opts.resume) {
        resumed.load(*opts.resume);
        spdlog::info("resuming: {} result(s) in {} are not scanned again", resumed.size(), *opts.resume);
    }

    // Every privileged resource is opened now, before any plugin code is loaded or any
    // output file created; then the privileges go, so no plugin ever runs with them.
    std::unique_ptr<RawIo> raw;
    std::string raw_error;
    try {
        raw = open_raw_io(total_hosts * std::max(ports.tcp.size(), ports.udp.size()));
    } catch (const RuntimeError& e) {
        raw_error = e.what();
    }
    drop_privileges(opts.user);

    PluginRegistry registry(PluginRegistry::search_path(opts.plugin_dirs));
    std::vector<Job> jobs = make_jobs(cfg, registry, ports);
    std::vector<std::uint16_t> port_jobs;
    for (std::uint16_t i = 0; i < jobs.size(); ++i) {
        if (jobs[i].ports.empty()) {
            spdlog::warn("{}: no {} ports in the port list; skipped", jobs[i].name(), protocol_name(jobs[i].info().protocol));
            continue;
        }
        if (!jobs[i].connect && !raw) throw RuntimeError(raw_error);
        if (jobs[i].info().kind == Kind::Port) port_jobs.push_back(i);
    }

    Outputs outputs = make_outputs(cfg.outputs, DisplayOptions{opts.show_reason, opts.open_only, opts.resume});
    const ScanInfo info = make_scan_info(jobs, total_hosts, opts.command_line);
    const auto started = std::chrono::steady_clock::now();
    outputs.begin(info);

    Progress progress(!opts.quiet);
    Counter counter(outputs, progress);
    RealTime time;
    Routes routes;
    const SourcePool pool;
    Sources sources(routes, pool);
    std::optional<PacketIo> packet_io;
    if (raw) packet_io.emplace(*raw, routes);
    ConnectIo connect_io(!pool.empty());
    std::vector<ProbeIo*> io_of_job;
    for (const Job& j : jobs) io_of_job.push_back(j.connect ? static_cast<ProbeIo*>(&connect_io) : packet_io ? &*packet_io : nullptr);
    const SipKey seed = random_key();

    TargetSet chunk;
    std::uint64_t chunk_no = 0;
    while (!stop_requested() && targets.next(chunk)) {
        const auto skip = [&](const Item& item) {
            return excludes.contains(item.host) || resumed.done(jobs[item.job].name(), item.host, item.port);
        };
        PairOrder order(chunk, jobs, port_jobs, order_key(seed, chunk_no++), Shard{}, ShardUnit::Pair,
                        excludes.empty() && resumed.empty() ? PairOrder::Skip{} : PairOrder::Skip(skip));
        // What the engine learns of each host lives as long as the chunk it is in.
        Knowledge knowledge(timing);
        PortScan port_scan(jobs, counter, routes, true, {});
        Scheduler scheduler(jobs, io_of_job, order, sources, knowledge, timing, port_scan, time, poll_waiter(time),
                            &progress);
        scheduler.run();
        for (const auto& e : knowledge.icmp.limited_hosts())
            spdlog::info("{}: ICMP errors rate-limited: about {:.0f}/s after a burst of {}; waiting it out cost {:.1f} s",
                         e.host.str(), e.rate, e.burst, e.cost);
    }

    progress.finish();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const bool interrupted = stop_requested();
    // The sockets are closed while the outputs are finished: closing the capture
    // waits out an RCU grace period in the kernel (20-30 ms), time the table can use.
    packet_io.reset();
    std::jthread closer([io = std::move(raw)]() mutable { io.reset(); });
    outputs.end(ScanSummary{total_hosts, counter.n, seconds, interrupted});
    if (interrupted) {
        spdlog::warn("interrupted: {} result(s) written; the outputs are complete up to here", counter.n);
        return kExitInterrupted;
    }
    return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
    setup_logging();
    install_stop_handlers();
    CliOptions opts;
    if (const int rc = parse_command_line(argc, argv, opts); rc >= 0) return rc;
    spdlog::set_level(opts.verbosity >= 3   ? spdlog::level::trace
                      : opts.verbosity == 2 ? spdlog::level::debug
                      : opts.verbosity == 1 ? spdlog::level::info
                                            : spdlog::level::warn);
    try {
        if (opts.list_plugins) {
            drop_privileges(opts.user);  // plugin code never runs privileged
            PluginRegistry registry(PluginRegistry::search_path(opts.plugin_dirs));
            return list_plugins(registry);
        }
        return scan(opts);
    } catch (const InputError& e) {
        spdlog::error("{}", e.what());
        return kExitInput;
    } catch (const PluginError& e) {
        spdlog::error("{}", e.what());
        return kExitInput;
    } catch (const RuntimeError& e) {
        spdlog::error("{}", e.what());
        return kExitRuntime;
    } catch (const std::exception& e) {
        spdlog::error("unexpected failure: {}", e.what());
        return kExitRuntime;
    }
}
