// scanfw's entry point: it wires the phases of a scan together and does none of them
// itself.
//   request (cli/)  -> targets (targets/) -> privileges opened, then dropped (system/)
//   -> techniques loaded (plugin/) -> the pipeline (pipeline/): per chunk of targets,
//   discovery (discovery/) and the port scan (portscan/) in one engine (engine/), and
//   with -sV service detection (servicescan/, services/) of each open port
//   -> outputs (output/)
// `scanfw merge` reads shards' records into the outputs (output/merge).
// Exit 0 done, 1 runtime failure, 2 bad usage or input, 130 interrupted.
#include <unistd.h>

#include <thread>

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/cli.hpp"
#include "cli/plan.hpp"
#include "discovery/discovery.hpp"
#include "common/errors.hpp"
#include "engine/connect_io.hpp"
#include "engine/packet_io.hpp"
#include "engine/scheduler.hpp"
#include "output/merge.hpp"
#include "output/outputs.hpp"
#include "output/record.hpp"
#include "names/reverse_dns.hpp"
#include "pipeline/pipeline.hpp"
#include "plugin/listing.hpp"
#include "portscan/done_items.hpp"
#include "servicescan/service_scan.hpp"
#include "system/interrupt.hpp"
#include "system/privileges.hpp"
#include "targets/target_source.hpp"
#include "targets/unrouted.hpp"

