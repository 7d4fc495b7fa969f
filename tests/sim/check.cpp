#include "sim/check.hpp"

#include <cerrno>
#include <cmath>
#include <map>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cli/cli.hpp"
#include "cli/plan.hpp"
#include "common/errors.hpp"
#include "engine/packet_io.hpp"
#include "net/capture.hpp"
#include "net/packet.hpp"
#include "net/tag.hpp"
#include "pipeline/pipeline.hpp"
#include "portscan/done_items.hpp"
#include "scanfw/wire.hpp"
#include "targets/target_source.hpp"

namespace scanfw::sim {

namespace {

// The results as the outputs would receive them.
struct Collector final : ResultSink {
    struct Key {
        std::string technique;
        IpAddress host;
        std::uint16_t port;
        auto operator<=>(const Key&) const = default;
    };
    explicit Collector(const SimClock& clock) : clock_(clock) {}
    std::map<IpAddress, bool> up;
    struct Got {
        Verdict verdict;
        Clock::time_point at;  // when it was concluded
    };
    std::map<Key, Got> results;
    std::vector<std::string> twice;
    void on_host(const HostStatus& h) override {
        if (!h.update) up[h.host] = h.up;
    }
    void on_result(const Result& r) override {
        const Key k{std::string(r.technique), r.host, r.port};
        if (results.count(k)) twice.push_back(fmt::format("{} {} {}", k.technique, r.host.str(), r.port));
        results[k] = {{r.state, r.reason.data()}, clock_.now()};
    }

private:
    const SimClock& clock_;
};

struct SimTarget {
    const HostSpec* spec = nullptr;  // null: no host at that address
    IpAddress addr;
};

std::uint8_t ip_protocol(const Job& job, Family f) {
    switch (job.info().protocol) {
        case Protocol::Tcp: return wire::ip_proto::TCP;
        case Protocol::Udp: return wire::ip_proto::UDP;
        case Protocol::Icmp: return f == Family::V4 ? wire::ip_proto::ICMP : wire::ip_proto::ICMPV6;
        default: return 0;
    }
}

// What the scan would find on a perfect network without limits, and the ledger's key
// of the probe.
class Truth {
public:
    // `key`: the engine's tagging key, so that the truth's probes are the engine's.
    Truth(const Jobs& plan, std::vector<IpAddress> sources, const SipKey& key)
        : plan_(plan), sources_(std::move(sources)), tagger_(key) {
        std::vector<MatchJob> match;
        for (std::size_t i = 0; i < plan.jobs.size(); ++i) {
            if (plan.jobs[i].connect) continue;
            MatchJob m{static_cast<std::uint16_t>(i), plan.jobs[i].info().protocol, {}};
            if (m.protocol == Protocol::Icmp) m.icmp_ports = plan.jobs[i].ports;
            match.push_back(std::move(m));
        }
        matcher_.emplace(tagger_, std::move(match));
    }

    struct Ideal {
        Verdict verdict;
        std::vector<Ledger::Key> keys;  // of its probes, from each source address
        bool rst = false;  // the answer is a RST of the kernel's (limited on some systems)
    };
    Ideal of(std::uint16_t job_id, const SimTarget& t, std::uint16_t port) const {
        const Job& job = plan_.jobs[job_id];
        const Verdict silence = job.technique->classify(Reply{});
        if (job.connect) return connect(job, t, port, silence);
        std::vector<Ledger::Key> keys;
        Bytes packet;
        for (const IpAddress& source : sources_) {
            packet = probe(job_id, source, t.addr, port);
            keys.push_back(*key_of(packet));
        }
        if (!t.spec) return {silence, keys};
        std::uint16_t id = 1;
        const auto responses = respond(*t.spec, packet, id);
        if (responses.empty()) return {silence, keys};
        Bytes frame(16, 0);
        frame[3] = 1;
        frame[5] = 6;
        frame.insert(frame.end(), responses.front().packet.begin(), responses.front().packet.end());
        const bool v6 = t.addr.family == Family::V6;
        wire::put16(frame.data() + 14, v6 ? 0x86dd : 0x0800);
        std::vector<Answer> out;
        Capture::answers_of(frame, *matcher_, out);
        const bool rst = responses.front().limited_as == Emission::Rst4 || responses.front().limited_as == Emission::Rst6;
        for (const Answer& a : out)
            if (a.item.job == job_id && a.item.port == port) return {job.technique->classify(a.view()), keys, rst};
        throw std::logic_error(fmt::format("the simulated answer to {} port {} matches no probe", job.name(), port));
    }

private:
    // The probe the engine sends for (job, host, port) from `source`, from its IP header.
    Bytes probe(std::uint16_t job_id, const IpAddress& source, const IpAddress& host, std::uint16_t port) const {
        const Job& job = plan_.jobs[job_id];
        const bool v6 = host.family == Family::V6;
        const ProbeTag tag = tagger_.tag(job_id, source, host, port);
        ProbeContext ctx;
        ctx.port = port;
        ctx.ipv6 = v6;
        ctx.src = {source.bytes.data(), v6 ? 16u : 4u};
        ctx.dst = {host.bytes.data(), v6 ? 16u : 4u};
        ctx.tag = tag.fields;
        Bytes packet(1500);
        const std::size_t header = ip_header_size(host.family);
        const std::size_t len = job.technique->probe(ctx, std::span(packet).subspan(header));
        packet.resize(
            finish_ip_packet(IpHeader{source, host, ip_protocol(job, host.family), tag.ip_id, 64}, packet, len));
        return packet;
    }

