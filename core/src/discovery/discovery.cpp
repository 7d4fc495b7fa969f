#include "discovery/discovery.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/errors.hpp"

namespace scanfw {

Discovery::Discovery(std::span<const Job> jobs, ItemSource& items, ResultSink& out, Routes& routes, Hooks hooks)
    : jobs_(jobs), out_(out), routes_(routes), hooks_(std::move(hooks)), source_(*this, items) {}

bool Discovery::Source::next(Item& out) {
    while (inner_.next(out)) {
        if (d_.up_hosts_.contains(out.host)) continue;  // up already: its other probes are not needed
        if (d_.hooks_.applies && !d_.hooks_.applies(out.job, out.host)) continue;
        auto [it, fresh] = d_.hosts_.try_emplace(out.host);
        if (fresh) {
            if (d_.hooks_.local && d_.hooks_.local(out.host)) {  // ourselves
                d_.hosts_.erase(it);
                d_.report_up(out, Verdict{State::Up, "localhost-response"}, Outcome{});
                continue;
            }
            for (std::uint16_t j = 0; j < d_.jobs_.size(); ++j)
                if (d_.jobs_[j].info().kind == Kind::Host && (!d_.hooks_.applies || d_.hooks_.applies(j, out.host)))
                    it->second.expected += static_cast<std::uint32_t>(d_.jobs_[j].ports.size());
        }
        ++it->second.outstanding;
        return true;
    }
    return false;
}

void Discovery::report_up(const Item& item, const Verdict& verdict, const Outcome& outcome) {
    ++up_;
    up_hosts_.insert(item.host);
    HostStatus s;
    s.host = item.host;
    s.reason = *verdict.reason ? verdict.reason : "unknown-response";
    s.ttl = outcome.ttl;
    s.rtt_us = outcome.rtt_us;
    if (outcome.mac)
        if (const auto route = routes_.lookup(item.host); route && route->local_segment()) s.mac = outcome.mac;
    if (hooks_.name) s.hostname = hooks_.name(item.host);
    out_.on_host(s);
    if (hooks_.up) hooks_.up(item.host);
    // Its other discovery probes in flight are no longer needed.
    if (!hooks_.cancel) return;
    for (std::uint16_t j = 0; j < jobs_.size(); ++j) {
        if (jobs_[j].info().kind != Kind::Host) continue;
        for (std::uint16_t port : jobs_[j].ports)
            if (const Item other{item.host, port, j}; !(other == item)) hooks_.cancel(other);
    }
}

void Discovery::on_item(const Job&, const Item& item, const Verdict& verdict, const Outcome& outcome) {
    const auto it = hosts_.find(item.host);
    SPDLOG_TRACE("discovery: {} port {} (job {}): {} ({}){}", item.host.str(), item.port, item.job,
                 static_cast<int>(verdict.state), verdict.reason, it == hosts_.end() ? ", decided already" : "");
    if (it == hosts_.end()) return;  // decided already
    Host& h = it->second;
    if (verdict.state == State::Up) {
        hosts_.erase(it);
        report_up(item, verdict, outcome);
        return;
    }
    --h.outstanding;
    ++h.concluded;
    if (std::string_view(verdict.reason) != "no-response" && *verdict.reason) {
        h.down_reason = verdict.reason;
        h.down_ttl = outcome.ttl;
    }
    if (h.concluded < h.expected) return;
    ++down_;
    HostStatus s;
    s.host = item.host;
    s.up = false;
    s.reason = h.down_reason;
    s.ttl = h.down_ttl;
    if (hooks_.name) s.hostname = hooks_.name(item.host);
    hosts_.erase(it);
    out_.on_host(s);
}

void check_link_targets(const Jobs& plan, TargetSource& targets, Routes& routes) {
    for (std::uint16_t id : plan.host_jobs) {
        const Job& job = plan.jobs[id];
        // Only ARP and ND asked for: those added for hosts on a segment ask nothing of the others.
        if (job.info().protocol != Protocol::Link || plan.local_only[id]) continue;
        TargetSet chunk;
        while (targets.next(chunk))
            for (std::uint64_t i = 0; i < chunk.size(); i += std::max<std::uint64_t>(1, chunk.size() / 256)) {
                const IpAddress a = chunk.at(i);
                if (!(a.family == Family::V4 ? job.info().ipv4 : job.info().ipv6)) continue;
                const auto r = routes.lookup(a);
                if (!r || !r->local_segment())
                    throw InputError(fmt::format("{}: {} is not on a local Ethernet segment ({}), so {} cannot reach "
                                                 "it; use -PE, -PS or -PA for hosts behind a router",
                                                 job.name(), a.str(), r ? "behind a gateway" : "no route", job.name()));
            }
        targets.rewind();
    }
}

}  // namespace scanfw
