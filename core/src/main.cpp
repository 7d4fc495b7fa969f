// scanfw's entry point: read the request, load the plugins, run each technique,
// report. Exit 0 done, 1 runtime failure, 2 bad usage or input.
#include <unistd.h>

#include <chrono>

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "scanfw/cli.hpp"
#include "scanfw/engine.hpp"
#include "scanfw/interrupt.hpp"
#include "scanfw/output.hpp"
#include "scanfw/plugins.hpp"
#include "scanfw/ports.hpp"
#include "scanfw/targets.hpp"

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
    TargetSet targets;
    Timing timing;
};

// Everything that can be wrong with the request is found here, before a probe is sent.
Plan make_plan(const ScanConfig& cfg, PluginRegistry& registry) {
    Plan plan;
    if (cfg.plugins.empty()) throw InputError("no technique chosen: give --plugin NAME (see --list-plugins) or --profile");
    for (const auto& name : cfg.plugins) {
        auto plugin = registry.load(name);
        const bool dup = std::any_of(plan.plugins.begin(), plan.plugins.end(),
                                     [&](const auto& p) { return p->name() == plugin->name(); });
        if (!dup) plan.plugins.push_back(plugin);
    }
    plan.ports = parse_ports(cfg.ports.value_or(ScanConfig::kDefaultPorts));
    if (cfg.targets.empty()) throw InputError("no targets given: name at least one host, address or range");
    for (const auto& t : cfg.targets) plan.targets.add(t);
    if (plan.targets.empty()) throw InputError("the targets given contain no addresses");
    plan.timing.timeout = cfg.timeout.value_or(ScanConfig::kDefaultTimeout);
    plan.timing.retries = cfg.retries.value_or(ScanConfig::kDefaultRetries);
    plan.timing.rate = cfg.rate.value_or(ScanConfig::kDefaultRate);
    return plan;
}

int scan(const CliOptions& opts, PluginRegistry& registry) {
    ScanConfig cfg;
    if (opts.profile) cfg = load_profile(*opts.profile);
    cfg.override_with(opts.scan);
    Plan plan = make_plan(cfg, registry);

    // Privileged resources first, before any output file is created or packet read.
    std::shared_ptr<RawIo> raw_io;
    const bool needs_raw = std::any_of(plan.plugins.begin(), plan.plugins.end(),
                                       [](const auto& p) { return p->info().transport != Transport::Connect; });
    if (needs_raw) raw_io = open_raw_io();

    Outputs outputs;
    bool stdout_taken = false;
    if (cfg.outputs.json) {
        outputs.add(std::make_unique<JsonLinesOutput>(*cfg.outputs.json));
        stdout_taken = *cfg.outputs.json == "-";
    }
    if (!stdout_taken) outputs.add(std::make_unique<TableOutput>(stdout, opts.show_reason));

    ScanInfo info{plan.plugins, opts.command_line, std::chrono::system_clock::now()};
    const auto started = std::chrono::steady_clock::now();
    outputs.begin(info);

    struct Counter : ResultSink {
        ResultSink& next;
        std::uint64_t n = 0;
        explicit Counter(ResultSink& s) : next(s) {}
        void on_result(const Result& r) override { ++n; next.on_result(r); }
    } counter(outputs);

    for (const auto& plugin : plan.plugins) {
        const auto& ports = plan.ports.for_protocol(plugin->info().protocol);
        if (ports.empty()) {
            spdlog::warn("{}: no {} ports in the port list; skipped", plugin->name(),
                         protocol_name(plugin->info().protocol));
            continue;
        }
        spdlog::info("{}: {} host(s) x {} port(s)", plugin->name(), plan.targets.size(), ports.size());
        if (stop_requested()) break;
        run_scan(ScanJob{plugin, &plan.targets, ports, plan.timing, raw_io.get(), {}}, counter);
    }

    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const bool interrupted = stop_requested();
    outputs.end(ScanSummary{plan.targets.size(), counter.n, seconds, interrupted});
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
    spdlog::set_level(opts.verbosity >= 2 ? spdlog::level::debug
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