    static Ideal connect(const Job& job, const SimTarget& t, std::uint16_t port, Verdict silence) {
        const std::vector<Ledger::Key> key{{t.addr, wire::ip_proto::TCP, port, Ledger::kConnect}};
        if (!t.spec || !t.spec->up) return {silence, key};
        Reply r;
        r.kind = Reply::Kind::Connect;
        switch (t.spec->tcp_port(port)) {
            case Behaviour::Open: r.connect_errno = 0; break;
            case Behaviour::Closed: case Behaviour::RejectReset: r.connect_errno = ECONNREFUSED; break;
            case Behaviour::RejectAdmin: r.connect_errno = EHOSTUNREACH; break;
            default: return {silence, key};
        }
        return {job.technique->classify(r), key, t.spec->tcp_port(port) == Behaviour::Closed};
    }

    const Jobs& plan_;
    std::vector<IpAddress> sources_;
    Tagger tagger_;
    std::optional<Matcher> matcher_;
};

// The same state, and the same reason, or silence's where an answer that the state
// did not need was held back (a SYN scan's port is filtered with or without its ICMP
// admin-prohibited): a limiter, not the engine, chose the reason.
bool same(const Verdict& got, const Verdict& truth, const Verdict& silence) {
    if (got.state != truth.state) return false;
    return std::string_view(got.reason) == truth.reason || std::string_view(got.reason) == silence.reason;
}
std::string text(const Verdict& v) { return fmt::format("{} ({})", state_name(v.state), v.reason); }

// A path or service slower than the template waits: its answers may come too late.
bool late_path(const HostSpec* h, const Timing& t) {
    if (!h) return false;
    const auto rtt = 2 * (h->path.delay + h->path.jitter + h->path.reorder);
    return rtt >= std::min<Clock::duration>(t.timeout, t.max_timeout);
}
// A technique that waits for applications (UDP) waits the application wait; one that
// does not (udp-ping, as nmap's -PU) a kernel's round trip and a little more (at least
// 2 ms, RttEstimator): a service slower than that answers too late for it.
bool late_service(const HostSpec* h, std::uint16_t port, const Timing& t, bool app_waits) {
    if (!h) return false;
    const auto it = h->service_delay.find(port);
    if (it == h->service_delay.end()) return false;
    if (!app_waits) return it->second >= std::chrono::milliseconds(2);
    const auto rtt = 2 * (h->path.delay + h->path.jitter + h->path.reorder);
    return it->second + rtt >= t.app_wait;
}

// A port's service delay in seconds (0: none, or no host).
double service_delay(const HostSpec* h, std::uint16_t port) {
    if (!h) return 0;
    const auto it = h->service_delay.find(port);
    return it == h->service_delay.end() ? 0 : seconds(it->second);
}

// What became of a result's probes, from every source.
Ledger::Entry entry(const Ledger& ledger, const std::vector<Ledger::Key>& keys) {
    Ledger::Entry sum;
    for (const auto& k : keys)
        if (const Ledger::Entry* e = ledger.find(k)) {
            sum.probes += e->probes;
            sum.lost_out += e->lost_out;
            sum.answers += e->answers;
            sum.limited += e->limited;
            sum.lost_back += e->lost_back;
            sum.delivered += e->delivered;
        }
    return sum;
}

// No answer to this probe ever reached the scanner, and the network lost some: every
// answer the host sent was lost on the way back (duplicates are lost too: as many or
// more). An answer still on its way when the scan ended, or that came after the engine
// gave its connect() up, is late, not lost (seeds 36355, 561004: a path slower than
// the template's longest wait; 3875: a RST to the kernel's SYN retransmission).
bool all_lost(const Ledger& ledger, const std::vector<Ledger::Key>& keys) {
    const Ledger::Entry e = entry(ledger, keys);
    return e.delivered == 0 && e.lost_out + e.lost_back > 0 && e.lost_back >= e.answers;
}

// The tagging key the engine's PacketIo is given (run_and_check).
SipKey tag_key(const Scenario& sc) { return {sc.seed, ~sc.seed}; }

struct Run {
    Jobs plan;
    Timing timing;
    bool no_discovery = false;
    std::vector<SimTarget> targets;
};

class Checker {
public:
    Checker(const Scenario& sc, const Run& run, const World& world, const Collector& got, Checked& out)
        : sc_(sc), run_(run), world_(world), got_(got), out_(out), truth_(run.plan, sc.sources, tag_key(sc)) {}

