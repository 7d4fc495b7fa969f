#include "discovery/discovery.hpp"

namespace scanfw {

Discovery::Discovery(std::span<const Job> jobs, ItemSource& items, ResultSink& out, Routes& routes, Hooks hooks)
    : jobs_(jobs), out_(out), routes_(routes), hooks_(std::move(hooks)), source_(*this, items) {
    for (const Job& j : jobs_)
        if (j.info().kind == Kind::Host) per_host_ += static_cast<std::uint32_t>(j.ports.size());
}

bool Discovery::Source::next(Item& out) {
    while (inner_.next(out)) {
        if (d_.up_hosts_.contains(out.host)) continue;  // up already: its other probes are not needed
        ++d_.hosts_[out.host].outstanding;
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
    if (h.concluded < per_host_) return;
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

}  // namespace scanfw
