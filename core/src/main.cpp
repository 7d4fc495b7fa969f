// scanfw's entry point: it wires the phases of a scan together and does none of them
// itself.
//   request (cli/)  -> targets (targets/) -> privileges opened, then dropped (system/)
//   -> techniques loaded (plugin/) -> per chunk of targets: discovery (discovery/) and
//   the port scan (portscan/) in one engine (engine/) -> outputs (output/)
// `scanfw merge` reads shards' records into the outputs (output/merge).
// Exit 0 done, 1 runtime failure, 2 bad usage or input, 130 interrupted.
#include <unistd.h>

#include <thread>

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/cli.hpp"
#include "cli/plan.hpp"
#include "common/errors.hpp"
#include "discovery/discovery.hpp"
#include "engine/connect_io.hpp"
#include "engine/packet_io.hpp"
#include "engine/scheduler.hpp"
#include "output/merge.hpp"
#include "output/outputs.hpp"
#include "output/record.hpp"
#include "portscan/done_items.hpp"
#include "portscan/port_scan.hpp"
#include "system/interrupt.hpp"
#include "system/privileges.hpp"
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
    fmt::print("{:<16} {:<4} {:<5} {:<7} {:<3} {}\n", "NAME", "KIND", "PROTO", "CARRIER", "API", "DESCRIPTION");
    bool any = false, errors = false;
    for (const auto& e : entries) {
        if (!e.plugin) {
            spdlog::error("{}", e.error);
            fmt::print("{:<16} not loaded: {}\n", e.file.stem().string(), e.error);
            errors = true;
            continue;
        }
        any = true;
        const auto& d = e.plugin->info();
        fmt::print("{:<16} {:<4} {:<5} {:<7} {:<3} {}\n", d.name, kind_name(d.kind), protocol_name(d.protocol),
                   d.carrier == Carrier::Connect ? "connect" : "packet", e.plugin->api_version(), d.description);
        fmt::print("{:<16} file {}{}\n", "", e.file.string(), e.shadowed ? " (shadowed by an earlier folder)" : "");
        for (const auto& o : e.plugin->options())
            fmt::print("{:<16} option {} ({}, default '{}'): {}\n", "", o.name, option_type_name(o.type),
                       o.default_value, o.help);
    }
    if (!any) {
        std::string dirs;
        for (const auto& d : registry.dirs()) dirs += " " + d.string();
        spdlog::error("no plugins found in:{}", dirs);
        return kExitRuntime;
    }
    return errors ? kExitRuntime : kExitOk;
}

// Targets with no route are said once per range, before anything is sent.
void report_unrouted(TargetSource& targets, Routes& routes) {
    TargetSet chunk;
    std::optional<IpAddress> first, last;
    std::uint64_t count = 0;
    auto flush = [&] {
        if (first)
            spdlog::warn("{} - {}: no route, skipped ({} address{})", first->str(), last->str(), count, count == 1 ? "" : "es");
        first.reset();
        count = 0;
    };
    while (targets.next(chunk)) {
        for (std::uint64_t i = 0; i < chunk.size();) {
            const IpAddress a = chunk.at(i);
            // One lookup per /24 or /64 (Routes caches them): step over the block.
            const bool routed = routes.lookup(a).has_value();
            std::uint64_t step = 1;
            if (a.family == Family::V4) step = 256 - a.bytes[3];
            else step = std::uint64_t{1} << 16;
            step = std::min(step, chunk.size() - i);
            // The step must stay within one block of consecutive addresses.
            const IpAddress end = chunk.at(i + step - 1);
            if (!(a.family == end.family && (a.family == Family::V6 || (a.bytes[0] == end.bytes[0] && a.bytes[1] == end.bytes[1] &&
                                                                      a.bytes[2] == end.bytes[2]))))
                step = 1;
            if (!routed) {
                if (!first) first = a;
                last = chunk.at(i + step - 1);
                count += step;
            } else {
                flush();
            }
            i += step;
        }
    }
    flush();
    targets.rewind();
}