    void check() {
        for (const auto& t : got_.twice) problem("reported twice: {}", t);
        for (const SimTarget& t : run_.targets)
            if (check_host(t)) check_ports(t);
    }

private:
    template <class... A>
    void problem(fmt::format_string<A...> f, A&&... a) {
        if (out_.problems.size() < 20) out_.problems.push_back(fmt::format(f, std::forward<A>(a)...));
    }

    // Whether the host's ports are to be checked.
    bool check_host(const SimTarget& t) {
        ++out_.hosts;
        const auto it = got_.up.find(t.addr);
        const bool reported = it != got_.up.end() && it->second;
        if (run_.no_discovery) {
            if (!reported) problem("{}: not reported up under -Pn", t.addr.str());
            return reported;
        }
        bool expected = false, lost = true, held = true, explained = true;
        std::string probes;
        for (const std::uint16_t j : run_.plan.host_jobs) {
            const Job& job = run_.plan.jobs[j];
            if (!(t.addr.family == Family::V4 ? job.info().ipv4 : job.info().ipv6)) continue;
            if (job.info().protocol == Protocol::Link) continue;  // no local segment here
            for (const std::uint16_t p : job.ports) {
                const auto ideal = truth_.of(j, t, p);
                const Ledger::Entry e = entry(world_.ledger, ideal.keys);
                probes += fmt::format("; {}:{} {} (probes {} lost {}, answers {} limited {} lost {} delivered {})",
                                      job.name(), p, text(ideal.verdict), e.probes, e.lost_out, e.answers, e.limited,
                                      e.lost_back, e.delivered);
                if (ideal.verdict.state != State::Up) continue;
                expected = true;
                lost = lost && all_lost(world_.ledger, ideal.keys);
                // Its answer lost, or later than the application wait (a slow service).
                explained = explained && (all_lost(world_.ledger, ideal.keys) || late_service(t.spec, p, run_.timing, job.info().answered_by_applications));
                held = held && e.delivered == 0 && e.limited + e.lost_out + e.lost_back > 0;
            }
        }
        if (expected == reported) return reported;
        if (expected && (explained || late_path(t.spec, run_.timing))) {
            ++(lost ? out_.lost : out_.late);
            return false;
        }
        if (expected && held && t.spec && t.spec->limiter.spent > 0) {
            // The documented trade-off: nothing at all reached the scanner from a host
            // whose limiter a scan just before had spent (and the network lost the rest).
            ++out_.unseen_limit;
            return false;
        }
        problem("{}: reported {}, is {}{}; limiter {}", t.addr.str(), reported ? "up" : "down", expected ? "up" : "down",
                probes, t.spec ? t.spec->limiter.describe() : "-");
        return reported;
    }

