#include "pipeline/pipeline.hpp"

#include <functional>
#include <optional>
#include <string>

#include <spdlog/spdlog.h>

#include "discovery/discovery.hpp"
#include "portscan/port_scan.hpp"
#include "servicescan/service_scan.hpp"
#include "system/interrupt.hpp"

namespace scanfw {

namespace {

// Counts the results on their way to the outputs, for the progress line; with -v says
// each open port as it is found, as nmap does.
class Counter final : public ResultSink {
public:
    Counter(ResultSink& next, Progress& progress, std::uint64_t& n, bool announce)
        : next_(next), progress_(progress), n_(n), announce_(announce) {}
    void on_host(const HostStatus& h) override { next_.on_host(h); }
    void on_result(const Result& r) override {
        ++n_;
        if (r.state == State::Open) {
            progress_.found_open();
            if (announce_ && r.protocol != Protocol::Ip)
                progress_.announce(fmt::format("Discovered open port {}/{} on {}", r.port, protocol_name(r.protocol),
                                               r.host.str()));
        }
        next_.on_result(r);
    }

private:
    ResultSink& next_;
    Progress& progress_;
    std::uint64_t& n_;
    bool announce_;
};

// Items of hosts found up, less those `skip` says (a family the technique cannot
// probe, or done before a resume).
class Filtered final : public ItemSource {
public:
    Filtered(ItemSource& inner, const PairOrder::Skip& skip) : inner_(inner), skip_(skip) {}
    bool next(Item& out) override {
        while (inner_.next(out))
            if (!skip_(out)) return true;
        return false;
    }
    bool finished() const override { return inner_.finished(); }
    std::uint64_t position() const override { return inner_.position(); }
    std::uint64_t total() const override { return inner_.total(); }

private:
    ItemSource& inner_;
    const PairOrder::Skip& skip_;
};

// No new items while service detection has a full backlog (bounded memory); the
// prober gets a moment meanwhile, as the engine may not wait while it has nothing.
class Throttled final : public ItemSource {
public:
    Throttled(ItemSource& inner, ServiceScan* services) : inner_(inner), services_(services) {}
    bool next(Item& out) override {
        if (services_ && services_->backlogged()) {
            services_->step(std::chrono::milliseconds(1));
            if (services_->backlogged()) return false;
        }
        return inner_.next(out);
    }
    bool finished() const override { return inner_.finished(); }
    std::uint64_t position() const override { return inner_.position(); }
    std::uint64_t total() const override { return inner_.total(); }

private:
    ItemSource& inner_;
    ServiceScan* services_;
};

// Whether two port techniques share a protocol (syn and connect): then each port they
// both find open is identified once.
bool shared_ports(const Jobs& plan) {
    for (std::size_t i = 0; i < plan.port_jobs.size(); ++i)
        for (std::size_t j = i + 1; j < plan.port_jobs.size(); ++j)
            if (plan.jobs[plan.port_jobs[i]].info().protocol == plan.jobs[plan.port_jobs[j]].info().protocol)
                return true;
    return false;
}

}  // namespace

void Pipeline::run(TargetSource& targets) {
    // Service detection outlives the chunks: ports found in one are still being
    // identified while the next is scanned.
    std::optional<ServiceScan> services;
    if (s_.prober && !s_.plan.port_jobs.empty()) services.emplace(*s_.prober, out_, shared_ports(s_.plan));
    services_ = services ? &*services : nullptr;
    TargetSet chunk;
    std::uint64_t chunk_no = 0;
    while (!stop_requested() && targets.next(chunk)) run_chunk(chunk, chunk_no++);
    if (services) {
        services->finish(s_.progress);
        dropped_ = services->dropped();
        spdlog::info("service detection: {} of {} port(s) identified", services->identified(), services->probed());
    }
    services_ = nullptr;
}

Waiter Pipeline::waiter() {
    if (s_.wait) return s_.wait;
    return services_ ? services_->waiter(time_) : poll_waiter(time_);
}

void Pipeline::run_chunk(const TargetSet& chunk, std::uint64_t chunk_no) {
    const std::vector<Job>& jobs = s_.plan.jobs;
    Counter counter(services_ ? static_cast<ResultSink&>(*services_) : out_, s_.progress, results_, s_.announce_open);
    // What the engine learns of each host lives as long as the chunk it is in.
    Knowledge knowledge(s_.timing);
    knowledge.limits.on_shown(s_.limits_shown);
    knowledge.loss.on_shown(s_.loss_shown);
    const SipKey key = order_key(s_.seed, chunk_no);
    auto names = [&chunk](const IpAddress& a) { return chunk.has_names() ? chunk.name_of(a) : std::string(); };
    const PairOrder::Skip skip_port = [&](const Item& item) {
        const Description& d = jobs[item.job].info();
        return !(item.host.family == Family::V4 ? d.ipv4 : d.ipv6) || s_.done.done(item);
    };
    if (s_.plan.host_jobs.empty()) {
        // -Pn: every target is up; shards split the (host, port) pairs.
        PairOrder order(chunk, jobs, s_.plan.port_jobs, key, s_.shard, ShardUnit::Pair, skip_port, s_.sequential);
        PortScan port_scan(jobs, counter, s_.routes, true, names);
        // Every host of the chunk is probed and most answer: their tables are sized
        // once, not grown by rehashing (with discovery, only the hosts found up are).
        port_scan.reserve(chunk.size());
        knowledge.rtt.reserve(chunk.size());
        Throttled throttled(order, services_);
        Scheduler scheduler(jobs, s_.io_of_job, throttled, s_.sources, knowledge, s_.timing, port_scan, time_,
                            waiter(), &s_.progress);
        scheduler.run();
        items_total_ += order.total() / s_.shard.count;
        items_done_ += std::min(order.position(), order.total()) / s_.shard.count;
    } else {
        // Discovery first, each host found up handed to the port scan at once; shards
        // split the hosts.
        PairOrder discovery_order(chunk, jobs, s_.plan.host_jobs, key, s_.shard, ShardUnit::Host);
        Discovery* discovery_ptr = nullptr;
        UpHosts up(jobs, s_.plan.port_jobs, {key[1], key[0]}, [&] { return discovery_ptr->done(); }, s_.sequential);
        Scheduler* scheduler_ptr = nullptr;
        Discovery::Hooks hooks;
        hooks.up = [&](const IpAddress& host) {
            if (!s_.plan.port_jobs.empty()) up.add(host);
        };
        hooks.cancel = [&](const Item& item) { scheduler_ptr->cancel(item); };
        hooks.name = names;
        hooks.applies = [&](std::uint16_t job, const IpAddress& host) {
            const Description& d = jobs[job].info();
            if (!(host.family == Family::V4 ? d.ipv4 : d.ipv6)) return false;
            if (!s_.plan.local_only[job] && !s_.plan.remote_only[job]) return true;
            const auto route = s_.routes.lookup(host);
            const bool local = route && route->local_segment();
            return s_.plan.local_only[job] ? local : !local;
        };
        hooks.local = [&](const IpAddress& host) {
            const auto route = s_.routes.lookup(host);
            return route && route->local;
        };
        Discovery discovery(jobs, discovery_order, counter, s_.routes, hooks);
        discovery_ptr = &discovery;
        // Discovery's probes before port probes: behind a -p- scan of the first host
        // up, the other hosts' discovery waited until its 65,535 ports were handed out
        // (issue 25). The port scan spreads over up to 256 hosts up at once (UpHosts).
        MergedItems items(discovery.items(), up);
        PortScan port_scan(jobs, counter, s_.routes, false, names);
        SplitSink sink(discovery, port_scan);
        Filtered filtered(items, skip_port);
        Throttled throttled(filtered, services_);
        Scheduler scheduler(jobs, s_.io_of_job, throttled, s_.sources, knowledge, s_.timing, sink, time_, waiter(),
                            &s_.progress);
        scheduler_ptr = &scheduler;
        scheduler.run();
        items_total_ += discovery_order.total() / s_.shard.count;
        items_done_ += std::min(discovery_order.position(), discovery_order.total()) / s_.shard.count;
    }
    for (const auto& e : knowledge.limits.limited_hosts()) {
        const char* what = e.kinds == bit(Limited::Rst)       ? "RSTs"
                           : e.kinds & bit(Limited::Rst) ? "ICMP errors and RSTs"
                                                         : "ICMP errors";
        spdlog::info("{}: {} rate-limited: about {:.0f}/s after a burst of {}; waiting it out cost {:.1f} s",
                     e.host.str(), what, e.rate, e.burst, e.cost);
        limited_.push_back({e.host, e.rate, e.burst, e.cost});
    }
}

}  // namespace scanfw
