// scanfw's entry point: read the request, load the plugins, run each technique,
// report. Exit 0 done, 1 runtime failure, 2 bad usage or input.
#include <unistd.h>

#include <chrono>
#include <thread>

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/cli.hpp"
#include "scan/engine.hpp"
#include "system/interrupt.hpp"
#include "output/output.hpp"
#include "plugin/plugins.hpp"
#include "targets/ports.hpp"
#include "system/privileges.hpp"
#include "output/resume.hpp"
#include "targets/target_source.hpp"
#include "targets/targets.hpp"

namespace {

using namespace scanfw;

constexpr int kExitOk = 0, kExitRuntime = 1, kExitInput = 2, kExitInterrupted = 130;

void setup_logging() {
    auto logger = spdlog::stderr_color_st("scanfw");
    logger->set_pattern("scanfw: %^%l%$: %v");
    spdlog::set_default_logger(logger);
}

int list_plugins(PluginRegistry& registry) {
    std::vector<std::string> errors;
    const auto plugins = registry.load_all(errors);
    for (const auto& e : errors) spdlog::error("{}", e);
    fmt::print("{:<10} {:<5} {:<9} {:<4} {:<60} {}\n", "NAME", "PROTO", "TRANSPORT", "API", "DESCRIPTION", "FILE");
    for (const auto& p : plugins) {
        const auto& d = p->info();
        const char* transport = d.transport == Transport::Connect ? "connect" : "raw";
        fmt::print("{:<10} {:<5} {:<9} {:<4} {:<60} {}\n", d.name, protocol_name(d.protocol), transport,
                   p->api_version(), d.description, p->file().string());
    }
    if (plugins.empty()) {
        std::string dirs;
        for (const auto& d : registry.dirs()) dirs += " " + d.string();
        spdlog::error("no plugins found in:{}", dirs);
        return kExitRuntime;
    }
    return errors.empty() ? kExitOk : kExitRuntime;
}

struct Plan {
    std::vector<std::shared_ptr<const Plugin>> plugins;
    PortSpec ports;
    Timing timing;
};

// nmap's template, then what was asked for explicitly.
Timing make_timing(const ScanConfig& cfg, const CliOptions& opts) {
    Timing t = timing_template(opts.timing_level.value_or(3));
    if (cfg.timeout) {  // the longest wait; measured round trips may shorten it
        t.timeout = t.max_timeout = *cfg.timeout;
        t.min_timeout = std::min(t.min_timeout, *cfg.timeout);
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

// The request's techniques, ports and timing. Targets are read by TargetSource.
Plan make_plan(const ScanConfig& cfg, const CliOptions& opts, PluginRegistry& registry) {
    Plan plan;
    if (cfg.plugins.empty()) throw InputError("no technique chosen: give --plugin NAME (see --list-plugins) or --profile");
    for (const auto& name : cfg.plugins) {
        auto plugin = registry.load(name);
        const bool dup = std::any_of(plan.plugins.begin(), plan.plugins.end(),
                                     [&](const auto& p) { return p->name() == plugin->name(); });
        if (!dup) plan.plugins.push_back(plugin);
    }
    plan.ports = parse_ports(cfg.ports.value_or(ScanConfig::kDefaultPorts));
    plan.timing = make_timing(cfg, opts);
    return plan;
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

int scan(const CliOptions& opts, PluginRegistry& registry) {
    ScanConfig cfg;
    if (opts.profile) cfg = load_profile(*opts.profile);
    cfg.override_with(opts.scan);
    Plan plan = make_plan(cfg, opts, registry);
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

    // Privileged resources first, before any output file is created or packet read.
    std::shared_ptr<RawIo> raw_io;
    const bool needs_raw = std::any_of(plan.plugins.begin(), plan.plugins.end(),
                                       [](const auto& p) { return p->info().transport != Transport::Connect; });
    if (needs_raw) {
        std::uint64_t probes = 0;
        for (const auto& p : plan.plugins) probes += total_hosts * plan.ports.for_protocol(p->info().protocol).size();
        raw_io = open_raw_io(probes);
    }

    Outputs outputs = make_outputs(cfg.outputs, DisplayOptions{opts.show_reason, opts.open_only, opts.resume});
    drop_privileges(opts.user);  // before a single packet is read
    const ScanInfo info = make_scan_info(plan.plugins, plan.ports, total_hosts, opts.command_line);
    const auto started = std::chrono::steady_clock::now();
    outputs.begin(info);

    Progress progress(!opts.quiet);
    struct Counter : ResultSink {
        ResultSink& next;
        Progress& progress;
        std::uint64_t n = 0;
        Counter(ResultSink& s, Progress& p) : next(s), progress(p) {}
        void on_result(const Result& r) override {
            ++n;
            if (r.state == PortState::Open) progress.found_open();
            next.on_result(r);
        }
    } counter(outputs, progress);

    TargetSet chunk;
    while (!stop_requested() && targets.next(chunk)) {
        for (const auto& plugin : plan.plugins) {
            const auto& ports = plan.ports.for_protocol(plugin->info().protocol);
            if (ports.empty()) {
                spdlog::warn("{}: no {} ports in the port list; skipped", plugin->name(),
                             protocol_name(plugin->info().protocol));
                continue;
            }
            if (stop_requested()) break;
            spdlog::info("{}: {} host(s) x {} port(s)", plugin->name(), chunk.size(), ports.size());
            ScanJob job{plugin, &chunk, ports, plan.timing, raw_io.get(), {}, &progress};
            if (!excludes.empty() || !resumed.empty())
                job.skip = [&, name = plugin->name()](const IpAddress& host, std::uint16_t port) {
                    return excludes.contains(host) || resumed.done(name, host, port);
                };
            run_scan(job, counter);
        }
    }

    progress.finish();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const bool interrupted = stop_requested();
    // The sockets are closed while the outputs are finished: closing the capture
    // waits out an RCU grace period in the kernel (20-30 ms), time the table can use.
    std::jthread closer([io = std::move(raw_io)]() mutable { io.reset(); });  // joined on the way out
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
        PluginRegistry registry(PluginRegistry::search_path(opts.plugin_dirs));
        if (opts.list_plugins) return list_plugins(registry);
        return scan(opts, registry);
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