    void check_ports(const SimTarget& t) {
        for (const std::uint16_t j : run_.plan.port_jobs) {
            const Job& job = run_.plan.jobs[j];
            if (!(t.addr.family == Family::V4 ? job.info().ipv4 : job.info().ipv6)) continue;
            const Verdict silence = job.technique->classify(Reply{});
            for (const std::uint16_t p : job.ports) {
                ++out_.results;
                const auto ideal = truth_.of(j, t, p);
                const auto it = got_.results.find({job.name(), t.addr, p});
                if (it == got_.results.end()) {
                    problem("{} {} port {}: no result (is {})", job.name(), t.addr.str(), p, text(ideal.verdict));
                    continue;
                }
                const Verdict& got = it->second.verdict;
                if (same(got, ideal.verdict, silence)) continue;
                if (same(got, silence, silence)) {
                    if (all_lost(world_.ledger, ideal.keys)) {
                        const Ledger::Entry e = entry(world_.ledger, ideal.keys);
                        if (lost_within_reason(t, e, it->second.at)) continue;
                        if (unseen_rst_limit(ideal, t, it->second.at)) {
                            ++out_.unseen_limit;
                            continue;
                        }
                        problem("{} {} port {}: every try lost, but too few tries for the path's loss ({} tries, "
                                "{} lost on the way, {} answers, {} held back, {} lost back; path loss {:.2f}/{:.2f}; "
                                "concluded at {:.3f} s)",
                                job.name(), t.addr.str(), p, e.probes + e.lost_out, e.lost_out, e.answers, e.limited,
                                e.lost_back, t.spec ? t.spec->path.loss_out : 0, t.spec ? t.spec->path.loss_back : 0,
                                seconds(it->second.at - SimClock::epoch()));
                        continue;
                    }
                    if (late_path(t.spec, run_.timing) || late_service(t.spec, p, run_.timing, job.info().answered_by_applications)) {
                        ++out_.late;
                        continue;
                    }
                    if (retries_capped(t.spec)) {
                        ++out_.lost;
                        continue;
                    }
                    if (unseen_rst_limit(ideal, t, it->second.at)) {
                        ++out_.unseen_limit;
                        continue;
                    }
                }
                const Ledger::Entry e = entry(world_.ledger, ideal.keys);
                const Clock::time_point shown = world_.first_late_rst(t.addr);
                problem("{} {} port {} ({}): {}, is {}; probes {} lost {}, answers {} limited {} lost {} delivered {}; "
                        "concluded at {:.3f} s, first late RST {:.3f} s; path {:.3f}+{:.3f}+{:.3f} ms, limiter {}; "
                        "service delay {:.3f} s",
                        job.name(), t.addr.str(), p,
                        t.spec ? to_string(job.info().protocol == Protocol::Udp ? t.spec->udp_port(p)
                                                                                 : t.spec->tcp_port(p))
                               : "no host",
                        text(got), text(ideal.verdict), e.probes, e.lost_out, e.answers, e.limited, e.lost_back,
                        e.delivered,
                        seconds(it->second.at - SimClock::epoch()),
                        shown == Clock::time_point::max() ? -1.0 : seconds(shown - SimClock::epoch()),
                        t.spec ? seconds(t.spec->path.delay) * 1e3 : 0, t.spec ? seconds(t.spec->path.jitter) * 1e3 : 0,
                        t.spec ? seconds(t.spec->path.reorder) * 1e3 : 0, t.spec ? t.spec->limiter.describe() : "-",
                        service_delay(t.spec, p));
            }
        }
    }

    // The documented trade-off (README "States"): a closed TCP port whose RSTs the host
    // held back, concluded before the host's first late RST reached the scanner (its
    // first sign of a RST limit: a host whose allowance a scan just before spent).
    bool unseen_rst_limit(const Truth::Ideal& ideal, const SimTarget& t, Clock::time_point concluded) const {
        return ideal.rst && entry(world_.ledger, ideal.keys).limited > 0 && concluded <= world_.first_late_rst(t.addr);
    }

    // --max-retries below what the path's loss needs (for a miss below 1e-5): an
    // answer lost, the port's or one that spent the host's allowance before it, may be
    // the end of it, as the user chose.
    bool retries_capped(const HostSpec* h) const {
        if (!h) return false;
        const double p = 1 - (1 - h->path.loss_out) * (1 - h->path.loss_back);
        if (p <= 0) return false;
        const double needed = std::ceil(std::log(1e-5) / std::log(std::min(p, 0.9)));
        return run_.timing.max_retries + 1 < needed;
    }

    // Every try of a port (or its answer) lost: right if the engine made as many tries
    // as --max-retries allowed (the user's cap), or as many as the path's loss calls for
    // (a miss below 1e-5: then it is that rare event, and its chance is added to the
    // expected count). Tries whose answer the host's limiter held back do not count:
    // covering them is the limits' part (a try lost on the way there counts). Else it
    // is excused only if the host had not shown the engine its loss when the port was
    // concluded (none of its answers had needed a retransmission: the engine had the
    // scan's loss to go by), and counted.
    bool lost_within_reason(const SimTarget& t, const Ledger::Entry& e, Clock::time_point concluded) {
        ++out_.lost;
        const std::uint32_t tries = e.probes + e.lost_out;
        if (!t.spec || static_cast<int>(tries) >= run_.timing.max_retries + 1) return true;
        const double p = 1 - (1 - t.spec->path.loss_out) * (1 - t.spec->path.loss_back);
        const double chance = std::pow(p, tries - std::min(e.limited, tries));
        out_.lost_expected += chance;
        if (chance <= 1e-5) return true;
        if (world_.loss_shown(t.addr, concluded)) return false;
        ++out_.loss_unshown;
        return true;
    }