// The hosts to scan, with a user's names for them.
struct Targets {
    TargetSource source;
    std::uint64_t total = 0;
};

int scan(CliOptions opts) {
    // --resume FILE alone: the scan the record says, continued.
    std::optional<RecordHeader> resumed;
    if (opts.resume) {
        resumed = RecordReader::header(*opts.resume);
        if (opts.only_resume()) {
            CliOptions again;
            if (parse_command_line(resumed->info.argv, again) >= 0)
                throw InputError(fmt::format("{}: the recorded command line no longer parses", *opts.resume));
            again.resume = opts.resume;
            again.quiet = opts.quiet || again.quiet;
            again.verbosity = std::max(opts.verbosity, again.verbosity);
            again.argv = opts.argv;
            opts = std::move(again);
        }
    }
    ScanConfig cfg = resolve_request(opts);
    if (resumed && !cfg.seed && resumed->info.seed) cfg.seed = resumed->info.seed;  // the same order again
    const PortSpec ports = resolve_ports(cfg);
    const Timing timing = resolve_timing(cfg);
    const Shard shard = resolve_shard(cfg);
    const bool ping_only = cfg.ping_only.value_or(false);
    const bool no_discovery = cfg.discovery && cfg.discovery->empty();

    // Targets: every one parsed (names resolved) before a probe is sent.
    ExcludeList excludes;
    for (const auto& list : cfg.exclude) excludes.add_list(list);
    if (cfg.exclude_file) excludes.add_file(*cfg.exclude_file);
    TargetSource targets(cfg.targets, cfg.input_list, opts.name_family, &excludes);
    const std::uint64_t total_hosts = targets.validate();
    if (total_hosts == 0) {
        if (cfg.targets.empty() && !cfg.input_list)
            throw InputError("no targets given: name at least one host, address or range (or -iL FILE)");
        throw InputError(excludes.empty() ? "nothing to scan: no target could be resolved"
                                          : "nothing to scan: every target is excluded (--exclude/--excludefile)");
    }
    const SourcePool pool = SourcePool::parse(cfg.source_ip);
    if (opts.user) check_user(*opts.user);
    const OutputFiles files{cfg.outputs.json, cfg.outputs.xml, cfg.outputs.grepable, cfg.outputs.normal, cfg.outputs.all};
    check_output_files(files);

    // Every privileged resource is opened now, before any plugin code is loaded or any
    // output file created; then the privileges go, so that no plugin ever runs with
    // more than the user who started scanfw has.
    std::unique_ptr<RawIo> raw;
    std::string raw_error;
    try {
        raw = open_raw_io(total_hosts * std::max(ports.tcp.size(), ports.udp.size()));
    } catch (const RuntimeError& e) {
        raw_error = e.what();
    }
    drop_privileges(opts.user);

    PluginRegistry registry(PluginRegistry::search_path(opts.plugin_dirs));
    const std::vector<PluginRequest> port_requests =
        ping_only ? std::vector<PluginRequest>{} : cfg.plugins.empty() ? default_techniques(raw != nullptr) : cfg.plugins;
    const DefaultDiscovery defaults = default_discovery(raw != nullptr);
    const std::vector<PluginRequest> host_requests = cfg.discovery.value_or(std::vector<PluginRequest>{});
    const Jobs plan = make_jobs(port_requests, host_requests, opts.plugin_args,
                                cfg.discovery || no_discovery ? nullptr : &defaults, registry, ports);
    const std::vector<Job>& jobs = plan.jobs;
    for (const Job& j : jobs)
        if (!j.connect && !raw) throw RuntimeError(raw_error);

    Routes routes;
    // ARP and neighbour discovery asked for explicitly reach only hosts on a local
    // segment: a target elsewhere is a mistake, said before anything is sent.
    if (cfg.discovery)
        for (std::uint16_t id : plan.host_jobs)
            if (jobs[id].info().protocol == Protocol::Link) {
                TargetSet chunk;
                while (targets.next(chunk))
                    for (std::uint64_t i = 0; i < chunk.size(); i = i + std::max<std::uint64_t>(1, chunk.size() / 256)) {
                        const IpAddress a = chunk.at(i);
                        if (a.family == Family::V4 && !jobs[id].info().ipv4) continue;
                        if (a.family == Family::V6 && !jobs[id].info().ipv6) continue;
                        const auto r = routes.lookup(a);
                        if (!r || !r->local_segment())
                            throw InputError(fmt::format("{}: {} is not on a local Ethernet segment ({}), so {} cannot "
                                                         "reach it; use -PE, -PS or -PA for hosts behind a router",
                                                         jobs[id].name(), a.str(), r ? "behind a gateway" : "no route",
                                                         jobs[id].name()));
                    }
                targets.rewind();
            }
    report_unrouted(targets, routes);

    // What the scan is, for every output and its record.
    ScanInfo info;
    for (std::uint16_t id : plan.port_jobs)
        info.techniques.push_back({jobs[id].name(), jobs[id].info().protocol, jobs[id].ports});
    for (std::uint16_t id : plan.host_jobs) info.discovery.push_back(jobs[id].name());
    info.argv = resumed ? resumed->info.argv : opts.argv;
    info.targets = total_hosts;
    std::string text;
    for (const auto& t : cfg.targets) text += (text.empty() ? "" : " ") + t;
    if (cfg.input_list) text += (text.empty() ? "-iL " : " -iL ") + *cfg.input_list;
    info.targets_text = text.size() <= 512 ? text : text.substr(0, 509) + "...";
    info.targets_digest = targets.digest();
    info.seed = cfg.seed;
    info.shard = shard.index;
    info.shards = shard.count;
    info.shard_unit = plan.host_jobs.empty() ? "pair" : "host";
    info.service_detection = cfg.service.value_or(false);
    info.verbosity = opts.verbosity;
    if (resumed) {
        ScanInfo was = resumed->info;
        auto describe = [](const ScanInfo& i) {
            std::string out;
            for (const auto& t : i.techniques) out += fmt::format("{} {} {}; ", t.name, protocol_name(t.protocol), port_ranges(t.ports));
            return out;
        };
        if (describe(was) != describe(info))
            throw InputError(fmt::format("--resume {}: the record is of another scan: techniques and ports {}, this one {}",
                                         *opts.resume, describe(was), describe(info)));
        if (was.targets_digest != info.targets_digest || was.targets != info.targets)
            throw InputError(fmt::format("--resume {}: the record is of other targets ({} addresses: {}) than this scan "
                                         "({} addresses: {})",
                                         *opts.resume, was.targets, was.targets_text, info.targets, info.targets_text));
        if (was.shard != info.shard || was.shards != info.shards)
            throw InputError(fmt::format("--resume {}: the record is shard {}/{}, this scan shard {}/{}", *opts.resume,
                                         was.shard, was.shards, info.shard, info.shards));
    }
    if (opts.dry_run) {
        std::vector<std::string> techniques;
        for (const auto& t : info.techniques) techniques.push_back(t.name);
        fmt::print("scanfw would scan {} address{}{} with {}; host discovery: {}; {} probes a second at most; {}\n",
                   total_hosts, total_hosts == 1 ? "" : "es",
                   shard.whole() ? "" : fmt::format(" (shard {}/{} of them)", shard.index, shard.count),
                   techniques.empty() ? "no port technique" : fmt::format("{}", fmt::join(techniques, ", ")),
                   info.discovery.empty() ? "none" : fmt::format("{}", fmt::join(info.discovery, ", ")), timing.rate,
                   raw ? "raw sockets can be opened" : "no raw sockets (connect() only)");
        return kExitOk;
    }

    const DisplayOptions display{cfg.reason.value_or(false), cfg.open.value_or(false), opts.verbosity, opts.resume};
    Outputs outputs = make_outputs(files, display);
    const auto started = std::chrono::steady_clock::now();
    outputs.begin(info);

    // A resumed scan: what the record holds goes to every output first, and is not
    // scanned again.
    DoneItems done(jobs);
    if (resumed) {
        outputs.replaying(true);
        RecordReader::Callbacks cb;
        cb.host = [&](const HostStatus& h) { outputs.on_host(h); };
        cb.result = [&](const Result& r) {
            outputs.on_result(r);
            done.add(r.technique, r.host, r.port);
        };
        RecordReader::read(*opts.resume, cb);
        outputs.replaying(false);
        spdlog::info("resuming: {} result(s) in {} are not scanned again", done.size(), *opts.resume);
    }

    Progress progress(!opts.quiet);
    std::string label = ping_only ? "discovery" : "";
    for (const auto& t : info.techniques) label += (label.empty() ? "" : ", ") + t.name;
    progress.set_label(label);
    RealTime time;
    Sources sources(routes, pool);
    std::optional<PacketIo> packet_io;
    if (raw) packet_io.emplace(*raw, routes);
    ConnectIo connect_io(!pool.empty());
    std::vector<ProbeIo*> io_of_job;
    for (const Job& j : jobs)
        io_of_job.push_back(j.connect ? static_cast<ProbeIo*>(&connect_io) : packet_io ? &*packet_io : nullptr);
    const SipKey seed = cfg.seed ? seed_key(*cfg.seed) : random_key();
    std::uint64_t results = 0, items_total = 0, items_done = 0;
    struct Counter final : ResultSink {
        ResultSink& next;
        Progress& progress;
        std::uint64_t& n;
        Counter(ResultSink& s, Progress& p, std::uint64_t& count) : next(s), progress(p), n(count) {}
        void on_host(const HostStatus& h) override { next.on_host(h); }
        void on_result(const Result& r) override {
            ++n;
            if (r.state == State::Open) progress.found_open();
            next.on_result(r);
        }
    } counter(outputs, progress, results);
    std::vector<LimitedHost> limited;

    TargetSet chunk;
    std::uint64_t chunk_no = 0;
    while (!stop_requested() && targets.next(chunk)) {
        // What the engine learns of each host lives as long as the chunk it is in.
        Knowledge knowledge(timing);
        const SipKey key = order_key(seed, chunk_no++);
        auto names = [&chunk](const IpAddress& a) { return chunk.has_names() ? chunk.name_of(a) : std::string(); };
        auto family_ok = [&](const Item& item) {
            const Description& d = jobs[item.job].info();
            return item.host.family == Family::V4 ? d.ipv4 : d.ipv6;
        };
        const PairOrder::Skip skip_port = [&](const Item& item) { return !family_ok(item) || done.done(item); };
        if (plan.host_jobs.empty()) {
            // -Pn: every target is up; shards split the (host, port) pairs.
            PairOrder order(chunk, jobs, plan.port_jobs, key, shard, ShardUnit::Pair, skip_port);
            PortScan port_scan(jobs, counter, routes, true, names);
            Scheduler scheduler(jobs, io_of_job, order, sources, knowledge, timing, port_scan, time, poll_waiter(time),
                                &progress);
            scheduler.run();
            items_total += order.total() / shard.count;
            items_done += std::min(order.position(), order.total()) / shard.count;
        } else {
            // Discovery first, each host found up handed to the port scan at once; shards
            // split the hosts.
            PairOrder discovery_order(chunk, jobs, plan.host_jobs, key, shard, ShardUnit::Host);
            Discovery* discovery_ptr = nullptr;
            UpHosts up(jobs, plan.port_jobs, {key[1], key[0]}, [&] { return discovery_ptr->done(); });
            Scheduler* scheduler_ptr = nullptr;
            Discovery::Hooks hooks;
            hooks.up = [&](const IpAddress& host) {
                if (!plan.port_jobs.empty()) up.add(host);
            };
            hooks.cancel = [&](const Item& item) { scheduler_ptr->cancel(item); };
            hooks.name = names;
            hooks.applies = [&](std::uint16_t job, const IpAddress& host) {
                const Description& d = jobs[job].info();
                if (!(host.family == Family::V4 ? d.ipv4 : d.ipv6)) return false;
                if (!plan.local_only[job] && !plan.remote_only[job]) return true;
                const auto route = routes.lookup(host);
                const bool local = route && route->local_segment();
                return plan.local_only[job] ? local : !local;
            };
            hooks.local = [&](const IpAddress& host) {
                const auto route = routes.lookup(host);
                return route && route->local;
            };
            Discovery discovery(jobs, discovery_order, counter, routes, hooks);
            discovery_ptr = &discovery;
            MergedItems items(up, discovery.items());
            PortScan port_scan(jobs, counter, routes, false, names);
            SplitSink sink(discovery, port_scan);
            // Items of hosts found up: the technique's families, not done before.
            struct Filtered final : ItemSource {
                ItemSource& inner;
                const PairOrder::Skip& skip;
                Filtered(ItemSource& i, const PairOrder::Skip& s) : inner(i), skip(s) {}
                bool next(Item& out) override {
                    while (inner.next(out))
                        if (!skip(out)) return true;
                    return false;
                }
                bool finished() const override { return inner.finished(); }
                std::uint64_t position() const override { return inner.position(); }
                std::uint64_t total() const override { return inner.total(); }
            } filtered(items, skip_port);
            Scheduler scheduler(jobs, io_of_job, filtered, sources, knowledge, timing, sink, time, poll_waiter(time),
                                &progress);
            scheduler_ptr = &scheduler;
            scheduler.run();
            items_total += discovery_order.total() / shard.count;
            items_done += std::min(discovery_order.position(), discovery_order.total()) / shard.count;
        }
        for (const auto& e : knowledge.icmp.limited_hosts()) {
            spdlog::info("{}: ICMP errors rate-limited: about {:.0f}/s after a burst of {}; waiting it out cost {:.1f} s",
                         e.host.str(), e.rate, e.burst, e.cost);
            limited.push_back({e.host, e.rate, e.burst, e.cost});
        }
    }

    progress.finish();
    ScanSummary summary;
    summary.hosts = total_hosts;
    summary.results = outputs.results();
    summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    summary.interrupted = stop_requested();
    summary.done = summary.interrupted && items_total ? static_cast<double>(items_done) / static_cast<double>(items_total) : 1;
    summary.limited = std::move(limited);
    // The sockets are closed while the outputs are finished: closing the capture waits
    // out an RCU grace period in the kernel (20-30 ms), time the outputs can use.
    packet_io.reset();
    std::jthread closer([io = std::move(raw)]() mutable { io.reset(); });
    outputs.end(summary);
    if (summary.interrupted) {
        spdlog::warn("interrupted: {} result(s) written; the outputs are complete up to here (--resume continues)",
                     results);
        return kExitInterrupted;
    }
    return kExitOk;
}

int merge(const CliOptions& opts) {
    MergeRequest req;
    req.files = opts.merge_files;
    const auto& o = opts.scan.outputs;
    req.outputs = OutputFiles{o.json, o.xml, o.grepable, o.normal, o.all};
    req.display = DisplayOptions{opts.scan.reason.value_or(false), opts.scan.open.value_or(false), opts.verbosity, {}};
    req.allow_partial = opts.allow_partial;
    merge_records(req);
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
        if (opts.merge) return merge(opts);
        if (opts.list_plugins) {
            drop_privileges(opts.user);  // plugin code never runs privileged
            PluginRegistry registry(PluginRegistry::search_path(opts.plugin_dirs));
            return list_plugins(registry);
        }
        return scan(std::move(opts));
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
