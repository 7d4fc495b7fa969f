#include "portscan/port_scan.hpp"

#include <spdlog/spdlog.h>

namespace scanfw {

UpHosts::UpHosts(std::span<const Job> jobs, std::span<const std::uint16_t> port_jobs, const SipKey& key,
                 std::function<bool()> closed, bool ordered)
    : key_(key), ordered_(ordered), closed_(std::move(closed)) {
    for (std::uint16_t id : port_jobs)
        for (std::uint16_t port : jobs[id].ports) pairs_.emplace_back(id, port);
}

void UpHosts::add(const IpAddress& host) {
    ++hosts_;
    waiting_.push_back(host);
}

bool UpHosts::next(Item& out) {
    while (true) {
        while (active_.size() < kActive && !waiting_.empty()) {
            const IpAddress h = waiting_.front();
            waiting_.pop_front();
            const std::uint64_t salt[2] = {IpAddressHash{}(h), key_[0]};
            active_.push_back(Active{h, Permutation(pairs_.size(), {siphash24(key_, salt, sizeof salt), key_[1]}, ordered_), 0});
        }
        if (active_.empty()) return false;
        turn_ %= active_.size();
        Active& a = active_[turn_];
        if (a.next >= pairs_.size()) {
            active_[turn_] = std::move(active_.back());
            active_.pop_back();
            continue;
        }
        const auto& [job, port] = pairs_[a.order(a.next++)];
        out = Item{a.host, port, job};
        ++turn_;
        ++handed_;
        return true;
    }
}

PortScan::PortScan(std::span<const Job> jobs, ResultSink& out, Routes& routes, bool host_status,
                   std::function<std::string(const IpAddress&)> names)
    : jobs_(jobs), out_(out), routes_(routes), host_status_(host_status), names_(std::move(names)) {
    for (const Job& j : jobs_)
        if (j.info().kind == Kind::Port) per_host_ += static_cast<std::uint32_t>(j.ports.size());
}

void PortScan::reserve(std::uint64_t hosts) {
    if (host_status_) hosts_.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(hosts, 1 << 18)));
}

void PortScan::on_item(const Job& job, const Item& item, const Verdict& verdict, const Outcome& outcome) {
    Result r;
    r.host = item.host;
    r.port = item.port;
    r.protocol = job.info().protocol;
    r.technique = job.name();
    r.state = verdict.state == State::Undecided ? State::Filtered : verdict.state;
    r.reason = *verdict.reason ? verdict.reason : "no-response";
    r.ttl = outcome.ttl;
    r.rtt_us = outcome.rtt_us;
    ++results_;
    if (r.state == State::Open) ++open_;
    out_.on_result(r);
    if (!host_status_) return;
    // A MAC address is the host's own only on a local segment; through a router it is
    // the router's.
    std::optional<MacAddress> mac = outcome.mac;
    if (mac)
        if (const auto route = routes_.lookup(item.host); !route || !route->local_segment()) mac.reset();
    auto [it, first] = hosts_.try_emplace(item.host);
    Host& h = it->second;
    if (first || (mac && !h.has_mac)) report(item.host, mac, !first);
    h.has_mac = h.has_mac || mac.has_value();
    if (++h.results >= per_host_) hosts_.erase(it);
}

void PortScan::report(const IpAddress& addr, const std::optional<MacAddress>& mac, bool update) {
    HostStatus s;
    s.host = addr;
    s.mac = mac;
    s.update = update;
    if (names_) s.hostname = names_(addr);
    out_.on_host(s);
}

}  // namespace scanfw