    const Scenario& sc_;
    const Run& run_;
    const World& world_;
    const Collector& got_;
    Checked& out_;
    Truth truth_;
};

// The scanned addresses: the target block, each with its host (or none).
std::vector<SimTarget> targets_of(const Scenario& sc, TargetSource& source) {
    std::vector<SimTarget> out;
    TargetSet chunk;
    std::map<IpAddress, const HostSpec*> by;
    for (const auto& h : sc.hosts) by[h.addr] = &h;
    while (source.next(chunk))
        for (std::uint64_t i = 0; i < chunk.size(); ++i) {
            const IpAddress a = chunk.at(i);
            const auto it = by.find(a);
            out.push_back({it == by.end() ? nullptr : it->second, a});
        }
    source.rewind();
    return out;
}

}  // namespace

Checked run_and_check(const Scenario& sc, PluginRegistry& registry) {
    Checked out;
    World world(sc.hosts, sc.machine, sc.seed);
    world.trace = spdlog::get_level() == spdlog::level::trace;  // -vv: every probe's fate too

    std::vector<std::string> argv{"scanfw"};
    argv.insert(argv.end(), sc.args.begin(), sc.args.end());
    CliOptions opts;
    if (const int rc = parse_command_line(argv, opts); rc >= 0) {
        out.problems.push_back(fmt::format("the command line was refused (exit {})", rc));
        return out;
    }
    const ScanConfig cfg = resolve_request(opts);
    const PortSpec ports = resolve_ports(cfg);
    Run run;
    run.timing = resolve_timing(cfg);
    run.no_discovery = cfg.discovery && cfg.discovery->empty();
    TargetSource targets(cfg.targets, cfg.input_list, opts.name_family);
    targets.validate();
    run.targets = targets_of(sc, targets);
    const DefaultDiscovery defaults =
        cfg.discovery ? explicit_discovery(*cfg.discovery, true) : default_discovery(true);
    run.plan = make_jobs(cfg.plugins, {}, opts.plugin_args, run.no_discovery ? nullptr : &defaults, registry, ports);

    // Routes: every target is behind a router, reached from the scanner's address.
    const IpAddress us = sc.sources.front();
    Routes routes([us](const IpAddress& dst) -> std::optional<Route> {
        if (dst.family != us.family) return std::nullopt;
        Route r;
        r.source = us;
        r.ifname = "sim0";
        r.ifindex = 1;
        return r;
    });
    const SourcePool pool = SourcePool::of_addresses(sc.sources.size() > 1 ? sc.sources : std::vector<IpAddress>{});
    Sources sources(routes, pool);
    PacketIo packet_io(world.sender, world.capture, routes);
    packet_io.fixed_key(tag_key(sc));
    std::vector<ProbeIo*> io_of_job;
    for (const Job& j : run.plan.jobs) io_of_job.push_back(j.connect ? static_cast<ProbeIo*>(&world.connect) : &packet_io);

    // A scan that does not end within a simulated week, or runs away, is a failure.
    const Waiter inner = world.waiter();
    const Waiter wait = [&](std::span<ProbeIo* const> ios, Clock::time_point until) {
        inner(ios, until);
        if (world.clock.elapsed() > 7 * 86400.0 || world.events() > 50'000'000)
            throw std::runtime_error(fmt::format("the scan did not end ({:.0f} s simulated, {} events)",
                                                 world.clock.elapsed(), world.events()));
    };
    DoneItems done(run.plan.jobs);
    Progress progress(false);
    Collector got(world.clock);
    try {
        const auto shown = [&world](const IpAddress& host, Limited kind) {
            if (kind == Limited::Rst) world.rst_limit_shown(host);
        };
        const auto loss_shown = [&world](const IpAddress& host) { world.show_loss(host); };
        Pipeline pipeline({run.plan, io_of_job, sources, routes, run.timing, Shard{}, seed_key(sc.seed), done, progress,
                           nullptr, &world.clock, wait, shown, loss_shown},
                          got);
        pipeline.run(targets);
    } catch (const std::exception& e) {
        out.problems.push_back(e.what());
        return out;
    }
    out.simulated = world.clock.elapsed();
    out.events = world.events();
    out.probes = world.sender.sent() + world.connect.sent();
    Checker(sc, run, world, got, out).check();
    return out;
}

}  // namespace scanfw::sim