namespace {

using namespace scanfw;

constexpr int kExitOk = 0, kExitRuntime = 1, kExitInput = 2, kExitInterrupted = 130;

void setup_logging() {
    auto logger = spdlog::stderr_color_st("scanfw");
    logger->set_pattern("scanfw: %^%l%$: %v");
    spdlog::set_default_logger(logger);
}

// --resume FILE alone: the command line FILE records, with what was given beside
// --resume on top (timing, --reason, --open, -v, -q, --user, --plugin-dir, --dry-run).
CliOptions recorded_request(const CliOptions& opts, const RecordHeader& record) {
    CliOptions again;
    if (parse_command_line(record.info.argv, again) >= 0)
        throw InputError(fmt::format("{}: the recorded command line no longer parses", *opts.resume));
    again.scan.override_with(opts.scan);
    again.resume = opts.resume;
    again.quiet = opts.quiet || again.quiet;
    again.verbosity = std::max(opts.verbosity, again.verbosity);
    again.dry_run = opts.dry_run;
    if (opts.user) again.user = opts.user;
    again.plugin_dirs.insert(again.plugin_dirs.begin(), opts.plugin_dirs.begin(), opts.plugin_dirs.end());
    again.argv = opts.argv;
    return again;
}

// The outputs of --resume FILE alone: those given beside it, if any; else the recorded
// ones, with the record continued in FILE itself, whatever -oJ the recorded command
// line named (FILE may be a copy, and that file another scan's by now).
OutputConfig resumed_outputs(OutputConfig recorded, const OutputConfig& given, const std::string& file) {
    if (given.json || given.xml || given.grepable || given.normal || given.all) return given;
    recorded.json = file;
    return recorded;
}

// A resumed scan: what the record holds goes to every output first, and is not
// scanned again.
void replay_record(const std::string& file, Outputs& outputs, DoneItems& done) {
    outputs.replaying(true);
    RecordReader::Callbacks cb;
    cb.host = [&](const HostStatus& h) { outputs.on_host(h); };
    cb.result = [&](const Result& r) {
        outputs.on_result(r);
        done.add(r.technique, r.host, r.port);
    };
    RecordReader::read(file, cb);
    outputs.replaying(false);
    spdlog::info("resuming: {} result(s) in {} are not scanned again", done.size(), file);
}

// --dry-run: what the scan would do (nothing is sent, no file is written).
struct DryRun {
    const ScanInfo& info;
    std::uint64_t hosts;
    Shard shard;
    std::string service;  // -sV's settings, or empty
    const Timing& timing;
    bool raw;
    const OutputFiles& files;
    const std::optional<std::string>& resume;
};

// "-oJ r.jsonl (continued), -oX r.xml, the table on stdout"
std::string outputs_text(const OutputFiles& files, const std::optional<std::string>& resume) {
    const OutputPaths p = output_paths(files);
    std::vector<std::string> out;
    bool to_stdout = false;
    for (const auto& [path, flag] : {std::pair{&p.json, "-oJ"}, {&p.xml, "-oX"}, {&p.normal, "-oN"}, {&p.grepable, "-oG"}}) {
        if (!*path) continue;
        to_stdout = to_stdout || **path == "-";
        const bool continued = flag == std::string_view("-oJ") && resume && same_file(**path, *resume);
        out.push_back(fmt::format("{} {}{}", flag, **path == "-" ? "stdout" : **path, continued ? " (continued)" : ""));
    }
    if (!to_stdout) out.push_back("the table on stdout");
    return fmt::format("{}", fmt::join(out, ", "));
}

void print_dry_run(const DryRun& d) {
    std::vector<std::string> techniques, ports;
    for (const auto& t : d.info.techniques) {
        techniques.push_back(t.name);
        ports.push_back(fmt::format("{} {} ({} {})", t.name, port_ranges(t.ports), t.ports.size(), protocol_name(t.protocol)));
    }
    fmt::print("scanfw would scan {} address{}{} with {}; host discovery: {}; {}{} probes a second at most; {}\n",
               d.hosts, d.hosts == 1 ? "" : "es",
               d.shard.whole() ? "" : fmt::format(" (shard {}/{} of them)", d.shard.index, d.shard.count),
               techniques.empty() ? "no port technique" : fmt::format("{}", fmt::join(techniques, ", ")),
               d.info.discovery.empty() ? "none" : fmt::format("{}", fmt::join(d.info.discovery, ", ")), d.service,
               d.timing.rate, d.raw ? "raw sockets can be opened" : "no raw sockets (connect() only)");
    fmt::print("targets: {}\n", d.info.targets_text);
    fmt::print("ports: {}\n", ports.empty() ? "none (host discovery only)" : fmt::format("{}", fmt::join(ports, "; ")));
    const Timing& t = d.timing;
    fmt::print("timing: a try waits {}ms until round trips are measured, then {}ms to {}ms; {} retries{}; {}\n",
               t.timeout.count(), t.min_timeout.count(), t.max_timeout.count(), t.retries,
               t.adaptive_retries ? fmt::format(" (up to {} under loss)", t.max_retries) : std::string(),
               t.min_rate > 0 ? fmt::format("at least {} probes a second", t.min_rate) : "no floor under the rate");
    if (d.resume) {
        std::uint64_t results = 0;
        RecordReader::Callbacks cb;
        cb.result = [&](const Result&) { ++results; };
        RecordReader::read(*d.resume, cb);
        fmt::print("resuming {}: {} result{} recorded, not scanned again\n", *d.resume, results, results == 1 ? "" : "s");
    }
    fmt::print("outputs: {}\n", outputs_text(d.files, d.resume));
}

// --exclude and --excludefile.
ReverseDnsMode reverse_dns_mode(const ScanConfig& cfg) {
    const std::string mode = cfg.reverse_dns.value_or("up");
    return mode == "never" ? ReverseDnsMode::Never : mode == "all" ? ReverseDnsMode::All : ReverseDnsMode::Up;
}

ExcludeList excludes_of(const ScanConfig& cfg) {
    ExcludeList excludes;
    for (const auto& list : cfg.exclude) excludes.add_list(list);
    if (cfg.exclude_file) excludes.add_file(*cfg.exclude_file);
    return excludes;
}

int scan(CliOptions opts) {
    // --resume FILE alone: the scan the record says, continued.
    std::optional<RecordHeader> resumed;
    const bool only_resume = opts.resume && opts.only_resume();
    const OutputConfig given_outputs = opts.scan.outputs;
    if (opts.resume) resumed = RecordReader::header(*opts.resume);
    if (only_resume) opts = recorded_request(opts, *resumed);
    ScanConfig cfg = resolve_request(opts);
    if (only_resume) cfg.outputs = resumed_outputs(cfg.outputs, given_outputs, *opts.resume);
    if (resumed && !cfg.seed && resumed->info.seed) cfg.seed = resumed->info.seed;  // the same order again
    const PortSpec ports = resolve_ports(cfg);
    const Timing timing = resolve_timing(cfg);
    const Shard shard = resolve_shard(cfg);
    const bool ping_only = cfg.ping_only.value_or(false);
    const bool no_discovery = cfg.discovery && cfg.discovery->empty();

    // Targets: every one parsed (names resolved) before a probe is sent.
    const ExcludeList excludes = excludes_of(cfg);
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
    check_dns_servers(cfg.dns_servers);

    // Every privileged resource is opened now, before any plugin code is loaded or any
    // output file created; then the privileges go, so that no plugin ever runs with
    // more than the user who started scanfw has.
    const int ifindex = cfg.interface ? interface_index(*cfg.interface) : 0;  // -e
    std::unique_ptr<RawIo> raw;
    std::string raw_error;
    try {
        raw = open_raw_io(total_hosts * std::max(ports.tcp.size(), ports.udp.size()));
        if (ifindex != 0) raw->socket.bind_to_interface(ifindex);
    } catch (const RuntimeError& e) {
        raw_error = e.what();
    }
    // Output files that root alone may create (a root-owned folder under sudo) are
    // made now, for the user the scan goes on as; not for a dry run, which writes nothing.
    if (!opts.dry_run)
        if (const auto who = identity_to_switch(opts.user)) create_output_files(files, who->uid, who->gid);
    drop_privileges(opts.user);

    PluginRegistry registry(PluginRegistry::search_path(opts.plugin_dirs));
    const std::vector<PluginRequest> port_requests =
        ping_only ? std::vector<PluginRequest>{} : cfg.plugins.empty() ? default_techniques(raw != nullptr) : cfg.plugins;
    // Discovery flags replace the default probes; on a local Ethernet segment ARP and
    // neighbour discovery still ask, as in nmap (which -PE alone does not skip).
    const bool arp_ping = !cfg.disable_arp_ping.value_or(false);
    const DefaultDiscovery defaults = cfg.discovery ? explicit_discovery(*cfg.discovery, raw != nullptr, arp_ping)
                                                    : default_discovery(raw != nullptr, arp_ping);
    const Jobs plan = make_jobs(port_requests, {}, opts.plugin_args, no_discovery ? nullptr : &defaults, registry, ports);
    const std::vector<Job>& jobs = plan.jobs;
    for (const Job& j : jobs)
        if (!j.connect && !raw) throw RuntimeError(raw_error);

    // -sV: nmap's probe database, read (as the user, privileges gone) and checked
    // before anything is sent.
    const bool service_detection = cfg.service.value_or(false) && !port_requests.empty();
    std::optional<services::ProbeDb> probe_db;
    std::optional<services::ServiceProber> prober;
    if (service_detection) {
        probe_db.emplace(load_service_db(cfg.service_db));
        prober.emplace(*probe_db, services::ProberOptions{.intensity = cfg.version_intensity.value_or(7)});
    }

    Routes routes = ifindex != 0 ? Routes::through(ifindex) : Routes();
    if (cfg.discovery) check_link_targets(plan, targets, routes);
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
    info.service_detection = service_detection;
    info.verbosity = opts.verbosity;
    if (resumed) {
        check_resumable(*opts.resume, resumed->info, info);
        check_resume_outputs(files, *opts.resume);
    }
    if (opts.dry_run) {
        const std::string service = prober ? fmt::format("service detection at intensity {} ({} probes from {}); ",
                                                         prober->options().intensity, probe_db->probes().size(),
                                                         probe_db->source())
                                           : "";
        print_dry_run({info, total_hosts, shard, service, timing, raw != nullptr, files, opts.resume});
        return kExitOk;
    }

    const DisplayOptions display{cfg.reason.value_or(false), cfg.open.value_or(false), opts.verbosity, opts.resume};
    Outputs outputs = make_outputs(files, display);
    ReverseNames names(outputs, reverse_dns_mode(cfg), cfg.dns_servers);  // before any output begins
    const auto started = std::chrono::steady_clock::now();
    outputs.begin(info);

    DoneItems done(jobs);
    if (resumed) replay_record(*opts.resume, outputs, done);

    Progress progress(!opts.quiet);
    std::string label = ping_only ? "discovery" : "";
    for (const auto& t : info.techniques) label += (label.empty() ? "" : ", ") + t.name;
    progress.set_label(label);
    Sources sources(routes, pool);
    std::optional<PacketIo> packet_io;
    if (raw) packet_io.emplace(*raw, routes);
    ConnectIo connect_io(!pool.empty(), ifindex);
    std::vector<ProbeIo*> io_of_job;
    for (const Job& j : jobs)
        io_of_job.push_back(j.connect ? static_cast<ProbeIo*>(&connect_io) : packet_io ? &*packet_io : nullptr);
    Pipeline pipeline({plan, io_of_job, sources, routes, timing, shard, cfg.seed ? seed_key(*cfg.seed) : random_key(),
                       done, progress, prober ? &*prober : nullptr, nullptr, {}, {}, {}, cfg.sequential.value_or(false),
                       opts.verbosity >= 1 && outputs.table_on_stdout()},
                      names);
    pipeline.run(targets);
    names.finish([] { return stop_requested(); });

    progress.finish();
    ScanSummary summary;
    summary.hosts = total_hosts;
    summary.results = outputs.results();
    summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    summary.interrupted = stop_requested();  // then the outputs count the share done (Outputs::end)
    summary.limited = pipeline.limited();
    // The sockets are closed while the outputs are finished: closing the capture waits
    // out an RCU grace period in the kernel (20-30 ms), time the outputs can use.
    packet_io.reset();
    std::jthread closer([io = std::move(raw)]() mutable { io.reset(); });
    outputs.end(summary);
    if (summary.interrupted) {
        spdlog::warn("interrupted: {} result(s) written; the outputs are complete up to here (--resume continues)",
                     pipeline.results());
        return kExitInterrupted;
    }
    return kExitOk;
}

// -sL: every target, in order, as nmap lists them; nothing is sent. A name keeps the
// name it was given ("scan report for localhost (127.0.0.1)").
int list_targets(const CliOptions& opts) {
    drop_privileges(opts.user);
    const ScanConfig cfg = resolve_request(opts);
    const auto refuse = [](std::string_view what) {
        throw InputError(fmt::format("-sL lists the targets and scans nothing: it takes no {}", what));
    };
    if (!cfg.plugins.empty()) refuse("scan technique (-sS, --plugin, ...)");
    if (cfg.ports || cfg.top_ports) refuse("-p, -F or --top-ports");
    if (cfg.service.value_or(false)) refuse("-sV");
    if (cfg.ping_only.value_or(false)) refuse("-sn");
    const auto& o = cfg.outputs;
    if (o.json || o.xml || o.grepable || o.normal || o.all) refuse("output file (the list goes to stdout)");
    const ExcludeList excludes = excludes_of(cfg);
    TargetSource targets(cfg.targets, cfg.input_list, opts.name_family, &excludes);
    const auto started = std::chrono::steady_clock::now();
    const std::uint64_t total = targets.validate();
    if (total == 0 && cfg.targets.empty() && !cfg.input_list)
        throw InputError("no targets given: name at least one host, address or range (or -iL FILE)");
    targets.rewind();
    // As nmap, the list names each target by its reverse DNS name (unless -n), asked
    // for a batch at a time in parallel.
    check_dns_servers(cfg.dns_servers);
    std::optional<ReverseResolver> resolver;
    if (reverse_dns_mode(cfg) != ReverseDnsMode::Never) resolver.emplace(cfg.dns_servers);
    constexpr std::uint64_t kBatch = 1024;
    TargetSet set;
    absl::flat_hash_map<IpAddress, std::string, IpAddressHash> ptr;
    while (!stop_requested() && targets.next(set)) {
        for (std::uint64_t first = 0; first < set.size() && !stop_requested(); first += kBatch) {
            const std::uint64_t end = std::min(set.size(), first + kBatch);
            ptr.clear();
            if (resolver) {
                for (std::uint64_t i = first; i < end; ++i) resolver->ask(set.at(i));
                // Each lookup ends within c-ares' bound (3 s), and after 32 unanswered in
                // a row no more are asked: no limit of its own.
                resolver->wait_all([] { return stop_requested(); }, std::chrono::hours(1));
                for (auto& [a, name] : resolver->take()) ptr[a] = std::move(name);
            }
            for (std::uint64_t i = first; i < end; ++i) {
                HostView view;
                view.host = set.at(i);
                view.status.emplace();
                view.status->hostname = set.name_of(view.host);
                if (const auto it = ptr.find(view.host); it != ptr.end()) view.status->ptr_name = it->second;
                fmt::print("scanfw scan report for {}\n", host_label(view));
                if (const auto rdns = rdns_line(view)) fmt::print("{}\n", *rdns);
            }
        }
    }
    if (stop_requested()) {
        spdlog::warn("interrupted: the list above is not complete");
        return kExitInterrupted;
    }
    fmt::print("scanfw done: {} IP address{} (0 hosts up) scanned in {:.2f} seconds\n", total, total == 1 ? "" : "es",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
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
        if (opts.list_targets) return list_targets(opts);
        if (opts.list_plugins) {
            drop_privileges(opts.user);  // plugin code never runs privileged
            PluginRegistry registry(PluginRegistry::search_path(opts.plugin_dirs));
            return list_plugins(registry) ? kExitOk : kExitRuntime;
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
